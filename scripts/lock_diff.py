"""Which installed versions differ from the lock: what `make lock UPGRADE=1` would change.

    .venv-latest/bin/python scripts/lock_diff.py requirements/test.txt

Reads the lock's `name==version ; markers` lines, keeps those whose markers hold for this interpreter,
and compares them with what is installed here. Exit code 0 either way: this is a report, not a check.
"""

from __future__ import annotations

import re
import sys
from importlib import metadata
from pathlib import Path

from packaging.markers import Marker
from packaging.utils import canonicalize_name

_PIN = re.compile(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$")


def locked(text: str) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in text.splitlines():
        match = _PIN.match(line)
        if match and (match.group(3) is None or Marker(match.group(3)).evaluate()):
            pins[canonicalize_name(match.group(1))] = match.group(2)
    return pins


def main(lock: str) -> int:
    pins = locked(Path(lock).read_text("utf-8"))
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()}
    changed = sorted(name for name in pins.keys() & installed.keys() if pins[name] != installed[name])
    added = sorted(installed.keys() - pins.keys() - {"charter", "pip"})
    for name in changed:
        print(f"  {name}: {pins[name]} (locked) -> {installed[name]}")
    for name in added:
        print(f"  {name}: not locked -> {installed[name]}")
    if not changed and not added:
        print("  the same versions as the lock")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
