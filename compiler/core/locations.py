"""Whether a server's location stays where it says: its bucket and prefix, or the project for a local path.

One judgement for `charter check` (CH433 at the contract's line) and the gates (CH752, before anything is
listed or read). Object stores and their SDKs normalise keys: `a/../b`, `a/%2e%2e/b`, `a//b` or `a\\b` may
name a key outside the prefix the location shows. A local path is relative to the project root.
"""

from __future__ import annotations

import re

from compiler.core.repofs import Refused, relative_parts

_ENCODED_SEPARATORS = re.compile(r"%(2e|2f|5c|00)", re.IGNORECASE)
LOCATION_HINT = "write the bucket and the prefix plainly: s3://bucket/prefix/ or s3://bucket/prefix/*.parquet"
LOCAL_HINT = "give a path relative to the project root, without `..`, or use --data"


def prefix_escape(location: str, *, azure: bool) -> str | None:
    """Why `scheme://bucket/prefix...` could leave its bucket or prefix once normalised; None when it cannot."""
    rest = location.partition("://")[2]
    netloc, _, tail = rest.partition("/")
    bucket = netloc.split("@", 1)[0] if azure else netloc
    segments = tail.rstrip("/").split("/") if tail.rstrip("/") else []
    if not bucket or "@" in bucket or ":" in bucket or (not azure and "@" in netloc):
        return "it names no plain bucket"
    if "\\" in location or any(ord(c) < 0x20 or ord(c) == 0x7F for c in location):
        return "it holds a backslash or a control character"
    if _ENCODED_SEPARATORS.search(location):
        return "it holds a percent-encoded `.`, `/`, `\\` or NUL"
    if any(segment in ("", ".", "..") for segment in segments):
        return "a segment is empty, `.` or `..`"
    return None


def local_parts(path: str) -> tuple[str, ...] | None:
    """The components of a local server path inside the project root; None when it leaves the project."""
    try:
        parts = relative_parts(path.rstrip("/") or path)
    except Refused:
        return None
    if path.startswith("~") or ":" in parts[0]:
        return None
    return parts
