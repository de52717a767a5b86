"""Evidence: what a gate measured, filed per model version, and what cards, policies and reports show.

- `digest`: the fingerprint of what a gate judged (model spec, contracts, suite, policy set).
- `record`: `charter evidence record REPORT...` turns gate reports into records under
  `evidence/<model>/<version>/<gate>.json`.
- `store`: reads the committed records back (through compiler/repofs.py) for `charter check` and `build`.
"""

from __future__ import annotations

EVIDENCE_DIR = "evidence"
GATES = ("data", "eval", "drift")
