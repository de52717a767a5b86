"""Hover: a field's documentation, a finding's `charter explain`, a summary of what a reference names."""

from __future__ import annotations

import re

from lsprotocol import types

from compiler.core.codes import lookup
from compiler.core.markdown import code
from compiler.core.markdown import text as md
from compiler.core.models import CONTRACT_KIND
from compiler.core.models.common import CharterModel
from compiler.core.models.model import Model
from compiler.core.models.policy import Policy
from compiler.core.specs import Spec
from compiler.lsp import fields
from compiler.lsp.convert import utf16
from compiler.lsp.cursor import Cursor
from compiler.lsp.targets import COLUMN, RULE, Target, find, target_at
from compiler.lsp.workspace import Workspace
from compiler.stages import Checked

_CODE = re.compile(r"CH[1-9]\d\d")


def hover(project: Workspace, uri: str, position: types.Position) -> types.Hover | None:
    cursor = project.cursor(uri, position)
    parts = [explain(diagnostic.code) for diagnostic in _findings_at(project, uri, position) if diagnostic.code]
    if cursor is not None:
        if _CODE.fullmatch(cursor.word):
            parts.append(explain(cursor.word))
        parts.extend(_about(project, uri, cursor))
    parts = [part for part in dict.fromkeys(parts) if part]
    if not parts:
        return None
    shown = None
    if cursor is not None:
        line = (project.text_of(uri) or "").split("\n")[cursor.line]
        start, end = utf16(line, cursor.start), utf16(line, cursor.end)
        shown = types.Range(types.Position(cursor.line, start), types.Position(cursor.line, end))
    return types.Hover(types.MarkupContent(types.MarkupKind.Markdown, "\n\n---\n\n".join(parts)), shown)


def explain(code: object) -> str:
    """What `charter explain CODE` prints."""
    found = lookup(str(code))
    if found is None:
        return ""
    return f"**{found.id} {found.name}** ({found.severity.value}): {found.title}\n\n{found.explanation}"


def _findings_at(project: Workspace, uri: str, position: types.Position) -> list[types.Diagnostic]:
    at = (position.line, position.character)
    return [
        diagnostic
        for diagnostic in project.published.get(uri, [])
        if (diagnostic.range.start.line, diagnostic.range.start.character)
        <= at
        <= (diagnostic.range.end.line, diagnostic.range.end.character)
    ]


def _about(project: Workspace, uri: str, cursor: Cursor) -> list[str]:
    """The field's documentation, or the summary of the reference under the cursor."""
    checked = project.checked
    spec = project.spec_at(uri, cursor.line, cursor.document)
    if not cursor.on_key and not cursor.new_key and checked is not None and spec is not None:
        target = target_at(spec, cursor.path)
        if target is not None and target.name == cursor.word:
            return [summary(checked, target)]
    if cursor.new_key:
        return []
    doc = fields.field_at(cursor.kind, cursor.path)
    if doc is None:
        return []
    # "required" stands apart from the type: inside `(one of: a, b, required)` it read as a value.
    required = " · required" if doc.required else ""
    return [f"**{doc.name}** ({doc.type}){required}\n\n{doc.doc}".strip()]


def summary(checked: Checked, target: Target) -> str:
    """A few lines on what a reference names: its kind, name, file and what matters of it.

    Spec text is escaped like every Markdown output (`compiler.core.markdown`): a description cannot put a link
    or an image in the editor's hover.
    """
    if target.kind == COLUMN:
        return _column(checked, target)
    if target.kind == RULE:
        return _rule(checked, target)
    spec = find(checked, target.kind, target.name)
    if spec is None:
        return f"no {target.kind} named {code(target.name)}"
    lines = [f"**{target.kind}** {code(target.name)} in {code(spec.file)}"]
    if spec.contract is not None:
        contract = spec.contract
        about = f"{contract.name or contract.id} {contract.version or ''} ({contract.status or 'no status'})"
        lines.append(md(about))
        lines.append(f"{len(contract.columns)} columns: " + ", ".join(md(column.name) for column in contract.columns))
    lines.extend(_model_lines(spec))
    return "\n\n".join(line.strip() for line in lines if line.strip())


def _model_lines(spec: Spec) -> list[str]:
    model = spec.model
    if not isinstance(model, CharterModel):
        return []
    metadata = getattr(model, "metadata", None)
    lines = [
        md(getattr(metadata, "description", None) or ""),
        f"owner: {md(getattr(metadata, 'owner', None) or 'none')}",
    ]
    if isinstance(model, Model):
        body = model.spec
        lines.append(md(f"{body.task}, version {body.version}, risk tier {body.risk_tier}"))
    if isinstance(model, Policy):
        lines.append("rules: " + ", ".join(rule.name for rule in model.spec.validations))
    return lines


def _column(checked: Checked, target: Target) -> str:
    contract = find(checked, CONTRACT_KIND, target.contract or "")
    columns = contract.contract.find(target.name) if contract is not None and contract.contract is not None else []
    if not columns:
        return f"no column {code(target.name)} in contract {code(target.contract)}"
    column = columns[0]
    facts = [column.logical_type or "no logical type", "required" if column.required else "optional"]
    if column.classification:
        facts.append(f"classification {column.classification}")
    if column.tags:
        facts.append("tags " + ", ".join(column.tags))
    table = f"{column.table}." if column.table else ""
    return f"**column** {code(table + column.name)} of contract {code(target.contract)}\n\n" + md(", ".join(facts))


def _rule(checked: Checked, target: Target) -> str:
    policy = find(checked, "Policy", target.policy or "")
    if policy is None or not isinstance(policy.model, Policy):
        return f"no policy named {code(target.policy)}"
    rule = next((rule for rule in policy.model.spec.validations if rule.name == target.name), None)
    if rule is None:
        return f"policy {code(target.policy)} has no rule {code(target.name)}"
    lines = [f"**rule** {code(rule.name)} of policy {code(target.policy)} ({rule.severity})"]
    lines += [
        md(rule.description or ""),
        md(rule.message or ""),
        md("references: " + "; ".join(rule.references)) if rule.references else "",
    ]
    return "\n\n".join(line.strip() for line in lines if line.strip())
