"""A model's lineage as inline SVG: data contracts -> suite -> model -> environments -> generated files.

One node per spec (and per generated file), laid out in columns left to right, with edges
for what refers to what. Text is escaped here (the SVG is written as markup) and shortened
to fit its box; the full text is in the node's `<title>`, which screen readers and
tooltips show.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from compiler.core.models import CONTRACT_KIND
from compiler.core.outputs import Output
from compiler.core.references import Reference, references
from compiler.core.resolved import Resolved
from compiler.core.safe_names import escape_for_people
from compiler.core.specs import Spec
from compiler.report.facts import promotion_order
from compiler.stages import Checked

COLUMN_WIDTH, NODE_WIDTH, NODE_HEIGHT, ROW_HEIGHT, MARGIN = 230, 200, 34, 46, 16
OUTPUT_WIDTH = 360  # generated files have long paths: the last column is wider
CHAR_WIDTH = 7.3  # about, at 13px: how many characters fit a box
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


def lineage_nodes(result: Checked, model: str, outputs: list[Output]) -> tuple[list[Node], list[tuple[str, str]]]:
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
    # What the model and its suite refer to, read from the one reference module: every contract they name.
    model_spec = resolved.get("Model", model)
    for reference in references(model_spec) if model_spec is not None else ():
        contract = _contract(resolved, reference)
        if contract is not None:
            edges.append((add("DataContract", contract.name, 0), center))
    if suite is not None:
        suite_key = add("EvaluationSuite", suite.name, 1)
        edges.append((suite_key, center))
        for reference in references(suite):
            contract = _contract(resolved, reference)
            if contract is not None:
                edges.append((add("DataContract", contract.name, 0), suite_key))
    previous = center
    for environment in promotion_order(result, model):
        key = add("Environment", environment, 3)
        edges.append((previous, key))
        previous = key
    environments = set(promotion_order(result, model))
    for output in sorted((o for o in outputs if o.model == model), key=lambda o: o.path):
        # A manifest comes from the environment it deploys to; a workflow or a card from the model.
        owner = next((f"Environment/{e}" for e in sorted(environments) if _deploys_to(output.path, e, model)), center)
        edges.append((owner, add("Output", output.path, 4)))
    return list(nodes.values()), list(dict.fromkeys(edges))


def _contract(resolved: Resolved, reference: Reference) -> Spec | None:
    """The contract a reference names, by id or name (and version), when it resolved to exactly one."""
    if reference.kind != CONTRACT_KIND:
        return None
    version = reference.data.version if reference.data is not None else None
    found = [
        spec
        for spec in resolved.specs
        if spec.contract is not None
        and reference.name in (spec.contract.id, spec.contract.name)
        and version in (None, spec.contract.version)
    ]
    return found[0] if len(found) == 1 else None


def lineage_svg(result: Checked, model: str, outputs: list[Output]) -> str:
    nodes, edges = lineage_nodes(result, model, outputs)
    rows: dict[int, int] = {}
    where: dict[str, tuple[int, int]] = {}
    for node in nodes:
        row = rows.get(node.column, 0)
        rows[node.column] = row + 1
        where[node.key] = (MARGIN + node.column * COLUMN_WIDTH, MARGIN + 24 + row * ROW_HEIGHT)
    width = MARGIN * 2 + (len(_COLUMNS) - 1) * COLUMN_WIDTH + OUTPUT_WIDTH
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
        parts.append(_edge(where[source], where[target]))
    for node in nodes:
        x, y = where[node.key]
        fits = int((OUTPUT_WIDTH if node.kind == "Output" else NODE_WIDTH) / CHAR_WIDTH) - 2
        label = escape_for_people(node.label)
        shown = label if len(label) <= fits else "…" + label[-(fits - 1) :]
        parts.append(
            f'<g class="node" data-kind="{node.kind}" data-name="{escape(label)}">'
            f"<title>{escape(node.kind)}: {escape(label)}</title>"
            f'<rect x="{x}" y="{y}" width="{OUTPUT_WIDTH if node.kind == "Output" else NODE_WIDTH}" '
            f'height="{NODE_HEIGHT}" rx="6" '
            f'fill="{_FILL[node.kind]}" stroke="#24292f"/>'
            f'<text x="{x + 8}" y="{y + 22}">{escape(shown)}</text></g>'
        )
    parts.append("</svg>")
    return "\n".join(parts)


def _deploys_to(path: str, environment: str, model: str) -> bool:
    return f"/{environment}/{model}/" in f"/{path}" or path.endswith(f"/{model}-{environment}.yaml")


def _edge(start: tuple[int, int], end: tuple[int, int]) -> str:
    """A curve from the right of one box to the left of the next; down the side between boxes of one column."""
    (x1, y1), (x2, y2) = start, end
    if x1 == x2:  # promotion within the environments column
        x, top, bottom = x1 + 12, y1 + NODE_HEIGHT, y2
        return f'<path class="edge" d="M {x} {top} L {x} {bottom}" stroke="#57606a" stroke-width="1.5" fill="none"/>'
    x1, y1, y2 = x1 + NODE_WIDTH, y1 + NODE_HEIGHT // 2, y2 + NODE_HEIGHT // 2
    bend = (x2 - x1) // 2
    return (
        f'<path class="edge" d="M {x1} {y1} C {x1 + bend} {y1}, {x2 - bend} {y2}, {x2} {y2}" '
        'stroke="#57606a" stroke-width="1.5" fill="none"/>'
    )
