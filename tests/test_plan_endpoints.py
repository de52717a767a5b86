"""`charter plan` on where gates may send credentials: the base revision's Project decides (issue 30, item 1).

On the lending project of `test_plan_fixtures`, whose base trusts one PostgreSQL host: a pull request that
points a contract at another host fails the head's check (CH430); one that also lists the host in its own
charter.yaml checks clean, and the plan says both what widened the list (CH695, at charter.yaml) and which
server only that widening lets through (CH696, at the contract). Lowering an entry's TLS is CH695 too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_plan_fixtures import TODAY, commit, edit, make_repo

from compiler.core.diagnostics import Diagnostic, Severity
from compiler.plan.make import Plan, make_plan

PROJECT = "ml/charter.yaml"
CONTRACT = "ml/contracts/applications.odcs.yaml"
TRUSTED = "  endpoints:\n    postgres:\n      - host: db.acme.internal\n"  # charter.yaml lines 18-20
SERVERS = (
    "servers:\n  - server: warehouse\n    type: postgres\n    host: db.acme.internal\n    port: 5432\n"
    "    database: lending\n    schema: public\n"
)  # contract lines 7-13: `host` on line 10


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_repo(tmp_path / "repo")
    monkeypatch.chdir(root)
    (root / PROJECT).write_text((root / PROJECT).read_text("utf-8") + TRUSTED, "utf-8")
    edit(root, CONTRACT, "status: active\n", "status: active\n" + SERVERS)
    commit(root, "the warehouse, trusted")
    return root


def plan_after(repo: Path, *edits: tuple[str, str, str]) -> Plan:
    for name, old, new in edits:
        edit(repo, name, old, new)
    commit(repo, "head")
    return make_plan(repo / "ml", "HEAD~1", "HEAD", today=TODAY)


def errors(diagnostics: list[Diagnostic]) -> list[tuple[str, str, int, int]]:
    """What blocks: error findings that no waiver covers (the fixture's waiver covers one CH500)."""
    return [(d.code, d.file, d.line, d.column) for d in diagnostics if d.severity is Severity.ERROR and not d.waiver]


def breaking(plan: Plan) -> list[tuple[str | None, Severity, str, str, int, int]]:
    return [(c.rule, c.severity, c.message, c.file, c.line, c.column) for c in plan.breaking]


def test_the_base_checks_clean(repo: Path) -> None:
    plan = plan_after(repo)
    assert errors(plan.base.result.diagnostics) == errors(plan.head.result.diagnostics) == []
    assert breaking(plan) == []


def test_a_contract_pointed_at_an_untrusted_host_fails_the_heads_check(repo: Path) -> None:
    plan = plan_after(repo, (CONTRACT, "host: db.acme.internal", "host: evil.example"))
    assert errors(plan.head.result.diagnostics) == [("CH430", CONTRACT, 10, 11)]
    assert breaking(plan) == []  # the check says it; no second finding
    assert plan.exit_code() == 1


def test_a_host_trusted_by_the_change_itself_is_a_governance_change(repo: Path) -> None:
    plan = plan_after(
        repo,
        (CONTRACT, "host: db.acme.internal", "host: evil.example"),
        (PROJECT, "      - host: db.acme.internal\n", "      - host: db.acme.internal\n      - host: evil.example\n"),
    )
    assert errors(plan.head.result.diagnostics) == []  # the head's own check is clean
    assert breaking(plan) == [
        (
            "endpoint-trusted-only-by-head",
            Severity.ERROR,
            "server `warehouse`: postgres host `evil.example:5432` is not trusted: the gate would send it the "
            "database password by the base revision's Project; only this change's charter.yaml trusts it",
            CONTRACT,
            10,
            11,
        ),
        (
            "endpoints-widened",
            Severity.ERROR,
            "spec.endpoints.postgres adds `evil.example:5432`: the gates may now send the job's credentials there; "
            "a governance change for the Project's owners to approve",
            PROJECT,
            21,
            9,
        ),
    ]
    assert plan.exit_code() == 1


def test_lowering_an_entrys_tls_is_a_governance_change(repo: Path) -> None:
    lowered = (
        "      - host: db.acme.internal\n        tls: disabled\n        reason: the replica has no certificate yet\n"
    )
    plan = plan_after(repo, (PROJECT, "      - host: db.acme.internal\n", lowered))
    assert breaking(plan) == [
        (
            "endpoints-widened",
            Severity.ERROR,
            "spec.endpoints.postgres `db.acme.internal:5432`: TLS lowered from `verify-full` to `disabled`; "
            "a governance change for the Project's owners",
            PROJECT,
            20,
            9,
        )
    ]
