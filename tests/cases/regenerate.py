"""Write a case's `expected.yaml` from what `charter check` reports today.

    .venv/bin/python tests/cases/regenerate.py CASE [CASE ...]   # names or paths
    .venv/bin/python tests/cases/regenerate.py --all
    .venv/bin/python tests/cases/regenerate.py --show CASE       # print, write nothing

This records the current output, right or wrong. Read the diff line by line
against the YAML before committing it: an expected.yaml that merely copies a
bug makes the bug permanent. `message_contains` and `hint_contains` of
findings that still match are kept; new findings get none until you add one.

The helpers here are shared with `tests/test_cases.py`, so the script and the
test run cases the same way: the case is copied without its expected.yaml
(which would otherwise be read as a spec), and checked from inside the copy,
so file names in findings are relative to the case directory.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml

CASES_DIR = Path(__file__).resolve().parent
REPO = CASES_DIR.parent.parent
EXPECTED = "expected.yaml"
# A case may name a project to start from (one line: its path from the repository root, such as
# `examples/credit-scoring`): its files are copied first, then the case's own files over them.
BASE = "BASE"
KEYS = ("code", "file", "line", "column")
OPTIONAL_KEYS = ("severity", "waiver", "message_contains", "hint_contains")
# Waivers expire: every case runs on this date, whatever the calendar says.
TODAY = "2026-06-01"
# Cases whose expected.yaml was written by hand with the right findings, which
# Charter does not give yet: tests/test_cases.py runs them as strict xfail, and
# `--all` leaves them alone. Once the bug is fixed, the case passes: remove it here.
KNOWN_BUGS: dict[str, str] = {}


def case_dirs(*, new: bool = False) -> list[Path]:
    """Case directories: those with an expected.yaml, or with `new`, every directory."""
    return sorted(
        path
        for path in CASES_DIR.iterdir()
        if path.is_dir() and not path.name.startswith((".", "_")) and (new or (path / EXPECTED).is_file())
    )


def stage(case_dir: Path, workdir: Path) -> Path:
    """Copy the case's project files (everything but expected.yaml) to `workdir`; with a BASE file, over a copy
    of the project it names (a path from the repository root; its check cache left behind)."""
    base = case_dir / BASE
    if base.is_file():
        project = REPO / base.read_text("utf-8").strip()
        shutil.copytree(project, workdir, ignore=shutil.ignore_patterns(".charter"))
    ignored = shutil.ignore_patterns(EXPECTED, BASE, "__pycache__")
    shutil.copytree(case_dir, workdir, ignore=ignored, dirs_exist_ok=True)
    return workdir


def record(diagnostic: Any) -> dict[str, Any]:
    """One finding as an expected.yaml entry (without the optional substrings)."""
    entry = {
        "code": diagnostic.code,
        "file": diagnostic.file,
        "line": diagnostic.line,
        "column": diagnostic.column,
        "severity": diagnostic.severity.value,
    }
    if diagnostic.waiver is not None:
        entry["waiver"] = diagnostic.waiver
    return entry


def read_expected(case_dir: Path) -> list[dict[str, Any]]:
    entries = yaml.safe_load((case_dir / EXPECTED).read_text("utf-8"))
    if entries is None:
        return []
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise ValueError(f"{case_dir / EXPECTED}: expected a list of mappings")
    for entry in entries:
        unknown = set(entry) - set(KEYS) - set(OPTIONAL_KEYS)
        missing = set(KEYS) - set(entry)
        if unknown or missing:
            problem = f"unknown keys {sorted(unknown)}" if unknown else f"missing keys {sorted(missing)}"
            raise ValueError(f"{case_dir / EXPECTED}: {problem} in {entry}")
    return entries


def key(entry: dict[str, Any]) -> tuple[str, str, int, int]:
    return (entry["code"], entry["file"], entry["line"], entry["column"])


def run(case_dir: Path) -> list[Any]:
    """The case's diagnostics, from a staged copy, as `check_path` returns them."""
    from compiler.stages import check_path

    with tempfile.TemporaryDirectory() as tmp:
        workdir = stage(case_dir, Path(tmp) / case_dir.name)
        previous = os.environ.get("CHARTER_TODAY")
        os.environ["CHARTER_TODAY"] = TODAY
        try:
            with contextlib.chdir(workdir):
                return list(check_path(Path(".")).diagnostics)
        finally:
            if previous is None:
                del os.environ["CHARTER_TODAY"]
            else:
                os.environ["CHARTER_TODAY"] = previous


def regenerate(case_dir: Path) -> str:
    diagnostics = run(case_dir)
    previous: dict[tuple[str, str, int, int], dict[str, Any]] = {}
    if (case_dir / EXPECTED).is_file():
        previous = {key(entry): entry for entry in read_expected(case_dir)}
    entries = []
    for diagnostic in diagnostics:
        entry = record(diagnostic)
        old = previous.get(key(entry), {})
        for name, text in (("message_contains", diagnostic.message), ("hint_contains", diagnostic.hint or "")):
            if name in old and old[name] in text:
                entry[name] = old[name]
        entries.append(entry)
    return dump(entries)


def dump(entries: Iterable[dict[str, Any]]) -> str:
    lines = [
        "# Findings of `charter check` on this case, in output order.",
        "# Each line and column was checked against the YAML by hand; see ../README.md.",
    ]
    body = [yaml.safe_dump([entry], sort_keys=False, allow_unicode=True, width=1000) for entry in entries]
    return "\n".join(lines) + "\n" + ("".join(body) if body else "[]\n")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cases", nargs="*", help="case names (directories under tests/cases) or paths")
    parser.add_argument("--all", action="store_true", help="every case directory, new ones included")
    parser.add_argument("--show", action="store_true", help="print the new expected.yaml; write nothing")
    args = parser.parse_args(argv)
    targets = [path for path in case_dirs(new=True) if path.name not in KNOWN_BUGS] if args.all else []
    targets += [_case(name) for name in args.cases]
    if not targets:
        parser.error("name at least one case, or --all")
    for case_dir in targets:
        text = regenerate(case_dir)
        if args.show:
            print(f"# --- {case_dir.name}/{EXPECTED}\n{text}")
            continue
        path = case_dir / EXPECTED
        changed = not path.is_file() or path.read_text("utf-8") != text
        path.write_text(text, "utf-8")
        print(f"{'updated' if changed else 'unchanged'} {Path(os.path.relpath(path)).as_posix()}")
    return 0


def _case(name: str) -> Path:
    path = Path(name)
    if not path.is_dir():
        path = CASES_DIR / name
    if not path.is_dir():
        raise SystemExit(f"regenerate: no case `{name}`")
    return path.resolve()


if __name__ == "__main__":
    sys.exit(main())
