"""Copy public ODCS v3 contracts from git mirrors into tests/odcs-corpus/files/.

Run once by hand, with local mirrors of the source repositories (git
directories, bare or not):

    python tests/odcs-corpus/collect.py /path/to/open-data-contract-standard.git /path/to/datacontract-cli.git

It takes every YAML file whose `apiVersion` is v3.x: the standard's
`docs/examples` at its main branch and at each v3 release tag (the examples
changed with each release), and datacontract-cli's `tests/fixtures` at its
main branch. Identical contents are kept once. It writes `sources.json` (the
origin of every file), which README.md summarises. Files are
copied byte for byte: the corpus is the contracts as their authors wrote them.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
FILES = HERE / "files"
API_VERSION = re.compile(rb"""^apiVersion:\s*["']?v3\.""", re.MULTILINE)
SOURCES = (
    # (repository, licence, short name, folder, revisions)
    (
        "bitol-io/open-data-contract-standard",
        "Apache-2.0",
        "odcs",
        "docs/examples/",
        ("HEAD", "v3.1.0", "v3.0.2", "v3.0.1", "v3.0.0"),
    ),
    ("datacontract/datacontract-cli", "MIT", "datacontract-cli", "tests/fixtures/", ("HEAD",)),
)


def git(mirror: str, *args: str) -> bytes:
    return subprocess.run(["git", "-C", mirror, *args], check=True, capture_output=True).stdout


def collect(mirrors: list[str]) -> list[dict[str, str]]:
    records: list[dict[str, str]] = []
    seen: set[str] = set()
    for mirror, (repo, licence, short, folder, revisions) in zip(mirrors, SOURCES, strict=True):
        for revision in revisions:
            commit = git(mirror, "rev-parse", f"{revision}^{{commit}}").decode().strip()
            names = git(mirror, "ls-tree", "-r", "--name-only", commit, "--", folder).decode().splitlines()
            for name in names:
                if not name.endswith((".yaml", ".yml")):
                    continue
                content = git(mirror, "show", f"{commit}:{name}")
                digest = hashlib.sha256(content).hexdigest()
                if not API_VERSION.search(content[:4000]) or digest in seen:
                    continue
                seen.add(digest)
                label = "main" if revision == "HEAD" else revision
                target = Path(short, label, name.removeprefix(folder))
                (FILES / target).parent.mkdir(parents=True, exist_ok=True)
                (FILES / target).write_bytes(content)
                records.append(
                    {
                        "file": target.as_posix(),
                        "repository": f"https://github.com/{repo}",
                        "revision": label,
                        "commit": commit,
                        "path": name,
                        "licence": licence,
                        "sha256": digest,
                    }
                )
    return records


def main(argv: list[str]) -> int:
    if len(argv) != len(SOURCES):
        print(__doc__, file=sys.stderr)
        return 2
    records = collect(argv)
    (HERE / "sources.json").write_text(json.dumps(records, indent=2) + "\n", encoding="utf-8")
    print(f"{len(records)} contracts")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
