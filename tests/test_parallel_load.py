"""Loading on every core gives exactly what loading in one process gives."""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import os
import pickle
import sys
import threading
import time
from pathlib import Path

import pytest

from compiler.core.contracts import read_contract
from compiler.core.pickled import by_fields
from compiler.core.sources import Sources
from compiler.core.specs import Spec
from compiler.stages import check_path
from compiler.stages.checked import Checked
from compiler.stages.pipeline import read_and_validate
from compiler.stages.read.load import load_text
from compiler.stages.read.parallel_load import CHUNK, MIN_FILES, each_file, workers
from compiler.stages.run import FileResult

ROOT = Path(__file__).resolve().parents[1]
TODAY = datetime.date(2026, 12, 3)
sys.path.insert(0, str(ROOT / "bench"))

import generate  # noqa: E402


@pytest.fixture(scope="module")
def broken_repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 generated specs, four of them broken so that workers and the parent both report findings."""
    root = tmp_path_factory.mktemp("parallel") / "repo"
    generate.generate(root, MIN_FILES + 44)
    models = sorted(root.glob("teams/*/models/*.yaml"))
    # A finding made in a worker (validation) and ones made in the parent (a dangling reference, a policy).
    models[5].write_text(models[5].read_text().replace("  task: ", "  tsk: ", 1))
    models[50].write_text(models[50].read_text().replace("suite: ", "suite: no-such-", 1))
    contracts = sorted(root.glob("teams/*/contracts/*.yaml"))
    contracts[7].write_text(contracts[7].read_text() + "unexpected: [\n")
    contracts[-3].write_text(contracts[-3].read_text() + "unexpected: [\n")  # one read by a worker
    return root


@pytest.fixture
def no_other_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """Charter forks only when no other thread runs (an editor's server); a server thread another test of this
    process left behind (a stand-in on 127.0.0.1) is not Charter's, so these tests about the split ignore it."""
    monkeypatch.setattr(threading, "active_count", lambda: 1)


@pytest.mark.usefixtures("no_other_thread")
def test_workers_and_one_process_find_the_same(broken_repository: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHARTER_JOBS", "1")
    alone = check_path(broken_repository, today=TODAY)
    monkeypatch.setenv("CHARTER_JOBS", "2")
    assert workers(Sources.from_path(broken_repository), alone.files) == 2
    shared = check_path(broken_repository, today=TODAY)
    assert shared.diagnostics == alone.diagnostics
    assert {d.code for d in alone.diagnostics} >= {"CH100", "CH401"}
    assert all(d.line > 0 for d in alone.diagnostics if d.code in ("CH100", "CH401"))
    assert [(s.file, s.kind, s.name) for s in shared.specs] == [(s.file, s.kind, s.name) for s in alone.specs]
    assert shared.sources == alone.sources


@pytest.mark.usefixtures("no_other_thread")
def test_the_parent_takes_chunks_from_the_end_and_the_results_come_in_order(
    broken_repository: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Only the workers' chunks are pickled: the parent reads whole chunks from the end until it meets the
    workers, and every file is read once, by one process."""
    monkeypatch.setenv("CHARTER_JOBS", "2")
    sources = Sources.from_path(broken_repository)
    files = sorted(str(path.relative_to(broken_repository)) for path in broken_repository.glob("teams/**/*.yaml"))
    parent, read_here = os.getpid(), []
    log = tmp_path / "read-by-workers"

    def recorded(sources: Sources, file: str) -> FileResult:
        if os.getpid() == parent:
            read_here.append(file)
            time.sleep(0.002)  # so that a worker started late on a busy machine still takes its part
        else:
            with log.open("a") as lines:  # a worker's short line: appended whole
                lines.write(f"{file}\n")
        return read_and_validate(sources, file)

    progress: list[int] = []
    results = list(each_file(sources, files, recorded, lambda done, _: progress.append(done)))
    read_there = log.read_text().split()
    alone = [read_and_validate(sources, file) for file in files]
    assert [(r.path, r.diagnostics, len(r.specs)) for r in results] == [
        (r.path, r.diagnostics, len(r.specs)) for r in alone
    ]
    assert sorted(read_here + read_there) == files
    assert read_here
    assert read_there
    first = files.index(min(read_here))
    assert first % CHUNK == 0
    assert sorted(read_here) == files[first:]  # a run of whole chunks at the end
    assert sorted(read_there) == files[:first]
    assert progress == sorted(progress)
    assert progress[-1] == len(files)


def test_few_files_or_a_git_revision_load_in_one_process(tmp_path: Path) -> None:
    assert workers(Sources.from_path(tmp_path), MIN_FILES - 1) == 1


def test_a_document_sent_to_another_process_composes_its_tree_again() -> None:
    text = "a: 1\n---\nb:\n  c: [1, 2]\n"
    source = load_text(text, "f.yaml")
    document = source.documents[1]
    travelled = pickle.loads(pickle.dumps(document))
    assert travelled.data == document.data
    assert travelled.index == 1
    node = travelled.node
    assert (node.start_mark.line, node.value[0][0].value) == (document.node.start_mark.line, "b")
    assert node.value[0][1].value[0][1].start_mark.column == document.node.value[0][1].value[0][1].start_mark.column


def test_a_document_sent_to_another_process_keeps_its_digest() -> None:
    """Digests of what evidence judged are taken where a spec is read, and travel with it."""
    document = load_text("b:\n  c: [1, 2.5, null]\n", "f.yaml").documents[0]
    digest = document.digest
    travelled = pickle.loads(pickle.dumps(document))
    assert travelled._digest == digest == "sha256:" + hashlib.sha256(b'{"b":{"c":[1,2.5,null]}}').hexdigest()


@pytest.fixture(scope="module")
def evidenced_repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Enough models for their evidence records to be read on every core (`MIN_FILES` records or more), some of
    those records broken, in the parent's share and in a worker's."""
    root = tmp_path_factory.mktemp("records") / "repo"
    generate.generate(root, 3 * MIN_FILES + 100)
    records = sorted(root.glob("evidence/*/*/eval.json"))
    assert len(records) >= MIN_FILES
    for index in (3, len(records) - 4):
        records[index].write_text("{not json\n")  # CH100, located by the YAML reader
    for index in (10, len(records) - 10):
        text = records[index].read_text()
        records[index].write_text(text.replace('"gate": "eval"', '"gate": "drift"', 1))  # CH801: misfiled
    contracts = sorted(root.glob("teams/*/contracts/*.yaml"))
    for contract in (contracts[1], contracts[-2]):  # the records judging these are no longer current
        contract.write_text(contract.read_text().replace("description: ", "description: changed ", 1))
    return root


@pytest.mark.usefixtures("no_other_thread")
def test_evidence_read_on_every_core_is_the_evidence_read_in_one_process(
    evidenced_repository: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CHARTER_JOBS", "1")
    alone = check_path(evidenced_repository, today=TODAY)
    monkeypatch.setenv("CHARTER_JOBS", "2")
    records = len(list(evidenced_repository.glob("evidence/*/*/*.json")))
    assert workers(Sources.from_path(evidenced_repository), records) == 2
    shared = check_path(evidenced_repository, today=TODAY)
    assert shared.diagnostics == alone.diagnostics
    codes = [d.code for d in alone.diagnostics]
    assert codes.count("CH100") == 2
    assert codes.count("CH801") == 2
    assert all(d.line > 0 for d in alone.diagnostics if d.code in ("CH100", "CH801"))

    def evidence(checked: Checked) -> list[tuple[str, str, str, bool, tuple[str, ...]]]:
        return [
            (entry.model, entry.today.digest, gate, record.current, record.changed)
            for entry in checked.evidence.values()
            for gate, record in sorted(entry.records.items())
        ]

    assert evidence(shared) == evidence(alone)
    assert sum(not current for *_, current, _ in evidence(alone)) >= 2


def test_a_contract_spec_sent_to_another_process_is_the_same_with_its_columns_shared() -> None:
    """Columns, contracts and specs pickle as their fields (`compiler.core.pickled`): every field comes back, and a
    column listed under two keys is still one object."""
    text = (
        "apiVersion: v3.0.2\nkind: DataContract\nid: c\nname: c\nversion: 1.0.0\nstatus: active\n"
        "schema:\n  - name: t\n    properties:\n"
        "      - {name: a, logicalType: string, required: true, unique: true, classification: pii, tags: [x]}\n"
        "      - {name: b, logicalType: integer, quality: [{type: library, rule: nullCount, mustBe: 0}]}\n"
    )
    document = load_text(text, "c.yaml").documents[0]
    contract = read_contract(document.data)
    spec = Spec("DataContract", "c", document, None, contract)
    travelled = pickle.loads(pickle.dumps(spec))
    assert (travelled.kind, travelled.name, travelled.data, travelled.model) == (
        "DataContract",
        "c",
        document.data,
        None,
    )
    assert travelled.contract == contract
    assert travelled.contract is not None
    assert [dataclasses.astuple(column) for column in travelled.contract.columns] == [
        ("a", "t", ("schema", 0, "properties", 0), "string", True, True, "pii", ("x",), False),
        ("b", "t", ("schema", 0, "properties", 1), "integer", False, False, None, (), True),
    ]
    assert travelled.contract.find("t.a")[0] is travelled.contract.find("a")[0] is travelled.contract.columns[0]


def test_by_fields_refuses_a_dataclass_with_a_field_outside_init() -> None:
    @dataclasses.dataclass(frozen=True)
    class Partly:
        kept: int
        derived: int = dataclasses.field(init=False, default=0)

    with pytest.raises(TypeError, match="all of them __init__ parameters"):
        by_fields(Partly)
