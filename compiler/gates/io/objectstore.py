"""Files in object storage (S3, GCS, Azure) or on a local path, read through pyarrow's filesystems.

Object storage is ODCS `s3` (with an `s3://` location, or `gs://` for Google
Cloud Storage, which ODCS has no type for), `azure`, or a `local` path. A
server's `location` is a file, a prefix (`s3://bucket/applications/`) or a
glob (`s3://bucket/applications/*.parquet`). The files become one pyarrow
dataset that DuckDB scans in record batches, so only the batches in flight
are in memory, whatever the size of the data, and columns not queried are
never downloaded (Parquet).

Credentials come only from each cloud's standard environment and files
(`AWS_*` and `~/.aws`, `GOOGLE_APPLICATION_CREDENTIALS`, `AZURE_*`): pyarrow's
filesystems read them; nothing in a spec can name a secret. The server's
`endpointUrl` is passed to pyarrow explicitly, since its S3 filesystem does
not read `AWS_ENDPOINT_URL`.
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from compiler.core.locations import LOCAL_HINT, LOCATION_HINT, local_parts, prefix_escape
from compiler.core.repofs import Refused, inspect
from compiler.gates.errors import UnusableInput
from compiler.gates.io.engine_errors import engine_error

OBJECT_STORE_TYPES = ("s3", "gcs", "azure", "local")
LOCATION_REFUSED = "CH752"
_GLOB_CHARS = "*?["
_FORMATS = {"parquet": "parquet", "csv": "csv"}
_MAX_FILES = 100_000


@dataclass(frozen=True)
class Location:
    """Where the files are: a filesystem, a base directory to list, and a pattern to keep."""

    display: str
    scheme: str
    base: str
    pattern: str | None
    account: str | None = None
    """Azure's storage account, when the location names it (`container@account.dfs.core.windows.net`)."""


def parse_location(server_type: str, location: str) -> Location:
    """Split a server location into the part to list and the glob that filters it.

    A location names one bucket (container) and a prefix in it; anything that could leave them once a
    filesystem or a server normalises the key (`..`, `.`, `//`, a backslash, their percent-encodings, control
    characters) is refused. A `local` path is relative to the project root and is read without following links
    (`list_local`).
    """
    if server_type == "local":
        return _local_location(location)
    # Not urlsplit: `?` is a glob character here, not the start of a query.
    url_scheme, _, rest = location.partition("://")
    netloc, slash, tail = rest.partition("/")
    # ODCS has no Google Cloud Storage type: an `s3` server with a gs:// location is one.
    expected = {"s3": ("s3", "s3a", "gs"), "gcs": ("gs", "gcs"), "azure": ("abfs", "abfss", "az", "azure")}
    if not rest or url_scheme not in expected.get(server_type, ()):
        schemes = " or ".join(f"{s}://" for s in expected.get(server_type, ()))
        raise UnusableInput(
            f"server location {location!r} is not a {server_type} location", hint=f"write it as {schemes}..."
        )
    _stays_in_prefix(location, azure=server_type == "azure")
    scheme = "gcs" if url_scheme in ("gs", "gcs") else server_type
    path, account = netloc + slash + tail, None
    if server_type == "azure" and "@" in netloc:
        # abfss://container@account.dfs.core.windows.net/path: pyarrow wants `container/path`.
        container, host = netloc.split("@", 1)
        path, account = container + slash + tail, host.split(".", 1)[0].lower()
    return _split_glob(location, scheme, path, account)


def _split_glob(location: str, scheme: str, path: str, account: str | None) -> Location:
    glob_at = min((path.find(c) for c in _GLOB_CHARS if c in path), default=-1)
    if glob_at < 0:
        return Location(location, scheme, path.rstrip("/") if path != "/" else path, None, account)
    base = path[:glob_at].rsplit("/", 1)[0]
    return Location(location, scheme, base, path, account)


def _stays_in_prefix(location: str, *, azure: bool) -> None:
    """Refuse a location whose key could leave its bucket or prefix once normalised."""
    why = prefix_escape(location, azure=azure)
    if why is not None:
        raise UnusableInput(
            f"server location {location!r} is refused: {why}, so it could leave its bucket or prefix",
            hint=LOCATION_HINT,
            code=LOCATION_REFUSED,
        )


def _local_location(location: str) -> Location:
    # The contract is the repository's, so it may not send the gate outside the project root.
    parts = local_parts(location)
    if parts is None:
        raise UnusableInput(
            f"local server path {location!r} leaves the project", hint=LOCAL_HINT, code=LOCATION_REFUSED
        )
    return _split_glob(location, "local", "/".join(parts), None)


def list_local(root: Path, location: Location) -> list[str]:
    """The files of a `local` location under `root`, as `--data` reads them: no link is followed on the way
    or inside a folder, only non-empty regular files count. Refused (naming the path only) otherwise."""
    base = location.base
    try:
        info = inspect(root, base)
    except Refused as refused:
        raise UnusableInput(
            f"local server path {location.display!r}: {refused.reason}",
            hint="the gates read the file itself, inside the project: not through a link",
            code=LOCATION_REFUSED,
        ) from None
    if info is None:
        raise UnusableInput(f"local server path {location.display!r}: no such file or directory")
    if stat.S_ISREG(info.st_mode):
        return [str(root / base)] if info.st_size and location.pattern is None else []
    if not stat.S_ISDIR(info.st_mode):
        what = "a symbolic link; Charter does not follow links" if stat.S_ISLNK(info.st_mode) else "not a file"
        raise UnusableInput(
            f"local server path {location.display!r}: `{base}` is {what}",
            hint="the gates read a regular file or a folder inside the project, as with --data",
            code=LOCATION_REFUSED,
        )
    files = []
    for folder, directories, names in os.walk(root / base, followlinks=False):
        directories[:] = sorted(d for d in directories if not os.path.islink(os.path.join(folder, d)))
        for name in sorted(names):
            path = os.path.join(folder, name)
            relative = os.path.relpath(path, root).replace(os.sep, "/")
            if name.startswith(("_", ".")) or os.path.islink(path) or not os.path.isfile(path):
                continue
            if location.pattern is not None and not glob_match(relative, location.pattern):
                continue
            if os.path.getsize(path):
                files.append(path)
        if len(files) > _MAX_FILES:
            raise UnusableInput(f"{location.display}: more than {_MAX_FILES:,} files; narrow the location")
    return sorted(files)


def filesystem(location: Location, endpoint_url: str | None, region: str | None, *, plain_http: bool = False) -> Any:
    """A pyarrow filesystem with credentials from the cloud's standard environment only.

    The endpoint is one the Project trusts (`compiler.core.endpoints`); plain HTTP only where it says so.
    """
    from pyarrow import fs

    scheme = location.scheme
    if scheme == "local":
        return fs.LocalFileSystem()
    if scheme == "s3":
        options: dict[str, Any] = {"region": region or os.environ.get("AWS_REGION") or "us-east-1"}
        if endpoint_url:
            endpoint = urlsplit(endpoint_url)
            if endpoint.scheme not in ("http", "https") or not endpoint.netloc:
                raise UnusableInput(f"endpointUrl {endpoint_url!r}: not an http(s) URL")
            if endpoint.scheme == "http" and not plain_http:
                raise UnusableInput(f"endpointUrl {endpoint_url!r}: plain HTTP", hint="use https://")
            options["endpoint_override"] = endpoint.netloc
            options["scheme"] = endpoint.scheme
        return fs.S3FileSystem(**options)
    if scheme == "gcs":
        return fs.GcsFileSystem()
    account = location.account or os.environ.get("AZURE_STORAGE_ACCOUNT_NAME")
    if not account:
        raise UnusableInput(
            "an azure server needs the storage account name",
            hint="write the location as abfss://container@account.dfs.core.windows.net/... "
            "or set AZURE_STORAGE_ACCOUNT_NAME",
        )
    return fs.AzureFileSystem(account_name=account)


def list_files(filesystem: Any, location: Location) -> list[str]:
    """Every non-empty data file under the location, sorted; a file location is itself."""
    from pyarrow import fs

    try:
        info = filesystem.get_file_info(location.base)
        if info.type == fs.FileType.File and location.pattern is None:
            return [location.base] if info.size else []
        selector = fs.FileSelector(location.base, recursive=True, allow_not_found=True)
        entries = filesystem.get_file_info(selector)
    except OSError as error:
        raise UnusableInput(f"{location.display}: cannot list: {_first_line(error)}") from None
    files = []
    for entry in entries:
        name = entry.path.rsplit("/", 1)[-1]
        if entry.type != fs.FileType.File or not entry.size or name.startswith(("_", ".")):
            continue
        if location.pattern is not None and not glob_match(entry.path, location.pattern):
            continue
        files.append(entry.path)
        if len(files) > _MAX_FILES:
            raise UnusableInput(f"{location.display}: more than {_MAX_FILES:,} files; narrow the location")
    return sorted(files)


def glob_match(path: str, pattern: str) -> bool:
    """A glob as DuckDB reads one: `*` and `?` stay within one folder, `**` crosses any number of them.

    (fnmatch lets `*` cross `/`, so `data/*.csv` also took `data/invalid/x.csv`.)"""
    return re.fullmatch(_glob_regex(pattern), path) is not None


def _glob_regex(pattern: str) -> str:
    parts = re.split(r"(\*\*/?|\*|\?|\[[^\]]*\])", pattern)
    out = []
    for part in parts:
        if part.startswith("**"):
            out.append("(?:.*/)?" if part.endswith("/") else ".*")
        elif part == "*":
            out.append("[^/]*")
        elif part == "?":
            out.append("[^/]")
        elif part.startswith("[") and part.endswith("]") and len(part) > 2:
            out.append(fnmatch.translate(part)[4:-3])  # fnmatch's own translation of one character class
        else:
            out.append(re.escape(part))
    return "".join(out)


def file_format(declared: str | None, files: list[str], display: str) -> str:
    if declared:
        fmt = _FORMATS.get(declared.lower())
        if fmt is None:
            raise UnusableInput(f"{display}: format `{declared}` cannot be read", hint="parquet or csv")
        return fmt
    suffixes = {f.lower().rsplit(".", 1)[-1] for f in files}
    if suffixes <= {"parquet", "pq", "parq"}:
        return "parquet"
    if suffixes <= {"csv", "tsv", "txt"}:
        return "csv"
    raise UnusableInput(f"{display}: cannot tell the files' format", hint="set the server's `format`")


def dataset(filesystem: Any, files: list[str], fmt: str, *, all_text: bool, delimiter: str | None) -> Any:
    """A pyarrow dataset over the files; CSV can be read with every column as text."""
    import pyarrow.dataset as ds
    from pyarrow import csv

    try:
        if fmt == "parquet":
            return ds.dataset(files, filesystem=filesystem, format="parquet")
        parse = csv.ParseOptions(delimiter=delimiter or ",")
        # As DuckDB reads CSV: an empty unquoted field is NULL, in every column.
        nulls: dict[str, Any] = {"null_values": [""], "strings_can_be_null": True}
        typed = csv.ConvertOptions(**nulls)
        discovered = ds.dataset(
            files, filesystem=filesystem, format=ds.CsvFileFormat(parse_options=parse, convert_options=typed)
        )
        if not all_text:
            return discovered
        import pyarrow as pa

        text = csv.ConvertOptions(column_types={name: pa.string() for name in discovered.schema.names}, **nulls)
        return ds.dataset(
            files, filesystem=filesystem, format=ds.CsvFileFormat(parse_options=parse, convert_options=text)
        )
    except (OSError, ValueError) as error:
        raise engine_error(f"cannot read {fmt.upper()}", error) from None


def _first_line(error: BaseException) -> str:
    lines = [line for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
