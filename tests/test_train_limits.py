"""Issue 27: `spec.training.resources` reaches the train job's container as docker's options.

Before: the resources were accepted and rendered nowhere. The run itself (options accepted by the docker
stand-in, recorded) is tests/test_act_model.py.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from compiler.core.models.common import Resources
from compiler.stages.render.train_limits import docker_options, quantity


@pytest.mark.parametrize(
    ("text", "value"),
    [("500m", Decimal("0.5")), ("2", Decimal(2)), ("8Gi", Decimal(8 * 2**30)), ("1.5G", Decimal(1_500_000_000))],
)
def test_quantities(text: str, value: Decimal) -> None:
    assert quantity(text) == value


def test_memory_and_gpus_become_docker_options() -> None:
    resources = Resources.model_validate(
        {"requests": {"cpu": "2", "memory": "6Gi"}, "limits": {"cpu": "4", "memory": "8Gi", "gpu": 2}}
    )
    assert docker_options(resources) == [
        "--memory",
        str(8 * 2**30),
        "--memory-reservation",
        str(6 * 2**30),
        "--gpus",
        "2",
    ]


def test_nothing_asked_nothing_passed() -> None:
    assert docker_options(None) == []
    assert docker_options(Resources.model_validate({"requests": {"cpu": "1"}})) == []
