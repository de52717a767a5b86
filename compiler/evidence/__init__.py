"""Evidence: what a gate measured, filed per model version, and what cards, policies and reports show.

- `digest`: the fingerprint of what a gate judged (model spec, contracts, suite, policy set).
- `store`: reads the committed records back, through the run's sources, for `charter check` and `build`.
- `card`: what a model card shows of them.
- Filing reports as records is a command: `compiler.commands.evidence`.
"""

from __future__ import annotations

EVIDENCE_DIR = "evidence"
GATES = ("data", "eval", "drift")
