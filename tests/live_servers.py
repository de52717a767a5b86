"""Real servers the `--server` tests (and `make bench`) start and stop themselves, on 127.0.0.1 and free ports.

- PostgreSQL from the Debian package: `initdb` into a temporary directory and
  `pg_ctl start`. initdb refuses to run as root, so as root the cluster
  belongs to `nobody` and the commands run through `runuser`.
- moto's standalone S3 server (`python -m moto.server`), the engine behind LocalStack.

Nothing is skipped: a server that cannot start raises `ServerDidNotStart`
saying why, and the test fails with it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
_UNPRIVILEGED = "nobody"


class ServerDidNotStart(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _wait_for_port(port: int, process: subprocess.Popen[bytes] | None, what: str, log: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise ServerDidNotStart(f"{what} exited with {process.returncode}: {_tail(log)}")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.5):
            return
        time.sleep(0.1)
    raise ServerDidNotStart(f"{what} did not listen on {HOST}:{port} within {seconds:g} s: {_tail(log)}")


def _tail(log: Path) -> str:
    try:
        return " | ".join(log.read_text("utf-8", "replace").strip().splitlines()[-5:])
    except OSError:
        return "(no log)"


# --- PostgreSQL ------------------------------------------------------------------


@dataclass(frozen=True)
class Postgres:
    host: str
    port: int
    user: str
    database: str

    @property
    def environment(self) -> dict[str, str]:
        """libpq's standard variables: how the gates find their credentials."""
        return {"PGUSER": self.user, "PGPASSWORD": "", "PGHOST": self.host, "PGPORT": str(self.port)}

    def connect(self) -> object:
        import psycopg

        return psycopg.connect(host=self.host, port=self.port, user=self.user, dbname=self.database, autocommit=True)


def postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).resolve().parent
    raise ServerDidNotStart(
        "PostgreSQL is not installed: no pg_ctl in /usr/lib/postgresql/*/bin or on PATH; "
        "`make test` installs it (apt-get install postgresql)"
    )


@contextlib.contextmanager
def postgres(user: str = "charter", database: str = "lending") -> Iterator[Postgres]:
    binaries = postgres_bin()
    root = Path(tempfile.mkdtemp(prefix="charter-pg-"))
    data, sockets, log = root / "data", root / "sockets", root / "postgres.log"
    sockets.mkdir()
    as_root = os.geteuid() == 0
    if as_root:
        shutil.chown(root, _UNPRIVILEGED)
        shutil.chown(sockets, _UNPRIVILEGED)
        root.chmod(0o755)
    prefix = ["runuser", "-u", _UNPRIVILEGED, "--"] if as_root else []
    port = free_port()

    def run(*argv: str) -> None:
        done = subprocess.run([*prefix, *argv], capture_output=True, text=True, check=False, timeout=120)
        if done.returncode:
            raise ServerDidNotStart(f"{Path(argv[0]).name} failed ({done.returncode}): {done.stderr.strip()[-600:]}")

    started = False
    try:
        run(str(binaries / "initdb"), "-D", str(data), "-U", user, "--auth=trust", "--locale=C", "-E", "UTF8")
        options = f"-c listen_addresses={HOST} -p {port} -k {sockets} -c fsync=off -c full_page_writes=off"
        run(str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start")
        started = True
        _wait_for_port(port, None, "postgres", log, 30)
        admin = subprocess.run(
            [str(binaries / "psql"), "-h", HOST, "-p", str(port), "-U", user, "-d", "postgres", "-c",
             f'CREATE DATABASE "{database}"'],
            capture_output=True, text=True, check=False, timeout=60,
        )  # fmt: skip
        if admin.returncode:
            raise ServerDidNotStart(f"CREATE DATABASE failed: {admin.stderr.strip()}")
        yield Postgres(HOST, port, user, database)
    finally:
        if started:
            subprocess.run(
                [*prefix, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                capture_output=True, check=False, timeout=60,
            )  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


# --- moto's S3 --------------------------------------------------------------------


@dataclass(frozen=True)
class S3:
    endpoint_url: str

    @property
    def environment(self) -> dict[str, str]:
        """The AWS SDKs' standard variables (moto accepts any key)."""
        return {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "eu-west-1"}

    def client(self) -> object:
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint_url, region_name="eu-west-1", **_keys(self))


def _keys(s3: S3) -> dict[str, str]:
    env = s3.environment
    return {"aws_access_key_id": env["AWS_ACCESS_KEY_ID"], "aws_secret_access_key": env["AWS_SECRET_ACCESS_KEY"]}


@contextlib.contextmanager
def moto_s3() -> Iterator[S3]:
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="charter-moto-") as folder:
        log = Path(folder) / "moto.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(port)], stdout=out, stderr=out
            )
        try:
            _wait_for_port(port, process, "moto.server", log, 60)
            yield S3(f"http://{HOST}:{port}")
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
