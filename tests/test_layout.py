"""The layout shows the architecture, and imports flow one way (README, Layout):

    core  <-  evidence  <-  stages  <-  reporters, gates, plan, integrations, lsp  <-  commands

`compiler.core` (findings, codes, positions, sources, spec models, references) imports nothing of Charter's
outside itself; the stages import only the core and each other, never a command, an integration, a gate or
the plan; nothing but the command line imports `compiler.commands`. Lazy imports inside functions count.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "compiler"
# What each layer may import of Charter's, beside itself and the package root (which holds the version).
# Read down the table: a layer imports only layers above it, so the package graph has no cycle.
ALLOWED = {
    "compiler.core": ("compiler.core",),
    "compiler.evidence": ("compiler.core", "compiler.evidence"),
    "compiler.stages": ("compiler.core", "compiler.evidence", "compiler.stages"),
    "compiler.reporters": ("compiler.core", "compiler.reporters"),
    "compiler.integrations": (
        "compiler.core",
        "compiler.evidence",
        "compiler.stages",
        "compiler.reporters",
        "compiler.integrations",
    ),
    "compiler.plan": (
        "compiler.core",
        "compiler.evidence",
        "compiler.stages",
        "compiler.reporters",
        "compiler.integrations",
        "compiler.plan",
    ),
    "compiler.gates": (
        "compiler.core",
        "compiler.evidence",
        "compiler.stages",
        "compiler.reporters",
        "compiler.integrations",
        "compiler.gates",
    ),
    "compiler.report": (
        "compiler.core",
        "compiler.evidence",
        "compiler.stages",
        "compiler.reporters",
        "compiler.report",
    ),
    "compiler.lsp": ("compiler.core", "compiler.evidence", "compiler.stages", "compiler.reporters", "compiler.lsp"),
}
MAX_MODULE_LINES = 500


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[tuple[int, str]]:
    """Every Charter module a file imports, with the line, at any depth (lazy imports included)."""
    tree = ast.parse(path.read_text("utf-8"))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rsplit(".", 1)[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if alias.name.startswith("compiler")]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1], base]).strip(".")
            if base == "compiler":
                found += [(node.lineno, f"compiler.{alias.name}") for alias in node.names]
            elif base.startswith("compiler."):
                found.append((node.lineno, base))
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_the_layers_exist() -> None:
    names = {module_name(path) for path in MODULES}
    for layer in (
        "core",
        "evidence",
        "stages",
        "commands",
        "integrations",
        "gates",
        "reporters",
        "plan",
        "report",
        "lsp",
    ):
        assert f"compiler.{layer}" in names, layer
    assert "compiler.stages.pipeline" in names
    # Every package is a layer of the table or the command line, which may import them all.
    packages = {name.split(".")[1] for name in names if name.count(".") >= 1 and name != "compiler.__main__"}
    assert {f"compiler.{package}" for package in packages} <= {*ALLOWED, "compiler.commands"}
    flat = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert flat == ["__init__.py", "__main__.py"]


def violations(path: Path) -> list[str]:
    name = module_name(path)
    layer = next((prefix for prefix in ALLOWED if name == prefix or name.startswith(prefix + ".")), None)
    wrong = []
    for line, imported in imports(path):
        if imported in ("compiler", "compiler.__version__"):
            continue
        if layer is not None and not any(imported == a or imported.startswith(a + ".") for a in ALLOWED[layer]):
            wrong.append(f"{path.relative_to(ROOT)}:{line} imports {imported}")
        if imported.startswith("compiler.commands") and not name.startswith(("compiler.commands", "compiler.__main__")):
            wrong.append(f"{path.relative_to(ROOT)}:{line} imports the command line ({imported})")
    return wrong


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_imports_flow_one_way(path: Path) -> None:
    assert violations(path) == []


def test_the_direction_test_catches_a_lazy_wrong_import() -> None:
    probe = PACKAGE / "core" / "_probe_for_test.py"
    try:
        probe.write_text("def late():\n    from compiler.stages import pipeline\n", "utf-8")
        assert violations(probe) == ["compiler/core/_probe_for_test.py:2 imports compiler.stages"]
    finally:
        probe.unlink()


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_modules_stay_short(path: Path) -> None:
    lines = len(path.read_text("utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{lines} lines: split it by what its parts are about"


def test_every_command_line_module_is_under_commands() -> None:
    """Argument parsing and exit codes live with the commands, never in a layer below them."""
    for path in MODULES:
        name = module_name(path)
        if name.startswith("compiler.commands") or name == "compiler.__main__":
            continue
        text = path.read_text("utf-8")
        assert "add_parser(" not in text, name
