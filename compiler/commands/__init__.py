"""The command line: one module per command, each with `add_parser(subparsers)` and `run(args) -> exit code`.

`cli.py` lists them (`COMMANDS`) and dispatches; `common.py` and `output.py` hold what several commands do
the same way. A command reaches the pipeline only through its door, `compiler.stages`.
"""
