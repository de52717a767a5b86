"""Breaking changes: what a change does to the people downstream of a spec.

One small function per rule, all registered in `RULES` at the bottom. A
rule sees one changed spec (both versions) and the two checked revisions,
and yields what it found; the runner adds the place, the severity and the
people each change concerns: the spec's owners (`metadata.owner`, or the
ODCS `team` of a contract) and the owners of every spec that uses it.

Severities: `error` for what breaks consumers (a column removed, renamed
or narrowed, a model's inputs or output changed) or lowers a protection
(classification, fairness bounds, risk tier, approvals, a policy verdict
turned to pass); `warning` for weakened guarantees (quality rules, SLAs,
performance bounds, canary traffic); `info` for governance changes that
flip no verdict. A breaking change to a contract's columns or a model's
interface that comes with a new major version (`2.3.0` -> `3.0.0`) is
announced, so it is a warning; lowered protections never are.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from compiler.core.contracts import QUALITY_OPERATORS, Contract
from compiler.core.diagnostics import PathSegment, Severity
from compiler.core.models import CONTRACT_KIND
from compiler.core.models.environment import Environment
from compiler.core.models.model import Model
from compiler.core.models.suite import EvaluationSuite
from compiler.integrations.gitops.snapshot import Located, Snapshot
from compiler.plan.changes import SpecChange
from compiler.plan.governance import (
    pack_removed,
    param_changed,
    param_loosened,
    policy_changed,
    policy_settings_changed,
    rule_softened,
    waiver_added,
    waiver_changed,
    waiver_extended,
)
from compiler.plan.rules import _VERDICT_RANK, PASS, BreakingChange, Context, Flip, Found, Rule, _both

_RISK_TIERS = ("minimal", "limited", "high", "unacceptable")
_CLASSIFICATION = {"public": 0, "internal": 1, "confidential": 2, "restricted": 3, "secret": 4}
_SENSITIVE_TAGS = frozenset({"pii", "protected", "sensitive", "phi", "spi"})
_WIDENINGS = frozenset(
    {
        ("integer", "number"),
        ("integer", "string"),
        ("number", "string"),
        ("boolean", "string"),
        ("date", "timestamp"),
        ("date", "string"),
        ("timestamp", "string"),
        ("time", "string"),
    }
)
_LOWER_BOUND_OPTIONS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER_BOUND_OPTIONS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
_SHAPE_OPTIONS = ("pattern", "format", "timezone")
_QUALITY_SEVERITY = {"error": 0, "warning": 1, "info": 2}
_SLA_LOWER_IS_STRONGER = frozenset(
    {"latency", "frequency", "errorrate", "timetodetect", "timetonotify", "timetorepair", "mttr", "mttd"}
)
_SLA_HIGHER_IS_STRONGER = frozenset({"availability", "retention", "throughput", "uptime", "completeness"})
_SECONDS = {
    "ms": 0.001,
    "s": 1,
    "sec": 1,
    "second": 1,
    "seconds": 1,
    "min": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hr": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 604800,
    "week": 604800,
    "weeks": 604800,
    "mo": 2629800,
    "month": 2629800,
    "months": 2629800,
    "y": 31557600,
    "yr": 31557600,
    "year": 31557600,
    "years": 31557600,
}


def breaking_changes(changes: Iterable[SpecChange], context: Context) -> list[BreakingChange]:
    found: list[BreakingChange] = []
    for change in changes:
        for rule in RULES:
            if change.kind in rule.kinds:
                found.extend(_place(rule, change, item, context) for item in rule.check(change, context))
    return sorted(found, key=lambda c: (c.severity.rank, c.kind or "", c.name or "", c.rule or "", c.message))


def _place(rule: Rule, change: SpecChange, found: Found, context: Context) -> BreakingChange:
    located = change.base if found.on_base or change.head is None else change.head
    assert located is not None
    span = located.spec.span(found.path) if found.path else located.spec.span(_name_path(located))
    severity = found.severity or rule.severity
    note = found.note
    if rule.announced_by_major_version and severity is Severity.ERROR:
        bump = _major_bump(change)
        if bump is not None:
            severity, note = Severity.WARNING, f"announced by the major version bump {bump}"
    concerns = [*context.owners(change.head), *context.owners(change.base)]
    for user in context.users(change.kind, change.name):
        concerns.extend(context.owners(user))
    concerns.extend(found.concerns)
    return BreakingChange(
        rule.code,
        severity,
        found.message,
        located.file,
        span.line,
        span.column,
        span.end_line,
        span.end_column,
        found.path,
        rule=rule.id,
        kind=change.kind,
        name=change.name,
        concerns=tuple(dict.fromkeys(concerns)),
        flips=found.flips,
        note=note,
    )


def _name_path(located: Located) -> tuple[PathSegment, ...]:
    return ("id",) if located.spec.contract is not None else ("metadata", "name")


def verdict_flips(base: Snapshot, head: Snapshot) -> list[Flip]:
    before, after = _verdicts(base), _verdicts(head)
    flips = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key, PASS), after.get(key, PASS)
        if old != new:
            flips.append(Flip(key[0], key[1], key[2], old, new))
    return flips


def _verdicts(snapshot: Snapshot) -> dict[tuple[str, str, str], str]:
    """(policy, kind, name) -> the worst unwaived severity of that policy's findings there."""
    targets = snapshot.targets()
    verdicts: dict[tuple[str, str, str], str] = {}
    for d in snapshot.result.diagnostics:
        target = targets.get((d.file, d.document))
        if d.policy is None or target is None or target.kind in ("Policy", "Waiver", "Project"):
            continue
        key = (d.policy, target.kind, target.name)
        value = PASS if d.suppressed else d.severity.value
        if _VERDICT_RANK[value] < _VERDICT_RANK[verdicts.get(key, PASS)]:
            verdicts[key] = value
        verdicts.setdefault(key, value)
    return verdicts


# --- shared helpers ------------------------------------------------------------------


def _major(version: str | None) -> int | None:
    match = re.match(r"^v?(\d+)", version or "")
    return int(match.group(1)) if match else None


def _major_bump(change: SpecChange) -> str | None:
    if change.base is None or change.head is None:
        return None
    versions = []
    for located in (change.base, change.head):
        if located.spec.contract is not None:
            versions.append(located.spec.contract.version)
        elif isinstance(located.spec.model, Model):
            versions.append(located.spec.model.spec.version)
        else:
            return None
    old, new = _major(versions[0]), _major(versions[1])
    if old is not None and new is not None and new > old:
        return f"{versions[0]} -> {versions[1]}"
    return None


def _label(table: str, column: str) -> str:
    return f"{table}.{column}" if table else column


def _shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value


Columns = dict[tuple[str, str], tuple[tuple[PathSegment, ...], dict[str, Any]]]


def _kept_columns(pair: tuple[Located, Located]) -> Iterator[tuple[str, tuple[PathSegment, ...], Any, Any]]:
    """Columns at both revisions under the same table and name: (label, head path, old, new)."""
    old_columns, new_columns = _columns(pair[0]), _columns(pair[1])
    for key, (path, new) in new_columns.items():
        if key in old_columns:
            yield _label(*key), path, old_columns[key][1], new


def _columns(located: Located) -> Columns:
    """(table, column) -> (path in the document, the ODCS property as written)."""
    contract: Contract | None = located.spec.contract
    out: Columns = {}
    if contract is None:
        return out
    for column in contract.columns:
        raw = _at(located.spec.data, column.path)
        if isinstance(raw, dict):
            out.setdefault((column.table, column.name), (column.path, raw))
    return out


def _at(data: Any, path: Iterable[PathSegment]) -> Any:
    for segment in path:
        if isinstance(data, dict) and isinstance(segment, str):
            data = data.get(segment)
        elif isinstance(data, list) and isinstance(segment, int) and 0 <= segment < len(data):
            data = data[segment]
        else:
            return None
    return data


@dataclass(frozen=True)
class _Moves:
    removed: list[tuple[str, str]]
    added: list[tuple[str, str]]
    renamed: list[tuple[tuple[str, str], tuple[str, str]]]


def _moves(old: Columns, new: Columns) -> _Moves:
    """A column that disappears as another appears with its physicalName, or in its slot with its type, moved."""
    removed = [key for key in old if key not in new]
    added = [key for key in new if key not in old]
    renamed = []
    for gone in list(removed):
        old_path, old_raw = old[gone]
        for came in added:
            new_path, new_raw = new[came]
            if came[0] != gone[0]:
                continue
            physical = old_raw.get("physicalName")
            same_physical = physical is not None and physical == new_raw.get("physicalName")
            same_slot = old_path[-1] == new_path[-1] and old_raw.get("logicalType") == new_raw.get("logicalType")
            if same_physical or same_slot:
                renamed.append((gone, came))
                removed.remove(gone)
                added.remove(came)
                break
    return _Moves(removed, added, renamed)


def _allowed_values(raw: dict[str, Any]) -> dict[str, Any] | None:
    """The values a column may hold (`enum`, or a `validValues` quality rule), by a comparable key."""
    values: dict[str, Any] = {}
    constrained = False
    enum = raw.get("enum")
    if isinstance(enum, list):
        constrained = True
        for item in enum:
            value = item.get("value") if isinstance(item, dict) else item
            values[json.dumps(value, sort_keys=True)] = value
    for rule in raw.get("quality") or []:
        if not isinstance(rule, dict) or rule.get("metric", rule.get("rule")) not in ("invalidValues", "validValues"):
            continue
        arguments = rule.get("arguments")
        valid = arguments.get("validValues") if isinstance(arguments, dict) else None
        if isinstance(valid, list):
            constrained = True
            values.update((json.dumps(value, sort_keys=True), value) for value in valid)
    return values if constrained else None


def _quality_rules(raw: Any) -> dict[str, tuple[int, dict[str, Any]]]:
    rules: dict[str, tuple[int, dict[str, Any]]] = {}
    for index, rule in enumerate(raw.get("quality") or [] if isinstance(raw, dict) else []):
        if isinstance(rule, dict):
            rules.setdefault(_quality_key(rule), (index, rule))
    return rules


def _quality_key(rule: dict[str, Any]) -> str:
    for identity in ("id", "name"):
        if isinstance(rule.get(identity), str):
            return f"{identity}:{rule[identity]}"
    metric = rule.get("metric", rule.get("rule"))
    if metric is not None:
        arguments = rule.get("arguments")
        kept = {k: v for k, v in arguments.items() if k != "validValues"} if isinstance(arguments, dict) else {}
        return f"metric:{metric}:{json.dumps(kept, sort_keys=True)}"
    return f"{rule.get('type', 'text')}:{rule.get('description') or rule.get('query') or json.dumps(rule)}"


def _quality_name(rule: dict[str, Any]) -> str:
    return str(rule.get("name") or rule.get("metric") or rule.get("rule") or rule.get("description") or "a rule")


_Interval = tuple[float, bool, float, bool]  # low, low inclusive, high, high inclusive


def _interval(rule: dict[str, Any]) -> _Interval | None:
    inf = float("inf")
    for key, shape in (
        ("mustBe", "eq"),
        ("mustBeGreaterThan", "gt"),
        ("mustBeGreaterOrEqualTo", "ge"),
        ("mustBeLessThan", "lt"),
        ("mustBeLessOrEqualTo", "le"),
        ("mustBeBetween", "between"),
    ):
        value = rule.get(key)
        if value is None:
            continue
        if shape == "between":
            if isinstance(value, list) and len(value) == 2 and all(_number(v) for v in value):
                return (float(value[0]), True, float(value[1]), True)
            return None
        if not _number(value):
            return None
        number = float(value)
        return {
            "eq": (number, True, number, True),
            "gt": (number, False, inf, False),
            "ge": (number, True, inf, False),
            "lt": (-inf, False, number, False),
            "le": (-inf, False, number, True),
        }[shape]
    return None


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _wider(new: _Interval, old: _Interval) -> bool:
    """Whether `new` admits a value that `old` did not."""
    new_low, new_low_in, new_high, new_high_in = new
    old_low, old_low_in, old_high, old_high_in = old
    if new_low < old_low or (new_low == old_low and new_low_in and not old_low_in):
        return True
    return new_high > old_high or (new_high == old_high and new_high_in and not old_high_in)


def _threshold(rule: dict[str, Any]) -> str:
    for key in QUALITY_OPERATORS:
        if key in rule:
            unit = f" {rule['unit']}" if rule.get("unit") else ""
            return f"{key} {_shown(rule[key])}{unit}"
    return "no threshold"


def _sla_items(data: Any) -> dict[tuple[str, str], tuple[int, dict[str, Any]]]:
    items: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
    for index, item in enumerate(data.get("slaProperties") or [] if isinstance(data, dict) else []):
        if isinstance(item, dict) and isinstance(item.get("property"), str):
            items.setdefault((item["property"], str(item.get("element") or "")), (index, item))
    return items


def _sla_value(item: dict[str, Any]) -> float | None:
    raw = item.get("value")
    if isinstance(raw, str):
        match = re.fullmatch(r"\s*(-?\d+(?:\.\d+)?)\s*%?\s*", raw)
        raw = float(match.group(1)) if match else None
    if not isinstance(raw, (int, float)) or isinstance(raw, bool):
        return None
    value = float(raw)
    unit = str(item.get("unit") or "").strip().lower()
    if not unit or unit in ("%", "percent"):
        return value
    factor = _SECONDS.get(unit)
    return value * factor if factor is not None else None


def _sla_units_comparable(old: dict[str, Any], new: dict[str, Any]) -> bool:
    units = [str(item.get("unit") or "").strip().lower() for item in (old, new)]
    if units[0] == units[1]:
        return True
    return all(unit in _SECONDS for unit in units)


def _deployments(model: Model) -> dict[str, tuple[int, int | None]]:
    """environment -> (index in deployments, canary traffic percent or None)."""
    return {
        deployment.environment: (index, deployment.canary.traffic_percent if deployment.canary else None)
        for index, deployment in enumerate(model.spec.deployments)
    }


def _bounds(suite: EvaluationSuite, group: str) -> dict[tuple[str, str], tuple[int, float | None, float | None]]:
    out: dict[tuple[str, str], tuple[int, float | None, float | None]] = {}
    if group == "metrics":
        for index, bound in enumerate(suite.spec.metrics):
            out.setdefault((bound.metric, bound.slice or ""), (index, bound.min, bound.max))
    else:
        for index, check in enumerate(suite.spec.fairness):
            out.setdefault((check.metric, check.sensitive_feature), (index, check.min, check.max))
    return out


def _suite_pairs(change: SpecChange, context: Context) -> Iterator[tuple[Located, Located, str]]:
    """(old suite, new suite, how): a suite's own change, or a model that switched suites."""
    pair = _both(change)
    if pair is None:
        return
    old, new = pair
    if change.kind == "EvaluationSuite":
        yield old, new, ""
        return
    old_model, new_model = old.spec.model, new.spec.model
    if not isinstance(old_model, Model) or not isinstance(new_model, Model):
        return
    before, after = old_model.spec.evaluation.suite, new_model.spec.evaluation.suite
    if before == after:
        return
    old_suite = context.find("EvaluationSuite", before, head=False)
    new_suite = context.find("EvaluationSuite", after, head=True)
    if old_suite is not None and new_suite is not None:
        yield old_suite, new_suite, f" (the model moved from suite `{before}` to `{after}`)"


def _loosened_bounds(
    old: Located, new: Located, group: str, how: str, moved: bool
) -> Iterator[tuple[str, tuple[PathSegment, ...], bool]]:
    old_suite, new_suite = old.spec.model, new.spec.model
    if not isinstance(old_suite, EvaluationSuite) or not isinstance(new_suite, EvaluationSuite):
        return
    before, after = _bounds(old_suite, group), _bounds(new_suite, group)
    noun = "metric" if group == "metrics" else "fairness check"
    for key, (index, old_min, old_max) in before.items():
        where = f" on `{key[1]}`" if key[1] else ""
        if key not in after:
            path: tuple[PathSegment, ...] = () if moved else ("spec", group, index)
            yield f"{noun} `{key[0]}`{where} removed{how}", path, not moved
            continue
        new_index, new_min, new_max = after[key]
        loosened = []
        if old_min is not None and (new_min is None or new_min < old_min):
            loosened.append(f"min {old_min} -> {new_min if new_min is not None else 'none'}")
        if old_max is not None and (new_max is None or new_max > old_max):
            loosened.append(f"max {old_max} -> {new_max if new_max is not None else 'none'}")
        if loosened:
            path = () if moved else ("spec", group, new_index)
            yield f"{noun} `{key[0]}`{where} loosened: {', '.join(loosened)}{how}", path, False


# --- data contracts ------------------------------------------------------------------


def contract_removed(change: SpecChange, context: Context) -> Iterator[Found]:
    if change.status == "removed":
        users = sorted({f"{u.kind} `{u.name}`" for u in context.users(change.kind, change.name)})
        used = f"; used by {', '.join(users)}" if users else ""
        yield Found(f"contract `{change.name}` removed{used}", on_base=True)


def column_removed(change: SpecChange, context: Context) -> Iterator[Found]:
    if (pair := _both(change)) is None:
        return
    old = _columns(pair[0])
    for key in _moves(old, _columns(pair[1])).removed:
        yield Found(f"column `{_label(*key)}` removed", old[key][0], on_base=True)


def column_renamed(change: SpecChange, context: Context) -> Iterator[Found]:
    if (pair := _both(change)) is None:
        return
    new = _columns(pair[1])
    for gone, came in _moves(_columns(pair[0]), new).renamed:
        yield Found(f"column `{_label(*gone)}` renamed to `{came[1]}`", (*new[came][0], "name"))


def type_narrowed(change: SpecChange, context: Context) -> Iterator[Found]:
    if (pair := _both(change)) is None:
        return
    for label, path, old, new in _kept_columns(pair):
        old_type, new_type = old.get("logicalType"), new.get("logicalType")
        if old_type != new_type and old_type is not None and (old_type, new_type) not in _WIDENINGS:
            yield Found(f"column `{label}` type narrowed: {old_type} -> {new_type or 'unset'}", (*path, "logicalType"))
            continue
        reasons = list(_narrowed_options(old.get("logicalTypeOptions"), new.get("logicalTypeOptions")))
        if reasons:
            yield Found(f"column `{label}` type narrowed: {'; '.join(reasons)}", (*path, "logicalTypeOptions"))


def _narrowed_options(old: Any, new: Any) -> Iterator[str]:
    old = old if isinstance(old, dict) else {}
    new = new if isinstance(new, dict) else {}
    for key in _LOWER_BOUND_OPTIONS:
        if _number(new.get(key)) and (not _number(old.get(key)) or new[key] > old[key]):
            yield f"{key} {_shown(old.get(key, 'none'))} -> {_shown(new[key])}"
    for key in _UPPER_BOUND_OPTIONS:
        if _number(new.get(key)) and (not _number(old.get(key)) or new[key] < old[key]):
            yield f"{key} {_shown(old.get(key, 'none'))} -> {_shown(new[key])}"
    for key in _SHAPE_OPTIONS:
        if key in new and new.get(key) != old.get(key):
            yield f"{key} {_shown(old.get(key, 'none'))} -> {_shown(new[key])}"


def required_added(change: SpecChange, context: Context) -> Iterator[Found]:
    if (pair := _both(change)) is None:
        return
    old_columns, new_columns = _columns(pair[0]), _columns(pair[1])
    renamed = {came: gone for gone, came in _moves(old_columns, new_columns).renamed}
    for key, (path, new) in new_columns.items():
        if new.get("required") is not True:
            continue
        before = old_columns.get(renamed.get(key, key))
        if before is None:
            yield Found(
                f"new column `{_label(*key)}` is required: producers must supply it",
                (*path, "required"),
                severity=Severity.WARNING,
            )
        elif before[1].get("required") is not True:
            yield Found(f"column `{_label(*key)}` is now required", (*path, "required"))


def enum_values_removed(change: SpecChange, context: Context) -> Iterator[Found]:
    if (pair := _both(change)) is None:
        return
    for label, path, old, new in _kept_columns(pair):
        before, after = _allowed_values(old), _allowed_values(new)
        if before is None or after is None:
            continue
        gone = [value for token, value in before.items() if token not in after]
        if gone:
            shown = ", ".join(f"`{_shown(value)}`" for value in gone)
            yield Found(f"column `{label}`: allowed values removed: {shown}", path)


def classification_lowered(change: SpecChange, context: Context) -> Iterator[Found]:
    if (pair := _both(change)) is None:
        return
    for label, path, old, new in _kept_columns(pair):
        before, after = old.get("classification"), new.get("classification")
        rank_before = _CLASSIFICATION.get(str(before).lower()) if before is not None else None
        rank_after = _CLASSIFICATION.get(str(after).lower()) if after is not None else None
        if rank_before is not None and (after is None or (rank_after is not None and rank_after < rank_before)):
            yield Found(
                f"column `{label}` classification lowered: {before} -> {after or 'none'}",
                (*path, "classification") if after is not None else path,
            )
        old_tags = {str(tag).lower() for tag in old.get("tags") or []}
        new_tags = {str(tag).lower() for tag in new.get("tags") or []}
        dropped = sorted((old_tags - new_tags) & _SENSITIVE_TAGS)
        if dropped:
            yield Found(f"column `{label}` no longer tagged {', '.join(dropped)}", path)


def quality_weakened(change: SpecChange, context: Context) -> Iterator[Found]:
    if (pair := _both(change)) is None:
        return
    old_data, new_data = pair[0].spec.data, pair[1].spec.data
    scopes: list[tuple[str, Any, Any, tuple[PathSegment, ...]]] = []
    old_tables = {t.get("name"): (i, t) for i, t in enumerate(old_data.get("schema") or []) if isinstance(t, dict)}
    for index, table in enumerate(new_data.get("schema") or []):
        if isinstance(table, dict) and table.get("name") in old_tables:
            scopes.append((f"table `{table.get('name')}`", old_tables[table["name"]][1], table, ("schema", index)))
    scopes += [(f"column `{label}`", old, new, path) for label, path, old, new in _kept_columns(pair)]
    for where, old, new, path in scopes:
        before, after = _quality_rules(old), _quality_rules(new)
        for rule_key, (_, rule) in before.items():
            if rule_key not in after:
                yield Found(f"{where}: quality rule `{_quality_name(rule)}` removed", path)
                continue
            index, current = after[rule_key]
            reasons = []
            old_interval, new_interval = _interval(rule), _interval(current)
            same_unit = rule.get("unit") == current.get("unit")
            if old_interval and new_interval and same_unit and _wider(new_interval, old_interval):
                reasons.append(f"{_threshold(rule)} -> {_threshold(current)}")
            old_severity = _QUALITY_SEVERITY.get(str(rule.get("severity", "error")).lower())
            new_severity = _QUALITY_SEVERITY.get(str(current.get("severity", "error")).lower())
            if old_severity is not None and new_severity is not None and new_severity > old_severity:
                reasons.append(f"severity {rule.get('severity', 'error')} -> {current.get('severity')}")
            if reasons:
                yield Found(
                    f"{where}: quality rule `{_quality_name(current)}` weakened: {'; '.join(reasons)}",
                    (*path, "quality", index),
                )


def sla_weakened(change: SpecChange, context: Context) -> Iterator[Found]:
    if (pair := _both(change)) is None:
        return
    before, after = _sla_items(pair[0].spec.data), _sla_items(pair[1].spec.data)
    for key, (index, old) in before.items():
        label = f"`{key[0]}`" + (f" on `{key[1]}`" if key[1] else "")
        if key not in after:
            yield Found(f"SLA {label} removed", ("slaProperties", index), on_base=True)
            continue
        new_index, new = after[key]
        old_value, new_value = _sla_value(old), _sla_value(new)
        if old_value is None or new_value is None or not _sla_units_comparable(old, new):
            continue
        prop = key[0].lower().replace("_", "").replace("-", "")
        weaker = (prop in _SLA_LOWER_IS_STRONGER and new_value > old_value) or (
            prop in _SLA_HIGHER_IS_STRONGER and new_value < old_value
        )
        if weaker:
            shown_old = f"{old.get('value')}{' ' + str(old['unit']) if old.get('unit') else ''}"
            shown_new = f"{new.get('value')}{' ' + str(new['unit']) if new.get('unit') else ''}"
            yield Found(f"SLA {label} weakened: {shown_old} -> {shown_new}", ("slaProperties", new_index, "value"))


# --- models and suites -------------------------------------------------------------------


def _models(change: SpecChange) -> tuple[Model, Model] | None:
    pair = _both(change)
    if pair is None:
        return None
    old, new = pair[0].spec.model, pair[1].spec.model
    return (old, new) if isinstance(old, Model) and isinstance(new, Model) else None


def features_changed(change: SpecChange, context: Context) -> Iterator[Found]:
    if (models := _models(change)) is None:
        return
    old, new = models[0].spec.features, models[1].spec.features
    removed = [f for f in old if f not in new]
    added = [f for f in new if f not in old]
    parts = []
    if removed:
        parts.append("removed " + ", ".join(f"`{f}`" for f in removed))
    if added:
        parts.append("added " + ", ".join(f"`{f}`" for f in added))
    if parts:
        yield Found(f"features changed: {'; '.join(parts)}: the model's inputs differ", ("spec", "features"))
    elif old != new:
        yield Found("features reordered", ("spec", "features"), severity=Severity.WARNING)


def label_changed(change: SpecChange, context: Context) -> Iterator[Found]:
    if (models := _models(change)) is None:
        return
    old, new = models[0].spec.label, models[1].spec.label
    if old != new:
        yield Found(f"label changed: `{old}` -> `{new}`: the model predicts something else", ("spec", "label"))


def _tiers(change: SpecChange) -> tuple[str, str, int] | None:
    if (models := _models(change)) is None:
        return None
    old, new = models[0].spec.risk_tier, models[1].spec.risk_tier
    return old, new, _RISK_TIERS.index(new) - _RISK_TIERS.index(old)


def risk_tier_lowered(change: SpecChange, context: Context) -> Iterator[Found]:
    tiers = _tiers(change)
    if tiers is not None and tiers[2] < 0:
        yield Found(f"risk tier lowered: {tiers[0]} -> {tiers[1]}: fewer obligations apply", ("spec", "riskTier"))


def risk_tier_raised(change: SpecChange, context: Context) -> Iterator[Found]:
    tiers = _tiers(change)
    if tiers is not None and tiers[2] > 0:
        yield Found(f"risk tier raised: {tiers[0]} -> {tiers[1]}: more obligations apply", ("spec", "riskTier"))


def metric_loosened(change: SpecChange, context: Context) -> Iterator[Found]:
    for old, new, how in _suite_pairs(change, context):
        for message, path, on_base in _loosened_bounds(old, new, "metrics", how, change.kind == "Model"):
            yield Found(message, path, on_base=on_base)


def fairness_loosened(change: SpecChange, context: Context) -> Iterator[Found]:
    for old, new, how in _suite_pairs(change, context):
        moved = change.kind == "Model"
        for message, path, on_base in _loosened_bounds(old, new, "fairness", how, moved):
            yield Found(message, path or (("spec", "evaluation", "suite") if moved else ()), on_base=on_base)
        old_suite, new_suite = old.spec.model, new.spec.model
        assert isinstance(old_suite, EvaluationSuite)
        assert isinstance(new_suite, EvaluationSuite)
        if new_suite.spec.min_group_size > old_suite.spec.min_group_size and new_suite.spec.fairness:
            yield Found(
                f"minGroupSize raised: {old_suite.spec.min_group_size} -> {new_suite.spec.min_group_size}: "
                f"fewer groups get a fairness verdict{how}",
                () if moved else ("spec", "minGroupSize"),
                severity=Severity.WARNING,
            )


def canary_raised(change: SpecChange, context: Context) -> Iterator[Found]:
    if (models := _models(change)) is None:
        return
    before, after = _deployments(models[0]), _deployments(models[1])
    for environment, (index, new) in after.items():
        if environment not in before:
            continue
        old = before[environment][1]
        if old is not None and new is None:
            yield Found(
                f"canary removed in `{environment}`: the new version takes all traffic at once (was {old}%)",
                ("spec", "deployments", index),
                severity=Severity.ERROR,
            )
        elif old is not None and new is not None and new > old:
            yield Found(
                f"canary traffic raised in `{environment}`: {old}% -> {new}%",
                ("spec", "deployments", index, "canary", "trafficPercent"),
            )


# --- environments --------------------------------------------------------------------


def approvals_reduced(change: SpecChange, context: Context) -> Iterator[Found]:
    if (pair := _both(change)) is None:
        return
    old, new = pair[0].spec.model, pair[1].spec.model
    if not isinstance(old, Environment) or not isinstance(new, Environment):
        return
    if new.spec.approvals < old.spec.approvals:
        production = "production" in (old.spec.tier, new.spec.tier)
        yield Found(
            f"approvals reduced: {old.spec.approvals} -> {new.spec.approvals}"
            + (" on a production environment" if production else ""),
            ("spec", "approvals"),
            severity=Severity.ERROR if production else Severity.WARNING,
        )


def promotion_removed(change: SpecChange, context: Context) -> Iterator[Found]:
    if (pair := _both(change)) is None:
        return
    old, new = pair[0].spec.model, pair[1].spec.model
    if not isinstance(old, Environment) or not isinstance(new, Environment):
        return
    if old.spec.promotes_from is not None and new.spec.promotes_from is None:
        yield Found(
            f"no longer promotes from `{old.spec.promotes_from}`: versions may skip it",
            ("spec", "promotesFrom"),
            on_base=True,
        )


RULES: tuple[Rule, ...] = (
    Rule("CH600", (CONTRACT_KIND,), contract_removed),  # contract-removed
    Rule("CH601", (CONTRACT_KIND,), column_removed, announced_by_major_version=True),  # contract-column-removed
    Rule("CH602", (CONTRACT_KIND,), column_renamed, announced_by_major_version=True),  # contract-column-renamed
    Rule("CH603", (CONTRACT_KIND,), type_narrowed, announced_by_major_version=True),  # contract-type-narrowed
    Rule("CH604", (CONTRACT_KIND,), required_added, announced_by_major_version=True),  # contract-required-added
    # contract-enum-values-removed
    Rule("CH605", (CONTRACT_KIND,), enum_values_removed, announced_by_major_version=True),
    Rule("CH606", (CONTRACT_KIND,), classification_lowered),  # contract-classification-lowered
    Rule("CH607", (CONTRACT_KIND,), quality_weakened),  # contract-quality-weakened
    Rule("CH608", (CONTRACT_KIND,), sla_weakened),  # contract-sla-weakened
    Rule("CH620", ("Model",), features_changed, announced_by_major_version=True),  # model-features-changed
    Rule("CH621", ("Model",), label_changed, announced_by_major_version=True),  # model-label-changed
    Rule("CH622", ("Model",), risk_tier_lowered),  # model-risk-tier-lowered
    Rule("CH623", ("Model",), risk_tier_raised),  # model-risk-tier-raised
    Rule("CH624", ("EvaluationSuite", "Model"), metric_loosened),  # model-metric-loosened
    Rule("CH625", ("EvaluationSuite", "Model"), fairness_loosened),  # model-fairness-loosened
    Rule("CH626", ("Model",), canary_raised),  # model-canary-raised
    Rule("CH640", ("Environment",), approvals_reduced),  # environment-approvals-reduced
    Rule("CH641", ("Environment",), promotion_removed),  # environment-promotion-removed
    Rule("CH660", ("Policy",), policy_changed),  # policy-changed
    Rule("CH680", ("Waiver",), waiver_changed),  # waiver-changed
    Rule("CH681", ("Waiver",), waiver_added),  # waiver-added
    Rule("CH682", ("Waiver",), waiver_extended),  # waiver-extended
    Rule("CH661", ("Project",), pack_removed),  # policy-pack-removed
    Rule("CH662", ("Project",), rule_softened),  # policy-rule-softened
    Rule("CH663", ("Project", "Policy"), param_loosened),  # policy-param-loosened
    Rule("CH664", ("Project", "Policy"), param_changed),  # policy-param-changed
    Rule("CH665", ("Project",), policy_settings_changed),  # policy-settings-changed
)
