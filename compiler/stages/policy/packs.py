"""Built-in policy packs: directories of Policy specs under `policies/`.

A pack is a directory; its `*.yaml` files hold Policy documents, and its
`tests/` directory holds the cases `charter policy test` runs.
"""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parents[2]  # the `compiler` package
# Installed wheels carry the packs inside the package; a source checkout
# reads them from the repository's `policies/` directory.
_CANDIDATES = (_HERE / "packs", _HERE.parent / "policies")


def packs_dir() -> Path | None:
    for candidate in _CANDIDATES:
        if candidate.is_dir():
            return candidate
    return None


def builtin_packs() -> dict[str, Path]:
    root = packs_dir()
    if root is None:
        return {}
    return {
        entry.name: entry
        for entry in sorted(root.iterdir())
        if entry.is_dir() and not entry.name.startswith((".", "_"))
    }


def policy_files(directory: Path) -> list[Path]:
    """The Policy files of a pack or an organisation's policy directory (not its tests)."""
    return sorted(
        path
        for pattern in ("*.yaml", "*.yml")
        for path in directory.rglob(pattern)
        if "tests" not in path.relative_to(directory).parts[:-1]
    )
