"""The command line: one door per command into `compiler.stages.pipeline`."""
