"""`spec.training.resources` for the train job's `docker run` on the runner: the container's CPU, memory and GPUs.

Kubernetes quantities become docker's options: `limits.memory` -> `--memory` and `requests.memory` ->
`--memory-reservation` (bytes), a `gpu` count -> `--gpus` (the runner must have them: docker then fails loudly
rather than training on the CPU). CPU is the runner's: the job has the runner to itself, and docker refuses
`--cpus` above the host's count, which would fail a spec sized for the cluster on a smaller runner. The options
are computed from validated quantities, never spec text.
"""

from __future__ import annotations

import re
from decimal import Decimal

from compiler.core.models.common import Resources

_SUFFIX: dict[str, Decimal | int] = {
    "": 1,
    "m": Decimal("0.001"),
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "P": 10**15,
    "E": 10**18,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "Pi": 2**50,
    "Ei": 2**60,
}
_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(m|k|Ki|M|Mi|G|Gi|T|Ti|P|Pi|E|Ei)?$")


def quantity(value: str | int | float) -> Decimal:
    """A Kubernetes quantity (`500m`, `2`, `8Gi`) as a number."""
    match = _QUANTITY.fullmatch(str(value))
    if match is None:  # the spec's pattern admits no other form
        raise ValueError(f"not a Kubernetes quantity: {value!r}")
    return Decimal(match.group(1)) * _SUFFIX[match.group(2) or ""]


def docker_options(resources: Resources | None) -> list[str]:
    """The `docker run` options that give the training container its resources, in a fixed order."""
    if resources is None:
        return []
    options: list[str] = []
    limits, requests = resources.limits, resources.requests
    if limits is not None and limits.memory is not None:
        options += ["--memory", str(int(quantity(limits.memory)))]
    if requests is not None and requests.memory is not None:
        options += ["--memory-reservation", str(int(quantity(requests.memory)))]
    gpus = [listed.gpu for listed in (limits, requests) if listed is not None and listed.gpu]
    if gpus:
        options += ["--gpus", str(max(gpus))]
    return options
