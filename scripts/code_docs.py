"""`docs/codes.md`: every diagnostic code, from the catalogue, as `charter explain CODE` prints it.

Editors link a finding's code here (`charter lsp` gives each diagnostic a `codeDescription` of
`docs/codes.md#ch401`), so each code is a heading of its own whose anchor is its lower-case id.
Usage (`make docs`): python scripts/code_docs.py [docs/codes.md]
"""

from __future__ import annotations

import sys
from pathlib import Path

from compiler.core.codes import all_codes
from compiler.core.fsutil import write_atomic


def codes_markdown() -> str:
    lines = [
        "# Diagnostic codes",
        "",
        "Generated from `compiler/catalogue/*.toml` by `make docs`; `charter explain CODE` prints the same text.",
        "",
    ]
    for code in all_codes():
        lines += [f"## {code.id}", "", f"**{code.name}** ({code.severity.value}): {code.title}", ""]
        lines += [code.explanation, ""]
    return "\n".join(lines)


if __name__ == "__main__":
    write_atomic(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/codes.md"), codes_markdown())
