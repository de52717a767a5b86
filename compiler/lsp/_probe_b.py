def late():
    from compiler.lsp._probe_a import x
