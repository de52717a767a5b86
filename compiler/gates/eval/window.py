"""`charter gate eval --production`: the suite's bounds judged on labelled production predictions.

The model's `monitoring.performance` says where they are (a contract and its server, or `--predictions`), which
column holds each prediction's time, how long labels take to arrive and how far back to look. The rows judged are
those predicted in [now - labelDelay - window, now - labelDelay): younger predictions may not have their label yet.
The same metrics, slices and fairness checks as before deployment are computed on them, so a model whose
accuracy or fairness has slipped fails the gate in production as it would have before release.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

import duckdb

from compiler.core.models.model import Model, ProductionPerformance
from compiler.gates.data import contract_rules as rules
from compiler.gates.errors import UnusableInput
from compiler.gates.io.inputs import Source, columns, query, quote, sql_string
from compiler.gates.project import ProjectSpecs, bare

_UNITS = {"h": datetime.timedelta(hours=1), "d": datetime.timedelta(days=1), "w": datetime.timedelta(weeks=1)}


def performance(model_name: str, model: Model) -> ProductionPerformance:
    monitoring = model.spec.monitoring
    if monitoring is None or monitoring.performance is None:
        raise UnusableInput(
            f"model `{model_name}` has no `monitoring.performance`: nothing says where labelled production "
            "predictions are",
            hint="add spec.monitoring.performance: {data: {contract: ..., server: ...}, timestamp: ..., window: 4w}",
        )
    return monitoring.performance


def server(project: ProjectSpecs, watched: ProductionPerformance, name: str | None) -> tuple[Any, str, str, str]:
    """The labelled predictions' contract and table: its server is `--server`, else the one the spec names."""
    chosen = name or watched.data.server
    if chosen is None:
        raise UnusableInput(
            "monitoring.performance.data names no server, and no --server or --predictions is given",
            hint="add `server:` to monitoring.performance.data",
        )
    spec = project.contract(watched.data.contract, watched.data.version)
    assert spec.contract is not None
    tables = rules.tables(spec.data)
    if len(tables) != 1:
        raise UnusableInput(f"contract `{spec.contract.id}` has {len(tables)} tables; the eval gate reads one")
    return spec.data, spec.contract.id, chosen, tables[0].physical_name or tables[0].name


def duration(text: str) -> datetime.timedelta:
    return datetime.timedelta(0) if text == "0" else int(text[:-1]) * _UNITS[text[-1]]


def window(watched: ProductionPerformance, now: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
    end = now - duration(watched.label_delay)
    return end - duration(watched.window), end


def restrict(
    con: duckdb.DuckDBPyConnection, source: Source, watched: ProductionPerformance, now: datetime.datetime
) -> tuple[Source, dict[str, Any]]:
    """The source cut to the window, and what the report says about it: the window and the rows in and out."""
    column = bare(watched.timestamp)
    if column not in columns(con, source):
        raise UnusableInput(f"{source.label}: column `{column}` is missing (monitoring.performance.timestamp)")
    start, end = window(watched, now)
    moment = f"TRY_CAST({quote(column)} AS TIMESTAMPTZ)"
    since, until = (f"CAST({sql_string(t.isoformat())} AS TIMESTAMPTZ)" for t in (start, end))
    inside = f"{moment} >= {since} AND {moment} < {until}"
    counted = query(
        con,
        f"SELECT count(*), count(*) FILTER (WHERE {inside}), count(*) FILTER (WHERE {moment} IS NULL) "
        f"FROM {source.relation()}",
        source,
    ).fetchone()
    assert counted is not None
    total, within, undated = (int(n) for n in counted)
    described = {
        "timestamp": column,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "labelDelay": watched.label_delay,
        "window": watched.window,
        "rows": total,
        "inWindow": within,
        "withoutTime": undated,
    }
    if within == 0:
        raise UnusableInput(
            f"{source.label}: no prediction in the window {start.isoformat()} to {end.isoformat()} "
            f"({total:,} rows, {undated:,} without a time in `{column}`)",
            hint="labels may not have arrived yet: check monitoring.performance.labelDelay and window",
        )
    return dataclasses.replace(source, where=inside), described
