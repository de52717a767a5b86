"""Completion: the fields and enum values of the spec models, the names a reference field may take (contract
ids, suites, environments, policies and their rules, the contract's columns), metrics that fit the task.

Which field is a reference comes from `compiler.core.references`: the cursor's document is validated with a
placeholder where the cursor is, and the reference at the cursor's path is read from the result. When the
document does not validate yet, the same path of the last check's spec (or of any spec of its kind) decides.
"""

from __future__ import annotations

from lsprotocol import types

from compiler.core.diagnostics import PathSegment
from compiler.core.metrics import fairness_metrics_for, metrics_for
from compiler.core.models import CONTRACT_KIND
from compiler.core.models.model import Model
from compiler.core.models.policy import Policy
from compiler.core.references import column_references, references
from compiler.core.specs import Spec
from compiler.lsp import fields
from compiler.lsp.convert import utf16
from compiler.lsp.cursor import Cursor
from compiler.lsp.targets import COLUMN, RULE, Target, all_specs, declaration, find, named, target_at
from compiler.lsp.workspace import Workspace
from compiler.stages import Checked, load_document

PLACEHOLDER = "charter-lsp-probe"
_METRIC_FIELDS = {"metrics": metrics_for, "fairness": fairness_metrics_for}


def complete(project: Workspace, uri: str, position: types.Position) -> types.CompletionList | None:
    text = project.text_of(uri)
    cursor = project.cursor(uri, position)
    if cursor is None or text is None:
        return None
    line = text.split("\n")[cursor.line]
    edit_range = types.Range(
        types.Position(cursor.line, utf16(line, cursor.start)), types.Position(cursor.line, utf16(line, cursor.end))
    )
    keys = _key_completion(cursor)
    if keys is not None:
        return types.CompletionList(is_incomplete=False, items=_key_items(keys, cursor, edit_range))
    values = _values(project, uri, cursor, text)
    return types.CompletionList(is_incomplete=False, items=_value_items(values, edit_range))


def _key_completion(cursor: Cursor) -> list[fields.FieldDoc] | None:
    """The fields that fit where a key is (or is being typed), None when the cursor is on a value."""
    if cursor.new_key:
        parent: tuple[PathSegment, ...] = cursor.path
    elif cursor.on_key:
        parent = cursor.path[:-1]
    elif (
        cursor.path and isinstance(cursor.path[-1], int) and fields.is_model(fields.shape_at(cursor.kind, cursor.path))
    ):
        parent = cursor.path  # `- ` in a list of mappings: the item's first key
    else:
        return None
    docs = fields.fields_of(fields.shape_at(cursor.kind, parent))
    return [doc for doc in docs if doc.name not in cursor.siblings or doc.name == cursor.word]


def _key_items(docs: list[fields.FieldDoc], cursor: Cursor, edit_range: types.Range) -> list[types.CompletionItem]:
    items = []
    for doc in docs:
        insert = doc.name if cursor.on_key else f"{doc.name}: "
        items.append(
            types.CompletionItem(
                label=doc.name,
                kind=types.CompletionItemKind.Field,
                detail=doc.type + (" (required)" if doc.required else ""),
                documentation=types.MarkupContent(types.MarkupKind.Markdown, doc.doc) if doc.doc else None,
                text_edit=types.TextEdit(edit_range, insert),
                sort_text=("0" if doc.required else "1") + doc.name,
            )
        )
    return items


def _value_items(values: list[tuple[str, str]], edit_range: types.Range) -> list[types.CompletionItem]:
    return [
        types.CompletionItem(
            label=value,
            kind=types.CompletionItemKind.Value,
            detail=detail or None,
            text_edit=types.TextEdit(edit_range, value),
        )
        for value, detail in dict(values).items()
    ]


def _values(project: Workspace, uri: str, cursor: Cursor, text: str) -> list[tuple[str, str]]:
    """(value, detail) pairs for the value under the cursor."""
    checked = project.checked
    if checked is not None:
        target = _reference_here(project, uri, cursor, text)
        if target is not None:
            return _names(checked, target)
        metrics = _metrics(project, uri, cursor, checked)
        if metrics is not None:
            return metrics
    return [(value, "") for value in fields.enum_values(fields.shape_at(cursor.kind, cursor.path))]


def _names(checked: Checked, target: Target) -> list[tuple[str, str]]:
    if target.kind == COLUMN:
        contract = find(checked, CONTRACT_KIND, target.contract or "")
        columns = contract.contract.columns if contract is not None and contract.contract is not None else ()
        return [(column.name, f"{column.logical_type or 'column'} of {target.contract}") for column in columns]
    if target.kind == RULE:
        policy = find(checked, "Policy", target.policy or "")
        rules = policy.model.spec.validations if policy is not None and isinstance(policy.model, Policy) else []
        return [(rule.name, f"rule of {target.policy}") for rule in rules]
    if target.kind == CONTRACT_KIND:
        contracts = {spec.contract.id: spec for spec in named(checked, CONTRACT_KIND).values() if spec.contract}
        return [
            (key, f"DataContract {spec.contract.name or ''}".strip())
            for key, spec in sorted(contracts.items())
            if spec.contract
        ]
    return [(name, f"{target.kind} in {spec.file}") for name, spec in sorted(named(checked, target.kind).items())]


def _reference_here(project: Workspace, uri: str, cursor: Cursor, text: str) -> Target | None:
    """The kind of reference the field at the cursor is, from a probe of the buffer or the last check."""
    probe = _probe(project, uri, cursor, text)
    if probe is not None:
        return _reference(probe, cursor.path)
    checked = project.checked
    spec = project.spec_at(uri, cursor.line, cursor.document)
    if spec is not None and spec.kind == cursor.kind:
        target = _reference(spec, cursor.path)
        if target is not None:
            return target
    return _by_pattern(checked, cursor, spec) if checked is not None else None


def _reference(spec: Spec, path: tuple[PathSegment, ...]) -> Target | None:
    """The reference a field makes; a declaration (a spec's own name) is none."""
    return None if declaration(spec, path) is not None else target_at(spec, path)


def _probe(project: Workspace, uri: str, cursor: Cursor, text: str) -> Spec | None:
    """The cursor's document validated with a placeholder name in place of the word under the cursor."""
    lines = text.split("\n")
    line = lines[cursor.line]
    lines[cursor.line] = line[: cursor.start] + PLACEHOLDER + line[cursor.end :]
    loaded = load_document("\n".join(lines), project.display_of(uri) or uri)
    for document in loaded.documents:
        node = document.node
        if node.start_mark.line <= cursor.line <= node.end_mark.line:
            return loaded.spec_of(document)  # a probe that fails to validate only means no answer
    return None


def _by_pattern(checked: Checked, cursor: Cursor, spec: Spec | None) -> Target | None:
    """The reference any spec of the cursor's kind makes at the same path (list indices aside)."""
    wanted = _pattern(cursor.path)
    for other in all_specs(checked):
        if other.kind != cursor.kind:
            continue
        for reference in references(other):
            if _pattern(reference.path) == wanted:
                return Target(reference.kind, PLACEHOLDER)
        for column in column_references(other):
            if _pattern(column.path) == wanted:
                own = list(column_references(spec)) if spec is not None else []
                contract = own[0].contract.name if own else column.contract.name
                return Target(COLUMN, PLACEHOLDER, contract=contract)
    return None


def _pattern(path: tuple[PathSegment, ...]) -> tuple[PathSegment, ...]:
    return tuple(-1 if isinstance(segment, int) else segment for segment in path)


def _metrics(project: Workspace, uri: str, cursor: Cursor, checked: Checked) -> list[tuple[str, str]] | None:
    """At a suite's `metrics[].metric` or `fairness[].metric`: the metrics of its models' tasks."""
    path = cursor.path
    if cursor.kind != "EvaluationSuite" or len(path) != 4 or path[0] != "spec" or path[3] != "metric":
        return None
    for_task = _METRIC_FIELDS.get(str(path[1]))
    spec = project.spec_at(uri, cursor.line, cursor.document)
    if for_task is None or spec is None:
        return None
    tasks = sorted(
        {
            other.model.spec.task
            for other in checked.specs
            if isinstance(other.model, Model) and other.model.spec.evaluation.suite == spec.name
        }
    )
    if not tasks:
        return None
    found = [(metric, f"fits {task}") for task in tasks for metric in for_task(task)]
    return found
