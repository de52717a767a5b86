"""Breaking changes of an ODCS data contract: columns removed, renamed or narrowed, values no longer allowed,
required added, classification lowered, quality rules and SLAs weakened. Registered in `compiler.plan.breaking`."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from compiler.core.contracts import QUALITY_OPERATORS
from compiler.core.diagnostics import PathSegment, Severity
from compiler.core.odcs import Property, QualityRule, SlaProperty, read_odcs
from compiler.integrations.gitops.snapshot import Located
from compiler.plan.changes import SpecChange
from compiler.plan.rules import Context, Found, both_versions

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


def _label(table: str, column: str) -> str:
    return f"{table}.{column}" if table else column


def _shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value


Columns = dict[tuple[str, str], Property]


def _kept_columns(pair: tuple[Located, Located]) -> Iterator[tuple[str, tuple[PathSegment, ...], Property, Property]]:
    """Columns at both revisions under the same table and name: (label, head path, old, new)."""
    old_columns, new_columns = _columns(pair[0]), _columns(pair[1])
    for key, new in new_columns.items():
        if key in old_columns:
            yield _label(*key), new.path, old_columns[key], new


def _columns(located: Located) -> Columns:
    """(table, column) -> the column; the first of a repeated name."""
    out: Columns = {}
    if located.spec.contract is None:
        return out
    for prop in read_odcs(located.spec.data).properties:
        out.setdefault((prop.table, prop.name), prop)
    return out


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
        before = old[gone]
        for came in added:
            after = new[came]
            if came[0] != gone[0]:
                continue
            physical = before.physical_name
            same_physical = physical is not None and physical == after.physical_name
            same_slot = before.path[-1] == after.path[-1] and before.logical_type == after.logical_type
            if same_physical or same_slot:
                renamed.append((gone, came))
                removed.remove(gone)
                added.remove(came)
                break
    return _Moves(removed, added, renamed)


def _allowed_values(column: Property) -> dict[str, Any] | None:
    """The values a column may hold (`enum`, or a `validValues` quality rule), by a comparable key."""
    values: dict[str, Any] = {}
    enum = column.enum
    constrained = enum is not None
    for value in enum or []:
        values[json.dumps(value, sort_keys=True)] = value
    for rule in column.quality:
        valid = rule.valid_values if rule.metric in ("invalidValues", "validValues") else None
        if valid is not None:
            constrained = True
            values.update((json.dumps(value, sort_keys=True), value) for value in valid)
    return values if constrained else None


def _quality_rules(rules: Iterable[QualityRule]) -> dict[str, tuple[int, dict[str, Any]]]:
    keyed: dict[str, tuple[int, dict[str, Any]]] = {}
    for rule in rules:
        keyed.setdefault(_quality_key(rule.raw), (rule.index, rule.raw))
    return keyed


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


def _sla_items(data: Any) -> dict[tuple[str, str], tuple[int, SlaProperty]]:
    items: dict[tuple[str, str], tuple[int, SlaProperty]] = {}
    for item in read_odcs(data).sla:
        if isinstance(item.name, str):
            items.setdefault((item.name, item.element or ""), (item.index, item))
    return items


def _sla_value(item: SlaProperty) -> float | None:
    raw = item.value
    if isinstance(raw, str):
        match = re.fullmatch(r"\s*(-?\d+(?:\.\d+)?)\s*%?\s*", raw)
        raw = float(match.group(1)) if match else None
    if not isinstance(raw, (int, float)) or isinstance(raw, bool):
        return None
    value = float(raw)
    unit = str(item.unit or "").strip().lower()
    if not unit or unit in ("%", "percent"):
        return value
    factor = _SECONDS.get(unit)
    return value * factor if factor is not None else None


def _sla_units_comparable(old: SlaProperty, new: SlaProperty) -> bool:
    units = [str(item.unit or "").strip().lower() for item in (old, new)]
    if units[0] == units[1]:
        return True
    return all(unit in _SECONDS for unit in units)


def contract_removed(change: SpecChange, context: Context) -> Iterator[Found]:
    if change.status == "removed":
        users = sorted({f"{u.kind} `{u.name}`" for u in context.users(change.kind, change.name)})
        used = f"; used by {', '.join(users)}" if users else ""
        yield Found(f"contract `{change.name}` removed{used}", on_base=True)


def column_removed(change: SpecChange, context: Context) -> Iterator[Found]:
    if (pair := both_versions(change)) is None:
        return
    old = _columns(pair[0])
    for key in _moves(old, _columns(pair[1])).removed:
        yield Found(f"column `{_label(*key)}` removed", old[key].path, on_base=True)


def column_renamed(change: SpecChange, context: Context) -> Iterator[Found]:
    if (pair := both_versions(change)) is None:
        return
    new = _columns(pair[1])
    for gone, came in _moves(_columns(pair[0]), new).renamed:
        yield Found(f"column `{_label(*gone)}` renamed to `{came[1]}`", (*new[came].path, "name"))


def type_narrowed(change: SpecChange, context: Context) -> Iterator[Found]:
    if (pair := both_versions(change)) is None:
        return
    for label, path, old, new in _kept_columns(pair):
        old_type, new_type = old.logical_type, new.logical_type
        if old_type != new_type and old_type is not None and (old_type, new_type) not in _WIDENINGS:
            yield Found(f"column `{label}` type narrowed: {old_type} -> {new_type or 'unset'}", (*path, "logicalType"))
            continue
        reasons = list(_narrowed_options(old.type_options, new.type_options))
        if reasons:
            yield Found(f"column `{label}` type narrowed: {'; '.join(reasons)}", (*path, "logicalTypeOptions"))


def _narrowed_options(old: dict[str, Any], new: dict[str, Any]) -> Iterator[str]:
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
    if (pair := both_versions(change)) is None:
        return
    old_columns, new_columns = _columns(pair[0]), _columns(pair[1])
    renamed = {came: gone for gone, came in _moves(old_columns, new_columns).renamed}
    for key, new in new_columns.items():
        if not new.required:
            continue
        before = old_columns.get(renamed.get(key, key))
        if before is None:
            yield Found(
                f"new column `{_label(*key)}` is required: producers must supply it",
                (*new.path, "required"),
                severity=Severity.WARNING,
            )
        elif not before.required:
            yield Found(f"column `{_label(*key)}` is now required", (*new.path, "required"))


def enum_values_removed(change: SpecChange, context: Context) -> Iterator[Found]:
    if (pair := both_versions(change)) is None:
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
    if (pair := both_versions(change)) is None:
        return
    for label, path, old, new in _kept_columns(pair):
        before, after = old.classification, new.classification
        rank_before = _CLASSIFICATION.get(str(before).lower()) if before is not None else None
        rank_after = _CLASSIFICATION.get(str(after).lower()) if after is not None else None
        if rank_before is not None and (after is None or (rank_after is not None and rank_after < rank_before)):
            yield Found(
                f"column `{label}` classification lowered: {before} -> {after or 'none'}",
                (*path, "classification") if after is not None else path,
            )
        old_tags = {tag.lower() for tag in old.tags}
        new_tags = {tag.lower() for tag in new.tags}
        dropped = sorted((old_tags - new_tags) & _SENSITIVE_TAGS)
        if dropped:
            yield Found(f"column `{label}` no longer tagged {', '.join(dropped)}", path)


def quality_weakened(change: SpecChange, context: Context) -> Iterator[Found]:
    if (pair := both_versions(change)) is None:
        return
    scopes: list[tuple[str, tuple[QualityRule, ...], tuple[QualityRule, ...], tuple[PathSegment, ...]]] = []
    old_tables = {table.name: table for table in read_odcs(pair[0].spec.data).schema}
    for table in read_odcs(pair[1].spec.data).schema:
        if table.name in old_tables:
            scopes.append(
                (f"table `{table.name}`", old_tables[table.name].quality, table.quality, ("schema", table.index))
            )
    scopes += [(f"column `{label}`", old.quality, new.quality, path) for label, path, old, new in _kept_columns(pair)]
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
    if (pair := both_versions(change)) is None:
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
            shown_old = f"{old.value}{' ' + str(old.unit) if old.unit else ''}"
            shown_new = f"{new.value}{' ' + str(new.unit) if new.unit else ''}"
            yield Found(f"SLA {label} weakened: {shown_old} -> {shown_new}", ("slaProperties", new_index, "value"))
