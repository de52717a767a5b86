"""The formats in which the plan has a rendering of its own (compiler/plan/report.py).

In every other format of the registry (`compiler.reporters`), the plan is its findings: breaking changes,
approvals needed, new findings. Apart from the renderers, so that `charter --help` need not load the plan.
"""

OWN_FORMATS = ("text", "json", "markdown")
