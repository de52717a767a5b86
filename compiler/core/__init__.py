"""The vocabulary every layer shares: findings and their codes, positions, sources, spec models, references.

Imports nothing of Charter's outside `compiler.core` (tests/test_layout.py)."""
