"""`charter report [PATH] --out DIR`: a self-contained static governance site.

- `facts`: what the pages show, as plain data (inventory, policy status, waivers).
- `lineage`: one SVG per model: contracts, suite, model, environments, generated files.
- `pages`: HTML from sandboxed, autoescaping templates; model cards from their Markdown.
- the command is `compiler.commands.report`.
"""
