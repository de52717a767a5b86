"""A model's lineage as inline SVG: data -> suite -> model -> run and registry -> environments -> generated files.

One node per spec (and per generated file), laid out in columns left to right, with edges
for what refers to what. What the version was trained and judged on comes from its evidence
(compiler/evidence/card.py:lineage_view), never from the spec alone: the data versions its gates
measured (a contract's version, a DVC md5), the run that trained it and the version the registry
gave it (registration.json), linked to the MLflow UI when the record names it. W&B artifacts the
spec declares (`training.lineage`) are shown as declared.

Text is escaped here (the SVG is written as markup) and shortened to fit its box; the full
text is in the node's `<title>`, which screen readers and tooltips show.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html import escape

from compiler.core.models import CONTRACT_KIND
from compiler.core.models.model import Model
from compiler.core.outputs import Output
from compiler.core.references import Reference, references
from compiler.core.resolved import Resolved
from compiler.core.safe_names import escape_for_people
from compiler.core.specs import Spec
from compiler.evidence.card import lineage_view
from compiler.report.facts import promotion_order
from compiler.stages import Checked

COLUMN_WIDTH, NODE_WIDTH, NODE_HEIGHT, ROW_HEIGHT, MARGIN = 230, 200, 34, 46, 16
OUTPUT_WIDTH = 360  # generated files have long paths: the last column is wider
CHAR_WIDTH = 7.3  # about, at 13px: how many characters fit a box
_FILL = {
    "DataContract": "#ddf4ff",
    "DataVersion": "#ddf4ff",
    "Artifact": "#ffefe0",
    "Run": "#ffefe0",
    "Registered": "#dafbe1",
    "EvaluationSuite": "#fff8c5",
    "Model": "#dafbe1",
    "Environment": "#fbefff",
    "Output": "#f6f8fa",
}
_COLUMNS = ("Data", "Evaluation suite", "Model", "Run and registry", "Environments", "Generated files")
_KIND_WORDS = {
    "DataVersion": "Data version (evidence)",
    "Artifact": "W&B artifact (declared in the spec)",
    "Run": "Training run (evidence)",
    "Registered": "Registered version (evidence)",
}


@dataclass(frozen=True)
class Node:
    key: str
    kind: str
    label: str
    column: int
    link: str | None = None


def lineage_nodes(result: Checked, model: str, outputs: list[Output]) -> tuple[list[Node], list[tuple[str, str]]]:
    """The nodes (one per spec and generated file) and the edges (from, to) of one model."""
    assert result.resolved is not None
    resolved = result.resolved
    links = resolved.links.get(model)
    nodes: dict[str, Node] = {}
    edges: list[tuple[str, str]] = []

    def add(kind: str, name: str, column: int, link: str | None = None) -> str:
        key = f"{kind}/{name}"
        nodes.setdefault(key, Node(key, kind, name, column, link))
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
    previous = _trained_and_registered(result, model, model_spec, add, edges)
    for environment in promotion_order(result, model):
        key = add("Environment", environment, 4)
        edges.append((previous, key))
        previous = key
    environments = set(promotion_order(result, model))
    for output in sorted((o for o in outputs if o.model == model), key=lambda o: o.path):
        # A manifest comes from the environment it deploys to; a workflow or a card from the model.
        owner = next((f"Environment/{e}" for e in sorted(environments) if _deploys_to(output.path, e, model)), center)
        edges.append((owner, add("Output", output.path, 5)))
    return list(nodes.values()), list(dict.fromkeys(edges))


def _trained_and_registered(
    result: Checked, model: str, spec: Spec | None, add: Callable[..., str], edges: list[tuple[str, str]]
) -> str:
    """The data versions, W&B artifacts, run and registered version of the model; the node environments follow."""
    center = f"Model/{model}"
    lineage = lineage_view(result.evidence.get(model))
    for item in lineage["data"]:
        if item["md5"] or item["contract"]:
            # The data by its contract and version, or by the DVC-tracked path a server names.
            words = [item["contract"], item["version"]] if item["contract"] else [item["dvc_path"] or item["path"]]
            words += [f"md5 {item['md5']}"] if item["md5"] else []
            edges.append((add("DataVersion", " ".join(words), 0), center))
    declared = spec.model.spec.training.lineage if spec is not None and isinstance(spec.model, Model) else []
    for reference in declared:
        edges.append((add("Artifact", reference, 0), center))
    registered = lineage["registered"]
    if registered is None:
        return center
    previous = center
    if registered["run"]:
        previous = add("Run", registered["run"], 3, registered["run_url"])
        edges.append((center, previous))
    label = f"MLflow {registered['name']} v{registered['version']}" + ("" if registered["current"] else " (stale)")
    key = add("Registered", label, 3, registered["url"])
    edges.append((previous, key))
    return key


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
    # A figure, not an image: an image's children are presentational, and the registry's nodes are links that
    # keyboard and screen reader users must reach (axe: nested-interactive); each node's <title> names it.
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="lineage" role="figure" aria-labelledby="{title_id}" '
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
        box = (
            f'<g class="node" data-kind="{node.kind}" data-name="{escape(label)}">'
            f"<title>{escape(_KIND_WORDS.get(node.kind, node.kind))}: {escape(label)}</title>"
            f'<rect x="{x}" y="{y}" width="{OUTPUT_WIDTH if node.kind == "Output" else NODE_WIDTH}" '
            f'height="{NODE_HEIGHT}" rx="6" '
            f'fill="{_FILL[node.kind]}" stroke="#24292f"/>'
            f'<text x="{x + 8}" y="{y + 22}">{escape(shown)}</text></g>'
        )
        # A link only to the registry's UI the record names (an http(s) URL of the record's strict pattern).
        parts.append(f'<a href="{escape(node.link)}">{box}</a>' if node.link else box)
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
