"""PNG charts of a gate's report (`--chart FILE`), drawn with Matplotlib's Agg backend."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from compiler.core.gate_report import GateReport

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

PASS, FAIL, WARN, GREY = "#2e7d32", "#c62828", "#ef6c00", "#9e9e9e"
_COLOR = {"pass": PASS, "fail": FAIL, "warn": WARN, "no-verdict": WARN}


def _figure(rows: int, width: float = 9.0, height_per_row: float = 3.2) -> tuple[Figure, list[Axes]]:
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, max(2.5, height_per_row * rows)), layout="constrained")
    axes = figure.subplots(rows, 1, squeeze=False)
    return figure, [ax for row in axes for ax in row]


def _save(figure: Figure, report: GateReport, path: Path) -> None:
    figure.suptitle(f"charter gate {report.gate}: {report.verdict}", fontweight="bold")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110, format="png", metadata={"Software": None})


def data_chart(report: GateReport, path: Path) -> None:
    """Per contract column: the share of nulls, coloured by the worst check on the column."""
    profile: list[dict[str, Any]] = report.details.get("columns", [])[::-1]
    figure, (ax,) = _figure(1, height_per_row=max(2.5, 0.3 * len(profile) + 1.2))
    names = [str(p["column"]) for p in profile]
    shares = [float(p["nullPercent"] or 0.0) for p in profile]
    colors = [FAIL if p["failed"] or not p["present"] else WARN if p["warned"] else PASS for p in profile]
    ax.barh(names, shares, color=colors)
    top = max([*shares, 1.0])
    for y, p in enumerate(profile):
        if not p["present"]:
            text = "missing from the data"
        elif p["failed"] or p["warned"]:
            text = f"{p['failed']} failed, {p['warned']} warned"
        else:
            text = f"{p['passed']} passed"
        ax.text(shares[y] + top * 0.01, y, text, va="center", fontsize="small", color=colors[y])
    for label, color in zip(ax.get_yticklabels(), colors, strict=True):
        label.set_color(color)
    ax.set_xlim(0, top * 1.35)
    ax.set_xlabel("null values, % of rows (red: a check failed; orange: a warning)")
    _save(figure, report, path)


def eval_chart(report: GateReport, path: Path) -> None:
    metrics: list[dict[str, Any]] = [m for m in report.details.get("metrics", []) if m["value"] is not None]
    fairness: dict[str, Any] = report.details.get("fairness", {})
    figure, axes = _figure(1 + len(fairness))
    ax = axes[0]
    names = [m["metric"] + (f"\n[{m['slice']}]" if m["slice"] else "") for m in metrics]
    ax.bar(names, [m["value"] for m in metrics], color=[_COLOR.get(m["status"], GREY) for m in metrics])
    for i, m in enumerate(metrics):
        for bound, marker in ((m["min"], "^"), (m["max"], "v")):
            if bound is not None:
                ax.plot([i], [bound], marker=marker, color="black", markersize=8)
    ax.set_title("metrics (▲ minimum, ▼ maximum)", fontsize="medium")
    ax.tick_params(axis="x", labelsize="small")
    for ax, (feature, block) in zip(axes[1:], fairness.items(), strict=True):
        groups = block["groups"]
        rates = [
            k
            for k in ("selectionRate", "truePositiveRate", "falsePositiveRate", "mae", "rmse")
            if groups and k in groups[0]
        ]
        width = 0.8 / max(len(rates), 1)
        for j, rate in enumerate(rates):
            values = [g[rate] if g[rate] is not None else 0.0 for g in groups]
            ax.bar([i + j * width for i in range(len(groups))], values, width=width, label=rate)
        ax.set_xticks([i + width * (len(rates) - 1) / 2 for i in range(len(groups))])
        ax.set_xticklabels([f"{g['group']}\n(n={g['count']:,})" for g in groups], fontsize="small")
        statuses = {c["status"] for c in block["checks"]}
        verdict = "fail" if "fail" in statuses else "no verdict" if "no-verdict" in statuses else "pass"
        ax.set_title(f"groups of {feature}: {verdict}", fontsize="medium")
        ax.legend(fontsize="small")
    _save(figure, report, path)


def drift_chart(report: GateReport, path: Path) -> None:
    features: list[dict[str, Any]] = report.details.get("features", [])
    figure, (ax,) = _figure(1, height_per_row=max(2.5, 0.4 * len(features) + 1.2))
    names = [str(f["feature"]) for f in features][::-1]
    # A feature without a statistic (no current values) is drawn as an empty bar and labelled by its verdict.
    values = [0.0 if f["statistic"] is None else float(f["statistic"]) for f in features][::-1]
    colors = [FAIL if f["drift"] else (WARN if f["verdict"] == "not enough data" else PASS) for f in features][::-1]
    texts = [
        f" {f['verdict']}" if f["statistic"] is None or f["verdict"] == "not enough data" else f" {f['statistic']:.4g}"
        for f in features
    ][::-1]
    ax.barh(names, values, color=colors)
    for y, value in enumerate(values):
        ax.text(value, y, texts[y], va="center", fontsize="small", color=colors[y])
    judged_by = {(f["statisticName"], f["threshold"]) for f in features}
    if len(judged_by) == 1:
        (label, threshold), *_ = judged_by
        ax.axvline(float(threshold), color="black", linestyle="--", label=f"threshold {float(threshold):g}")
        ax.set_xlabel(label)
    else:  # columns judged by different statistics: each bar gets its own threshold mark
        marks = [float(f["threshold"]) for f in features][::-1]
        ax.scatter(marks, range(len(marks)), marker="|", s=300, color="black", label="threshold of each column")
        ax.set_xlabel("statistic of each column's method (see the report)")
    ax.legend(loc="lower right", fontsize="small")
    _save(figure, report, path)
