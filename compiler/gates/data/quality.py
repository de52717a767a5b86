"""The data gate's column quality rules (ODCS `quality`): which rules it can judge, the SQL each counts with,
and why a rule is skipped. Functions of the scan (compiler.gates.data.scan.Scan)."""

from __future__ import annotations

from typing import Any

from compiler.core import quality as odcs_rules
from compiler.core.gate_report import check
from compiler.gates.data import contract_rules as rules
from compiler.gates.data.parts import (
    QualityRule,
    ScannedColumn,
    Skipped,
    as_list,
    membership,
    not_checkable,
)
from compiler.gates.data.scanning import Scanning
from compiler.gates.data.sql_rules import SqlRule
from compiler.gates.io.inputs import canonical, sql_string


def plan_rule(scan: Scanning, column: ScannedColumn, position: int, rule: dict[str, Any], nulls: int) -> None:
    name = column.rules.name
    kind = odcs_rules.rule_kind(rule)
    metric = odcs_rules.rule_metric(rule)
    check_id = f"{name}.quality[{position}]"
    label = rules.rule_label(rule, metric or kind)
    title = f"`{name}` {label}"
    if kind == "sql":
        scan.sql_rules.append(SqlRule(check_id, title, name, rule, column.data_name))
        return
    if kind != "library" or metric is None:
        scan.report.add(not_checkable(check_id, title, name, kind, rule))
        return
    threshold = odcs_rules.threshold(rule)
    if isinstance(threshold, str):  # a rule that cannot be judged fails closed
        scan.report.add(check("CH705", check_id, title, "fail", target=name, message=f"cannot be judged: {threshold}"))
        return
    item = QualityRule(check_id, title, name, rule, threshold)
    if metric == "duplicateValues":
        scan.count_duplicates((column.data_name,))
        scan.later(lambda v: scan.judge_rule(item, scan.duplicates((column.data_name,)), column=column))
        return
    try:
        index, predicate = rule_count(scan, column, metric, rule, nulls)
    except Skipped as skipped:
        scan.report.add(check(skipped.code, check_id, title, "skipped", target=name, message=skipped.message))
        return
    scan.later(lambda v: scan.judge_rule(item, int(v[index]), predicate=predicate, column=column))


def rule_count(
    scan: Scanning, column: ScannedColumn, metric: str, rule: dict[str, Any], nulls: int
) -> tuple[int, str | None]:
    """Where the scan counts the rows a library quality rule is about, and the predicate that finds them."""
    if metric == "nullValues":
        return nulls, f"{column.raw} IS NULL"
    if metric == "rowCount":
        return 0, None
    arguments = rule.get("arguments") if isinstance(rule.get("arguments"), dict) else {}
    assert isinstance(arguments, dict)
    if metric == "missingValues":
        missing = as_list(arguments.get("missingValues"))
        texts = [sql_string(canonical(v)) for v in missing if v is not None]
        parts = [f"{column.raw} IS NULL"]  # NULL is missing whether or not the list names it
        if texts:
            parts.append(f"CAST({column.raw} AS VARCHAR) IN ({', '.join(texts)})")
        predicate = " OR ".join(parts)
        return scan.count_where(predicate), predicate
    if metric != "invalidValues":
        raise Skipped("CH707", f"unknown library metric `{metric}`")
    valid, pattern = arguments.get("validValues"), arguments.get("pattern")
    tests = [membership(column, tuple(valid))] if isinstance(valid, list) else []
    if isinstance(pattern, str):
        if not scan.valid_pattern(pattern):
            raise Skipped("CH705", "invalid `pattern`")
        tests.append(f"regexp_matches(CAST({column.typed} AS VARCHAR), {sql_string(pattern)})")
    if not tests:
        raise Skipped("CH705", "invalidValues needs validValues or pattern")
    predicate = f"{column.typed} IS NOT NULL AND NOT ({' AND '.join(tests)})"
    return scan.count_where(predicate), predicate
