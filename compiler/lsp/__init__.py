"""`charter lsp`: the Language Server Protocol server that shows `charter check`'s findings in editors.

One module each: `workspace` (the open buffers and the one door to the pipeline), `convert` (a finding as
an LSP diagnostic, paths as URIs), `cursor` (where the cursor is in a YAML file, broken or not), `fields`
(the spec models' fields, docs and enums), `targets` (what a field refers to), `completion`, `hover`,
`definition` (go to definition, find references), `actions` (quick fixes), `server` (pygls wiring).
"""
