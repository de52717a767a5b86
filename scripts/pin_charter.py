"""Pin the examples to a commit of this repository: the Charter their generated workflows install.

    python scripts/pin_charter.py [COMMIT]      (or `make pin`; COMMIT defaults to HEAD)

A commit cannot name itself, so the examples pin the last commit that changed how Charter renders: commit
the change, run this, rebuild (`python -m compiler build examples/<x>`, `make golden`), and commit the
pin. tests/test_pinned_install.py installs the pinned commit the way the setup action does and checks the
examples with it: it fails when the pinned Charter no longer renders what is committed.

Refuses a commit whose Charter differs from the working tree's (`compiler/`, `setup/`, `requirements/`),
since the examples would then pin a Charter that renders other files.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHARTER_PATHS = ("compiler", "setup", "requirements", "pyproject.toml")
PINNED = re.compile(r"^(    charter:\n      repository: [^\n]+\n      commit: )[0-9a-f]{40}$", re.MULTILINE)
UNPINNED = re.compile(r"^  ci:\n", re.MULTILINE)


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True).stdout


def pin(text: str, commit: str) -> str:
    """charter.yaml with `ci.charter` pinned to `commit` of charter-dev/charter."""
    if PINNED.search(text):
        return PINNED.sub(lambda match: match.group(1) + commit, text)
    block = f"  ci:\n    charter:\n      repository: charter-dev/charter\n      commit: {commit}\n"
    pinned, count = UNPINNED.subn(block, text, count=1)
    if count != 1:
        raise SystemExit("pin_charter: charter.yaml has no `  ci:` block to pin in")
    return pinned


def main(argv: list[str]) -> int:
    commit = git("rev-parse", "--verify", f"{argv[0] if argv else 'HEAD'}^{{commit}}").strip()
    changed = git("diff", "--name-only", commit, "--", *CHARTER_PATHS).split()
    if changed:
        print(f"pin_charter: {commit} differs from the working tree in {', '.join(changed)}", file=sys.stderr)
        return 1
    for settings in sorted(ROOT.glob("examples/*/charter.yaml")):
        settings.write_text(pin(settings.read_text("utf-8"), commit), "utf-8")
        print(f"{settings.relative_to(ROOT)}: ci.charter.commit {commit}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
