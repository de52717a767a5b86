"""The SHA-256 digest of the data a gate judged: what its report and its evidence record name.

A verdict is about particular rows. The record keeps their digest so that a reviewer can ask "which data?" and
check the answer (`sha256sum` of the predictions file gives the same digest), and so that evidence without it is
not evidence (compiler/evidence/verify.py).

- Files (local, or in object storage through the server's pyarrow filesystem): the SHA-256 of each file's bytes;
  the input's digest is the file's when there is one, else the SHA-256 of the sorted per-file digests, one a
  line. Reading a file again to hash it is the price of naming it.
- A database table: the database computes the SHA-256 of each row's text (`row::text`, UTF-8) and sends back
  only those digests, sorted; the input's digest is the SHA-256 of them, one a line. No value leaves the
  database, and the same rows give the same digest whatever their order.
"""

from __future__ import annotations

import hashlib
from typing import Any

from compiler.gates.io.inputs import Source

_CHUNK = 1024 * 1024
PREFIX = "sha256:"


def input_digests(source: Source) -> dict[str, Any]:
    """`{"digest": ...}` for a source, and `fileDigests` (aligned with `files`) when it is files."""
    from compiler.gates.io.servers import ObjectStore, Table

    backend = source.backend
    if isinstance(backend, Table):
        return {"digest": _table_digest(backend)}
    opener = backend.filesystem.open_input_stream if isinstance(backend, ObjectStore) else _local_opener
    per_file = [_file_digest(opener, path) for path in source.files]
    return {"digest": combined(per_file), "fileDigests": per_file}


def combined(per_file: list[str]) -> str:
    if len(per_file) == 1:
        return per_file[0]
    return PREFIX + hashlib.sha256("".join(f"{item}\n" for item in sorted(per_file)).encode()).hexdigest()


def _file_digest(opener: Any, path: str) -> str:
    digest = hashlib.sha256()
    with opener(path) as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return PREFIX + digest.hexdigest()


def _local_opener(path: str) -> Any:
    # The gates refused links on the way to every file they were given (compiler/gates/io/inputs.py).
    return open(path, "rb")


def _table_digest(backend: Any) -> str:
    from compiler.gates.io import database as db

    relation = db.quoted(backend.schema, backend.table)
    sql = f"SELECT encode(sha256(convert_to(t::text, 'UTF8')), 'hex') AS h FROM {relation} AS t ORDER BY 1"
    digest = hashlib.sha256()
    for batch in backend.session.batches(sql):
        for (row_digest,) in batch:
            digest.update(f"{row_digest}\n".encode())
    return PREFIX + digest.hexdigest()
