"""Every place a library's exception becomes a Charter code, message or hint.

Codes are Charter's promise: they must not move when a library rewords a message. Each mapping here is keyed
on the exception's type or its structured fields, so each test feeds the library's real structure with words
of its own (German, or nothing at all) and asserts the same code, position and hint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pydantic
import pytest
import yaml

from compiler.core import error_codes, pydantic_text
from compiler.core.models import KINDS
from compiler.gates.errors import UnusableInput
from compiler.gates.io import inputs as io
from compiler.stages.policy import expressions
from compiler.stages.policy.expressions import Compiled, ExpressionError, compile_expression, evaluate
from compiler.stages.policy.scope import Scope
from compiler.stages.read import load
from compiler.stages.read.load import load_text
from compiler.stages.validate import specs as validate

# --- PyYAML / libyaml -------------------------------------------------------------


def reworded(error: yaml.MarkedYAMLError, problem: str) -> yaml.MarkedYAMLError:
    return type(error)(None, None, problem, error.problem_mark)


@pytest.mark.parametrize(
    ("text", "line", "column", "hint"),
    [
        ("spec:\n\ttier: x\n", 2, 1, "indent with spaces"),
        ("a:\n  - x\n\t- y\n", 3, 1, "indent with spaces"),
        ("key: value with: colon\n", 1, 16, "must be quoted"),
        ("x: {a: 1\nb: 2\n", 2, 2, None),  # a parser error at `:`: the cause is the unclosed `{`, not a colon
    ],
)
@pytest.mark.parametrize("problem", [None, "ganz andere Worte", ""])
def test_syntax_hints_come_from_the_text_and_the_error_type(
    text: str, line: int, column: int, hint: str | None, problem: str | None
) -> None:
    try:
        list(yaml.parse(text, Loader=yaml.CSafeLoader))
    except yaml.MarkedYAMLError as error:
        raised = error if problem is None else reworded(error, problem)
    finding = load._syntax_finding(raised, "spec.yaml", text)
    assert (finding.code, finding.line, finding.column) == ("CH100", line, column)
    assert (hint in (finding.hint or "")) if hint else finding.hint is None


def test_a_yaml_error_without_a_mark_is_a_file_level_ch100(monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken(load._Yaml12Composer):  # type: ignore[misc,valid-type]
        def check_node(self) -> bool:
            raise yaml.YAMLError("beliebig")

    monkeypatch.setattr(load, "_Yaml12Composer", Broken)
    [finding] = load_text("a: 1\n", "spec.yaml").diagnostics
    assert (finding.code, finding.line, finding.column) == ("CH100", 0, 0)


def test_reader_errors_are_located_from_their_position_field() -> None:
    [finding] = load_text("a: b\x07\n", "spec.yaml").diagnostics
    assert (finding.code, finding.line, finding.column) == ("CH100", 1, 5)
    assert "#x0007" in finding.message


# --- pydantic ---------------------------------------------------------------------


def model_errors(kind: str, data: dict[str, Any]) -> list[Any]:
    with pytest.raises(pydantic.ValidationError) as raised:
        KINDS[kind].model_validate(data)
    return list(raised.value.errors(include_url=False))


def test_every_pydantic_type_error_has_yaml_words() -> None:
    type_errors = [kind for kind, code in error_codes.PYDANTIC.items() if code == "CH202"]
    phrases = {kind: pydantic_text.expected(kind) for kind in type_errors}
    assert not [phrase for phrase in phrases.values() if "dictionary" in phrase or "tuple" in phrase]
    assert phrases["dict_type"] == phrases["model_type"] == "a mapping"


@pytest.mark.parametrize(
    ("error_type", "ctx", "words"),
    [
        ("greater_than_equal", {"ge": 1}, "must be greater than or equal to 1"),
        ("less_than", {"lt": 0.5}, "must be less than 0.5"),
        ("string_too_short", {"min_length": 1}, "must have at least 1 character"),
        ("too_long", {"max_length": 3, "actual_length": 4, "field_type": "List"}, "must have at most 3 items"),
        ("value_error", {"error": ValueError("Charter's own words")}, "Charter's own words"),
        ("date_from_datetime_parsing", {"error": "day value is outside expected range"}, "must be a date"),
        ("some_future_type", {}, None),
    ],
)
def test_requirements_come_from_type_and_context(error_type: str, ctx: dict[str, Any], words: str | None) -> None:
    detail = {"type": error_type, "ctx": ctx, "msg": "Ganz andere Worte", "loc": ("spec",), "input": 0}
    assert pydantic_text.requirement(detail) == words or (words and words in str(pydantic_text.requirement(detail)))


def test_pydantic_findings_do_not_read_its_messages(tmp_path: Path) -> None:
    """The same findings when every pydantic `msg` is replaced by nonsense."""
    text = (Path(__file__).parent / "cases" / "demo-broken" / "model.yaml").read_text()
    [document] = load_text(text, "model.yaml").documents
    spec = validate.Spec("Model", "churn", document)
    details = model_errors("Model", document.data)
    model_class = KINDS["Model"]

    def findings(items: list[Any]) -> list[tuple[str, int, int, str, str | None]]:
        out = []
        for detail in items:
            path, _, _ = validate._resolve_loc(model_class, detail["loc"])
            found = validate._one_finding(spec, model_class, path, detail)
            out.append((found.code, found.line, found.column, found.message, found.hint))
        return out

    nonsense = [{**detail, "msg": "Unsinn"} for detail in details]
    assert findings(details) == findings(nonsense)
    quote = 'quote it: "1.10" (YAML reads it as a number)'
    assert ("CH202", 12, 12, "expected a valid string, got the number `1.10`", quote) in findings(nonsense)


def test_choices_come_from_the_model() -> None:
    [detail] = [d for d in model_errors("Model", _model(riskTier="hihg")) if d["type"] == "literal_error"]
    _, annotation, _ = validate._resolve_loc(KINDS["Model"], detail["loc"])
    assert pydantic_text.choices(annotation) == ["minimal", "limited", "high", "unacceptable"]


def _model(**spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "charter/v1alpha1",
        "kind": "Model",
        "metadata": {"name": "m", "owner": "team"},
        "spec": {"task": "binary-classification", "version": "1.0.0", **spec},
    }


# --- CEL (cel-expr-python, cel-cpp) ------------------------------------------------


def test_cel_syntax_errors_are_located_by_the_standard_location_prefix() -> None:
    """`<input>:LINE:COLUMN:` is the location format CEL's implementations share, not English."""
    with pytest.raises(ExpressionError) as raised:
        compile_expression("object.spec.replicas >")
    assert (raised.value.line, raised.value.column) == (1, 23)


@pytest.mark.parametrize(
    "error",
    [
        ValueError("kaputt"),
        RuntimeError(""),
        ValueError("at <input> somewhere"),
        # Past its nesting limit the parser gives a position that is not one.
        RuntimeError("INVALID_ARGUMENT: ERROR: <input>:4294967295:0: Exceeded max recursion depth of 32"),
    ],
)
def test_cel_compile_errors_without_a_location_still_fail_as_syntax_errors(
    monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    class Env:
        def compile(self, source: str, disable_check: bool = False) -> Any:
            raise error

    compile_expression.cache_clear()
    monkeypatch.setattr(expressions, "_ENV", Env())
    with pytest.raises(ExpressionError) as raised:
        compile_expression("true")
    assert raised.value.message.startswith("CEL syntax error")
    assert (raised.value.line, raised.value.column) == (0, 0)
    compile_expression.cache_clear()


@pytest.mark.parametrize(
    ("error", "message"),
    [
        ('NOT_FOUND: Key not found in map : "spec"', "no such key: spec"),
        ("NOT_FOUND: Key not found in map : 1", "no such key: 1"),
        ("INVALID_ARGUMENT: divide by zero", "division by zero"),
        ("INVALID_ARGUMENT: modulus by zero", "division by zero"),
        ("OUT_OF_RANGE: integer overflow", "arithmetic overflow"),
        ("OUT_OF_RANGE: double out of int64 range", "arithmetic overflow"),
        (
            "UNKNOWN: No matching overloads found : _+_(string, int64)",
            "type error: no matching overload for _+_(string, int64)",
        ),
        ("INVALID_ARGUMENT: Applying SELECT to non-message type", "type error: a field was selected from a value"),
        ("INTERNAL: Iteration budget exceeded [INTERNAL]", "stopped: comprehensions ran more than the engine's limit"),
        (
            "INVALID_ARGUMENT: cannot convert string to int\nzweite Zeile",
            "evaluation failed: cannot convert string to int",
        ),
        ("Laufzeit", "evaluation failed: Laufzeit"),
        ("", "evaluation failed: the engine gave no reason"),
    ],
)
def test_cel_evaluation_errors_are_keyed_on_their_status(error: str, message: str) -> None:
    assert expressions.engine_reason(error).startswith(message)


def test_cel_errors_the_engine_raises_are_mapped_alike() -> None:
    class Program:
        def eval(self, activation: Any) -> Any:
            raise RuntimeError("INTERNAL: Iteration budget exceeded [INTERNAL]")

    compiled = Compiled("x", Program(), 0)
    with pytest.raises(ExpressionError) as raised:
        evaluate(compiled, Scope({}))
    assert raised.value.message == "stopped: comprehensions ran more than the engine's limit of 10,000 iterations"


# --- DuckDB -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "starts", "hint"),
    [
        (duckdb.OutOfMemoryException("beliebig"), "data.csv: out of memory", "raise --memory-limit"),
        (duckdb.IOException("beliebig"), "data.csv: cannot read as CSV", None),
        (duckdb.InvalidInputException(""), "data.csv: cannot read as CSV", None),
    ],
)
def test_duckdb_errors_are_keyed_on_their_type(error: Exception, starts: str, hint: str | None) -> None:
    class Connection:
        def execute(self, *args: Any) -> Any:
            raise error

    source = io.Source("data.csv", ("data.csv",), "csv")
    with pytest.raises(UnusableInput) as raised:
        io.query(Connection(), "SELECT 1", source)  # type: ignore[arg-type]
    assert raised.value.message.startswith(starts)
    assert raised.value.hint == hint or (hint is not None and hint in (raised.value.hint or ""))
