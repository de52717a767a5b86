"""The checkout cannot send a gate, or the job's credentials, anywhere the Project does not trust (issue 30).

Each case is the pull request of the red team's report, scripted on `examples/credit-scoring`, against
listeners on 127.0.0.1 that record every byte they receive (a plain socket server, no HTTP or PostgreSQL
library): before, SigV4 headers with the access key and `x-amz-security-token`, or the PostgreSQL password,
arrived; now nothing does. A positive control in each group, with the Project listing the listener, shows
the listener does catch what is sent, so the negative assertions can fail.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from live_servers import Postgres, postgres, trust
from ruamel.yaml import YAML
from test_gates_servers import load_table
from test_gates_support import CREDIT, gate

from compiler.gates.errors import UnusableInput
from compiler.gates.io.inputs import open_input
from compiler.gates.io.servers import Table
from compiler.gates.project import Reach, load_project

NOW = "2024-07-01T06:00:00Z"
ACCESS_KEY = "AKIACHARTERLISTENER1"
SESSION_TOKEN = "session-token-that-must-stay-home"
PASSWORD = "pg-password-that-must-stay-home"
CONTRACT = Path("contracts") / "credit-applications.odcs.yaml"
SSL_REQUEST = struct.pack("!ii", 8, 80877103)


class Listener:
    """A TCP server on 127.0.0.1 that records every byte it receives and answers through `respond`."""

    def __init__(self, respond: Callable[[socket.socket, Listener], None]):
        self.received = bytearray()
        self.connections = 0
        self.respond = respond
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.1)
        self.stopped = threading.Event()
        self.port = int(self.server.getsockname()[1])
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            with conn:
                conn.settimeout(5)
                with contextlib.suppress(OSError):
                    self.respond(conn, self)

    def read(self, conn: socket.socket, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = conn.recv(size - len(data))
            if not chunk:
                break
            data += chunk
            self.received += chunk
        return data

    def close(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)
        self.server.close()


def http_denied(conn: socket.socket, listener: Listener) -> None:
    """Read one HTTP request's head, answer 403 (an S3 AccessDenied), close."""
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = listener.read(conn, 1)
        if not chunk:
            return
        head += chunk
    body = b"<Error><Code>AccessDenied</Code><Message>denied</Message></Error>"
    conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Type: application/xml\r\nConnection: close\r\n")
    conn.sendall(b"Content-Length: %d\r\n\r\n" % len(body) + body)


def postgres_asking_cleartext(conn: socket.socket, listener: Listener) -> None:
    """A PostgreSQL server without TLS that asks for the password in clear, then reads what comes."""
    length = struct.unpack("!i", listener.read(conn, 4))[0]
    body = listener.read(conn, length - 4)
    if body == SSL_REQUEST[4:]:
        conn.sendall(b"N")  # no TLS here
        head = listener.read(conn, 4)
        if len(head) < 4:
            return
        listener.read(conn, struct.unpack("!i", head)[0] - 4)
    conn.sendall(b"R" + struct.pack("!ii", 8, 3))  # AuthenticationCleartextPassword
    head = listener.read(conn, 5)  # a PasswordMessage, if the client sends one
    if len(head) == 5:
        listener.read(conn, struct.unpack("!i", head[1:])[0] - 4)
    fields = b"SFATAL\0C28P01\0Mdenied\0\0"
    conn.sendall(b"E" + struct.pack("!i", 4 + len(fields)) + fields)


@pytest.fixture
def listener(request: pytest.FixtureRequest) -> Iterator[Listener]:
    server = Listener(request.param)
    yield server
    server.close()


@pytest.fixture
def credit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the credit-scoring example, with the job's credentials in the environment."""
    root = tmp_path / "credit-scoring"
    shutil.copytree(CREDIT, root, ignore=shutil.ignore_patterns(".github", "deploy", "docs", ".charter"))
    environment = {
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": "secret-access-key-that-must-stay-home",
        "AWS_SESSION_TOKEN": SESSION_TOKEN,
        "AWS_REGION": "eu-west-1",
        "PGUSER": "charter",
        "PGPASSWORD": PASSWORD,
    }
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "step-summary.md"))
    return root


def edit_yaml(path: Path, change: Callable[[Any], None]) -> None:
    yaml = YAML()
    data = yaml.load(path.read_text("utf-8"))
    change(data)
    with path.open("w", encoding="utf-8") as out:
        yaml.dump(data, out)


def set_server(root: Path, name: str, **fields: Any) -> None:
    def change(contract: Any) -> None:
        server = next(s for s in contract["servers"] if s["server"] == name)
        server.update(fields)

    edit_yaml(root / CONTRACT, change)


def add_server(root: Path, server: dict[str, Any]) -> None:
    edit_yaml(root / CONTRACT, lambda contract: contract["servers"].append(server))


def set_endpoints(root: Path, endpoints: dict[str, Any]) -> None:
    """Set these server types' lists in the Project's `spec.endpoints`, keeping the others."""
    edit_yaml(root / "charter.yaml", lambda project: project["spec"].setdefault("endpoints", {}).update(endpoints))


def data_gate(root: Path, tmp_path: Path, *source: str) -> tuple[int, str]:
    """The data gate's exit code, and everything it wrote: report, summary, step summary (stdout is captured)."""
    report, summary = tmp_path / "report.json", tmp_path / "summary.md"
    argv = ["data", str(root), "--contract", "credit-applications", *source, "--now", NOW]
    code = gate([*argv, "--report", str(report), "--summary", str(summary)])
    written = [report, summary, tmp_path / "step-summary.md"]
    return code, "\n".join(path.read_text("utf-8") for path in written if path.exists())


def place_of(path: Path, key: str) -> str:
    """`line:column` of the value of the first `key:` in the file, as a finding names it."""
    for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if line.strip().startswith(f"{key}:"):
            return f"{number}:{line.index(key) + len(key) + 3}"
    raise AssertionError(f"no {key} in {path}")


# --- S3: the endpointUrl a contract chooses ---------------------------------------------------------------


@pytest.mark.parametrize("listener", [http_denied], indirect=True)
def test_an_untrusted_s3_endpoint_gets_no_request_and_no_credentials(
    credit: Path, listener: Listener, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    endpoint = f"http://127.0.0.1:{listener.port}"
    set_server(credit, "lake", endpointUrl=endpoint)
    code, written = data_gate(credit, tmp_path, "--server", "lake")
    out = capsys.readouterr()
    assert code == 2
    assert listener.connections == 0
    assert bytes(listener.received) == b""
    place = place_of(credit / CONTRACT, "endpointUrl")
    assert f"credit-applications.odcs.yaml:{place}: error[CH430] server `lake`: endpointUrl `{endpoint}`" in out.err
    assert "spec.endpoints.s3" in out.err
    for text in (out.out, out.err, written):
        assert ACCESS_KEY not in text
        assert SESSION_TOKEN not in text


@pytest.mark.parametrize("listener", [http_denied], indirect=True)
def test_the_gate_itself_refuses_an_untrusted_endpoint_before_connecting(credit: Path, listener: Listener) -> None:
    """Defence in depth: even with a project that checked clean elsewhere, open_input judges the server (CH750)."""
    set_server(credit, "lake", endpointUrl=f"http://127.0.0.1:{listener.port}")
    contract = YAML(typ="safe").load((credit / CONTRACT).read_text("utf-8"))
    untrusting = Reach(None, credit)
    with pytest.raises(UnusableInput) as refused:
        open_input(None, (contract, "credit-applications", "lake", "applications"), "data", reach=untrusting)
    assert refused.value.code == "CH750"
    assert refused.value.message.startswith("server `lake` (s3): endpointUrl `http://127.0.0.1:")
    assert listener.connections == 0


@pytest.mark.parametrize("listener", [http_denied], indirect=True)
def test_a_listed_endpoint_is_contacted_with_the_jobs_credentials(
    credit: Path, listener: Listener, tmp_path: Path
) -> None:
    """The positive control: what the listener records when the Project does trust it (the red team's 'before')."""
    endpoint = f"http://127.0.0.1:{listener.port}"
    set_server(credit, "lake", endpointUrl=endpoint)
    set_endpoints(credit, {"s3": [{"url": endpoint, "tls": "disabled", "reason": "a local listener in the tests"}]})
    code, written = data_gate(credit, tmp_path, "--server", "lake")
    assert code == 2  # AccessDenied
    received = bytes(listener.received)
    assert f"Credential={ACCESS_KEY}/".encode() in received
    header = next(line for line in received.split(b"\r\n") if line.lower().startswith(b"x-amz-security-token:"))
    assert header.split(b":", 1)[1].strip() == SESSION_TOKEN.encode()
    assert SESSION_TOKEN not in written


@pytest.mark.parametrize("listener", [http_denied], indirect=True)
def test_a_location_that_leaves_its_prefix_is_refused_before_any_request(
    credit: Path, listener: Listener, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    endpoint = f"http://127.0.0.1:{listener.port}"
    set_endpoints(credit, {"s3": [{"url": endpoint, "tls": "disabled", "reason": "a local listener in the tests"}]})
    location = "s3://acme-lending-lake/credit-applications/v2/../../hr/"
    set_server(credit, "lake", endpointUrl=endpoint, location=location)
    code, _ = data_gate(credit, tmp_path, "--server", "lake")
    err = capsys.readouterr().err
    assert code == 2
    assert listener.connections == 0
    place = place_of(credit / CONTRACT, "location")
    assert f"credit-applications.odcs.yaml:{place}: error[CH433] server `lake`: location `{location}`" in err
    # The gate's own fence, for a project that checked clean some other way.
    contract = YAML(typ="safe").load((credit / CONTRACT).read_text("utf-8"))
    with pytest.raises(UnusableInput) as refused:
        open_input(None, (contract, "credit-applications", "lake", "t"), "data", reach=load_project_reach(credit))
    assert refused.value.code == "CH752"
    assert refused.value.message == (
        f"server location {location!r} is refused: a segment is empty, `.` or `..`, so it could leave its bucket or "
        "prefix"
    )
    assert listener.connections == 0


def load_project_reach(root: Path) -> Reach:
    """What the gate would trust for this project, without refusing its check's findings."""
    from compiler.stages import check_path

    return Reach(check_path(root).project, root)


@pytest.mark.parametrize(
    "location",
    [
        "s3://lake/applications/../payroll/",
        "s3://lake/applications/%2e%2e/payroll/",
        "s3://lake/applications/%2E%2e%2fpayroll",
        "s3://lake//payroll/",
        "s3://lake/applications/./x.parquet",
        "s3://lake/applications\\..\\payroll/",
        "s3://user@lake/applications/",
        "gs://lake/applications/../../other-bucket/",
        "abfss://log@acme.dfs.core.windows.net/r/../../x/",
        "az://log/r/%2e%2e/x",
    ],
)
def test_object_store_locations_stay_in_their_bucket_and_prefix(location: str) -> None:
    from compiler.gates.io.objectstore import parse_location

    kind = "azure" if location.startswith(("abfss", "az")) else "s3"
    with pytest.raises(UnusableInput) as refused:
        parse_location(kind, location)
    assert refused.value.code == "CH752"
    assert "could leave its bucket or prefix" in refused.value.message


@pytest.mark.parametrize("region", ["x@evil.example/", "eu-west-1.evil.example", "EU-WEST-1"])
def test_an_s3_region_that_could_name_another_host_is_refused(region: str) -> None:
    from compiler.core.endpoints import Refusal, judge
    from compiler.core.odcs import Server

    refused = judge(Server(0, {"type": "s3", "location": "s3://lake/a/", "region": region}), None)
    assert isinstance(refused, Refusal)
    assert (refused.field, refused.message) == ("region", f"region `{region}` is not an AWS region name")


def test_an_azure_account_is_trusted_only_when_listed() -> None:
    from compiler.core.endpoints import Allowed, Refusal, judge
    from compiler.core.models.project import Project
    from compiler.core.odcs import Server

    def project(accounts: list[str]) -> Project:
        spec = {"endpoints": {"azure": [{"account": a} for a in accounts]}}
        return Project.model_validate(
            {"apiVersion": "charter/v1alpha1", "kind": "Project", "metadata": {"name": "p"}, "spec": spec}
        )

    server = Server(0, {"type": "azure", "location": "abfss://log@someoneelse.dfs.core.windows.net/r/"})
    refused = judge(server, project(["acmelake"]))
    assert isinstance(refused, Refusal)
    assert refused.field == "location"
    assert refused.message.startswith("storage account `someoneelse` is not trusted")
    assert isinstance(judge(server, project(["someoneelse"])), Allowed)
    elsewhere = Server(0, {"type": "azure", "location": "abfss://log@someoneelse.evil.example/r/"})
    assert isinstance(judge(elsewhere, project(["someoneelse"])), Refusal)


@pytest.mark.parametrize(
    ("host", "what"),
    [
        ("169.254.169.254", "a cloud metadata address"),
        ("[fd00:ec2::254]", "a cloud metadata address"),
        ("Metadata.Google.Internal.", "a cloud metadata address"),
        ("0xa9.0xfe.0xa9.0xfe", "a cloud metadata address"),
        ("[::ffff:169.254.169.254]", "a cloud metadata address"),
        ("169.254.10.1", "a link-local address"),
        ("[fe80::1]", "a link-local address"),
        ("127.1", "a loopback address"),
        ("localhost", "a loopback address"),
        ("[::1]", "a loopback address"),
    ],
)
def test_metadata_link_local_and_loopback_are_refused_unless_listed(host: str, what: str) -> None:
    from compiler.core.endpoints import Allowed, Refusal, judge
    from compiler.core.models.project import Project
    from compiler.core.odcs import Server

    server = Server(0, {"type": "s3", "endpointUrl": f"https://{host}:9000"})
    refused = judge(server, None)
    assert isinstance(refused, Refusal)
    assert f"({what}" in refused.message
    listed = {"endpoints": {"s3": [{"url": f"https://{host}:9000"}]}}
    project = Project.model_validate(
        {"apiVersion": "charter/v1alpha1", "kind": "Project", "metadata": {"name": "p"}, "spec": listed}
    )
    assert isinstance(judge(server, project), Allowed)


# --- PostgreSQL: the host a contract chooses ---------------------------------------------------------------


@pytest.mark.parametrize("listener", [postgres_asking_cleartext], indirect=True)
def test_an_untrusted_database_gets_no_connection_and_no_password(
    credit: Path, listener: Listener, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    set_server(credit, "warehouse", host="127.0.0.1", port=listener.port)
    code, written = data_gate(credit, tmp_path, "--server", "warehouse")
    out = capsys.readouterr()
    assert code == 2
    assert listener.connections == 0
    place = place_of(credit / CONTRACT, "host")
    assert f"credit-applications.odcs.yaml:{place}: error[CH430] server `warehouse`: postgres host" in out.err
    assert "(a loopback address)" in out.err
    assert PASSWORD not in out.out + out.err + written


@pytest.mark.parametrize("listener", [postgres_asking_cleartext], indirect=True)
def test_a_listed_database_gets_tls_first_and_nothing_without_it(
    credit: Path, listener: Listener, tmp_path: Path
) -> None:
    """Default settings: sslmode=verify-full. A server that cannot speak TLS hears the SSLRequest and nothing else."""
    set_server(credit, "warehouse", host="127.0.0.1", port=listener.port)
    set_endpoints(credit, {"postgres": [{"host": "127.0.0.1", "port": listener.port}]})
    code, _ = data_gate(credit, tmp_path, "--server", "warehouse")
    assert code == 2
    assert bytes(listener.received) == SSL_REQUEST
    report = json.loads((tmp_path / "report.json").read_text("utf-8"))
    assert "server does not support SSL, but SSL was required" in report["error"]


@pytest.mark.parametrize("listener", [postgres_asking_cleartext], indirect=True)
@pytest.mark.parametrize(("auth", "sent"), [(None, False), ("password", True)])
def test_require_auth_keeps_the_password_from_a_server_asking_for_it_in_clear(
    credit: Path, listener: Listener, tmp_path: Path, auth: str | None, sent: bool
) -> None:
    """TLS off for this host (the Project's exception): SCRAM is still required unless the entry says otherwise."""
    set_server(credit, "warehouse", host="127.0.0.1", port=listener.port)
    entry: dict[str, Any] = {"host": "127.0.0.1", "port": listener.port, "tls": "disabled", "reason": "a listener"}
    if auth is not None:
        entry["auth"] = auth
    set_endpoints(credit, {"postgres": [entry]})
    code, written = data_gate(credit, tmp_path, "--server", "warehouse")
    assert code == 2
    assert (PASSWORD.encode() in bytes(listener.received)) is sent
    assert b"user\0charter\0" in bytes(listener.received)  # the startup message did arrive
    if not sent:
        assert "server requested a cleartext password" in written
    assert PASSWORD not in written


def test_a_trusted_entry_with_weaker_settings_needs_a_reason(tmp_path: Path) -> None:
    from pydantic import ValidationError

    from compiler.core.models.endpoints import TrustedHost, TrustedUrl

    with pytest.raises(ValidationError, match="needs a `reason`"):
        TrustedHost.model_validate({"host": "db.acme.internal", "tls": "disabled"})
    with pytest.raises(ValidationError, match="an `http://` endpoint needs `tls: disabled`"):
        TrustedUrl.model_validate({"url": "http://minio.acme.internal:9000"})
    with pytest.raises(ValidationError):
        TrustedHost.model_validate({"host": "a.example,b.example"})


# --- local paths: one rule for links -------------------------------------------------------------------------

SECRET_LINE = '"auth": "Y2hhcnRlcjpsZWFrZWQtcmVnaXN0cnktdG9rZW4="'


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A fake credentials file outside the repository, shaped like data so a reader would quote it."""
    folder = tmp_path / "home-of-the-runner"
    folder.mkdir()
    (folder / "config.json").write_text(f"application_id,national_id\n1,{SECRET_LINE}\n", "utf-8")
    return folder


@pytest.mark.parametrize("link", ["file", "folder"])
def test_a_local_server_path_through_a_committed_link_is_refused_and_nothing_is_quoted(
    credit: Path, outside: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], link: str
) -> None:
    if link == "file":
        (credit / "extracts").mkdir()
        (credit / "extracts" / "applications.csv").symlink_to(outside / "config.json")
    else:
        (credit / "extracts").symlink_to(outside)
        (outside / "applications.csv").symlink_to(outside / "config.json")
    add_server(credit, {"server": "files", "type": "local", "path": "extracts/applications.csv", "format": "csv"})
    code, written = data_gate(credit, tmp_path, "--server", "files")
    out = capsys.readouterr()
    assert code == 2
    report = json.loads((tmp_path / "report.json").read_text("utf-8"))
    assert report["error"].startswith("CH752 local server path 'extracts/applications.csv': ")
    assert "is a symbolic link; Charter does not follow links" in report["error"]
    assert (tmp_path / "step-summary.md").exists()
    for text in (out.out, out.err, written):
        assert "Y2hhcnRlcj" not in text
        assert "auth" not in text


def test_the_same_file_inside_the_project_is_read(credit: Path, outside: Path, tmp_path: Path) -> None:
    """The control: the refusal above is the link's, not the file's."""
    (credit / "extracts").mkdir()
    shutil.copy(outside / "config.json", credit / "extracts" / "applications.csv")
    add_server(credit, {"server": "files", "type": "local", "path": "extracts/applications.csv", "format": "csv"})
    code, _ = data_gate(credit, tmp_path, "--server", "files")
    report = json.loads((tmp_path / "report.json").read_text("utf-8"))
    assert code == 1
    assert "error" not in report
    assert "server `files` (local) extracts/applications.csv · 1 rows" in report["headline"]


def test_a_local_server_path_outside_the_project_is_refused(
    credit: Path, outside: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(outside / "config.json")
    add_server(credit, {"server": "files", "type": "local", "path": path, "format": "csv"})
    code, written = data_gate(credit, tmp_path, "--server", "files")
    err = capsys.readouterr().err
    assert code == 2
    assert f"error[CH433] server `files`: path `{path}` leaves the project" in err
    contract = YAML(typ="safe").load((credit / CONTRACT).read_text("utf-8"))
    with pytest.raises(UnusableInput) as refused:
        open_input(None, (contract, "credit-applications", "files", "t"), "data", reach=load_project_reach(credit))
    assert (refused.value.code, refused.value.message) == ("CH752", f"local server path {path!r} leaves the project")
    assert "Y2hhcnRlcj" not in written + err


# --- engine errors never quote data (issue 21, case 12) -------------------------------------------------------

# Aggregated restricted columns cast to an integer: the engine's error would carry every value.
LEAKING_RULE = {
    "name": "national-ids-as-a-number",
    "type": "sql",
    "query": "SELECT CAST(string_agg(national_id || ' ' || email, ',') AS INTEGER) FROM ${object}",
    "mustBe": 0,
    "description": "A rule that makes the engine quote restricted values in its error.",
}
RETURNING_TEXT = {
    "name": "emails-as-text",
    "type": "sql",
    "query": "SELECT string_agg(email, ',') FROM ${object}",
    "mustBe": 0,
}


def add_rules(root: Path, *rules: dict[str, Any]) -> None:
    edit_yaml(root / CONTRACT, lambda contract: contract["schema"][0].setdefault("quality", []).extend(rules))


def assert_no_values(*texts: str) -> None:
    for text in texts:
        assert "NID0" not in text
        assert "@example.com" not in text
        assert "applicant0" not in text


def test_duckdb_errors_of_a_sql_rule_name_their_kind_never_the_values(
    credit: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from compiler.gates.data import synthetic

    data = synthetic.write(synthetic.credit_applications(200, newest=None), tmp_path / "applications.parquet")
    # What DuckDB's own message says, for the record.
    with duckdb.connect() as con, pytest.raises(duckdb.ConversionException, match="NID0"):
        con.execute(LEAKING_RULE["query"].replace("${object}", f"'{data}'"))
    add_rules(credit, LEAKING_RULE, RETURNING_TEXT)
    code, written = data_gate(credit, tmp_path, "--data", str(data))
    out = capsys.readouterr()
    assert code == 1
    report = json.loads((tmp_path / "report.json").read_text("utf-8"))
    engine = [c for c in report["checks"] if c["code"] == "CH751"]
    assert [c["message"] for c in engine] == [
        "sql rule `national-ids-as-a-number` cannot be evaluated: "
        "ConversionException; its message is withheld, since it may quote the data"
    ]
    text_result = [c for c in report["checks"] if c["code"] == "CH706" and "must return one number" in c["message"]]
    assert [c["message"] for c in text_result] == [
        "sql rule `emails-as-text` cannot be evaluated: the query must return one number, and it returned text"
    ]
    assert_no_values(out.out, out.err, written)


def test_project_of_the_tests_checks_clean(credit: Path) -> None:
    assert load_project(str(credit)).project is not None


def record_evidence(root: Path, report: Path) -> str:
    """`charter evidence record` on a report; every record it wrote, as text."""
    done = subprocess.run(
        [sys.executable, "-m", "compiler", "evidence", "record", "--project", str(root), str(report)],
        capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    records = sorted((root / "evidence").rglob("*.json"))
    assert records, "no evidence record written"
    return done.stdout + done.stderr + "\n".join(path.read_text("utf-8") for path in records)


# --- the same on the real PostgreSQL of live_servers ---------------------------------------------------------


@pytest.fixture(scope="module")
def pg() -> Iterator[Postgres]:
    from compiler.gates.data import synthetic

    with postgres() as server:
        con: Any = server.connect()
        con.execute("CREATE SCHEMA lending")
        con.close()
        with duckdb.connect() as duck:
            rows = duck.sql(synthetic.credit_applications(500)).to_arrow_table()
        load_table(server, "lending.credit_applications_v2", rows)
        yield server


@pytest.fixture
def on_pg(credit: Path, pg: Postgres, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The credit project with its warehouse on the live PostgreSQL, which the Project trusts with its defaults."""
    set_server(credit, "warehouse", host=pg.host, port=pg.port)
    trust(credit, pg=pg)
    for key, value in pg.environment.items():
        monkeypatch.setenv(key, value)
    return credit


def test_postgres_errors_of_a_sql_rule_name_their_sqlstate_never_the_values(
    on_pg: Path, pg: Postgres, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import psycopg

    con: Any = pg.connect()
    with pytest.raises(psycopg.errors.InvalidTextRepresentation, match="NID0"):  # PostgreSQL's own message
        con.execute(LEAKING_RULE["query"].replace("${object}", "lending.credit_applications_v2"))
    con.close()
    add_rules(on_pg, LEAKING_RULE, RETURNING_TEXT)
    code, written = data_gate(on_pg, tmp_path, "--server", "warehouse", "--model", "credit-default")
    out = capsys.readouterr()
    assert code == 1
    report = json.loads((tmp_path / "report.json").read_text("utf-8"))
    assert [c["message"] for c in report["checks"] if c["code"] == "CH751"] == [
        "sql rule `national-ids-as-a-number` cannot be evaluated: "
        "SQLSTATE 22P02 invalid_text_representation; its message is withheld, since it may quote the data"
    ]
    returned_text = "the query must return one number, and it returned text"
    assert f"sql rule `emails-as-text` cannot be evaluated: {returned_text}" in written
    evidence = record_evidence(on_pg, tmp_path / "report.json")
    assert "CH751" in evidence
    assert_no_values(out.out, out.err, written, evidence)


def test_the_gate_connects_with_verify_full_and_scram_only(on_pg: Path, pg: Postgres) -> None:
    """What libpq was asked for, read back from the live connection (psycopg's conninfo)."""
    contract = YAML(typ="safe").load((on_pg / CONTRACT).read_text("utf-8"))
    source = open_input(
        None, (contract, "credit-applications", "warehouse", "lending.credit_applications_v2"), "data",
        reach=load_project(str(on_pg)).reach,
    )  # fmt: skip
    assert source.backend is not None
    assert isinstance(source.backend, Table)
    session = source.backend.session
    try:
        assert session.execute("SELECT count(*) FROM lending.credit_applications_v2").fetchone() == (500,)
        parameters = session.connection.info.get_parameters()
        assert (parameters["sslmode"], parameters["require_auth"]) == ("verify-full", "scram-sha-256")
        assert parameters["sslrootcert"] == str(pg.root_cert)
        assert session.connection.pgconn.ssl_in_use
    finally:
        session.close()


def test_a_certificate_from_another_authority_is_refused(
    on_pg: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from live_servers import certificates

    other = tmp_path / "other-ca"
    other.mkdir()
    monkeypatch.setenv("PGSSLROOTCERT", str(certificates(other)[0]))
    code, written = data_gate(on_pg, tmp_path, "--server", "warehouse")
    assert code == 2
    assert "certificate verify failed" in written
    assert PASSWORD not in written


def test_a_real_server_asking_for_a_cleartext_password_is_left_before_it_gets_one(
    on_pg: Path, pg: Postgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pg_hba.conf asks the role `cleartext` for its password in clear (over TLS): require_auth refuses."""
    con: Any = pg.connect()
    con.execute("CREATE ROLE cleartext LOGIN PASSWORD 'cleartext-password'")
    con.execute("GRANT USAGE ON SCHEMA lending TO cleartext")
    con.execute("GRANT SELECT ON ALL TABLES IN SCHEMA lending TO cleartext")
    hba = pg.data_dir / "pg_hba.conf"
    hba.write_text(f"host all cleartext {pg.host}/32 password\n" + hba.read_text("utf-8"), "utf-8")
    con.execute("SELECT pg_reload_conf()")
    con.close()
    monkeypatch.setenv("PGUSER", "cleartext")
    monkeypatch.setenv("PGPASSWORD", "cleartext-password")
    code, written = data_gate(on_pg, tmp_path, "--server", "warehouse")
    assert code == 2
    assert "server requested a cleartext password" in written
    # The control: the Project's exception for this host lets the same server in.
    edit_yaml(on_pg / "charter.yaml", lambda p: p["spec"]["endpoints"]["postgres"][-1].update(
        {"auth": "password", "reason": "a legacy server that only takes cleartext passwords, over TLS"}
    ))  # fmt: skip
    code, written = data_gate(on_pg, tmp_path, "--server", "warehouse")
    assert code == 1, written
