"""Real servers the `--server` tests (and `make bench`) start and stop themselves, on 127.0.0.1 and free ports.

- PostgreSQL from the Debian package: `initdb` into a temporary directory and
  `pg_ctl start`. initdb refuses to run as root, so as root the cluster
  belongs to `nobody` and the commands run through `runuser`. Like a production
  server it asks for a SCRAM password and speaks TLS, with a certificate for
  127.0.0.1 from a CA made here (`PGSSLROOTCERT`), so the gates connect with
  their defaults (`sslmode=verify-full`, `require_auth=scram-sha-256`).
- moto's standalone S3 server (`python -m moto.server`), the engine behind LocalStack.

Nothing is skipped: a server that cannot start raises `ServerDidNotStart`
saying why, and the test fails with it.
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
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
    password: str
    root_cert: Path
    """The CA that signed the server's certificate (for 127.0.0.1): what `PGSSLROOTCERT` names."""
    data_dir: Path

    @property
    def environment(self) -> dict[str, str]:
        """libpq's standard variables: how the gates find their credentials and the roots they trust."""
        return {
            "PGUSER": self.user,
            "PGPASSWORD": self.password,
            "PGHOST": self.host,
            "PGPORT": str(self.port),
            "PGSSLROOTCERT": str(self.root_cert),
        }

    def connect(self) -> object:
        import psycopg

        return psycopg.connect(
            host=self.host, port=self.port, user=self.user, password=self.password, dbname=self.database,
            sslmode="verify-full", sslrootcert=str(self.root_cert), autocommit=True,
        )  # fmt: skip


def certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate it signed for 127.0.0.1 (openssl): (ca.crt, server.crt, server.key)."""
    ca_key, ca, key, request, cert = (
        folder / n for n in ("ca.key", "ca.crt", "server.key", "server.csr", "server.crt")
    )
    extensions = folder / "server.ext"
    extensions.write_text("subjectAltName = IP:127.0.0.1\nbasicConstraints = CA:FALSE\n", "utf-8")
    steps = [
        ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key, "-out", ca, "-days", "2",
         "-subj", "/CN=charter test CA"],
        ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", request, "-subj", "/CN=127.0.0.1"],
        ["x509", "-req", "-in", request, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-out", cert, "-days", "2",
         "-extfile", extensions],
    ]  # fmt: skip
    for step in steps:
        done = subprocess.run(["openssl", *map(str, step)], capture_output=True, text=True, check=False, timeout=60)
        if done.returncode:
            raise ServerDidNotStart(f"openssl {step[0]} failed: {done.stderr.strip()[-400:]}")
    return ca, cert, key


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
    password = "charter-" + secrets.token_hex(8)
    password_file = root / "password"
    password_file.write_text(password, "utf-8")
    ca, cert, key = certificates(root)
    key.chmod(0o600)
    if as_root:
        for path in (password_file, cert, key):
            shutil.chown(path, _UNPRIVILEGED)

    def run(*argv: str) -> None:
        done = subprocess.run([*prefix, *argv], capture_output=True, text=True, check=False, timeout=120)
        if done.returncode:
            raise ServerDidNotStart(f"{Path(argv[0]).name} failed ({done.returncode}): {done.stderr.strip()[-600:]}")

    started = False
    try:
        # As a production server is set up: SCRAM passwords, TLS with a certificate for the address.
        run(str(binaries / "initdb"), "-D", str(data), "-U", user, "--auth=scram-sha-256", f"--pwfile={password_file}",
            "--locale=C", "-E", "UTF8")  # fmt: skip
        options = (
            f"-c listen_addresses={HOST} -p {port} -k {sockets} -c fsync=off -c full_page_writes=off "
            f"-c ssl=on -c ssl_cert_file={cert} -c ssl_key_file={key}"
        )
        run(str(binaries / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start")
        started = True
        _wait_for_port(port, None, "postgres", log, 30)
        admin = subprocess.run(
            [str(binaries / "psql"), "-h", HOST, "-p", str(port), "-U", user, "-d", "postgres", "-c",
             f'CREATE DATABASE "{database}"'],
            capture_output=True, text=True, check=False, timeout=60,
            env={**os.environ, "PGPASSWORD": password, "PGSSLMODE": "verify-full", "PGSSLROOTCERT": str(ca)},
        )  # fmt: skip
        if admin.returncode:
            raise ServerDidNotStart(f"CREATE DATABASE failed: {admin.stderr.strip()}")
        yield Postgres(HOST, port, user, database, password, ca, data)
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


# --- the Project's trust in them ----------------------------------------------------


def trust(root: Path, *, s3: S3 | None = None, pg: Postgres | None = None) -> None:
    """List the servers started here in the project's charter.yaml `spec.endpoints`, as an organisation would:
    PostgreSQL with the defaults (verify-full, SCRAM), moto's plain-HTTP endpoint with the exception it needs."""
    from ruamel.yaml import YAML

    yaml = YAML()
    path = root / "charter.yaml"
    project = yaml.load(path.read_text("utf-8"))
    endpoints = project["spec"].setdefault("endpoints", {})
    if s3 is not None:
        reason = "moto, the local S3 stand-in of the tests, speaks plain HTTP only"
        endpoints["s3"] = [*endpoints.get("s3", []), {"url": s3.endpoint_url, "tls": "disabled", "reason": reason}]
    if pg is not None:
        endpoints["postgres"] = [*endpoints.get("postgres", []), {"host": pg.host, "port": pg.port}]
    with path.open("w", encoding="utf-8") as out:
        yaml.dump(project, out)
