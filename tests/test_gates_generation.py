"""Generation metrics of the eval gate (issue 24): BLEU and ROUGE-L through sacrebleu and rouge-score, checked
against the textbook formulas computed here by hand, end to end through `charter gate eval`."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from test_gates_support import check_of, column, run_gate, write_project

from compiler.gates.eval import generation

PAIRS = [  # (reference, output): lower case, no punctuation, so every tokenizer splits on spaces
    ("the cat sat on the mat", "the cat is on the mat"),
    ("a quick brown fox jumps over the lazy dog", "the quick brown fox jumped over the lazy dog"),
    ("there is a book on the desk", "there is a book on the desk"),
    ("we will meet at noon tomorrow", "we meet tomorrow at noon"),
]


def textbook_bleu(pairs: list[tuple[str, str]]) -> float:
    """Papineni et al.: clipped n-gram precisions (n = 1..4) over the corpus, their geometric mean, and the
    brevity penalty exp(1 - r / c) when the outputs are shorter than the references."""
    matched, total = [0] * 4, [0] * 4
    ref_length = out_length = 0
    for reference, output in pairs:
        ref, out = reference.split(), output.split()
        ref_length, out_length = ref_length + len(ref), out_length + len(out)
        for n in range(1, 5):
            out_grams = Counter(tuple(out[i : i + n]) for i in range(len(out) - n + 1))
            ref_grams = Counter(tuple(ref[i : i + n]) for i in range(len(ref) - n + 1))
            matched[n - 1] += sum(min(count, ref_grams[gram]) for gram, count in out_grams.items())
            total[n - 1] += max(len(out) - n + 1, 0)
    mean = math.exp(sum(math.log(m / t) for m, t in zip(matched, total, strict=True)) / 4)
    penalty = 1.0 if out_length > ref_length else math.exp(1 - ref_length / out_length)
    return penalty * mean


def lcs(a: list[str], b: list[str]) -> int:
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i, x in enumerate(a):
        for j, y in enumerate(b):
            table[i + 1][j + 1] = table[i][j] + 1 if x == y else max(table[i][j + 1], table[i + 1][j])
    return table[-1][-1]


def textbook_rouge_l(pairs: list[tuple[str, str]]) -> float:
    """Lin (2004): F-measure of the longest common subsequence's precision and recall, averaged over rows."""
    scores = []
    for reference, output in pairs:
        ref, out = reference.split(), output.split()
        common = lcs(ref, out)
        precision, recall = common / len(out), common / len(ref)
        scores.append(0.0 if common == 0 else 2 * precision * recall / (precision + recall))
    return sum(scores) / len(scores)


def test_bleu_and_rouge_l_equal_the_textbook_formulas() -> None:
    references, outputs = [r for r, _ in PAIRS], [o for _, o in PAIRS]
    assert generation.bleu(outputs, references) == pytest.approx(textbook_bleu(PAIRS), abs=1e-12)
    assert generation.rouge_l(outputs, references) == pytest.approx(textbook_rouge_l(PAIRS), abs=1e-12)
    assert generation.rouge_l(["the cat is on the mat"], ["the cat sat on the mat"]) == pytest.approx(5 / 6)
    assert generation.bleu(references, references) == pytest.approx(1.0)


def test_the_eval_gate_judges_a_generation_model(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"y_true": [r for r, _ in PAIRS] * 3, "y_pred": [o for _, o in PAIRS] * 3, "lang": ["en"] * 8 + ["de"] * 4}
    )
    frame.to_parquet(tmp_path / "p.parquet")
    root = write_project(
        tmp_path / "project",
        task="generation",
        columns=[column("x", "string"), column("y", "string"), column("lang", "string")],
        features=["x"],
        metrics=[
            {"metric": "bleu", "min": 0.9},
            {"metric": "rouge_l", "min": 0.5},
            {"metric": "exact_match", "min": 0.2},
            {"metric": "rouge_l", "slice": "german", "min": 0.5},
        ],
        slices=[{"name": "german", "feature": "lang", "values": ["de"]}],
    )
    argv = ["eval", str(root), "--model", "model", "--predictions", str(tmp_path / "p.parquet")]
    code, report = run_gate(argv, tmp_path / "r.json")
    bleu, rouge, exact = (
        check_of(report, f"metrics[{i}].{m}") for i, m in enumerate(["bleu", "rouge_l", "exact_match"])
    )
    german = check_of(report, "metrics[3].rouge_l@german")
    assert bleu["value"] == pytest.approx(textbook_bleu(PAIRS * 3), abs=1e-12)
    assert rouge["value"] == pytest.approx(textbook_rouge_l(PAIRS), abs=1e-12)
    assert exact["value"] == pytest.approx(1 / 4)
    assert german["value"] == pytest.approx(textbook_rouge_l(PAIRS), abs=1e-12)
    assert (bleu["status"], rouge["status"], exact["status"], code) == ("fail", "pass", "pass", 1)


def test_exact_match_reads_any_number_of_distinct_texts(tmp_path: Path) -> None:
    """Outputs were dictionary-encoded as classes, at most 1,000 of them: a real generation set has more."""
    references = [f"answer number {i}" for i in range(1500)]
    outputs = [text if i % 3 else text.upper() for i, text in enumerate(references)]
    pd.DataFrame({"y_true": references, "y_pred": outputs}).to_parquet(tmp_path / "p.parquet")
    root = write_project(
        tmp_path / "project",
        task="generation",
        columns=[column("x", "string"), column("y", "string")],
        features=["x"],
        metrics=[{"metric": "exact_match", "min": 0.5}],
    )
    argv = ["eval", str(root), "--model", "model", "--predictions", str(tmp_path / "p.parquet")]
    code, report = run_gate(argv, tmp_path / "r.json")
    assert (code, check_of(report, "metrics[0].exact_match")["value"]) == (0, pytest.approx(1000 / 1500))
