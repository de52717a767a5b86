"""JSON Schemas (2020-12) of every kind, generated from the models.

Editors use them for completion and inline errors (yaml-language-server);
they are committed in `schemas/`, and a test fails when they are stale.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic.json_schema import GenerateJsonSchema

from compiler.core.models import KINDS
from compiler.reporters.json_schema import REPORT_SCHEMA_NAME, report_schema
from compiler.stages.validate import odcs_schemas

SCHEMA_BASE = "https://charter.dev/schemas/v1alpha1/"
DIALECT = "https://json-schema.org/draft/2020-12/schema"


def file_name(kind: str) -> str:
    slug = "".join(f"-{c.lower()}" if c.isupper() else c for c in kind).lstrip("-")
    return f"{slug}.schema.json"


def kind_schema(kind: str) -> dict[str, Any]:
    model = KINDS[kind]
    body = model.model_json_schema(by_alias=True, schema_generator=GenerateJsonSchema, mode="validation")
    return {"$schema": DIALECT, "$id": SCHEMA_BASE + file_name(kind), **body}


def evidence_schema() -> dict[str, Any]:
    from compiler.core.models.evidence import Evidence

    body = Evidence.model_json_schema(by_alias=True, schema_generator=GenerateJsonSchema, mode="validation")
    return {"$schema": DIALECT, "$id": SCHEMA_BASE + "evidence.schema.json", **body}


def all_schemas() -> dict[str, dict[str, Any]]:
    """File name -> schema, including one that accepts any kind, for editors."""
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
    # Not a spec either: what `charter check --format json` writes, named by the output's `$schema`.
    schemas[REPORT_SCHEMA_NAME] = report_schema()
    # Editors get the latest release; `charter check` judges each contract by its own.
    schemas["datacontract.schema.json"] = odcs_schemas.official_schema(odcs_schemas.LATEST)
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
