"""The MLflow model registry, through its REST API (2.0) with the standard library: no MLflow client in Charter."""
