"""`charter evidence record REPORT...`: gate reports filed as evidence under `evidence/<model>/<version>/`.

Reading the records back (for check, cards, policies and the report) is a stage: `compiler.stages.evidence`.
"""
