"""A document's fingerprint: the SHA-256 of its data as canonical JSON (sorted keys, no whitespace).

Evidence records name what a gate judged by these digests (`compiler.evidence.digest`), so the bytes are a
promise: records committed in repositories stay current only while the same data gives the same text. A
comment or a re-indented file leaves the digest as it was; any change of a value changes it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical(data: Any) -> bytes:
    # Dates (a waiver's `expires`) and other scalars the YAML loader makes become their text.
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode("utf-8")


def sha256(data: Any) -> str:
    return "sha256:" + hashlib.sha256(canonical(data)).hexdigest()
