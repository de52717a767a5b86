"""`make bench` (push-down): the data gate on a PostgreSQL table, checks pushed down vs rows pulled into DuckDB.

    .venv/bin/python bench/pushdown.py                 # 10,000,000 rows
    .venv/bin/python bench/pushdown.py --rows 1000000  # quicker

It starts its own PostgreSQL (tests/live_servers.py: initdb into a temporary
directory, pg_ctl on a free port of 127.0.0.1), fills the example contract's
table `lending.credit_applications_v2` inside the database (generate_series,
so loading moves nothing through the client), and puts a byte-counting TCP
relay between the gate and the server: "bytes moved" is what crossed the
wire in each direction. Then, with the example contract `credit-applications`
pointed at it:

1. push-down: `charter gate data --server warehouse`: every check compiled
   into one aggregate query in PostgreSQL's dialect; the rows stay there.
2. pull: the same gate with the table streamed into DuckDB first (server-side
   cursor, batches of 65,536 rows; what the eval and drift gates do), then
   checked in DuckDB.

Both must give the same findings; it prints figures and asserts nothing about time.
"""

from __future__ import annotations

import argparse
import datetime
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from live_servers import HOST, free_port, postgres  # noqa: E402

CREDIT = ROOT / "examples" / "credit-scoring"

_FILL = """
INSERT INTO lending.credit_applications_v2
SELECT
  md5('a' || i)::uuid::text,
  'Applicant ' || i,
  'applicant' || i || '@example.com',
  'NID' || lpad(i::text, 12, '0'),
  (ARRAY['female','male','non_binary','undisclosed'])[1 + i % 4],
  (ARRAY['18-24','25-34','35-44','45-54','55-64','65+'])[1 + i % 6],
  CASE WHEN i % 50 = 0 THEN NULL ELSE (ARRAY['single','married','divorced','widowed'])[1 + i % 4] END,
  20000 + (i % 9973) * 13.7,
  500 + (i % 7451) * 9.3,
  (ARRAY[12,24,36,48,60,72,84])[1 + i % 7],
  ((i % 997) / 400.0),
  CASE WHEN i % 40 = 0 THEN NULL ELSE i % 480 END,
  i % 7,
  (ARRAY['employed','self_employed','retired','student','unemployed'])[1 + i % 5],
  DATE '2024-06-30' - (i % 1460),
  i % 11 = 0
FROM generate_series(1, {rows}) AS i
"""
_COLUMNS = (
    "application_id text, applicant_name text, email text, national_id text, gender text, age_band text, "
    "marital_status text, annual_income double precision, loan_amount double precision, "
    "loan_term_months integer, debt_to_income double precision, credit_history_months integer, "
    "delinquencies_24m integer, employment_status text, application_date date, defaulted boolean"
)


class Relay:
    """A TCP relay that counts the bytes it carries each way."""

    def __init__(self, target_port: int):
        self.target = (HOST, target_port)
        self.port = free_port()
        self.to_server = 0
        self.to_client = 0
        self.lock = threading.Lock()
        self.listener = socket.create_server((HOST, self.port))
        threading.Thread(target=self.accept, daemon=True).start()

    def reset(self) -> None:
        with self.lock:
            self.to_server = self.to_client = 0

    def accept(self) -> None:
        while True:
            client, _ = self.listener.accept()
            server = socket.create_connection(self.target)
            threading.Thread(target=self.pipe, args=(client, server, "to_server"), daemon=True).start()
            threading.Thread(target=self.pipe, args=(server, client, "to_client"), daemon=True).start()

    def pipe(self, source: socket.socket, sink: socket.socket, counter: str) -> None:
        try:
            while chunk := source.recv(1 << 16):
                sink.sendall(chunk)
                with self.lock:
                    setattr(self, counter, getattr(self, counter) + len(chunk))
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)


@contextmanager
def project(port: int) -> Iterator[Path]:
    from ruamel.yaml import YAML

    with tempfile.TemporaryDirectory(prefix="charter-bench-") as folder:
        root = Path(folder) / "credit-scoring"
        shutil.copytree(CREDIT, root, ignore=shutil.ignore_patterns(".github", "deploy", "docs", ".charter"))
        path = root / "contracts" / "credit-applications.odcs.yaml"
        yaml = YAML()
        contract = yaml.load(path.read_text("utf-8"))
        for server in contract["servers"]:
            if server["server"] == "warehouse":
                server["host"], server["port"] = HOST, port
        with path.open("w", encoding="utf-8") as out:
            yaml.dump(contract, out)
        # The relay's port is where the gate connects: the Project must trust it (spec.endpoints).
        charter = yaml.load((root / "charter.yaml").read_text("utf-8"))
        charter["spec"]["endpoints"] = {"postgres": [{"host": HOST, "port": port}]}
        with (root / "charter.yaml").open("w", encoding="utf-8") as out:
            yaml.dump(charter, out)
        yield root


def run_gate(root: Path, *, pull: bool) -> tuple[float, Any]:
    from compiler.gates.data import gate as data
    from compiler.gates.project import load_project

    specs = load_project(str(root))
    now = datetime.datetime(2024, 7, 1, 6, tzinfo=datetime.UTC)  # the newest application is of 2024-06-30
    options = data.DataOptions(contract="credit-applications", server="warehouse", now=now, memory_limit="1GB")
    original = data.open_input
    if pull:
        # What the eval and drift gates do: stream the rows into DuckDB, then check them there.
        data.open_input = lambda paths, server, what, reach: original(paths, server, "rows pulled", reach=reach)  # type: ignore[assignment]
    try:
        start = time.perf_counter()
        report = data.run(specs, options)
        return time.perf_counter() - start, report
    finally:
        data.open_input = original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    args = parser.parse_args()
    with postgres() as pg:
        con: Any = pg.connect()
        start = time.perf_counter()
        con.execute("CREATE SCHEMA lending")
        con.execute(f"CREATE TABLE lending.credit_applications_v2 ({_COLUMNS})")
        con.execute(_FILL.format(rows=int(args.rows)))  # type: ignore[arg-type]
        con.execute("ANALYZE lending.credit_applications_v2")
        size = con.execute("SELECT pg_total_relation_size('lending.credit_applications_v2')").fetchone()[0]
        con.close()
        print(f"table: {args.rows:,} rows, {size / 1e6:,.0f} MB on disk, filled in {time.perf_counter() - start:.1f} s")
        relay = Relay(pg.port)
        import os

        os.environ.update({key: value for key, value in pg.environment.items() if key not in ("PGHOST", "PGPORT")})
        with project(relay.port) as root:
            results = {}
            for name, pull in (("push-down", False), ("pull into DuckDB", True)):
                relay.reset()
                seconds, report = run_gate(root, pull=pull)
                results[name] = report
                print(
                    f"{name:>17}: {seconds:7.1f} s wall, {relay.to_client / 1e6:10.3f} MB from the server, "
                    f"{relay.to_server / 1e3:8.1f} kB to it, verdict {report.verdict}"
                )
            same = results["push-down"].checks == results["pull into DuckDB"].checks
            print(f"same findings: {same}")
            for pushed, pulled in zip(results["push-down"].checks, results["pull into DuckDB"].checks, strict=False):
                if pushed != pulled:
                    print(f"  differs: {pushed} != {pulled}")
            for check in results["push-down"].checks:
                if check.measured is not None and check.measured.status == "fail":
                    print(f"  failed: {check.measured.id}: {check.message}")


if __name__ == "__main__":
    main()
