"""The versions a retraining gives its candidates: `<base>-retrain.<run>`, where the base is the version without an
earlier retraining's suffix, so retraining a merged candidate does not pile suffixes up."""

from __future__ import annotations

import re

_SUFFIX = re.compile(r"-retrain\.[0-9]+$")


def base_version(version: str) -> str:
    return _SUFFIX.sub("", version)
