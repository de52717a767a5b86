"""`charter report` without a browser: what the pages say, byte-for-byte determinism, refusals."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

from compiler.commands.cli import main

ROOT = Path(__file__).resolve().parent.parent
CREDIT = ROOT / "examples" / "credit-scoring"
Capture = pytest.CaptureFixture[str]


class _Rows(HTMLParser):
    """The text of each table row, by its `data-rule` or `data-waiver` attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, list[str]] = {}
        self._key: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "tr":
            self._key = found.get("data-rule") or found.get("data-waiver") or found.get("data-model")
            if self._key:
                self.rows[self._key] = []
        elif tag in ("td", "th") and self._key:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._key and self._cell is not None:
            self.rows[self._key].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr":
            self._key = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def _rows(html: str) -> dict[str, list[str]]:
    parser = _Rows()
    parser.feed(html)
    return parser.rows


def _report(out: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture, today: str = "2026-11-01") -> Path:
    monkeypatch.setenv("CHARTER_TODAY", today)
    assert main(["report", str(CREDIT), "--out", str(out)]) == 0
    assert (
        capsys.readouterr().out
        == f"charter report: wrote 2 pages to {out.as_posix()}/ (open {out.as_posix()}/index.html)\n"
    )
    return out


def test_the_model_page_lists_every_rule_with_its_status_and_waiver(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    site = _report(tmp_path / "site", monkeypatch, capsys)
    rows = _rows((site / "models" / "credit-default.html").read_text("utf-8"))
    assert rows["acme-lending-models/independent-validation-data"] == [
        "Model credit-default",
        "acme-lending-models",
        "independent-validation-data",
        "warning",
        "waived",
        "lnovak, mkowalski until 2027-12-31 (credit-default-validation-data)",
        "Tune and select lending models on a validation contract separate from the training data.",
    ]
    assert rows["eu-ai-act-evidence/evaluation-evidence"][3:6] == ["warning", "holds", ""]
    assert rows["fairness-bounds/difference-bound"][:5] == [
        "EvaluationSuite credit-default-eval",
        "fairness-bounds",
        "difference-bound",
        "error",
        "holds",
    ]
    statuses = {row[4] for row in rows.values()}
    assert statuses == {"holds", "waived"}
    # Every rule of the eu-ai-act high-risk policy applies to a high-risk model: all are listed.
    policy = yaml.safe_load((ROOT / "policies" / "eu-ai-act" / "high-risk.yaml").read_text("utf-8"))
    rules = [f"eu-ai-act-high-risk/{rule['name']}" for rule in policy["spec"]["validations"]]
    assert sorted(key for key in rows if key.startswith("eu-ai-act-high-risk/")) == sorted(rules)


def test_the_inventory_row_and_the_waiver_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture) -> None:
    site = _report(tmp_path / "site", monkeypatch, capsys)
    rows = _rows((site / "index.html").read_text("utf-8"))
    inventory = rows["credit-default"]
    assert inventory[:5] == ["credit-default", "team-credit-risk", "high", "3.2.0", "staging → production"]
    assert re.fullmatch(r"data: pass at [0-9a-f]{12}eval: pass at [0-9a-f]{12}", inventory[5])
    assert inventory[6] == "none"
    assert rows["credit-default-validation-data"][:6] == [
        "credit-default-validation-data",
        "Model credit-default",
        "acme-lending-models / independent-validation-data",
        "lnovak, mkowalski",
        "2027-12-31",
        "425",
    ]


REGISTERED = b"https://mlflow.acme-bank.example/#/models/credit-default/versions/1"


def test_the_site_is_deterministic_and_self_contained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    first = _report(tmp_path / "one", monkeypatch, capsys)
    second = _report(tmp_path / "two", monkeypatch, capsys)
    pages = sorted(p.relative_to(first).as_posix() for p in first.rglob("*") if p.is_file())
    assert pages == ["index.html", "models/credit-default.html"]
    for page in pages:
        text = (first / page).read_bytes()
        assert text == (second / page).read_bytes()
        # No resource to fetch: no script, no external stylesheet, image or font; the one link is a data: icon.
        # The only way out is a link people follow: to the registered version in the MLflow UI the evidence names.
        assert re.findall(rb"<(script|img|iframe|object|embed)\b", text) == []
        assert re.findall(rb"src=", text) == []
        outside = re.findall(rb'href="(?!#|data:|\.\./index\.html|index\.html|models/)([^"]*)"', text)
        assert set(outside) <= {REGISTERED}
        assert b'<html lang="en">' in text


def test_a_missing_project_is_a_usage_error(tmp_path: Path, capsys: Capture) -> None:
    assert main(["report", str(tmp_path / "nowhere"), "--out", str(tmp_path / "site")]) == 2
    assert capsys.readouterr().err == f"charter report: not a project directory: {tmp_path / 'nowhere'}\n"
    assert not (tmp_path / "site").exists()
