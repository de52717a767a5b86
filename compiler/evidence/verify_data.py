"""A data gate's record judged again (compiler/evidence/verify.py): its counts against the contract's rules.

- A required column's nulls (CH702) and a unique column's duplicates (CH703) pass only at 0.
- A library quality rule (CH705, `<column or table>.quality[<i>]`) keeps the rows it counted and out of how many
  (`details.count`, `details.rows`, `details.unit`): its value must be that count (or that share in percent), and
  its status follows from the value and the rule's threshold in the contract as it is TODAY. A record that lists
  today's threshold (`expected`) with another status is unfounded (CH820); one that lists an older threshold is
  judged by today's, which decides the verdict the policies and the card see.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from compiler.core.diagnostics import PathSegment
from compiler.core.models.evidence import Checked, Evidence
from compiler.core.odcs import read_odcs
from compiler.core.quality import Threshold, rule_is_warning, threshold

_QUALITY_ID = re.compile(r"^(.+)\.quality\[(\d+)\]$")


class Locator(Protocol):
    def add(self, code: str, message: str, path: list[PathSegment]) -> None: ...


def verify_data(evidence: Evidence, contract: Any, at: Locator) -> list[str]:
    """The status of each check against today's contract (`contract`: its data, None when it is gone)."""
    statuses: list[str] = []
    for index, check in enumerate(evidence.checks):
        if check.code in ("CH702", "CH703"):
            _zero_passes(check, index, at)
            statuses.append(check.status)
        elif check.code == "CH705" and isinstance(check.details, dict) and "count" in check.details:
            statuses.append(_quality_rule(check, index, contract, at))
        else:
            statuses.append(check.status)
    return statuses


def _zero_passes(check: Checked, index: int, at: Locator) -> None:
    if not isinstance(check.value, int) or isinstance(check.value, bool) or check.status not in ("pass", "fail"):
        return
    expected = "pass" if check.value == 0 else "fail"
    if check.status != expected:
        at.add(
            "CH820",
            f"check `{clip(check.id)}` counts {check.value} offending rows, which is `{expected}`, "
            f"but the record says `{check.status}`",
            ["checks", index, "value"],
        )


def _quality_rule(check: Checked, index: int, contract: Any, at: Locator) -> str:
    details = check.details or {}
    count, rows = details.get("count"), details.get("rows")
    if not isinstance(count, int) or not isinstance(rows, int) or not _counts(count) or not _counts(rows):
        return check.status
    if check.status not in ("pass", "fail", "warn"):
        return check.status
    percent = details.get("unit") == "percent"
    value = round(100.0 * count / rows, 6) if percent and rows else count
    if check.value != value:
        at.add(
            "CH820",
            f"check `{clip(check.id)}` says value {clip(repr(check.value))}, "
            f"but counts {count} of {rows} rows ({value!r})",
            ["checks", index, "value"],
        )
        return "fail"
    rule = _rule(contract, check.id)
    found = threshold(rule) if rule is not None else None
    if not isinstance(found, Threshold) or rule is None:
        return check.status  # the rule is gone or unreadable today: nothing to judge it against
    today = "pass" if found.holds(float(value)) else ("warn" if rule_is_warning(rule) else "fail")
    if today != check.status and check.expected == found.text("%" if percent else ""):
        at.add(
            "CH820",
            f"check `{clip(check.id)}` = {value!r} is `{today}` under {clip(str(check.expected))}, "
            f"but the record says `{check.status}`",
            ["checks", index, "status"],
        )
    return today


def clip(text: str, limit: int = 60) -> str:
    """Text the record chose, as a message shows it: at most `limit` characters."""
    return text if len(text) <= limit else text[:limit] + "…"


def _counts(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _rule(contract: Any, check_id: str) -> dict[str, Any] | None:
    """The quality rule `<column or table>.quality[<i>]` of today's contract."""
    matched = _QUALITY_ID.match(check_id)
    if matched is None or not isinstance(contract, dict):
        return None
    name, position = matched.group(1), int(matched.group(2))
    for table in read_odcs(contract).schema:
        owners = [prop.quality for prop in table.properties if prop.name == name]
        owners += [table.quality] if table.declared_name == name else []
        for rules in owners:
            if 0 <= position < len(rules):
                return rules[position].raw
    return None
