"""Test-wide settings."""

from __future__ import annotations

import os
import tempfile

from hypothesis import HealthCheck, settings

# In CI a property test must not turn red on a new random draw that no one
# can reproduce: examples are derived from the test itself. Locally the
# search stays random, which is how new counterexamples are found.
settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else os.environ.get("HYPOTHESIS_PROFILE", "dev"))

# `charter check` signs its cache (.charter/cache/) with a key under $XDG_CACHE_HOME: tests keep theirs apart
# from the user's, in a folder of their own for the session (subprocesses inherit it).
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="charter-tests-xdg-")
