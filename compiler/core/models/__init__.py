"""The spec kinds, one module each; this registry is the only list of them."""

from __future__ import annotations

from compiler.core.models.common import API_VERSION, CharterModel
from compiler.core.models.environment import Environment
from compiler.core.models.model import Model
from compiler.core.models.policy import Policy
from compiler.core.models.project import Project
from compiler.core.models.suite import EvaluationSuite
from compiler.core.models.waiver import Waiver

KINDS: dict[str, type[CharterModel]] = {
    "Project": Project,
    "Model": Model,
    "EvaluationSuite": EvaluationSuite,
    "Environment": Environment,
    "Policy": Policy,
    "Waiver": Waiver,
}
CONTRACT_KIND = "DataContract"
ALL_KINDS = (*KINDS, CONTRACT_KIND)

__all__ = [
    "ALL_KINDS",
    "API_VERSION",
    "CONTRACT_KIND",
    "KINDS",
    "CharterModel",
    "Environment",
    "EvaluationSuite",
    "Model",
    "Policy",
    "Project",
    "Waiver",
]
