"""Every code is unique, documented, and every validator vocabulary maps onto codes."""

from __future__ import annotations

import re
from typing import get_args

import jsonschema
from pydantic_core.core_schema import ErrorType

from compiler.commands.cli import main
from compiler.core import error_codes, metrics
from compiler.core.codes import CODES, all_codes, lookup
from compiler.core.diagnostics import Severity


def test_codes_are_unique_by_id_and_name() -> None:
    ids = [code.id for code in all_codes()]
    names = [code.name for code in all_codes()]
    assert len(ids) == len(set(ids))
    assert len(names) == len(set(names))


def test_codes_are_well_formed_and_documented() -> None:
    for code in all_codes():
        assert re.fullmatch(r"CH[1-9]\d\d", code.id), code.id
        assert re.fullmatch(r"[a-z][a-z0-9-]+", code.name), code.name
        assert code.title, code.id
        assert not code.title.endswith("."), code.id
        assert len(code.explanation) > 60, f"{code.id} needs a real explanation"
        assert isinstance(code.severity, Severity)


def test_every_pydantic_error_type_has_a_code() -> None:
    unmapped = [kind for kind in get_args(ErrorType) if kind not in error_codes.PYDANTIC]
    assert unmapped == []
    assert set(error_codes.PYDANTIC.values()) <= set(CODES)


def test_every_json_schema_keyword_has_a_code() -> None:
    keywords = set(jsonschema.Draft202012Validator.VALIDATORS) | set(jsonschema.Draft201909Validator.VALIDATORS)
    assert sorted(keywords - set(error_codes.JSON_SCHEMA)) == []
    assert set(error_codes.JSON_SCHEMA.values()) <= set(CODES)


def test_lookup_by_id_and_name() -> None:
    assert lookup("ch200") is CODES["CH200"]
    assert lookup("unknown-field") is CODES["CH200"]
    assert lookup("CH999") is None


def test_explain_prints_the_documentation(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["explain", "CH104"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("CH104 duplicate-key (error): A mapping has the same key twice\n")
    assert CODES["CH104"].explanation in out


def test_explain_unknown_code_is_a_usage_error(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["explain", "CH999"]) == 2
    assert "unknown code" in capsys.readouterr().err


def test_explain_list_names_every_code(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["explain", "--list"]) == 0
    out = capsys.readouterr().out
    assert [line.split()[0] for line in out.splitlines()] == [code.id for code in all_codes()]


def test_metric_names_match_the_registry() -> None:
    assert set(get_args(metrics.PerformanceMetricName)) == set(metrics.PERFORMANCE)
    assert set(get_args(metrics.FairnessMetricName)) == set(metrics.FAIRNESS)
    for info in [*metrics.PERFORMANCE.values(), *metrics.FAIRNESS.values()]:
        assert set(info.tasks) <= set(metrics.TASKS), info.name
