"""The eval gate's reading: one query over the predictions (labels, scores, groups, row-aligned), columns checked
against what the suite's metrics need, labels and groups encoded for numpy. Judging is `compiler.gates.eval`."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np

from compiler.core.models.model import Model
from compiler.core.models.suite import EvaluationSuite
from compiler.gates.errors import UnusableInput
from compiler.gates.eval import aggregates, generation, multiclass, ranking, scoring
from compiler.gates.eval import groups as eval_groups
from compiler.gates.eval.rows import numeric
from compiler.gates.io.inputs import Source, canonical, columns, query, quote
from compiler.gates.project import bare

MAX_GROUPS = 1000
MAX_CLASSES = 1000
MISSING = "(missing)"


@dataclass(frozen=True)
class EvalOptions:
    model: str
    predictions: Sequence[str] = ()
    server: str | None = None
    table: str | None = None
    threshold: float = 0.5
    memory_limit: str | None = None
    threads: int | None = None
    production: bool = False
    """Judge labelled production predictions in the window `monitoring.performance` gives (eval_window)."""
    now: datetime.datetime | None = None
    pushdown: bool = True
    """On a server that computes, count there what counts serve (`aggregates`); False pulls every row."""


@dataclass
class Feature:
    """A dictionary-encoded column: codes 0..g-1 index `labels`; `(missing)` is the null group."""

    name: str
    column: str
    codes: scoring.Codes
    labels: list[str]
    values: list[Any]


@dataclass
class Loaded:
    task: str
    rows: int
    data: scoring.Binary | scoring.Multiclass | scoring.Regression | ranking.Ranking | generation.Generation | None
    features: dict[str, Feature] = field(default_factory=dict)
    classes: list[str] = field(default_factory=list)
    positive: str | None = None
    favourable: int | None = None
    overall: dict[str, float | None] = field(default_factory=dict)
    """Every unsliced metric, computed together (one sort serves AUC and average precision)."""
    notes: list[str] = field(default_factory=list)
    weight: scoring.Ints | None = None
    """With push-down, the rows each position of the arrays stands for (one position per combination of labels,
    predictions and groups); None when each position is one row."""

    @property
    def positions(self) -> int:
        return self.rows if self.weight is None else int(self.weight.size)

    def count(self, mask: scoring.Bools) -> int:
        """The rows a mask over the positions selects."""
        return int(mask.sum()) if self.weight is None else int(self.weight[mask].sum())


class Loader:
    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        source: Source,
        model: Model,
        suite: EvaluationSuite,
        options: EvalOptions,
    ):
        self.con = con
        self.source = source
        self.model = model
        self.suite = suite
        self.options = options
        self.relation = source.relation()
        self.task = model.spec.task
        self.true_labels: set[str] = set()
        # One query reads every column, so labels, scores and groups stay row-aligned.
        self.params: list[Any] = []
        self.feature_parts: dict[str, str] = {}
        self.dictionaries: dict[str, list[Any]] = {}
        self.arrays: dict[str, np.ndarray[Any, Any]] = {}
        # Push-down (`aggregates`): the engine groups the rows and sends counts; the coding is done here.
        self.aggregates = aggregates.Pushed(source, con) if aggregates.pushed(source) else None
        self.pushdown = "counts pushed down" if self.aggregates is not None else None
        """What the report's input says of a server's rows: counted there, or pulled (and why)."""

    def load(self, metrics: set[str]) -> Loaded:
        available = columns(self.con, self.source)
        needed: dict[str, str] = {"y_true": "every metric"}
        feature_columns = self.feature_columns(available, needed)
        task = self.task
        pred_column = "y_pred"
        score_column: str | None = None
        prob_columns: dict[str, str] = {}
        derive_pred = False
        if task == "binary-classification":
            score_column, derive_pred = self.binary_columns(metrics, available, needed)
        elif task == "multiclass-classification":
            needed["y_pred"] = "predicted classes"
            prob_columns = {name[len("y_prob_") :]: name for name in available if name.startswith("y_prob_")}
        elif task == "regression":
            pred_column = "prediction" if "prediction" in available or "y_pred" not in available else "y_pred"
            needed[pred_column] = "predicted values"
        elif task == "generation":
            needed["y_pred"] = "generated outputs"
        elif task == "ranking":
            needed.update({"y_score": "ranking scores", ranking.QUERY: "the query each row answers"})
            score_column = "y_score"
        else:
            raise UnusableInput(f"charter gate eval does not evaluate `{task}` models yet")
        _require(available, needed, self.source)
        self.push_or_pull(metrics, derive_pred)
        stats = self.stats(available, pred_column if pred_column in needed else None, score_column)
        rows = int(stats["rows"])
        if rows == 0:
            raise UnusableInput(f"{self.source.label}: no rows")
        self.no_nulls(stats, ["y_true", pred_column if pred_column in needed else None, score_column])
        loaded = Loaded(task, rows, None)
        self.plan_features(available, feature_columns)
        if task == "regression":
            loaded.data = self.regression(available, pred_column)
        elif task == "ranking":
            loaded.data = ranking.load(self, available)
        elif task == "generation":
            loaded.data = generation.load(self, available)
        else:
            label_columns = ["y_true"] + (["y_pred"] if "y_pred" in needed else [])
            self.classifier(available, (label_columns, prob_columns), loaded, metrics, (score_column, derive_pred))
        loaded.features = self.features(feature_columns)
        if self.aggregates is not None and isinstance(loaded.data, scoring.Binary | scoring.Multiclass):
            loaded.weight = loaded.data.weight = self.aggregates.weight
        return loaded

    def classifier(
        self,
        available: dict[str, str],
        columns: tuple[list[str], dict[str, str]],
        loaded: Loaded,
        metrics: set[str],
        scored: tuple[str | None, bool],
    ) -> None:
        """A classifier's rows on `loaded`: its labels' columns and probability columns (`columns`), its score
        column and whether y_pred is derived from it (`scored`)."""
        label_columns, prob_columns = columns
        labels = self.label_dictionary(available, label_columns)
        if loaded.task == "binary-classification":
            score_column, derive_pred = scored
            loaded.data = self.binary(
                available, labels, loaded, metrics, score_column=score_column, derive_pred=derive_pred
            )
            return
        read = multiclass.load(self, available, labels, prob_columns, metrics)
        loaded.data, loaded.classes = read.data, read.classes
        loaded.favourable, loaded.positive = read.favourable, read.positive

    def push_or_pull(self, metrics: set[str], derive_pred: bool) -> None:
        """Keep counting on the server only when counts serve every metric (`aggregates.NEEDS_ROWS`)."""
        if self.aggregates is None:
            return
        reason = aggregates.rows_needed(self.task, metrics) or ("deriving y_pred from y_score" if derive_pred else None)
        if reason is not None:
            self.pull_rows(reason)

    def binary_columns(
        self, metrics: set[str], available: dict[str, str], needed: dict[str, str]
    ) -> tuple[str | None, bool]:
        """The score column a binary model's metrics read, and whether y_pred is derived from it by threshold.

        Adds to `needed` the columns the file must have, with what they are for."""
        score_column: str | None = None
        derive_pred = False
        needs_score = bool(metrics & scoring.BINARY_NEEDS_SCORE)
        needs_pred = bool(metrics & scoring.BINARY_NEEDS_PRED) or bool(self.suite.spec.fairness)
        if needs_score or ("y_score" in available and "y_pred" not in available):
            needed["y_score"] = ", ".join(sorted(metrics & scoring.BINARY_NEEDS_SCORE)) or "deriving y_pred"
            score_column = "y_score"
        if needs_pred:
            if "y_pred" in available:
                needed["y_pred"] = "thresholded metrics and fairness"
            elif "y_score" in available:
                derive_pred = True
                score_column = "y_score"
            else:
                needed["y_pred"] = "thresholded metrics and fairness (or give y_score)"
        return score_column, derive_pred

    def feature_columns(self, available: dict[str, str], needed: dict[str, str]) -> dict[str, str]:
        """Feature name (as the spec writes it) -> file column."""
        out: dict[str, str] = {}
        for check in self.suite.spec.fairness:
            for name in (check.sensitive_feature, *check.intersect_with):
                column = _column_for(available, name)
                out[name] = column
                needed.setdefault(column, f"fairness check {check.metric}")
        for piece in self.suite.spec.slices:
            column = _column_for(available, piece.feature)
            bounded = any(bound.slice == piece.name for bound in self.suite.spec.metrics)
            if bounded:
                needed.setdefault(column, f"slice {piece.name}")
            if column in available:
                out[piece.feature] = column
        for name in self.model.spec.sensitive_features:
            column = _column_for(available, name)
            if column in available:
                out.setdefault(name, column)
        return out

    def stats(self, available: dict[str, str], pred: str | None, score: str | None) -> dict[str, Any]:
        parts = ["count(*) AS rows", "count(y_true) AS y_true"]
        if pred is not None:
            parts.append(f"count({quote(pred)}) AS {quote(pred)}")
        if score is not None:
            if not numeric(available[score]):
                raise UnusableInput(
                    f"{self.source.label}: column `{score}` is {available[score]}; scores must be numbers"
                )
            parts.append(f"count(*) FILTER (WHERE isfinite(CAST({quote(score)} AS DOUBLE))) AS {quote(score)}")
        row = query(self.con, f"SELECT {', '.join(parts)} FROM {self.relation}", self.source).fetchone()
        assert row is not None
        names = ["rows", "y_true"] + ([pred] if pred is not None else []) + ([score] if score is not None else [])
        return dict(zip(names, row, strict=True))

    def no_nulls(self, stats: dict[str, Any], names: list[str | None]) -> None:
        rows = int(stats["rows"])
        for name in names:
            if name is None or name not in stats:
                continue
            missing = rows - int(stats[name])
            if missing:
                raise UnusableInput(
                    f"{self.source.label}: column `{name}` has {missing:,} null or non-finite value(s) "
                    f"in {rows:,} rows",
                    hint="every evaluated row needs a label, a prediction and a score",
                )

    def pull_rows(self, reason: str) -> None:
        """Read the rows into DuckDB after all (what counts cannot give): said on the report's input."""
        from compiler.gates.io.servers import Table

        assert isinstance(self.source.backend, Table)
        self.source.backend.pull_instead(self.con)
        self.aggregates = None
        self.relation = self.source.relation()
        self.pushdown = f"rows pulled: {reason}"

    def distinct(self, expression: str, column: str, limit: int) -> list[Any]:
        if self.aggregates is not None:
            return self.aggregates.distinct(self.relation, expression, column, limit)
        approx = query(
            self.con, f"SELECT approx_count_distinct({expression}) FROM {self.relation}", self.source
        ).fetchone()
        if approx is not None and int(approx[0]) > limit * 1.1:
            raise UnusableInput(
                f"{self.source.label}: column `{column}` has about {int(approx[0]):,} distinct values; "
                f"at most {limit:,} groups or classes are supported"
            )
        row = query(
            self.con,
            f"SELECT list(DISTINCT v ORDER BY v) FROM (SELECT {expression} AS v FROM {self.relation}) "
            "WHERE v IS NOT NULL",
            self.source,
        ).fetchone()
        values = list(row[0]) if row and row[0] is not None else []
        if len(values) > limit:
            raise UnusableInput(f"{self.source.label}: column `{column}` has {len(values):,} distinct values")
        return values

    def label_expressions(self, available: dict[str, str], names: list[str]) -> dict[str, str]:
        types = {available[n] for n in names}
        if len(types) == 1:
            return {n: quote(n) for n in names}
        if all(numeric(t) for t in types):
            return {n: f"CAST({quote(n)} AS DOUBLE)" for n in names}
        return {n: f"CAST({quote(n)} AS VARCHAR)" for n in names}

    def label_dictionary(self, available: dict[str, str], names: list[str]) -> tuple[list[Any], dict[str, str]]:
        expressions = self.label_expressions(available, names)
        if self.aggregates is not None and any(e.endswith("AS VARCHAR)") for e in expressions.values()):
            # Each engine writes a number as text its own way: the labels would read otherwise than locally.
            self.pull_rows("y_true and y_pred have different types")
        values: set[Any] = set()
        for name in names:
            found = self.distinct(expressions[name], name, MAX_CLASSES)
            if name == "y_true":
                self.true_labels = {canonical(v) for v in found}
            values.update(found)
        return sorted(values), expressions

    def fetch(self, parts: dict[str, str]) -> dict[str, np.ndarray[Any, Any]]:
        """The one read of the rows: `parts` and the sensitive and slice features."""
        every = {**parts, **{f"feature:{column}": expr for column, expr in self.feature_parts.items()}}
        if self.aggregates is not None:
            self.arrays = self.aggregates.fetch(self.relation, every)
            return self.arrays
        sql = f"SELECT {', '.join(f'{expr} AS {quote(alias)}' for alias, expr in every.items())} FROM {self.relation}"
        result = query(self.con, sql, self.source, self.params or None).fetchnumpy()
        self.arrays = {alias: _unmasked(result[alias]) for alias in every}
        return self.arrays

    def code_expression(self, expression: str, values: list[Any], type_name: str) -> str:
        """SQL: the 1-based position of the value in `values`, 0 for null."""
        if self.aggregates is not None:
            return self.aggregates.code(expression, values)
        self.params.append(values)
        return f"coalesce(list_position(CAST(${len(self.params)} AS {type_name}[]), {expression}), 0)::INTEGER"

    def list_type(self, available: dict[str, str], expression: str, column: str) -> str:
        if expression.startswith("CAST(") and expression.endswith("AS DOUBLE)"):
            return "DOUBLE"
        if expression.startswith("CAST(") and expression.endswith("AS VARCHAR)"):
            return "VARCHAR"
        return available[column]

    def binary(
        self,
        available: dict[str, str],
        dictionary: tuple[list[Any], dict[str, str]],
        loaded: Loaded,
        metrics: set[str],
        *,
        score_column: str | None,
        derive_pred: bool,
    ) -> scoring.Binary:
        values, expressions = dictionary
        positive = self.positive_label(values)
        loaded.positive = canonical(positive) if positive is not None else canonical(self.suite.spec.positive_label)
        parts: dict[str, str] = {}
        for name, expression in expressions.items():
            parts[name] = self.code_expression(expression, values, self.list_type(available, expression, name))
        if score_column is not None:
            parts["score"] = f"CAST({quote(score_column)} AS DOUBLE)"
        arrays = self.fetch(parts)
        positive_code = values.index(positive) + 1 if positive is not None else -1
        y = (arrays["y_true"] == positive_code).view(np.int8)
        score = np.asarray(arrays["score"], dtype=np.float64) if score_column is not None else None
        pred: scoring.Labels | None = None
        if "y_pred" in arrays:
            pred = (arrays["y_pred"] == positive_code).view(np.int8)
        elif derive_pred and score is not None:
            pred = (score >= self.options.threshold).view(np.int8)
            loaded.notes.append(f"no y_pred column: predictions are y_score >= {self.options.threshold}")
        if score is not None and metrics & scoring.BINARY_NEEDS_PROBABILITY:
            low, high = float(score.min()), float(score.max())
            if low < 0 or high > 1:
                raise UnusableInput(
                    f"{self.source.label}: column `y_score` ranges over [{low:g}, {high:g}]; "
                    f"{', '.join(sorted(metrics & scoring.BINARY_NEEDS_PROBABILITY))} need probabilities in [0, 1]"
                )
        return scoring.Binary(y, pred, score)

    def positive_label(self, values: list[Any]) -> Any:
        wanted = self.suite.spec.positive_label
        by_text = {canonical(v): v for v in values}
        if wanted is not None:
            if canonical(wanted) in by_text:
                return by_text[canonical(wanted)]
            if len(values) >= 2:
                raise UnusableInput(
                    f"{self.source.label}: positiveLabel {canonical(wanted)!r} of the suite is not among the labels "
                    f"in y_true/y_pred: {', '.join(repr(canonical(v)) for v in values)}"
                )
            return None  # one label only, and it is the negative one
        if len(values) > 2:
            raise UnusableInput(
                f"{self.source.label}: a binary model's y_true/y_pred hold {len(values)} labels: "
                f"{', '.join(repr(canonical(v)) for v in values[:10])}"
            )
        texts = set(by_text)
        for candidate in ("1", "true"):
            if texts <= {candidate, "0" if candidate == "1" else "false"}:
                return by_text.get(candidate)
        raise UnusableInput(
            f"{self.source.label}: labels {', '.join(repr(t) for t in sorted(texts))} do not say which is positive",
            hint="set `positiveLabel` in the evaluation suite",
        )

    def regression(self, available: dict[str, str], pred_column: str) -> scoring.Regression:
        for column in ("y_true", pred_column):
            if not numeric(available[column]):
                raise UnusableInput(
                    f"{self.source.label}: column `{column}` is {available[column]}; a regression needs numbers"
                )
        arrays = self.fetch({"y": "CAST(y_true AS DOUBLE)", "p": f"CAST({quote(pred_column)} AS DOUBLE)"})
        y, p = arrays["y"].astype(np.float64), arrays["p"].astype(np.float64)
        if not (np.all(np.isfinite(y)) and np.all(np.isfinite(p))):
            raise UnusableInput(f"{self.source.label}: y_true or {pred_column} hold non-finite values")
        return scoring.Regression(y, p)

    def plan_features(self, available: dict[str, str], features: dict[str, str]) -> None:
        bins = eval_groups.declared_bins(self.suite, features)
        judged = {features[n]: n for c in self.suite.spec.fairness for n in (c.sensitive_feature, *c.intersect_with)}
        for column in dict.fromkeys(features.values()):
            edges = bins.get(column)
            if edges is not None:
                self.dictionaries[column] = list(eval_groups.labels(edges))
                self.feature_parts[column] = eval_groups.expression(
                    quote(column), edges, available[column], self.source, column
                )
                continue
            values = self.distinct(quote(column), column, MAX_GROUPS)
            if column in judged:
                eval_groups.refuse_continuous(self.source, column, available[column], len(values), judged[column])
            self.dictionaries[column] = values
            self.feature_parts[column] = self.code_expression(quote(column), values, available[column])

    def features(self, features: dict[str, str]) -> dict[str, Feature]:
        out: dict[str, Feature] = {}
        for name, column in features.items():
            codes = np.asarray(self.arrays[f"feature:{column}"], dtype=np.int32)
            values = self.dictionaries[column]
            labels = [canonical(v) for v in values]
            if np.any(codes == 0):
                codes = np.where(codes == 0, len(values) + 1, codes)
                labels.append(MISSING)
                values = [*values, None]
            out[name] = Feature(name, column, codes - 1, labels, values)
        for check in self.suite.spec.fairness:  # intersectional groups: one per combination present
            parts = [out[n] for n in (check.sensitive_feature, *check.intersect_with)]
            if check.intersect_with and check.group_key not in out:
                codes, labels = eval_groups.cross([(p.codes, p.labels) for p in parts])
                columns = ", ".join(p.column for p in parts)
                out[check.group_key] = Feature(check.group_key, columns, codes, labels, list(labels))
        return out


def _unmasked(values: Any) -> np.ndarray[Any, Any]:
    """DuckDB's column as a plain array. A NULL number becomes NaN, which every path refuses: `np.asarray` of the
    masked array DuckDB returns would read it as 0.0, and a NULL probability would be judged as zero."""
    if isinstance(values, np.ma.MaskedArray) and np.ma.is_masked(values) and values.dtype.kind == "f":
        return np.asarray(values.filled(np.nan))
    return np.asarray(values)


def _column_for(available: dict[str, str], reference: str) -> str:
    return reference if reference in available else bare(reference)


def _require(available: dict[str, str], needed: dict[str, str], source: Source) -> None:
    from compiler.gates.io.inputs import require_columns

    require_columns(available, needed, source)
