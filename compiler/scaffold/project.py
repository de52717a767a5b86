"""`charter init`: write a small, complete project that `charter check` passes.

The files come from `compiler/templates/init/` (package data). The only
substitutions are the literal token `__NAME__`, replaced by the project name
after that name has been validated as a DNS label, so nothing but
`[a-z0-9-]` ever reaches the YAML, and `__CHARTER_REPOSITORY__` and `__CHARTER_COMMIT__`, the Charter
the project's pipelines install: the running one when its installation records its commit (installed from
git or by the setup action; `compiler.core.installed`), else the release it knows (`compiler.core.pins`),
so that `charter build` here and `charter build --check` in CI are the same Charter.
"""

from __future__ import annotations

import os
import re
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath

from compiler.core import installed
from compiler.core.cache import CACHE_DIR
from compiler.core.fsutil import write_atomic
from compiler.core.models.common import NAME_PATTERN
from compiler.core.pins import PINS
from compiler.core.sources import repository_top

TOKEN = "__NAME__"
COMMIT_TOKEN = "__CHARTER_COMMIT__"
REPOSITORY_TOKEN = "__CHARTER_REPOSITORY__"
DEFAULT_NAME = "my-project"
# The templates derive `NAME-eval` (a suite name, a DNS label of at most 63
# characters) from the project name: keep the name short enough for that.
MAX_NAME_LENGTH = 63 - len("-eval")

_NAME = re.compile(NAME_PATTERN)
_NOT_ALLOWED = re.compile(r"[^a-z0-9-]+")
_DASHES = re.compile(r"-{2,}")


class ScaffoldError(Exception):
    """`charter init` cannot proceed; the message says why and what to do."""


def scaffold(target: Path, name: str | None = None, force: bool = False) -> list[Path]:
    """Write the starter project into `target`; return the paths written, in order.

    Refuses, writing nothing, when any of the files exists, unless `force`.
    """
    if target.exists() and not target.is_dir():
        raise ScaffoldError(f"{target.as_posix()} exists and is not a directory")
    project = _checked_name(name) if name is not None else derive_name(target)
    templates = _templates()
    planned = [(target.joinpath(*relative.parts), text) for relative, text in templates]
    if not force:
        existing = [path for path, _ in planned if path.exists() or path.is_symlink()]
        if existing:
            listed = "\n".join(f"  {path.as_posix()}" for path in existing)
            raise ScaffoldError(
                f"refusing to overwrite {len(existing)} existing file(s):\n{listed}\n"
                "use --force to overwrite them, or choose another directory"
            )
    in_the_way = [path.as_posix() for path, _ in planned if path.is_dir()]
    if in_the_way:
        raise ScaffoldError(
            f"cannot write over directories: {', '.join(in_the_way)}; remove them or choose another directory"
        )
    repository, commit = charter_pin()
    written: list[Path] = []
    for path, template in planned:
        text = template.replace(TOKEN, project).replace(REPOSITORY_TOKEN, repository).replace(COMMIT_TOKEN, commit)
        write_atomic(path, _workflows_at_the_root(text, target) if path.name == "charter.yaml" else text)
        written.append(path)
    extra = [_ignore_cache(target), _keep_line_endings(target)]
    return written + [path for path in extra if path is not None]


def charter_pin() -> tuple[str, str]:
    """(repository, commit) of the Charter a new project pins: this one when it knows where it came from."""
    running = installed.running()
    if running.repository and running.commit:
        return running.repository, running.commit
    return PINS["charter"].repository, PINS["charter"].sha


LINE_ENDINGS = "* text=auto eol=lf"


def _keep_line_endings(target: Path) -> Path | None:
    """`.gitattributes` with `* text=auto eol=lf`, unless it says so already; the path when changed.

    Git for Windows checks text files out with CRLF (`core.autocrlf=true`): the generated files would differ
    from what `charter build` writes byte for byte, and `build --check` would call every one "edited by hand".
    """
    path = target / ".gitattributes"
    if path.is_symlink() or (path.exists() and not path.is_file()):
        return None
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if any(line.split() == LINE_ENDINGS.split() for line in text.splitlines()):
        return None
    separator = "" if not text or text.endswith("\n") else "\n"
    comment = "# LF in every checkout (Git for Windows' core.autocrlf too): generated files stay byte for byte"
    write_atomic(path, f"{text}{separator}{comment}\n{LINE_ENDINGS}\n")
    return path


def _ignore_cache(target: Path) -> Path | None:
    """Add `.charter/cache/` (what `charter check` keeps between runs) to `.gitignore`; the path when changed."""
    path = target / ".gitignore"
    if path.is_symlink() or (path.exists() and not path.is_file()):
        return None
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if any(line.strip() in (CACHE_DIR, f"{CACHE_DIR}/", f"/{CACHE_DIR}/") for line in text.splitlines()):
        return None
    separator = "" if not text or text.endswith("\n") else "\n"
    comment = "# charter check's cache: the last run's results, signed with a key of the user's"
    write_atomic(path, f"{text}{separator}{comment}\n{CACHE_DIR}/\n")
    return path


def derive_name(target: Path) -> str:
    """A DNS label from the directory's name: `My Project_2` -> `my-project-2`."""
    return to_label(target.resolve().name)


def to_label(text: str) -> str:
    """Lower-case, runs of anything but `[a-z0-9-]` to `-`, trimmed; `my-project` when nothing is left."""
    label = _DASHES.sub("-", _NOT_ALLOWED.sub("-", text.lower()))
    # A label starts with a letter and ends with a letter or digit.
    label = label.lstrip("-0123456789")[:MAX_NAME_LENGTH].rstrip("-")
    return label if _NAME.fullmatch(label) else DEFAULT_NAME


def _checked_name(name: str) -> str:
    if _NAME.fullmatch(name) and len(name) <= MAX_NAME_LENGTH:
        return name
    raise ScaffoldError(
        f"`{name}` is not a valid project name: use lower-case letters, digits and `-`, "
        f"starting with a letter, at most {MAX_NAME_LENGTH} characters (for example `{to_label(name)}`)"
    )


def _templates() -> list[tuple[PurePosixPath, str]]:
    """Every template file, by its path relative to the template root, sorted."""
    root = files("compiler") / "templates" / "init"
    found: list[tuple[PurePosixPath, str]] = []
    _walk(root, PurePosixPath(), found)
    if not found:
        raise ScaffoldError("the init templates are missing from this installation of charter")
    return sorted(found, key=lambda item: _order(item[0]))


def _walk(node: Traversable, relative: PurePosixPath, found: list[tuple[PurePosixPath, str]]) -> None:
    for child in node.iterdir():
        if child.name.startswith((".", "__pycache__")):
            continue
        path = relative / child.name
        if child.is_dir():
            _walk(child, path, found)
        elif child.is_file():
            found.append((path, child.read_text(encoding="utf-8")))


def _order(path: PurePosixPath) -> tuple[int, str]:
    """charter.yaml first, then the rest by path: the order `init` prints them."""
    return (0 if path.name.startswith("charter.") and len(path.parts) == 1 else 1, path.as_posix())


_WORKFLOWS = "    workflows: .github/workflows\n"


def _workflows_at_the_root(settings: str, target: Path) -> str:
    """A project created below its git repository's root (a monorepo's `ml/`) writes its workflows at the root,
    the only `.github/workflows` GitHub runs: `../.github/workflows`, one `../` per level."""
    here = Path(os.path.abspath(target))
    top = repository_top(here)
    if top == here or not (top / ".git").exists():
        return settings
    up = "../" * len(here.relative_to(top).parts)
    return settings.replace(
        _WORKFLOWS, f"    workflows: {up}.github/workflows   # the repository root's: GitHub runs only those\n"
    )
