"""fakesnow's Snowflake stand-in, served over HTTP on 127.0.0.1 from its own venv (`make fakesnow`).

The gates' real Snowflake connector talks to it as to a warehouse: login, session parameters, queries and
result batches over HTTP; fakesnow runs the SQL in an in-memory DuckDB behind Snowflake's dialect.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from live_servers import HOST, _wait_for_port, free_port

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv-fakesnow" / "bin" / "python"


@dataclass(frozen=True)
class Snowflake:
    port: int

    @property
    def environment(self) -> dict[str, str]:
        """What a job's environment holds: the credentials, and the operator's pointer to this host."""
        return {
            "SNOWFLAKE_USER": "charter",
            "SNOWFLAKE_PASSWORD": "not-a-real-password",
            "SNOWFLAKE_ACCOUNT": "acme-lending",
            "SNOWFLAKE_HOST": HOST,
            "SNOWFLAKE_PORT": str(self.port),
            "SNOWFLAKE_PROTOCOL": "http",
        }


@contextmanager
def fakesnow(log: Path) -> Iterator[Snowflake]:
    if not PYTHON.exists():
        why = "fakesnow's venv is missing: make fakesnow"
        if os.environ.get("CHARTER_REQUIRE_ORACLES") or os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(PYTHON), "-m", "fakesnow", "--server", "--host", HOST, "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_for_port(port, process, "fakesnow", log, 60)
            yield Snowflake(port)
        finally:
            process.terminate()
            process.wait(timeout=30)
