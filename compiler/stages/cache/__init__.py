"""The incremental path of the one pipeline: which files' findings may have changed, and the recorded rest."""
