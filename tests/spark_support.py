"""One local Spark for the whole test session (`local[2]`, Java from Debian's openjdk-17-jre-headless).

Spark takes seconds to start, so every Spark test shares the session this fixture starts; the gates find it
as the active session, as they would on a cluster. Without pyspark or Java the Spark tests are skipped with
the reason, never passed: `make test` installs both.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest


def _missing(why: str) -> None:
    # `make test` and CI install both: there a missing one is a failure, not a skip.
    if os.environ.get("CHARTER_REQUIRE_ORACLES") or os.environ.get("CI"):
        pytest.fail(why)
    pytest.skip(why)


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if importlib.util.find_spec("pyspark") is None:
        _missing("pyspark is in the spark extra (make test installs it)")
    if shutil.which("java") is None:
        _missing("Spark needs Java: apt-get install openjdk-17-jre-headless (make test does)")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("charter-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", "1g")
        .config("spark.sql.warehouse.dir", str(tmp_path_factory.mktemp("spark-warehouse")))
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("OFF")
    yield session
    session.stop()
