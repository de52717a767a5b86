"""Where `charter check` keeps what it found, for the next run: `.charter/cache/` or memory (an editor's server).

A cache is a JSON document (never pickle: a repository may ship one, and loading must run no code of it).
On disk it is signed with a key that lives outside the repository (`$XDG_CACHE_HOME/charter/cache-key`,
made on first use, readable by its owner only), so a cache committed to a pull request, or written by another
user, verifies as foreign and is ignored: it can never tell a run that a file has no findings. A corrupt,
truncated or foreign file is ignored the same way. It is written to a temporary file and renamed into place,
so a reader sees the old cache or the new one, never half of one, and two concurrent runs cannot corrupt it
(the last rename wins). Nothing is written through a symbolic link (`repofs.inspect` on the way).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path
from typing import Any, Protocol

from compiler.core import repofs
from compiler.core.fsutil import write_atomic

CACHE_DIR = ".charter/cache"
CACHE_FILE = f"{CACHE_DIR}/check.json"
FORMAT = 2  # 2: summaries list the documents that failed validation (compiler.core.invalid)


class Store(Protocol):
    """Holds one JSON document between runs."""

    def read(self) -> dict[str, Any]:
        """The last document written, or {} when there is none that can be trusted."""

    def write(self, document: dict[str, Any]) -> None:
        """Replace the document; a store that cannot write stays silent (a cache is never a reason to fail)."""


class MemoryStore:
    """For a process that checks again and again (`charter lsp`)."""

    def __init__(self) -> None:
        self.document: dict[str, Any] = {}

    def read(self) -> dict[str, Any]:
        return self.document

    def write(self, document: dict[str, Any]) -> None:
        self.document = document


class DirectoryStore:
    """`.charter/cache/check.json` under a project root, signed with the user's key."""

    def __init__(self, root: Path, key: bytes | None = None):
        self.root = root
        self.key = key if key is not None else user_key()

    def read(self) -> dict[str, Any]:
        if self.key is None:
            return {}
        try:
            raw = repofs.read_bytes(self.root, CACHE_FILE, 256 * 1024 * 1024)
        except (repofs.Refused, repofs.TooLarge, OSError):
            return {}
        signature, _, body = raw.partition(b"\n")
        if not hmac.compare_digest(signature, self._sign(body)):
            return {}
        try:
            document = json.loads(body)
        except ValueError:
            return {}
        return document if isinstance(document, dict) and document.get("format") == FORMAT else {}

    def write(self, document: dict[str, Any]) -> None:
        if self.key is None:
            return
        body = json.dumps({**document, "format": FORMAT}, separators=(",", ":"), sort_keys=True).encode()
        try:
            repofs.guard_write(self.root, CACHE_FILE)
            (self.root / CACHE_DIR).mkdir(parents=True, exist_ok=True)
            repofs.guard_write(self.root, CACHE_FILE)  # again: a link may have appeared with the directory
            write_atomic(self.root / CACHE_FILE, (self._sign(body) + b"\n" + body).decode())
            ignore = f"{CACHE_DIR}/.gitignore"
            if repofs.inspect(self.root, ignore) is None:  # like .pytest_cache: out of git even where not ignored
                write_atomic(self.root / ignore, "# written by charter check\n*\n")
        except (repofs.Refused, OSError):
            return

    def _sign(self, body: bytes) -> bytes:
        assert self.key is not None
        return hmac.new(self.key, body, hashlib.sha256).hexdigest().encode()


def user_key() -> bytes | None:
    """This user's signing key, made on first use; None when there is nowhere private to keep one."""
    base = os.environ.get("XDG_CACHE_HOME") or (os.path.join(os.path.expanduser("~"), ".cache"))
    path = Path(base) / "charter" / "cache-key"
    try:
        return path.read_bytes().strip() or None
    except FileNotFoundError:
        pass
    except OSError:
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:  # another run made it first
        return user_key()
    except OSError:
        return None
    key = secrets.token_hex(32).encode()
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    return key
