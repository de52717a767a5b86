"""One local Spark for the whole test session (`local[2]`, Java from Debian's openjdk-17-jre-headless).

Spark takes seconds to start, so every Spark test shares the session this fixture starts; the gates find it
as the active session, as they would on a cluster. Without pyspark or Java the Spark tests are skipped with
the reason, never passed: `make test` installs both.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    pytest.importorskip("pyspark", reason="pyspark is in the spark extra (make test installs it)")
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java: apt-get install openjdk-17-jre-headless (make test does)")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("charter-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("OFF")
    yield session
    session.stop()
