"""The exit codes of every `charter` command, defined once; scripts and CI depend on them.

0: nothing blocks (warnings allowed; a gate passed). 1: at least one unwaived
error-level finding, a breaking change at `--fail-on`, or a gate that failed or
reached no verdict. 2: usage or internal failure, or input a gate cannot use.
"""

from __future__ import annotations

OK = 0
FINDINGS = 1
USAGE = 2

# The runtime gates' words for the same three codes.
PASS, FAIL, UNUSABLE = OK, FINDINGS, USAGE
