"""Stage 1, read: which files a run reads (discovery), each read within its caps (reading, load) as YAML 1.2."""
