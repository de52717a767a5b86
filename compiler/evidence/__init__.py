"""Evidence: what a gate measured, filed per model version, and what cards, policies and reports show.

A layer of its own between the core and the stages: it imports only `compiler.core`, and the stages (the policy
views, render), the gates, the report and the commands import it.

- `digest`: the fingerprint of what a gate judged (model spec, contracts, suite, policy set).
- `record`: a gate report filed as a record (`charter evidence record`, `compiler.commands.evidence`).
- `store`: reads the committed records back, through the read stage's reader, for `charter check` and `build`.
- `verify`, `verify_data`: a record's claims judged again against today's specs.
- `card`: what a model card shows of them.
"""

from __future__ import annotations

EVIDENCE_DIR = "evidence"
GATES = ("data", "eval", "drift", "shadow")
"""What is recorded: the runtime gates' reports, and `charter deploy shadow`'s (a rollout's shadow window)."""
