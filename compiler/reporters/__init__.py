"""Output formats: one module per format, all built from findings (`Report`, compiler/reporters/findings.py).

The registry below is the only place that knows the formats. Every command renders through it (`render`):
check, build and gate findings, and the plan's breaking changes, which are findings too. A command that has
a richer rendering of its own for a format (the plan's text, JSON and Markdown; a gate's report) passes it
as `own`; any other format shows the command's findings. `choices` gives every command the same `--format`
choices, so a new format module reaches every command once it is registered here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from compiler.reporters.findings import Report

Renderer = Callable[[Report], str]


def formats() -> dict[str, Renderer]:
    """Every format of findings, by its `--format` name."""
    from compiler.reporters import github, json_format, junit, sarif, text

    return {
        "text": text.render,
        "json": json_format.render,
        "sarif": sarif.render,
        "github": github.render,
        "junit": junit.render,
    }


def choices(own: Iterable[str] = ()) -> list[str]:
    """A command's `--format` choices: its own renderings and every format of findings."""
    return sorted({*own, *formats()})


def render(fmt: str, report: Report, own: Mapping[str, Callable[[], str]] | None = None) -> str:
    """A command's output in `fmt`: its own rendering when it has one for `fmt`, else its findings."""
    special = (own or {}).get(fmt)
    return special() if special is not None else formats()[fmt](report)
