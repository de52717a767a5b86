"""Stage 2, validate: each document against its kind's model, ODCS contracts against their JSON Schema."""
