"""Stage 6, emit: the plan of writes for rendered outputs, output ownership, and applying the plan."""
