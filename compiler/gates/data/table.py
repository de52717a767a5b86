"""The data gate's table-level checks: duplicate rows over column sets, the contract's table quality rules,
freshness, and the profile of each column. Functions of the scan (compiler.gates.data.scan.Scan)."""

from __future__ import annotations

import datetime
from typing import Any

from compiler.core import quality as odcs_rules
from compiler.core.gate_report import check, measured
from compiler.gates.data import contract_rules as rules
from compiler.gates.data.contract_rules import Freshness
from compiler.gates.data.parts import (
    QualityRule,
    ScannedColumn,
    duration_text,
    not_checkable,
    parsed_as,
    rule_properties,
)
from compiler.gates.data.scanning import Scanning
from compiler.gates.data.sql_rules import SqlRule


def plan_table_duplicates(scan: Scanning, found: dict[str, ScannedColumn]) -> None:
    for rule in scan.table.quality:
        if odcs_rules.rule_kind(rule) != "library" or odcs_rules.rule_metric(rule) != "duplicateValues":
            continue
        names = rule_properties(rule)
        if names and all(n in found for n in names):
            scan.count_duplicates(tuple(found[n].data_name for n in names))


def table_rules(scan: Scanning, found: dict[str, ScannedColumn]) -> None:
    for position, rule in enumerate(scan.table.quality):
        kind = odcs_rules.rule_kind(rule)
        metric = odcs_rules.rule_metric(rule)
        check_id = f"{scan.table.name}.quality[{position}]"
        title = f"table `{scan.table.name}` {rules.rule_label(rule, metric or kind)}"
        if kind == "sql":
            scan.sql_rules.append(SqlRule(check_id, title, scan.table.name, rule, None))
            continue
        if kind != "library" or metric is None:
            scan.report.add(not_checkable(check_id, title, scan.table.name, kind, rule))
            continue
        threshold = odcs_rules.threshold(rule)
        if isinstance(threshold, str):  # a rule that cannot be judged fails closed
            message = f"cannot be judged: {threshold}"
            scan.report.add(check("CH705", check_id, title, "fail", target=scan.table.name, message=message))
            continue
        if metric == "rowCount":
            scan.judge_rule(QualityRule(check_id, title, scan.table.name, rule, threshold), scan.rows)
        elif metric == "duplicateValues":
            names = rule_properties(rule)
            if not names:
                scan.report.add(
                    check(
                        "CH705",
                        check_id,
                        title,
                        "skipped",
                        target=scan.table.name,
                        message="needs arguments.properties",
                    )
                )
                continue
            missing = [n for n in names if n not in found]
            if missing:
                scan.report.add(
                    check(
                        "CH705",
                        check_id,
                        title,
                        "fail",
                        target=scan.table.name,
                        message=f"column(s) missing: {', '.join(missing)}",
                    )
                )
                continue
            count = scan.duplicates(tuple(found[n].data_name for n in names))
            scan.judge_rule(QualityRule(check_id, title, scan.table.name, rule, threshold), count)
        else:
            scan.report.add(
                check(
                    "CH707",
                    check_id,
                    title,
                    "skipped",
                    target=scan.table.name,
                    message=f"`{metric}` is a column metric; put it under the column's `quality`",
                )
            )


def plan_freshness(scan: Scanning, found: dict[str, ScannedColumn]) -> None:
    for item in rules.freshness_rules(scan.contract_data, scan.table, scan.single_table):
        if isinstance(item, str):
            scan.report.add(check("CH708", "freshness", "freshness", "skipped", message=item))
            continue
        column = found.get(item.column)
        if column is None:
            scan.report.add(
                check(
                    "CH708",
                    f"{item.column}.freshness",
                    f"freshness of `{item.column}`",
                    "skipped",
                    target=item.column,
                    message="the column is missing",
                )
            )
            continue
        logical = column.rules.logical_type
        if logical == "date":
            index = scan.aggregate(f"max(CAST({column.typed} AS DATE))")
        else:
            typed = column.typed if logical == "timestamp" else parsed_as(column.raw, "timestamp")
            index = scan.aggregate(f"epoch(max({typed}))")

        def finish(
            values: list[Any], item: Freshness = item, index: int = index, logical: str | None = logical
        ) -> None:
            freshness_check(scan, item, values[index], logical == "date")

        scan.later(finish)


def freshness_check(scan: Scanning, item: Freshness, newest: Any, is_date: bool) -> None:
    check_id, title = f"{item.column}.freshness", f"freshness of `{item.column}` ({item.text})"
    limit = datetime.timedelta(seconds=item.seconds)
    if newest is None:
        scan.report.add(
            check("CH708", check_id, title, "fail", target=item.column, message="no value to date the data by")
        )
        return
    if is_date:
        newest_time = datetime.datetime.combine(newest, datetime.time(), datetime.UTC)
        age = datetime.timedelta(days=(scan.now.date() - newest).days)
        shown = newest.isoformat()
    else:
        newest_time = datetime.datetime.fromtimestamp(float(newest), datetime.UTC)
        age = scan.now - newest_time
        shown = newest_time.isoformat()
    ok = age <= limit
    scan.report.add(
        check(
            "CH708",
            check_id,
            title,
            "pass" if ok else "fail",
            target=item.column,
            value=duration_text(age),
            expected=f"≤ {duration_text(limit)}",
            message=f"newest value {shown}, checked at {scan.now.isoformat(timespec='seconds')}",
            details={
                "newest": newest_time.isoformat(),
                "ageSeconds": age.total_seconds(),
                "limitSeconds": item.seconds,
            },
        )
    )


def column_profile(scan: Scanning, found: list[ScannedColumn], values: list[Any]) -> list[dict[str, Any]]:
    by_target: dict[str, list[str]] = {}
    for finding in scan.report.checks:
        target = measured(finding).target
        if target is not None:
            by_target.setdefault(target, []).append(measured(finding).status)
    located = {c.rules.name: c for c in found}
    profile = []
    for column_rules in scan.table.columns:
        statuses = by_target.get(column_rules.name, [])
        column = located.get(column_rules.name)
        nulls = int(values[column.nulls]) if column is not None else None
        profile.append(
            {
                "column": column_rules.name,
                "present": column is not None,
                "dataColumn": column.data_name if column is not None else None,
                "logicalType": column_rules.logical_type,
                "dataType": column.data_type if column is not None else None,
                "nulls": nulls,
                "nullPercent": 100.0 * nulls / scan.rows if nulls is not None else None,
                "failed": statuses.count("fail"),
                "warned": statuses.count("warn"),
                "passed": statuses.count("pass"),
            }
        )
    return profile
