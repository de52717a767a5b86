"""What the task loaders (`ranking`, `generation`) use of the evaluation loader (`load.Loader`).

`load` imports the task loaders to pick one by the model's task; they see it through this protocol, so no
module of the eval gate imports one that imports it back.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from compiler.gates.io.inputs import Source


class RowReader(Protocol):
    """The one read of an evaluation file's rows, labels cast alike."""

    @property
    def source(self) -> Source: ...

    def label_expressions(self, available: dict[str, str], names: list[str]) -> dict[str, str]: ...

    def fetch(self, parts: dict[str, str]) -> dict[str, np.ndarray[Any, Any]]: ...
