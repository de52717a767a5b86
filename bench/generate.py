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
here: the bench refuses to time a repository with errors.

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

GROUP = 10
GROUPS_PER_TEAM = 10

DOMAINS = ("lending", "growth", "fraud", "pricing", "support", "logistics", "marketing", "risk", "health", "search")

# (name, logicalType, physicalType, description)
NUMERIC_COLUMNS = (
    ("income", "number", "DECIMAL(12,2)", "Declared yearly income in EUR"),
    ("loan_amount", "number", "DECIMAL(12,2)", "Requested principal in EUR"),
    ("tenure_months", "integer", "INT", "Months since the account was opened"),
    ("num_transactions", "integer", "INT", "Transactions in the last 90 days"),
    ("avg_basket_value", "number", "DOUBLE", "Mean basket value over the last 90 days"),
    ("days_since_login", "integer", "INT", "Days since the last login"),
    ("credit_utilisation", "number", "DOUBLE", "Share of the credit line in use"),
    ("support_tickets", "integer", "INT", "Support tickets opened in the last year"),
    ("session_minutes", "number", "DOUBLE", "Mean session length in minutes"),
    ("late_payments", "integer", "INT", "Late payments in the last 24 months"),
    ("debt_to_income", "number", "DOUBLE", "Monthly debt payments over monthly income"),
    ("page_views", "integer", "INT", "Page views in the last 30 days"),
)
CATEGORICAL_COLUMNS = (
    ("employment_type", "string", "VARCHAR(32)", "Employment status at application time"),
    ("channel", "string", "VARCHAR(16)", "Acquisition channel"),
    ("plan", "string", "VARCHAR(16)", "Subscription plan"),
    ("region", "string", "VARCHAR(8)", "Sales region"),
    ("device", "string", "VARCHAR(16)", "Most used device type"),
    ("signup_date", "date", "DATE", "Date the customer signed up"),
)
SENSITIVE_COLUMNS = (
    ("age_band", "string", "VARCHAR(8)", "Age band of the customer", ("18-25", "26-40", "41-65", "65+")),
    ("gender", "string", "VARCHAR(16)", "Self-declared gender", ("female", "male", "other")),
    ("nationality", "string", "VARCHAR(2)", "ISO 3166 country code", ("DE", "FR", "NL", "ES")),
)

TASKS = {
    "binary-classification": {
        "label": ("defaulted", "boolean", "BOOLEAN", "Whether the loan defaulted within 12 months"),
        "metrics": (
            ("roc_auc", "min", 0.78),
            ("precision", "min", 0.6),
            ("recall", "min", 0.55),
            ("brier", "max", 0.2),
        ),
        "fairness": ("demographic_parity_difference", "equalized_odds_difference"),
        "format": "xgboost",
    },
    "multiclass-classification": {
        "label": ("segment", "string", "VARCHAR(16)", "Customer segment assigned by analysts"),
        "metrics": (("f1_macro", "min", 0.7), ("accuracy", "min", 0.8), ("log_loss", "max", 0.9)),
        "fairness": ("demographic_parity_ratio", "selection_rate_difference"),
        "format": "lightgbm",
    },
    "regression": {
        "label": ("spend_next_90d", "number", "DOUBLE", "Spend over the next 90 days in EUR"),
        "metrics": (("rmse", "max", 42.5), ("mae", "max", 30.0), ("r2", "min", 0.6)),
        "fairness": ("mae_difference", "rmse_difference"),
        "format": "sklearn",
    },
}

TIERS = ("development", "staging", "production")
PEOPLE = ("mkowalski", "jdiallo", "aokafor", "lchen", "pnovak", "sgarcia", "tnguyen", "evasquez")


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
    project.write_text(_project(), encoding="utf-8")
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
        yield f"{base}/environments/{name}.yaml", "Environment", _environment(name, "team-ml-platform", tier, previous)
    yield f"{base}/policies/deployments.yaml", "Policy", _POLICY


_POLICY = """\
apiVersion: charter/v1alpha1
kind: Policy
metadata:
  name: platform-deployments
  owner: team-ml-platform
  description: Models deployed to production name an owner and keep monitoring on.
spec:
  match:
    kinds: [Model]
  validations:
    - name: production-models-monitored
      expression: >-
        !related.environments.exists(e, e.spec.tier == 'production')
        || object.spec.monitoring.schedule != ''
      message: a model in production is monitored
      severity: error
"""


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
    yield f"{base}/environments/{environment}.yaml", "Environment", _environment(environment, team, tier, previous)
    for slot, task in enumerate(TASKS):
        stem = f"{domain}-{group:05d}-{slot}"
        columns = _columns(rng, task)
        contract_id = f"{stem}-data"
        sensitive = [name for name, *_rest in columns if name in {c[0] for c in SENSITIVE_COLUMNS}]
        excluded = {*sensitive, "customer_id", TASKS[task]["label"][0]}
        features = [name for name, *_rest in columns if name not in excluded]
        yield f"{base}/contracts/{contract_id}.yaml", "DataContract", _contract(rng, contract_id, domain, team, columns)
        suite = f"{stem}-eval"
        suite_text = _suite(rng, name=suite, team=team, task=task, contract_id=contract_id, sensitive=sensitive)
        yield f"{base}/suites/{suite}.yaml", "EvaluationSuite", suite_text
        model = f"{stem}-model"
        model_text = _model(
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


def _project() -> str:
    return """\
apiVersion: charter/v1alpha1
kind: Project
metadata:
  name: bench-platform
  owner: team-ml-platform
  description: Generated repository for `make bench`.
spec:
  specs:
    - "teams/**/*.yaml"
  outputs:
    workflows: .github/workflows
    deploy: deploy
    docs: docs/models
  ci:
    runner: ubuntu-24.04
    pythonVersion: "3.12"
"""


def _environment(name: str, team: str, tier: str, previous: str | None) -> str:
    approvals = {"development": 0, "staging": 1, "production": 2}[tier]
    promotes = f"  promotesFrom: {previous}\n" if previous else ""
    # Production clusters export request metrics: a high-risk model's canary is decided by them.
    prometheus = f"  prometheus: https://prometheus.{name}.internal\n" if tier == "production" else ""
    return f"""\
apiVersion: charter/v1alpha1
kind: Environment
metadata:
  name: {name}
  owner: {team}
  description: {tier.capitalize()} cluster for the models of {team}.
  labels:
    tier: {tier}
    region: eu-west-1
spec:
  tier: {tier}
  cluster: eu-west-1-{tier}
  namespace: {name}-ml
  githubEnvironment: {name}
  approvals: {approvals}
{promotes}{prometheus}"""


def _contract(rng: random.Random, contract_id: str, domain: str, team: str, columns: list[tuple[str, ...]]) -> str:
    owner, steward = (f"{rng.choice(PEOPLE)}{rng.randint(1, 99)}" for _ in range(2))
    lines = [
        f"# ODCS v3 contract of the {domain} feature table; published by the data team of {team}.",
        "apiVersion: v3.1.0",
        "kind: DataContract",
        f"id: {contract_id}",
        f"name: {contract_id}",
        'version: "1.2.0"',
        "status: active",
        f"domain: {domain}",
        "dataProduct: customer-features",
        "tags: [ml, features]",
        "description:",
        f"  purpose: Training and evaluation data for the {domain} models of {team}.",
        "  usage: Read-only, through the feature store.",
        "schema:",
        "  - name: customers",
        "    physicalName: customers_v1",
        "    physicalType: table",
        "    properties:",
    ]
    for column in columns:
        name, logical, physical, description = column[:4]
        lines += [
            f"      - name: {name}",
            f"        logicalType: {logical}",
            f"        physicalType: {physical}",
            f"        description: {description}",
        ]
        if name == "customer_id":
            lines += [
                "        primaryKey: true",
                "        required: true",
                "        unique: true",
                "        classification: restricted",
                "        tags: [pii]",
                "        quality:",
                "          - metric: duplicateValues",
                "            mustBe: 0",
                "            dimension: uniqueness",
            ]
        elif len(column) > 4:
            valid = ", ".join(f'"{value}"' for value in column[4])
            lines += [
                "        classification: confidential",
                "        tags: [pii, protected]",
                "        quality:",
                "          - metric: invalidValues",
                f"            arguments: {{validValues: [{valid}]}}",
                "            mustBe: 0",
                "            dimension: conformity",
            ]
    lines += [
        "    quality:",
        "      - metric: rowCount",
        "        mustBeGreaterThan: 10000",
        "        description: Fewer rows means a partial extract; do not train on it.",
        "        dimension: completeness",
        "team:",
        f"  name: {team}-data",
        "  members:",
        f"    - username: {owner}",
        "      role: Owner",
        f"    - username: {steward}",
        "      role: Data Steward",
        "slaProperties:",
        "  - property: latency",
        "    value: 4",
        "    unit: h",
        "  - property: retention",
        "    value: 3",
        "    unit: y",
    ]
    return "\n".join(lines) + "\n"


def _suite(rng: random.Random, *, name: str, team: str, task: str, contract_id: str, sensitive: list[str]) -> str:
    info = TASKS[task]
    lines = [
        f"# Bounds the {task} model must meet on held-out data before it ships.",
        "apiVersion: charter/v1alpha1",
        "kind: EvaluationSuite",
        "metadata:",
        f"  name: {name}",
        f"  owner: {team}",
        "spec:",
        "  dataset:",
        f"    contract: {contract_id}",
        "  metrics:",
    ]
    for metric, side, bound in info["metrics"]:
        jitter = round(bound * rng.uniform(0.95, 1.0), 3)
        lines += [f"    - metric: {metric}", f"      {side}: {jitter}"]
    lines.append("  fairness:")
    for metric, feature in zip(info["fairness"], sensitive, strict=False):
        bound = "min: 0.8" if metric.endswith("_ratio") else "max: 0.1"
        lines += [f"    - metric: {metric}", f"      sensitiveFeature: {feature}", f"      {bound}"]
    feature = sensitive[0]
    values = next(c[4] for c in SENSITIVE_COLUMNS if c[0] == feature)
    shown = ", ".join(f'"{v}"' for v in values[:2])
    lines += [
        "  minGroupSize: 50",
        "  slices:",
        f"    - name: {feature.replace('_', '-')}-first",
        f"      feature: {feature}",
        f"      values: [{shown}]",
    ]
    if task == "binary-classification":
        lines.append("  positiveLabel: true")
    return "\n".join(lines) + "\n"


def _model(
    rng: random.Random,
    *,
    name: str,
    team: str,
    domain: str,
    task: str,
    contract_id: str,
    suite: str,
    features: list[str],
    sensitive: list[str],
    environment: str,
    environment_tier: str,
) -> str:
    info = TASKS[task]
    digest = "".join(rng.choice("0123456789abcdef") for _ in range(64))
    version = f"{rng.randint(0, 3)}.{rng.randint(0, 12)}.{rng.randint(0, 9)}"
    tier = "high" if domain in {"lending", "health", "risk"} else "limited"
    drift = ", ".join(features[:3])
    production = environment_tier == "production"
    replicas = rng.randint(3, 4) if production else rng.randint(1, 2)
    lines = [
        f"# {name}: owned by {team}; changes need a review from that team.",
        "apiVersion: charter/v1alpha1",
        "kind: Model",
        "metadata:",
        f"  name: {name}",
        f"  owner: {team}",
        f"  description: {task.replace('-', ' ').capitalize()} model for {domain}.",
        "  labels:",
        f"    domain: {domain}",
        "spec:",
        f"  task: {task}",
        f'  version: "{version}"',
        f"  riskTier: {tier}",
        "  intendedUse:",
        f"    - Rank {domain} cases for human review.",
        "  outOfScopeUse:",
        "    - Fully automated decisions without human oversight.",
        "  transparency:",
        "    disclosure: The decision letter states that an automated score informs the decision.",
        f"    contact: {team}@acme.example",
        "  data:",
        "    training:",
        f"      contract: {contract_id}",
        "    production:  # the requests the deployed model is logged to: what its drift gate reads",
        f"      contract: {contract_id}",
        "  features:",
        *(f"    - {feature}" for feature in features),
        f"  label: {info['label'][0]}",
        "  sensitiveFeatures:",
        *(f"    - {feature}" for feature in sensitive),
        "  training:",
        f"    image: ghcr.io/acme/{domain}-train@sha256:{digest}",
        f"    command: [python, -m, {domain}.train, --config, configs/{name}.yaml]",
        "    resources:",
        "      requests: {cpu: 2, memory: 8Gi}",
        "      limits: {cpu: 4, memory: 16Gi}",
        "    timeoutMinutes: 90",
        "  evaluation:",
        f"    suite: {suite}",
        "  serving:",
        "    runtime: kserve",
        f"    modelFormat: {info['format']}",
        f"    storageUri: s3://acme-models/{name}/{version}",
        "    resources:",
        "      requests: {cpu: 500m, memory: 1Gi}",
        "      limits: {cpu: 1, memory: 2Gi}",
        "  deployments:",
        f"    - environment: {environment}",
        f"      replicas: {replicas}",
        *(_production_rollout(tier) if production else []),
        f"      autoscaling: {{minReplicas: {replicas}, maxReplicas: 12}}",
        "  monitoring:",
        '    schedule: "0 6 * * 1"',
        "    drift:",
        "      method: psi",
        "      threshold: 0.2",
        f"      features: [{drift}]",
        "    retrainOnDrift: false",
    ]
    return "\n".join(lines) + "\n"


def _production_rollout(risk_tier: str) -> list[str]:
    """A high-risk model's production canary is decided by metrics (production-readiness/high-risk-analysis);
    the others wait for readiness."""
    if risk_tier != "high":
        return ["      canary: {trafficPercent: 10}"]
    return [
        "      rollout:",
        "        steps: [{weight: 10, pauseMinutes: 10}, {weight: 50, pauseMinutes: 10}]",
        "        analysis: {maxErrorRate: 0.01, maxLatencyMs: 300}",
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
