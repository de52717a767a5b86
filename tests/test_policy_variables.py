"""A policy's `variables` are computed in the programs that read them (issue 26): their values never leave the
engine, so they keep their CEL types, and a chain too deep for the engine's parser falls back to keeping the
values in the scope with the same findings."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from test_policy_engine import findings, make_project

from compiler.core.models.policy import Policy
from compiler.stages.policy.programs import Programs

POLICY = """\
apiVersion: charter/v1alpha1
kind: Policy
metadata:
  name: lending-rules
spec:
  match:
    kinds: [Model]
  variables:
{variables}
  validations:
{rules}
"""


def _policy(variables: list[tuple[str, str]], rules: list[tuple[str, str, str]]) -> str:
    declared = "\n".join(f"    - name: {name}\n      expression: {expression!r}" for name, expression in variables)
    checked = "\n".join(
        f"    - name: {name}\n      expression: {expression!r}\n      messageExpression: {message!r}"
        for name, expression, message in rules
    )
    return POLICY.format(variables=declared or "    []", rules=checked)


def _policy_findings(root: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> list[tuple[str, int, str]]:
    make_project(root, policy_yaml=text)
    return [(d.code, d.line, d.message) for d in findings(root, monkeypatch) if d.file == "policy.yaml" or d.policy]


def _chain(length: int) -> list[tuple[str, str]]:
    """v0 = number of features (1); each next one adds one to the last."""
    return [("v0", "size(object.spec.features)")] + [(f"v{i}", f"variables.v{i - 1} + 1") for i in range(1, length)]


def test_variables_keep_their_cel_types(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Converted out of the engine and back, a type became the string "int" and an unsigned integer a signed
    one: both rules below failed."""
    text = _policy(
        [("kind", "type(1)"), ("unsigned", "1u")],
        [
            ("a-type", "variables.kind == int", "'type lost'"),
            ("unsigned", "type(variables.unsigned) == uint && variables.unsigned == 1u", "'uint lost'"),
        ],
    )
    assert _policy_findings(tmp_path, monkeypatch, text) == []


@pytest.mark.parametrize("length", [3, 20])
def test_a_chain_of_variables_gives_the_same_findings_inlined_or_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, length: int
) -> None:
    last = f"variables.v{length - 1}"
    text = _policy(
        _chain(length),
        [
            ("holds", f"{last} == {length}", "'never shown'"),
            ("fails", f"{last} > {length}", f"'the last is ' + string({last})"),
            ("by-index", f'variables["v0"] == 1 && size(variables) == {length}', "'index'"),
        ],
    )
    model = Policy.model_validate(yaml.safe_load(text))
    # 20 variables read in one chain are deeper than the engine's parser takes: that policy keeps them in the scope.
    assert Programs.of(model).inlined is (length == 3)
    assert _policy_findings(tmp_path, monkeypatch, text) == [("CH500", 4, f"the last is {length}")]


def test_a_failing_variable_is_named_though_no_rule_reads_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = _policy(
        [("fine", "size(object.spec.features)"), ("broken", "object.spec.features[5]")],
        [("reads-fine", "variables.fine == 1", "'no'")],
    )
    [(code, _, message)] = _policy_findings(tmp_path, monkeypatch, text)
    assert code == "CH502"
    assert message.startswith("policy `lending-rules` variable `broken` could not be evaluated on Model `scorer`")


def test_a_variable_read_before_its_declaration_is_a_missing_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = _policy(
        [("early", "variables.late + 1"), ("late", "1")],
        [("reads-early", "variables.early == 2", "'no'")],
    )
    [(code, _, message)] = _policy_findings(tmp_path, monkeypatch, text)
    assert code == "CH502"
    assert message.endswith("variable `early` could not be evaluated on Model `scorer`: no such key: late")


def test_a_failing_variable_found_by_the_probe_is_named_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every variable is first evaluated at once; when that fails, the first failing one is named, as before."""
    text = _policy(
        [("a", "1"), ("b", "object.spec.features[7]"), ("c", "object.spec.features[9]")],
        [("reads-a", "variables.a == 1", "'no'")],
    )
    model = Policy.model_validate(yaml.safe_load(text))
    assert Programs.of(model).probe is not None
    [(code, _, message)] = _policy_findings(tmp_path, monkeypatch, text)
    assert code == "CH502"
    assert "variable `b` could not be evaluated" in message


def test_variables_too_slow_together_are_named_together(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Thirteen variables: a 4,000-character string doubled eleven times (8 MiB), then 9,000 scans of it, within
    the engine's iteration limit; the worker's clock stops the probe, and the finding names what it ran."""
    grow = [("v0", '"' + "a" * 4000 + '"')] + [
        (f"v{i}", f"variables.v{i - 1} + variables.v{i - 1}") for i in range(1, 12)
    ]
    scan = f'{list(range(90))}.all(a, {list(range(100))}.all(b, !variables.v11.matches("b")))'
    text = _policy([*grow, ("scanned", scan)], [("reads-it", "variables.scanned", "'no'")])
    assert Programs.of(Policy.model_validate(yaml.safe_load(text))).probe is not None
    [(code, _, message)] = _policy_findings(tmp_path, monkeypatch, text)
    names = ", ".join(f"`v{i}`" for i in range(12)) + ", `scanned`"
    assert code == "CH502"
    assert f"variables {names} (evaluated together) could not be evaluated" in message
    assert message.endswith("stopped: one evaluation ran longer than the limit of 2 s")
