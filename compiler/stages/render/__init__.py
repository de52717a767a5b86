"""Stage 5, render: the outputs (workflows, manifests, cards) of a resolved project, as text in memory."""
