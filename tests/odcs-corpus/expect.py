"""Compute the expected verdict of every corpus contract from the official ODCS schemas.

    python tests/odcs-corpus/expect.py          # rewrites expected.json
    python tests/odcs-corpus/expect.py --check  # fails if expected.json is stale

Independent of Charter on purpose: it reads the schema files Charter ships
(their bytes are checked against the digests of `compiler/odcs/sources.json`),
reads YAML with PyYAML's composer and python-jsonschema, and imports nothing
from `compiler`. A contract's verdict is:

- `valid`: valid under the schema of its declared apiVersion;
- `later:vX.Y.Z`: invalid for its declared version, valid under the earliest
  later schema, given that apiVersion, unless a field the declared version
  requires at the top of the contract is missing (a later version that
  merely dropped the requirement, as v3.2.0 did for `status`, does not
  excuse the omission);
- `invalid`: valid for neither; `errors` lists where the declared version's
  schema fails, each with the lines of the failing key and its value.

The one change to an official schema is the one Charter makes and documents
(`charter explain CH300`): in v3.2.0, `if: {properties: {logicalType: {const:
map}}}` also requires `logicalType`, without which it holds for every column
that has no `logicalType` and demands a `map` of all of them.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
import sys
from pathlib import Path
from typing import Any

import jsonschema
import yaml

HERE = Path(__file__).resolve().parent
SCHEMAS = HERE.parent.parent / "compiler" / "odcs"
VERSIONS = ("v3.0.0", "v3.0.1", "v3.0.2", "v3.1.0", "v3.2.0")


def official_schema(version: str) -> dict[str, Any]:
    sources = json.loads((SCHEMAS / "sources.json").read_text("utf-8"))["schemas"]
    entry = next(entry for entry in sources if entry["version"] == version)
    raw = (SCHEMAS / entry["file"]).read_bytes()
    assert hashlib.sha256(raw).hexdigest() == entry["sha256"], f"{entry['file']} is not the official file"
    schema: dict[str, Any] = json.loads(raw)
    if version == "v3.2.0":
        for branch in schema["$defs"]["SchemaBaseProperty"]["allOf"]:
            if branch.get("if") == {"properties": {"logicalType": {"const": "map"}}}:
                branch["if"]["required"] = ["logicalType"]
    return schema


class _Loader(yaml.SafeLoader):
    """YAML 1.2 scalars, as the contracts' tools and Charter read them: only true/false are booleans,
    and timestamps stay text (JSON Schema has no date type)."""


_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def lines_of(root: yaml.Node, path: list[str | int]) -> tuple[int, int]:
    """1-based lines of the key (or item) at `path` and the last line of its value."""
    node, line = root, 1
    for segment in path:
        if isinstance(node, yaml.MappingNode):
            key, node = next((k, v) for k, v in node.value if k.value == segment)
            line = key.start_mark.line + 1
        else:
            node = node.value[segment]
            line = node.start_mark.line + 1
    end = node.end_mark.line + (0 if node.end_mark.column == 0 and node.end_mark.line > line - 1 else 1)
    return line, max(line, end)


def verdict(text: str, validators: dict[str, Any]) -> dict[str, Any]:
    root = yaml.compose(text, Loader=_Loader)
    data = _plain(yaml.load(text, Loader=_Loader))
    declared = data.get("apiVersion")
    if declared not in validators:
        return {"apiVersion": declared, "verdict": "unknown-version"}
    errors = sorted(validators[declared].iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    if not errors:
        return {"apiVersion": declared, "verdict": "valid"}
    # A field missing at the top is not excused by a later version that dropped the requirement.
    excusable = not any(error.validator == "required" and not error.absolute_path for error in errors)
    for later in VERSIONS[VERSIONS.index(declared) + 1 :] if excusable else ():
        if validators[later].is_valid({**data, "apiVersion": later}):
            return {"apiVersion": declared, "verdict": f"later:{later}"}
    located = []
    for error in errors:
        path = list(error.absolute_path)
        line, end = lines_of(root, path)
        located.append({"path": path, "keyword": error.validator, "line": line, "end_line": end})
    return {"apiVersion": declared, "verdict": "invalid", "errors": located}


def expectations() -> dict[str, Any]:
    validators = {}
    for version in VERSIONS:
        schema = official_schema(version)
        validators[version] = jsonschema.validators.validator_for(schema)(schema)
    sources = json.loads((HERE / "sources.json").read_text("utf-8"))
    return {
        entry["file"]: verdict((HERE / "files" / entry["file"]).read_text("utf-8"), validators) for entry in sources
    }


def main(argv: list[str]) -> int:
    text = json.dumps(expectations(), indent=1, sort_keys=True) + "\n"
    target = HERE / "expected.json"
    if "--check" in argv:
        return 0 if target.exists() and target.read_text("utf-8") == text else 1
    target.write_text(text, encoding="utf-8")
    counts: dict[str, int] = {}
    for entry in json.loads(text).values():
        counts[entry["verdict"].split(":")[0]] = counts.get(entry["verdict"].split(":")[0], 0) + 1
    print(counts)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
