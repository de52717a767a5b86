"""The layout shows the architecture, and imports flow one way (README, Layout):

    core <- evidence <- stages, reporters <- integrations <- plan, gates, report, lsp, scaffold <- commands

A layer imports only the layers left of it (and itself); the README states the same order (checked below).
`compiler.core` (findings, codes, positions, sources, spec models, shared types) imports nothing of Charter's
outside itself; nothing but the command line imports `compiler.commands`. The stages have one door: outside
`compiler/stages/`, only `compiler.stages` itself is imported, never a stage's module; inside, a stage imports
only the stages before it (read, validate, resolve, policy, render, emit; then cache). No module imports
itself back through others. Lazy imports inside functions count; imports only for type checking do not run,
and count for the layers and the door but not for cycles.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "compiler"
TIERS = (
    ("core",),
    ("evidence",),
    ("stages", "reporters"),
    ("integrations",),
    ("plan", "gates", "report", "lsp", "scaffold"),
    ("commands",),
)
"""The layers, lowest first: each imports only the tiers before its own. The command line may import them all."""
ORDER = " <- ".join(", ".join(tier) for tier in TIERS)
# What each layer may import of Charter's, beside itself and the package root (which holds the version).
ALLOWED = {
    f"compiler.{layer}": (*(f"compiler.{lower}" for below in TIERS[:rank] for lower in below), f"compiler.{layer}")
    for rank, tier in enumerate(TIERS[:-1])
    for layer in tier
}
DOOR = "compiler.stages"
MAX_MODULE_LINES = 500


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, *, typing_only: bool = True) -> list[tuple[int, str]]:
    """Every Charter module a file imports, with the line, at any depth (lazy imports included).

    `from package import name` counts as importing `package.name` when that is a module. `typing_only=False`
    leaves out what is imported under `if TYPE_CHECKING:` (it never runs)."""
    tree = ast.parse(path.read_text("utf-8"))
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rsplit(".", 1)[0]
    skipped = set() if typing_only else {id(node) for node in _type_checking_imports(tree)}
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names if alias.name.startswith("compiler")]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1], base]).strip(".")
            if base == "compiler" or base.startswith("compiler."):
                for alias in node.names:
                    inner = f"{base}.{alias.name}"
                    found.append((node.lineno, inner if _is_module(inner) else base))
    return list(dict.fromkeys(found))


def _type_checking_imports(tree: ast.Module) -> list[ast.AST]:
    blocks = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING")
    ]
    return [inner for block in blocks for statement in block.body for inner in ast.walk(statement)]


def _is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_the_layers_exist() -> None:
    names = {module_name(path) for path in MODULES}
    for layer in (
        "core",
        "stages",
        "commands",
        "integrations",
        "gates",
        "reporters",
        "plan",
        "report",
        "lsp",
        "scaffold",
    ):
        assert f"compiler.{layer}" in names, layer
    assert "compiler.stages.pipeline" in names
    for stage in ("read", "validate", "resolve", "policy", "render", "emit", "cache"):
        assert f"compiler.stages.{stage}" in names, stage
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
        probe.write_text("def late():\n    from compiler.stages import check\n", "utf-8")
        assert violations(probe) == ["compiler/core/_probe_for_test.py:2 imports compiler.stages"]
    finally:
        probe.unlink()


def door_violations(path: Path) -> list[str]:
    """Outside `compiler/stages/`, a stage's module imported past the door; inside, the door itself (a cycle)."""
    name, shown = module_name(path), path.relative_to(ROOT)
    inside = name.startswith(DOOR + ".")
    wrong = []
    for line, imported in imports(path):
        if inside and imported == DOOR:
            wrong.append(f"{shown}:{line} imports the door from inside it: import the stage's module")
        elif not inside and name != DOOR and imported.startswith(DOOR + "."):
            wrong.append(f"{shown}:{line} reaches into {imported}: import it from the door `{DOOR}`")
    return wrong


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_the_stages_have_one_door(path: Path) -> None:
    assert door_violations(path) == []


STAGES = ("read", "validate", "resolve", "policy", "render", "emit", "cache")
"""The stages in pipeline order (`compiler/stages/pipeline.py`); the cache path runs them all again."""
SHARED = ("compiler.stages.run", "compiler.stages.checked")
"""What every stage may import: the run's working state and the check it freezes into."""
RUNS_THE_PIPELINE = {"compiler.stages.policy.testing": "each policy test case is a whole check"}


def stage_order_violations(path: Path) -> list[str]:
    """A stage importing a later stage (or the pipeline, which imports every stage)."""
    name = module_name(path)
    parts = name.split(".")
    if len(parts) < 4 or parts[:2] != ["compiler", "stages"] or parts[2] not in STAGES:
        return []
    wrong = []
    for line, imported in imports(path):
        if not imported.startswith(DOOR + ".") or imported.startswith(SHARED):
            continue
        other = imported.split(".")[2]
        later = other not in STAGES or STAGES.index(other) > STAGES.index(parts[2])
        if later and not (imported == "compiler.stages.pipeline" and name in RUNS_THE_PIPELINE):
            wrong.append(f"{path.relative_to(ROOT)}:{line} imports {imported}, which comes later")
    return wrong


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_a_stage_imports_only_the_stages_before_it(path: Path) -> None:
    assert stage_order_violations(path) == []


def test_the_stage_order_test_catches_validation_inside_reading() -> None:
    probe = PACKAGE / "stages" / "read" / "_probe_for_test.py"
    try:
        probe.write_text("def take(document):\n    from compiler.stages.validate.specs import validate\n", "utf-8")
        assert stage_order_violations(probe) == [
            "compiler/stages/read/_probe_for_test.py:2 imports compiler.stages.validate.specs, which comes later"
        ]
    finally:
        probe.unlink()


def test_the_door_test_catches_a_lazy_import_past_the_door() -> None:
    probe = PACKAGE / "lsp" / "_probe_for_test.py"
    try:
        probe.write_text(
            "def late():\n    from compiler.stages import pipeline\n"
            "    from compiler.stages.read.load import load_text\n"
            "    from compiler.stages import check\n",
            "utf-8",
        )
        assert door_violations(probe) == [
            "compiler/lsp/_probe_for_test.py:2 reaches into compiler.stages.pipeline: import it from the door "
            "`compiler.stages`",
            "compiler/lsp/_probe_for_test.py:3 reaches into compiler.stages.read.load: import it from the door "
            "`compiler.stages`",
        ]
    finally:
        probe.unlink()


def import_cycles(modules: list[Path]) -> list[list[str]]:
    """Groups of modules that import each other, directly or through others (Tarjan's strongly connected
    components), lazy imports included; each group sorted, the groups sorted."""
    names = {module_name(path): path for path in modules}
    graph = {
        name: sorted({imported for _, imported in imports(path, typing_only=False) if imported in names} - {name})
        for name, path in names.items()
    }
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(name: str) -> None:
        order[name] = low[name] = len(order)
        stack.append(name)
        for other in graph[name]:
            if other not in order:
                visit(other)
                low[name] = min(low[name], low[other])
            elif other in stack:
                low[name] = min(low[name], order[other])
        if low[name] == order[name]:
            group = []
            while not group or group[-1] != name:
                group.append(stack.pop())
            if len(group) > 1:
                groups.append(sorted(group))

    for name in graph:
        if name not in order:
            visit(name)
    return sorted(groups)


def test_no_module_imports_itself_back() -> None:
    assert import_cycles(MODULES) == []


def test_the_cycle_test_catches_a_lazy_cycle(tmp_path: Path) -> None:
    probes = [PACKAGE / "lsp" / "_probe_a.py", PACKAGE / "lsp" / "_probe_b.py"]
    try:
        probes[0].write_text("from compiler.lsp import _probe_b\n", "utf-8")
        probes[1].write_text("def late():\n    from compiler.lsp._probe_a import x\n", "utf-8")
        assert ["compiler.lsp._probe_a", "compiler.lsp._probe_b"] in import_cycles([*MODULES, *probes])
        probes[1].write_text(
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from compiler.lsp import _probe_a\n"
        )
        assert ["compiler.lsp._probe_a", "compiler.lsp._probe_b"] not in import_cycles([*MODULES, *probes])
    finally:
        for probe in probes:
            probe.unlink()


def test_the_readme_states_the_same_layer_order() -> None:
    layout = (ROOT / "README.md").read_text("utf-8").split("\n## Layout\n", 1)[1]
    assert f"imports flow one way: {ORDER}" in layout
    assert f"\n    {ORDER}\n" in __doc__


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_modules_stay_short(path: Path) -> None:
    lines = len(path.read_text("utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{lines} lines: split it by what its parts are about"


def test_one_module_per_command() -> None:
    """Each command is a module of `compiler/commands/` with `add_parser` and `run`, listed once by cli.py."""
    from compiler.commands.cli import COMMANDS

    assert all(callable(module.add_parser) and callable(module.run) for module in COMMANDS.values())
    assert [module.__name__ for module in COMMANDS.values()] == [f"compiler.commands.{name}" for name in COMMANDS]
    defined = {
        module_name(path)
        for path in (PACKAGE / "commands").glob("*.py")
        if "\ndef add_parser(" in path.read_text("utf-8") and "\ndef run(" in path.read_text("utf-8")
    }
    assert defined == {module.__name__ for module in COMMANDS.values()}


def test_every_command_line_module_is_under_commands() -> None:
    """Argument parsing and exit codes live with the commands, never in a layer below them."""
    for path in MODULES:
        name = module_name(path)
        if name.startswith("compiler.commands") or name == "compiler.__main__":
            continue
        text = path.read_text("utf-8")
        assert "add_parser(" not in text, name
