"""`charter gate eval`: predictions loaded for the model's task (`load`, `ranking`, `generation`), the suite's
metrics computed (`scoring`) per group and window, with confidence intervals, and judged (`gate`)."""
