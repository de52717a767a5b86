"""Charter: ML models, data contracts and governance policies as code."""

__version__ = "0.1.0"
API_VERSION = "charter/v1alpha1"
