"""One typed ODCS reader (issue 23): outside `compiler/core/odcs.py`, no module reads a contract's raw mapping.

Resolve, render, plan, the gates and evidence verification all ask `read_odcs(...)` for servers, tables,
columns, SLAs and custom properties, so a malformed entry (a server that is not a mapping, a `type` that is
not a string) is skipped or reported in one place, the same way for every reader.

The check is an AST scan of every module for a read (`x["key"]`, `x.get("key")`, `"key" in x`) of:
- a key only ODCS contracts have (`servers`, `customProperties`, `physicalName`...), on any mapping;
- a server entry's field (`type`, `host`, `location`...) on a mapping whose name says it is a server or a
  custom property (`server`, `entry` of servers, `custom`).
Writing these keys (the contract importer builds a document) is not reading them, and is allowed.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "compiler"
READER = PACKAGE / "core" / "odcs.py"

ODCS_KEYS = frozenset(
    {
        "servers",
        "customProperties",
        "physicalName",
        "physicalType",
        "logicalType",
        "logicalTypeOptions",
        "slaProperties",
        "slaDefaultElement",
        "endpointUrl",
        "quality",
    }
)
"""Keys of an ODCS document (or its parts) that no other Charter document or API response uses."""
SERVER_FIELDS = frozenset(
    {
        "server",
        "type",
        "location",
        "path",
        "format",
        "delimiter",
        "region",
        "host",
        "port",
        "database",
        "schema",
        "catalog",
        "account",
        "warehouse",
        "property",
        "value",
    }
)
"""A server entry's fields, and a custom property's."""
SERVER_NAMES = ("server", "custom")


def _receiver(node: ast.expr) -> str:
    """The last name of what is indexed: `self.server` -> `server`."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _raw_read(receiver: ast.expr, key: ast.expr) -> str | None:
    if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
        return None
    name = _receiver(receiver).lower()
    if key.value in ODCS_KEYS or (key.value in SERVER_FIELDS and any(word in name for word in SERVER_NAMES)):
        return key.value
    return None


def raw_reads(source: str) -> list[tuple[int, str]]:
    """(line, key) of each raw ODCS read in a module's source."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        key = None
        if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            key = _raw_read(node.value, node.slice)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            if node.func.attr in ("get", "pop", "setdefault"):
                key = _raw_read(node.func.value, node.args[0])
        elif isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], (ast.In, ast.NotIn)):
            key = _raw_read(node.comparators[0], node.left)
        if key is not None:
            found.append((getattr(node, "lineno", 0), key))
    return found


MODULES = sorted(path for path in PACKAGE.rglob("*.py") if path != READER)


@pytest.mark.parametrize("path", MODULES, ids=lambda path: str(path.relative_to(ROOT)))
def test_only_core_odcs_reads_raw_contract_data(path: Path) -> None:
    found = raw_reads(path.read_text(encoding="utf-8"))
    assert not found, f"{path.relative_to(ROOT)} reads ODCS keys raw (line, key): {found}; use compiler.core.odcs"


def test_the_reader_itself_reads_them() -> None:
    """The scan sees the keys where they are read: the reader has them all (else the check proves nothing)."""
    keys = {key for _, key in raw_reads(READER.read_text(encoding="utf-8"))}
    assert {"servers", "customProperties", "physicalName", "logicalType", "slaProperties", "quality"} <= keys


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('servers = spec.data.get("servers")', [(1, "servers")]),
        ('kind = server.get("type")', [(1, "type")]),
        ('x = self.server["catalog"]', [(1, "catalog")]),
        ('ok = "host" in server', [(1, "host")]),
        ('for c in entry["customProperties"]: pass', [(1, "customProperties")]),
        ('v = custom.get("value")', [(1, "value")]),
        ('document["servers"] = [server]', []),  # writing a document is not reading one
        ('kind = detail["type"]', []),  # a pydantic error's type: not a server
        ("kind = server.kind", []),
        ('rules = owner.get("quality")', [(1, "quality")]),
    ],
)
def test_the_scan_finds_raw_reads_and_nothing_else(source: str, expected: list[tuple[int, str]]) -> None:
    assert raw_reads(source) == expected


def test_servers_read_malformed_entries_as_the_raw_readers_did() -> None:
    """A server that is not a mapping is skipped but counted; a non-string value reads as written or as None."""
    from compiler.core.odcs import read_odcs

    odcs = read_odcs(
        {
            "servers": [
                "not a server",
                {
                    "server": 7,
                    "type": ["s3"],
                    "region": 5,
                    "port": "x",
                    "customProperties": [
                        {"property": "dvc", "value": 3},
                        "junk",
                        {"property": "dvc", "value": "data/train.csv.dvc"},
                        {"property": "engine", "value": "spark"},
                    ],
                },
                {"server": "local", "type": "local", "path": "data/", "customProperties": {"dvc": "x"}},
            ]
        }
    )
    assert odcs.server_entries == 3
    first, local = odcs.servers
    assert (first.index, first.name, first.kind, first.region, first.port) == (1, 7, None, 5, "x")
    assert first.text("type") == "['s3']"
    assert first.text("database") == ""
    # The file is the first string value; the finding points at the first `dvc` entry, as before.
    assert (first.dvc_file, first.dvc_position, first.engine) == ("data/train.csv.dvc", 0, "spark")
    assert [entry.index for entry in first.custom_properties] == [0, 2, 3]
    assert (local.local_path, local.dvc_file, local.custom_properties) == ("data/", None, ())
    assert first.local_path is None
    assert odcs.server("local") is local
    assert odcs.server("none") is None
    assert read_odcs(None).servers == ()
    assert read_odcs({"servers": "s"}).server_entries == 0
