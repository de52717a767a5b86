from compiler.lsp import _probe_b
