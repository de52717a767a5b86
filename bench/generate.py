"""Generate a realistic Charter repository of N spec files, deterministically.

The repository holds a `charter.yaml` Project and N specs spread over teams of
100 specs each. Every group of ten specs is one environment and three
(contract, evaluation suite, model) triples:

    Environment        1   shared by the group's models; chained by promotesFrom
    DataContract       3   ODCS v3.1.0, 10-14 columns with types, tags, classification,
                           quality rules, an owning team, SLAs
    EvaluationSuite    3   performance bounds, fairness checks, a slice
    Model              3   features, label and sensitive features from its contract,
                           pinned images, serving, a deployment, drift monitoring

so every reference resolves and `charter check`, built-in policy packs
included, reports no error.

With `--shape shared` (issue 26: the shape of a real organisation) every model deploys instead to one of
two Environments of the platform team, `shared-staging` (development and staging groups) and
`shared-production`, and an organisation Policy (`teams/platform/policies/`) reads each model's
environments.

A partial last group keeps that property: it is
cut in dependency order, and a suite left without its model only earns an
info finding. When a new built-in policy flags these specs, make them comply
(their texts are in `bench/spec_texts.py`): the bench refuses to time a repository with errors.

    python bench/generate.py DIR --count 1000 [--seed 7]
"""

from __future__ import annotations

import argparse
import itertools
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import spec_texts as texts
from spec_texts import CATEGORICAL_COLUMNS, DOMAINS, NUMERIC_COLUMNS, SENSITIVE_COLUMNS, TASKS, TIERS

GROUP = 10
GROUPS_PER_TEAM = 10


@dataclass(frozen=True)
class Repository:
    root: Path
    files: list[Path]
    """Every generated YAML file, charter.yaml first."""
    counts: dict[str, int]


SHAPES = ("own", "shared")


def generate(root: Path, count: int, seed: int = 7, shape: str = "own") -> Repository:
    """Write a repository of `count` specs (plus charter.yaml) under `root`; `shape` is one of `SHAPES`."""
    root.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    project = root / "charter.yaml"
    project.write_text(texts.project(), encoding="utf-8")
    files = [project]
    counts: dict[str, int] = {}
    specs = _specs(rng, count, shared=shape == "shared")
    if shape == "shared":
        specs = itertools.chain(_platform(), itertools.islice(specs, max(0, count - 3)))
    for relative, kind, text in specs:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        files.append(path)
        counts[kind] = counts.get(kind, 0) + 1
    counts["Evidence"] = _file_evidence(root)
    return Repository(root, files, counts)


def _file_evidence(root: Path) -> int:
    """Passing evaluation evidence for every model's current version, as the eu-ai-act pack asks of high-risk
    models in production: the repository checks clean, and every check reads the records."""
    import json

    from compiler.evidence.record import stub_record
    from compiler.evidence.store import evidence_path
    from compiler.stages import check_path

    checked = check_path(root)
    for entry in checked.evidence.values():
        target = root / evidence_path(entry.model, entry.version, "eval")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(stub_record(entry), indent=2) + "\n", encoding="utf-8")
    return len(checked.evidence)


def verify(root: Path) -> int:
    """Check the repository with Charter; raise if it reports any error. Returns the spec count."""
    from compiler.core.diagnostics import Severity
    from compiler.stages import check_path

    result = check_path(root)
    errors = [d for d in result.diagnostics if d.severity is Severity.ERROR]
    if errors:
        shown = "\n".join(f"  {d.file}:{d.line}:{d.column} {d.code} {d.message}" for d in errors[:10])
        raise AssertionError(f"generated repository {root} has {len(errors)} errors:\n{shown}")
    return len(result.specs)


def _platform() -> Iterator[tuple[str, str, str]]:
    """The shared shape's two Environments and organisation Policy (three specs)."""
    base = "teams/platform"
    for tier, previous in (("staging", None), ("production", "shared-staging")):
        name = f"shared-{tier}"
        yield (
            f"{base}/environments/{name}.yaml",
            "Environment",
            texts.environment(name, "team-ml-platform", tier, previous),
        )
    yield f"{base}/policies/deployments.yaml", "Policy", texts.POLICY


def _specs(rng: random.Random, count: int, *, shared: bool = False) -> Iterator[tuple[str, str, str]]:
    produced = 0
    group = 0
    while produced < count:
        for item in _group(rng, group, shared):
            if produced == count:
                return
            yield item
            produced += 1
        group += 1


def _group(rng: random.Random, group: int, shared: bool = False) -> Iterator[tuple[str, str, str]]:
    team = f"team-{group // GROUPS_PER_TEAM:03d}"
    domain = DOMAINS[group % len(DOMAINS)]
    base = f"teams/{team}"
    environment = f"env-{group:05d}"
    tier = TIERS[group % len(TIERS)]
    # development -> staging -> production chains within each run of three groups
    previous = f"env-{group - 1:05d}" if tier != "development" else None
    yield (
        f"{base}/environments/{environment}.yaml",
        "Environment",
        texts.environment(environment, team, tier, previous),
    )
    for slot, task in enumerate(TASKS):
        stem = f"{domain}-{group:05d}-{slot}"
        columns = _columns(rng, task)
        contract_id = f"{stem}-data"
        sensitive = [name for name, *_rest in columns if name in {c[0] for c in SENSITIVE_COLUMNS}]
        excluded = {*sensitive, "customer_id", TASKS[task]["label"][0]}
        features = [name for name, *_rest in columns if name not in excluded]
        yield (
            f"{base}/contracts/{contract_id}.yaml",
            "DataContract",
            texts.contract(rng, contract_id, domain, team, columns),
        )
        suite = f"{stem}-eval"
        suite_text = texts.suite(rng, name=suite, team=team, task=task, contract_id=contract_id, sensitive=sensitive)
        yield f"{base}/suites/{suite}.yaml", "EvaluationSuite", suite_text
        model = f"{stem}-model"
        model_text = texts.model(
            rng,
            name=model,
            team=team,
            domain=domain,
            task=task,
            contract_id=contract_id,
            suite=suite,
            features=features,
            sensitive=sensitive,
            environment=("shared-production" if tier == "production" else "shared-staging") if shared else environment,
            environment_tier="production" if shared and tier == "production" else tier,
        )
        yield f"{base}/models/{model}.yaml", "Model", model_text


def _columns(rng: random.Random, task: str) -> list[tuple[str, ...]]:
    """10-14 columns: numeric and categorical features, two sensitive ones, the label."""
    numeric = rng.sample(NUMERIC_COLUMNS, rng.randint(5, 7))
    categorical = rng.sample(CATEGORICAL_COLUMNS, rng.randint(2, 4))
    sensitive = rng.sample(SENSITIVE_COLUMNS, 2)
    label = TASKS[task]["label"]
    return [
        ("customer_id", "string", "VARCHAR(36)", "Pseudonymous customer key"),
        *numeric,
        *categorical,
        *sensitive,
        label,
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--count", type=int, default=1000, help="number of specs (default 1000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--shape", choices=SHAPES, default="own", help="own environments, or shared (default own)")
    parser.add_argument("--no-verify", action="store_true", help="skip `charter check` of the result")
    args = parser.parse_args(argv)
    repo = generate(args.directory, args.count, args.seed, args.shape)
    sizes = [path.stat().st_size for path in repo.files[1:]]
    print(f"wrote {len(repo.files) - 1} specs + charter.yaml to {repo.root}: {repo.counts}")
    if sizes:
        print(f"file sizes: min {min(sizes)} B, mean {sum(sizes) // len(sizes)} B, max {max(sizes)} B")
    if not args.no_verify:
        print(f"charter check: {verify(repo.root)} specs, no errors")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.exit(main())
