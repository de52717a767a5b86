"""`charter gate drift`: reference and current data compared column by column (`stats`) and judged against
the model's monitoring threshold (`verdict`, `gate`)."""
