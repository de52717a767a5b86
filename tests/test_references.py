"""The one reference module: every reference field points at the value it names, and every kind's references
are read by resolve-time scope, breaking changes and policy matching from the same place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from compiler.core.models import CONTRACT_KIND
from compiler.core.references import Reference, labels_match, references
from compiler.stages import check_path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(path.parent for path in (ROOT / "examples").glob("*/charter.yaml"))


def at(data: Any, path: tuple[Any, ...]) -> Any:
    for segment in path:
        data = data[segment]
    return data


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.name)
def test_every_reference_names_the_value_at_its_field_and_lands(example: Path) -> None:
    checked = check_path(example)
    assert checked.resolved is not None
    names = {(spec.kind, spec.name) for spec in checked.specs} | {("Policy", p.name) for p in checked.policies}
    names |= {(CONTRACT_KIND, spec.contract.id) for spec in checked.specs if spec.contract is not None}
    seen = set()
    for spec in checked.specs:
        for reference in references(spec):
            seen.add((spec.kind, reference.path[:3]))
            if spec.kind == "Project":
                assert reference.path[-1] in at(spec.data, reference.path[:-1])
            else:
                assert at(spec.data, reference.path) == reference.name
            if spec.kind == "Waiver" and reference.kind not in ("Policy", CONTRACT_KIND):
                continue  # a waiver may target a spec of a kind checked elsewhere
            assert (reference.kind, reference.name) in names, (spec.file, reference)
    kinds = {kind for kind, _ in seen}
    assert {"Model", "EvaluationSuite"} <= kinds


def test_a_model_refers_to_its_contracts_suite_and_environments() -> None:
    checked = check_path(ROOT / "examples" / "credit-scoring")
    (model,) = [spec for spec in checked.specs if spec.kind == "Model"]
    found = [(r.kind, r.path) for r in references(model)]
    assert found[0] == (CONTRACT_KIND, ("spec", "data", "training", "contract"))
    assert ("EvaluationSuite", ("spec", "evaluation", "suite")) in found
    # The environment it trains in (issue 28), then those it deploys to.
    assert [r.path[:3] for r in references(model) if r.kind == "Environment"] == [
        ("spec", "training", "environment"),
        *[("spec", "deployments", index) for index in range(len(model.data["spec"]["deployments"]))],
    ]
    assert all(isinstance(r, Reference) for r in references(model))


def test_labels_match_every_wanted_label() -> None:
    checked = check_path(ROOT / "examples" / "credit-scoring")
    (model,) = [spec for spec in checked.specs if spec.kind == "Model"]
    labels = model.data["metadata"].get("labels", {})
    assert labels_match({}, model)
    assert labels_match(dict(labels), model)
    assert not labels_match({**labels, "no-such-label": "x"}, model)


def test_one_edit_adds_a_reference_that_resolve_and_scope_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a new reference field costs: one function in compiler.core.references yields one more Reference."""
    from compiler.core import references as module
    from compiler.integrations.gitops import scope

    original = module._BY_KIND["Model"]

    def with_an_auditor(model: Any) -> Any:
        yield from original(model)
        yield Reference("Environment", "audit", ("metadata", "owner"))

    monkeypatch.setitem(module._BY_KIND, "Model", with_an_auditor)
    checked = check_path(ROOT / "examples" / "credit-scoring")
    (model,) = [spec for spec in checked.specs if spec.kind == "Model"]
    new = [d for d in checked.diagnostics if d.code == "CH401"]
    assert [(d.message, d.line) for d in new] == [
        ("no Environment named `audit`", model.finding("CH401", "", ["metadata", "owner"]).line)
    ]
    assert ("Environment", "audit") in set(scope._references(model, {}))
