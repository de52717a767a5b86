"""`charter schema [--out DIR] [--check]`: JSON Schemas (2020-12) of every kind, generated from the models.

Editors use them for completion and inline errors (yaml-language-server);
they are committed in `schemas/`, and a test fails when they are stale.
Exit codes: 0 written (or current); 1 with `--check`, a schema is stale or missing.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from compiler.core import exit_codes

SCHEMA_BASE = "https://charter.dev/schemas/v1alpha1/"
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def file_name(kind: str) -> str:
    slug = "".join(f"-{c.lower()}" if c.isupper() else c for c in kind).lstrip("-")
    return f"{slug}.schema.json"


def kind_schema(kind: str) -> dict[str, Any]:
    from pydantic.json_schema import GenerateJsonSchema

    from compiler.core.models import KINDS

    model = KINDS[kind]
    body = model.model_json_schema(by_alias=True, schema_generator=GenerateJsonSchema, mode="validation")
    return {"$schema": DIALECT, "$id": SCHEMA_BASE + file_name(kind), **body}


def evidence_schema() -> dict[str, Any]:
    from pydantic.json_schema import GenerateJsonSchema

    from compiler.core.models.evidence import Evidence

    body = Evidence.model_json_schema(by_alias=True, schema_generator=GenerateJsonSchema, mode="validation")
    return {"$schema": DIALECT, "$id": SCHEMA_BASE + "evidence.schema.json", **body}


def registration_schema() -> dict[str, Any]:
    from pydantic.json_schema import GenerateJsonSchema

    from compiler.core.models.registration import Registration

    body = Registration.model_json_schema(by_alias=True, schema_generator=GenerateJsonSchema, mode="validation")
    return {"$schema": DIALECT, "$id": SCHEMA_BASE + "registration.schema.json", **body}


def all_schemas() -> dict[str, dict[str, Any]]:
    """File name -> schema, including one that accepts any kind, for editors."""
    from compiler.core.models import KINDS
    from compiler.reporters.json_schema import REPORT_SCHEMA_NAME, report_schema

    schemas = {file_name(kind): kind_schema(kind) for kind in KINDS}
    schemas["charter.schema.json"] = {
        "$schema": DIALECT,
        "$id": SCHEMA_BASE + "charter.schema.json",
        "title": "Charter spec",
        "description": "Any Charter spec; the `kind` selects the schema.",
        "oneOf": [{"$ref": file_name(kind)} for kind in KINDS],
    }
    # Not a spec kind: the format `charter evidence record` writes, for the tools that read it.
    schemas["evidence.schema.json"] = evidence_schema()
    # Nor this: what `charter model register --record` files beside the evidence.
    schemas["registration.schema.json"] = registration_schema()
    # Not a spec either: what `charter check --format json` writes, named by the output's `$schema`.
    schemas[REPORT_SCHEMA_NAME] = report_schema()
    # Editors get the latest release; `charter check` judges each contract by its own.
    from compiler.stages import LATEST_ODCS, odcs_schema

    schemas["datacontract.schema.json"] = odcs_schema(LATEST_ODCS)
    return schemas


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def write_schemas(out: Path) -> list[Path]:
    from compiler.core.fsutil import write_atomic

    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in all_schemas().items():
        target = out / name
        write_atomic(target, render(schema))
        written.append(target)
    return written


def add_parser(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    schema = commands.add_parser("schema", help="write the JSON Schemas of every spec kind")
    schema.add_argument("--out", default="schemas", metavar="DIR", help="output directory (default: schemas)")
    schema.add_argument("--check", action="store_true", help="write nothing; exit 1 if DIR is stale")


def run(args: argparse.Namespace) -> int:
    out = Path(args.out)
    if args.check:
        stale = [
            name
            for name, schema in all_schemas().items()
            if not (out / name).is_file() or (out / name).read_text("utf-8") != render(schema)
        ]
        for name in stale:
            print(f"{(out / name).as_posix()}: stale or missing; run `charter schema --out {out.as_posix()}`")
        return exit_codes.FINDINGS if stale else exit_codes.OK
    for path in write_schemas(out):
        print(f"wrote {path.as_posix()}")
    return exit_codes.OK
