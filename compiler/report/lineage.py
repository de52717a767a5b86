"""A model's lineage as inline SVG: data contracts -> suite -> model -> environments -> generated files.

One node per spec (and per generated file), laid out in columns left to right, with edges
for what refers to what. Text is escaped here (the SVG is written as markup) and shortened
to fit its box; the full text is in the node's `<title>`, which screen readers and
tooltips show.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from compiler.pipeline import CheckResult
from compiler.render import Output
from compiler.report.facts import promotion_order

COLUMN_WIDTH, NODE_WIDTH, NODE_HEIGHT, ROW_HEIGHT, MARGIN = 230, 200, 34, 46, 16
_FILL = {
    "DataContract": "#ddf4ff",
    "EvaluationSuite": "#fff8c5",
    "Model": "#dafbe1",
    "Environment": "#fbefff",
    "Output": "#f6f8fa",
}
_COLUMNS = ("Data contracts", "Evaluation suite", "Model", "Environments", "Generated files")


@dataclass(frozen=True)
class Node:
    key: str
    kind: str
    label: str
    column: int


def lineage_nodes(result: CheckResult, model: str, outputs: list[Output]) -> tuple[list[Node], list[tuple[str, str]]]:
    """The nodes (one per spec and generated file) and the edges (from, to) of one model."""
    assert result.resolved is not None
    resolved = result.resolved
    links = resolved.links.get(model)
    nodes: dict[str, Node] = {}
    edges: list[tuple[str, str]] = []

    def add(kind: str, name: str, column: int) -> str:
        key = f"{kind}/{name}"
        nodes.setdefault(key, Node(key, kind, name, column))
        return key

    center = add("Model", model, 2)
    suite = links.suite if links is not None else None
    if links is not None:
        for contract in (links.training, links.validation):
            if contract is not None:
                edges.append((add("DataContract", contract.name, 0), center))
    if suite is not None:
        suite_key = add("EvaluationSuite", suite.name, 1)
        edges.append((suite_key, center))
        dataset = resolved.suite_datasets.get(suite.name)
        if dataset is not None:
            edges.append((add("DataContract", dataset.name, 0), suite_key))
    previous = center
    for environment in promotion_order(result, model):
        key = add("Environment", environment, 3)
        edges.append((previous, key))
        previous = key
    for output in sorted((o for o in outputs if o.model == model), key=lambda o: o.path):
        edges.append((center, add("Output", output.path, 4)))
    return list(nodes.values()), list(dict.fromkeys(edges))


def lineage_svg(result: CheckResult, model: str, outputs: list[Output]) -> str:
    nodes, edges = lineage_nodes(result, model, outputs)
    rows: dict[int, int] = {}
    where: dict[str, tuple[int, int]] = {}
    for node in nodes:
        row = rows.get(node.column, 0)
        rows[node.column] = row + 1
        where[node.key] = (MARGIN + node.column * COLUMN_WIDTH, MARGIN + 24 + row * ROW_HEIGHT)
    width = MARGIN * 2 + (len(_COLUMNS) - 1) * COLUMN_WIDTH + NODE_WIDTH
    height = MARGIN * 2 + 24 + max(rows.values(), default=1) * ROW_HEIGHT
    title_id = f"lineage-{model}-title"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="lineage" role="img" aria-labelledby="{title_id}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        f'<title id="{title_id}">Lineage of model {escape(model)}: {len(nodes)} nodes</title>',
    ]
    for index, heading in enumerate(_COLUMNS):
        x = MARGIN + index * COLUMN_WIDTH
        parts.append(f'<text class="column" x="{x}" y="{MARGIN + 10}">{heading}</text>')
    for source, target in edges:
        (x1, y1), (x2, y2) = where[source], where[target]
        if x1 > x2:
            (x1, y1), (x2, y2) = (x2, y2), (x1, y1)
        parts.append(
            f'<line class="edge" x1="{x1 + NODE_WIDTH}" y1="{y1 + NODE_HEIGHT // 2}" '
            f'x2="{x2}" y2="{y2 + NODE_HEIGHT // 2}" stroke="#57606a" stroke-width="1.5"/>'
        )
    for node in nodes:
        x, y = where[node.key]
        shown = node.label if len(node.label) <= 28 else "…" + node.label[-27:]
        parts.append(
            f'<g class="node" data-kind="{node.kind}" data-name="{escape(node.label)}">'
            f"<title>{escape(node.kind)}: {escape(node.label)}</title>"
            f'<rect x="{x}" y="{y}" width="{NODE_WIDTH}" height="{NODE_HEIGHT}" rx="6" '
            f'fill="{_FILL[node.kind]}" stroke="#24292f"/>'
            f'<text x="{x + 8}" y="{y + 22}">{escape(shown)}</text></g>'
        )
    parts.append("</svg>")
    return "\n".join(parts)
