"""The site's pages: sandboxed Jinja templates that escape everything, inline CSS and SVG, no network.

Spec and evidence text reaches a page only through autoescaping (and with control and
bidirectional characters shown as escapes). Two pieces are markup on purpose: the lineage
SVG, which escapes its own text, and each model card, rendered from the Markdown that
`charter build` writes (where spec text is already Markdown-escaped) by markdown-it with raw
HTML turned off, so a `<script>` in a spec stays text.
"""

from __future__ import annotations

import datetime
from functools import lru_cache
from typing import Any

from jinja2.sandbox import ImmutableSandboxedEnvironment
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

from compiler import __version__
from compiler.core.outputs import Output
from compiler.core.safe_names import escape_for_people
from compiler.core.templating import sandboxed
from compiler.report.facts import ModelFacts, model_facts, waiver_rows
from compiler.report.lineage import lineage_svg
from compiler.stages import Checked


def _for_people(value: Any) -> Any:
    return escape_for_people(value) if isinstance(value, str) else value


@lru_cache(maxsize=1)
def _environment() -> ImmutableSandboxedEnvironment:
    env = sandboxed("report", autoescape=True, finalize=_for_people)
    env.filters["people"] = _for_people
    return env


def card_html(markdown: str) -> Markup:
    """A model card's body (front matter dropped) as HTML; raw HTML in it stays text."""
    body = markdown.split("---\n", 2)[2] if markdown.startswith("---\n") and markdown.count("---\n") >= 2 else markdown
    renderer = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")
    tokens = _row_headed(renderer.parse(body))
    # Headings of the card sit under the page's own h1 and h2.
    html = renderer.renderer.render(tokens, renderer.options, {})
    for level in (3, 2, 1):
        html = html.replace(f"<h{level}>", f"<h{level + 2}>").replace(f"</h{level}>", f"</h{level + 2}>")
    # Raw HTML is off, so every `<table>` here is the renderer's: each scrolls on its own on a narrow screen,
    # in a region whose name is unique on the page.
    pieces = html.split("<table>")
    html = pieces[0] + "".join(
        SCROLLING_TABLE.format(label=f"Model card table {number}") + piece for number, piece in enumerate(pieces[1:], 1)
    )
    return Markup(html.replace("</table>", "</table></div>"))


SCROLLING_TABLE = '<div class="scroll" role="region" tabindex="0" aria-label="{label}"><table>'


def _row_headed(tokens: list[Token]) -> list[Token]:
    """A table whose header row is empty (the card's `| | |` key/value tables) loses that row, and the first
    cell of each row becomes its header: screen readers announce an empty column header as nothing."""
    out: list[Token] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.type == "thead_open":
            end = next(i for i in range(index, len(tokens)) if tokens[i].type == "thead_close")
            cells = [t for t in tokens[index:end] if t.type == "inline"]
            if all(not cell.content.strip() for cell in cells):
                index = end + 1
                _first_cells_as_headers(tokens, index)
                continue
        out.append(token)
        index += 1
    return out


def _first_cells_as_headers(tokens: list[Token], start: int) -> None:
    """In the table body from `start`, the first cell of each row becomes `<th scope="row">`."""
    first = False
    for token in tokens[start:]:
        if token.type == "table_close":
            return
        if token.type == "tr_open":
            first = True
        elif token.type == "td_open" and first:
            token.tag, token.attrs = "th", {**token.attrs, "scope": "row"}
        elif token.type == "td_close" and first:
            token.tag, first = "th", False


def site_pages(result: Checked, outputs: list[Output], today: datetime.date) -> dict[str, str]:
    """Relative path -> HTML: `index.html` and `models/<name>.html` per model."""
    env = _environment()
    models = model_facts(result, today)
    waivers = waiver_rows(result, today)
    project = result.project.metadata.name if result.project else "Charter project"
    common = {"project": project, "today": today.isoformat(), "version": __version__}
    pages = {"index.html": env.get_template("index.html.j2").render(**common, models=models, waivers=waivers)}
    cards = {o.model: o.text for o in outputs if o.model is not None and o.path.endswith(".md")}
    for facts in models:
        pages[f"models/{facts.name}.html"] = env.get_template("model.html.j2").render(
            **common,
            model=facts,
            waivers=[w for w in waivers if w["target"] == f"Model {facts.name}"],
            lineage=Markup(lineage_svg(result, facts.name, outputs)),
            card=card_html(cards[facts.name]) if facts.name in cards else None,
            rules=_by_status(facts),
        )
    return pages


def _by_status(facts: ModelFacts) -> list[Any]:
    order = {"fails": 0, "not evaluated": 1, "warns": 2, "waived": 3, "informs": 4, "holds": 5, "off": 6}
    return sorted(facts.rules, key=lambda r: (order.get(r.status, 9), r.target, r.policy, r.rule))
