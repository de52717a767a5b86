"""The pipeline's stages, in order: load -> validate -> resolve -> check -> render -> emit; `pipeline` is the one door.

Imports `compiler.core` only, never commands or integrations (tests/test_layout.py)."""
