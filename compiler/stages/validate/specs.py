"""Stage 2, validate: each document against the schema of its kind.

Charter kinds are validated by their pydantic models, data contracts by the
official ODCS JSON Schema. Errors of both become Diagnostics with the codes
of `compiler.core.error_codes`, positioned on the exact key or value.
"""

from __future__ import annotations

import copy
import math
import types
import typing
from collections.abc import Sequence
from typing import Any

import pydantic

from compiler.core import error_codes, pydantic_text
from compiler.core.contracts import read_contract
from compiler.core.diagnostics import Diagnostic, PathSegment
from compiler.core.documents import Document
from compiler.core.invalid import invalid_of
from compiler.core.models import ALL_KINDS, API_VERSION, CONTRACT_KIND, KINDS, CharterModel, patterns
from compiler.core.safe_names import escape_for_people, path_segment_problem
from compiler.core.specs import Spec
from compiler.core.suggest import closest, did_you_mean
from compiler.core.values import describe_value
from compiler.stages.read.load import SourceFile
from compiler.stages.run import FileResult, internal
from compiler.stages.validate import contract_errors, odcs_schemas
from compiler.stages.validate.contract_errors import contract_findings

_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "a boolean", type(None): "null"}
_YAML11_BOOLEANS = {"yes": True, "y": True, "on": True, "no": False, "n": False, "off": False}


def validate_file(source: SourceFile) -> FileResult:
    """Each document of a read file validated; one document's bug (CH900) does not stop the others."""
    diagnostics, specs, invalid = list(source.diagnostics), [], []
    for document in source.documents:
        try:
            spec, findings = validate(document)
        except Exception as error:  # noqa: BLE001 - one document's bug must not stop the run
            diagnostics.append(internal(error, source.path))
            continue
        diagnostics.extend(findings)
        if spec is not None:
            specs.append(spec)
        elif findings and (failed := invalid_of(document)) is not None:
            invalid.append(failed)
    return FileResult(source.path, source.text, diagnostics, specs, invalid)


def validate(document: Document) -> tuple[Spec | None, list[Diagnostic]]:
    probe = Spec("?", "?", document)
    data = document.data
    if not isinstance(data, dict):
        shown = str(data) if len(str(data)) <= 60 else str(data)[:57] + "..."  # never echo a whole document
        kind = "a list" if isinstance(data, list) else f"the value `{shown}`"
        return None, [probe.finding("CH105", f"document is {kind}, not a mapping", [])]
    envelope = _check_envelope(probe, data)
    if envelope:
        return None, envelope
    kind = data["kind"]
    if kind == CONTRACT_KIND:
        return _validate_contract(document, data)
    model_class = KINDS[kind]
    name = _name_of(data)
    spec = Spec(kind, name, document)
    try:
        model = model_class.model_validate(data)
    except pydantic.ValidationError as error:
        findings = _pydantic_findings(spec, model_class, error)
        recovered = _recover(spec, model_class, data, error)
        return (Spec(kind, name, document, model=recovered) if recovered else None), findings
    return Spec(kind, name, document, model=model), []


def _recover(
    spec: Spec, model_class: type[CharterModel], data: dict[str, Any], error: pydantic.ValidationError
) -> CharterModel | None:
    """The model the author evidently meant, when every error has one obvious reading.

    An unknown field is ignored (what the CH200 finding says Charter does with
    it), and a number where text is expected is read as its source text
    (`version: 1.10` as "1.10", what CH202's hint asks for). The findings are
    reported all the same; the recovered model only lets later stages check
    references, so that one run shows the typo *and* the dangling reference.
    Anything else, and every Project (it decides which files are read), is
    not recovered.
    """
    if spec.kind == "Project":
        return None
    edits: list[tuple[tuple[PathSegment, ...], Any]] = []
    for detail in error.errors(include_url=False):
        path, _, in_union = _resolve_loc(model_class, detail["loc"])
        value = detail.get("input")
        if in_union or not path:
            return None
        if detail["type"] == "extra_forbidden":
            edits.append((path, _DELETE))
        elif detail["type"] == "string_type" and isinstance(value, (int, float)) and not isinstance(value, bool):
            text = spec.span(path).source_text
            if text is None:
                return None
            edits.append((path, text))
        else:
            return None
    patched: Any = copy.deepcopy(data)
    try:
        for path, replacement in edits:
            parent = patched
            for segment in path[:-1]:
                parent = parent[segment]
            if replacement is _DELETE:
                del parent[path[-1]]
            else:
                parent[path[-1]] = replacement
        return model_class.model_validate(patched)
    except (pydantic.ValidationError, LookupError, TypeError):
        return None


_DELETE: Any = object()


def _check_envelope(probe: Spec, data: dict[str, Any]) -> list[Diagnostic]:
    kind, api_version = data.get("kind"), data.get("apiVersion")
    missing = [field for field, value in (("apiVersion", api_version), ("kind", kind)) if value is None]
    if missing:
        return [
            probe.finding(
                "CH114",
                f"missing {' and '.join(f'`{m}`' for m in missing)}",
                [],
                hint=f"start the document with `apiVersion: {API_VERSION}` and `kind: Model` (or another kind)",
            )
        ]
    if not isinstance(kind, str) or kind not in ALL_KINDS:
        return [
            probe.finding(
                "CH112",
                f"unknown kind `{kind}`",
                ["kind"],
                hint=did_you_mean(str(kind), ALL_KINDS) or f"use one of: {', '.join(ALL_KINDS)}",
            )
        ]
    if kind == CONTRACT_KIND:
        if not isinstance(api_version, str) or api_version not in odcs_schemas.VERSIONS:
            return [_contract_version_finding(probe, api_version)]
    elif api_version != API_VERSION:
        return [
            probe.finding(
                "CH113",
                f"unknown apiVersion `{api_version}` for kind {kind}",
                ["apiVersion"],
                hint=f"use `{API_VERSION}`",
            )
        ]
    return []


def _contract_version_finding(probe: Spec, api_version: Any) -> Diagnostic:
    shown = contract_errors.yaml_text(api_version, probe.span(["apiVersion"]).source_text)
    known = ", ".join(odcs_schemas.VERSIONS)
    meant = odcs_schemas.closest_version(api_version) if isinstance(api_version, str) else None
    if meant is not None and isinstance(api_version, str) and odcs_schemas.V3_PATTERN.match(api_version):
        hint = f"Charter knows the ODCS releases {known}; declare the one the contract follows"
    elif meant is not None:
        hint = f"write the full version: `apiVersion: {meant}`"
    else:
        hint = f"data contracts are ODCS v3 documents: declare one of {known}"
    return probe.finding("CH113", f"unknown ODCS apiVersion `{shown}` for a data contract", ["apiVersion"], hint=hint)


def _name_of(data: dict[str, Any]) -> str:
    metadata = data.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return name if isinstance(name, str) else "?"


# --- pydantic ----------------------------------------------------------------


def _pydantic_findings(
    spec: Spec, model_class: type[CharterModel], error: pydantic.ValidationError
) -> list[Diagnostic]:
    findings: list[Diagnostic] = []
    seen_union: set[tuple[PathSegment, ...]] = set()
    details = error.errors(include_url=False)
    misspelled = _misspelled(model_class, details)
    for detail in details:
        path, annotation, in_union = _resolve_loc(model_class, detail["loc"])
        if detail["type"] == "missing" and path in misspelled:
            continue  # `riskTeir` given, `riskTier` missing: one mistake, reported once
        if in_union:
            if path in seen_union:
                continue
            seen_union.add(path)
            findings.append(_union_finding(spec, path, annotation, detail))
            continue
        findings.append(_one_finding(spec, model_class, path, detail))
    return findings


def _misspelled(model_class: type[CharterModel], details: Sequence[Any]) -> set[tuple[PathSegment, ...]]:
    """Paths of missing fields for which an unknown field beside them is the likely typo."""
    # Missing names by their parent's path: one lookup per unknown field, not a scan of every missing one.
    missing: dict[tuple[PathSegment, ...], set[str]] = {}
    for detail in details:
        if detail["type"] == "missing":
            path, _, in_union = _resolve_loc(model_class, detail["loc"])
            if not in_union and path and isinstance(path[-1], str):
                missing.setdefault(path[:-1], set()).add(path[-1])
    found: set[tuple[PathSegment, ...]] = set()
    for detail in details:
        if detail["type"] != "extra_forbidden":
            continue
        path, _, in_union = _resolve_loc(model_class, detail["loc"])
        if in_union or not path:
            continue
        siblings = missing.get(path[:-1])
        if not siblings:
            continue
        _, parent, _ = _resolve_loc(model_class, path[:-1])
        match = closest(str(path[-1]), _fields_of(parent))
        if match in siblings:
            found.add((*path[:-1], match))
    return found


def _one_finding(spec: Spec, model_class: type[CharterModel], path: tuple[PathSegment, ...], detail: Any) -> Diagnostic:
    """One pydantic error as a finding: code, message and hint from its `type` and `ctx`, never its `msg`."""
    kind: str = detail["type"]
    code = error_codes.for_pydantic(kind)
    value = detail.get("input")
    where = _where(path[:-1])
    if kind == "extra_forbidden":
        field = str(path[-1])
        _, parent, _ = _resolve_loc(model_class, path[:-1])
        allowed = _fields_of(parent)
        hint = did_you_mean(field, allowed) or (f"allowed here: {', '.join(allowed)}" if allowed else None)
        return spec.finding(code, f"unknown field `{field}`{where}", path, key=True, hint=hint)
    if kind == "missing":
        return spec.finding(code, f"missing required field `{path[-1]}`{where}", path[:-1], key=True)
    span_text = spec.span(path).source_text
    if kind in ("literal_error", "enum"):
        _, annotation, _ = _resolve_loc(model_class, path)
        allowed_values = pydantic_text.choices(annotation)
        message = f"`{_show(value, span_text)}` is not one of: {', '.join(allowed_values)}"
        return spec.finding(code, message, path, hint=did_you_mean(str(value), allowed_values))
    if code == "CH202":
        message = f"expected {pydantic_text.expected(kind)}, got {describe_value(value, _show(value, span_text))}"
        hint = None
        if kind in pydantic_text.STRING_TYPES and _is_number(value) and span_text:
            hint = f'quote it: "{span_text}" (YAML reads it as a number)'
        elif kind in pydantic_text.BOOLEAN_TYPES and isinstance(value, str):
            hint = _boolean_hint(value)
        elif kind in pydantic_text.NUMBER_TYPES and isinstance(value, str) and _reads_as_number(value):
            hint = f"remove the quotes: `{value.strip()}` (a quoted number is a string)"
        return spec.finding(code, message, path, hint=hint)
    if path[-2:] == ("metadata", "name") and kind in ("string_pattern_mismatch", "string_too_long"):
        return spec.finding(
            "CH210",
            f"`{value}` is not a valid name",
            path,
            hint="use lower-case letters, digits and `-` (a DNS label), for example `credit-scorer`",
        )
    message, hint = _requirement_message(path, detail, value, span_text)
    return spec.finding(code, message, path, hint=hint)


def _requirement_message(
    path: tuple[PathSegment, ...], detail: Any, value: Any, span_text: str | None
) -> tuple[str, str | None]:
    """`` `replicas` must be greater than or equal to 1 (got `0`) ``, and the hint of a known pattern."""
    field = f"`{path[-1]}`" if path and isinstance(path[-1], str) else "the value"
    got = "" if isinstance(value, (dict, list)) else f" (got `{_show(value, span_text)}`)"
    ctx = detail.get("ctx") or {}
    meaning = patterns.MEANINGS.get(ctx.get("pattern", "")) if detail["type"] == "string_pattern_mismatch" else None
    if meaning is not None:
        return f"{field} must be {meaning[0]}{got}", meaning[1]
    requirement = pydantic_text.requirement(detail)
    if requirement is None:
        return f"{field} is not valid{got}", None
    if detail["type"] in ("value_error", "assertion_error"):
        return f"{requirement}{got}", None
    return f"{field} {requirement}{got}", None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _reads_as_number(text: str) -> bool:
    """`"0.1"`: a number the author quoted (Charter's models take no numbers from strings)."""
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _boolean_hint(value: str) -> str | None:
    """`yes` is a boolean in YAML 1.1 and a string in YAML 1.2, which Charter reads."""
    if value.lower() not in _YAML11_BOOLEANS:
        return None
    truth = "true" if _YAML11_BOOLEANS[value.lower()] else "false"
    return f"write `{truth}`: Charter reads YAML 1.2, where `{value}` is a string"


def _union_finding(spec: Spec, path: tuple[PathSegment, ...], annotation: Any, detail: Any) -> Diagnostic:
    options = [_TYPE_NAMES.get(_strip(arg), getattr(_strip(arg), "__name__", str(arg))) for arg in _args(annotation)]
    value = detail.get("input")
    message = f"expected {' or '.join(options)}, got {describe_value(value, _show(value, spec.span(path).source_text))}"
    return spec.finding("CH202", message, path)


def _resolve_loc(model_class: Any, loc: Sequence[PathSegment]) -> tuple[tuple[PathSegment, ...], Any, bool]:
    """Walk `loc` through the model's types.

    Returns the real path (pydantic adds union branch names to `loc`), the
    annotation at its end, and whether the walk stopped at a union.
    """
    annotation: Any = model_class
    path: list[PathSegment] = []
    for segment in loc:
        annotation = _strip(annotation)
        if _is_union(annotation):
            return tuple(path), annotation, True
        origin = typing.get_origin(annotation)
        if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
            fields = {info.alias or name: info.annotation for name, info in annotation.model_fields.items()}
            annotation = fields.get(str(segment))
        elif origin is list and isinstance(segment, int):
            annotation = typing.get_args(annotation)[0]
        elif origin is dict:
            annotation = typing.get_args(annotation)[1]
        else:
            annotation = None
        path.append(segment)
    annotation = _strip(annotation)
    return tuple(path), annotation, False


def _strip(annotation: Any) -> Any:
    """Unwrap Annotated[...] and Optional[...]: neither adds to pydantic's loc."""
    while True:
        if typing.get_origin(annotation) is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
            continue
        if _is_union(annotation):
            args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
            if len(args) == 1:
                annotation = args[0]
                continue
        return annotation


def _is_union(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType)


def _args(annotation: Any) -> tuple[Any, ...]:
    return typing.get_args(annotation) if _is_union(annotation) else (annotation,)


def _fields_of(annotation: Any) -> list[str]:
    if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        return [info.alias or name for name, info in annotation.model_fields.items()]
    return []


def _where(parent: Sequence[PathSegment]) -> str:
    from compiler.core.diagnostics import format_path

    return f" in `{format_path(parent)}`" if parent else ""


def _show(value: Any, source_text: str | None) -> str:
    return source_text if source_text is not None else str(value)


# --- data contracts ------------------------------------------------------------


def _validate_contract(document: Document, data: dict[str, Any]) -> tuple[Spec | None, list[Diagnostic]]:
    """Judge the contract by the ODCS schema of the apiVersion it declares."""
    contract_id = data.get("id")
    name = str(contract_id) if contract_id is not None else "?"
    spec = Spec(CONTRACT_KIND, name, document)
    declared = str(data["apiVersion"])
    verdict = odcs_schemas.judge(data, declared)
    findings: list[Diagnostic] = []
    if verdict.later is not None:
        # Name the first thing the declared release does not know, so the author can check it.
        first = contract_findings(spec, verdict.errors, odcs_schemas.validator(declared))[:1]
        said = f": {first[0].message} (line {first[0].line})" if first else ""
        findings.append(
            spec.finding(
                "CH302",
                f"uses fields of ODCS {verdict.later}; declare `apiVersion: {verdict.later}`",
                ["apiVersion"],
                hint=f"valid ODCS {verdict.later}, not valid ODCS {declared}{said}",
            )
        )
    elif verdict.errors:
        return None, contract_findings(spec, verdict.errors, odcs_schemas.validator(declared))
    contract = read_contract(data)
    findings.extend(_unsafe_id(spec, contract.id))
    findings.extend(_duplicate_columns(spec, contract))
    return Spec(CONTRACT_KIND, contract.id, document, contract=contract), findings


def _duplicate_columns(spec: Spec, contract: Any) -> list[Diagnostic]:
    findings = []
    seen: set[tuple[str, str]] = set()
    for column in contract.columns:
        key = (column.table, column.name)
        if key in seen:
            findings.append(
                spec.finding(
                    "CH301",
                    f"column `{column.name}` appears twice in `{column.table}`",
                    (*column.path, "name"),
                )
            )
        seen.add(key)
    return findings


def _unsafe_id(spec: Spec, contract_id: str) -> list[Diagnostic]:
    """The id names a directory of generated pipelines (`data/<id>`): one plain path segment (CH211)."""
    problem = path_segment_problem(contract_id)
    if problem is None:
        return []
    return [
        spec.finding(
            "CH211",
            f"contract id `{escape_for_people(contract_id)}` cannot name a path: {problem}",
            ["id"],
            hint="use letters, digits, `-`, `_`, `.` and `:`, for example `loans` or `urn:acme:loans`",
        )
    ]
