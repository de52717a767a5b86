"""The texts of the specs `bench/generate.py` writes: a Project, Environments, ODCS contracts, evaluation
suites, models and the shared shape's organisation Policy, and the vocabulary they are made of (columns,
tasks with their metrics, people)."""

from __future__ import annotations

import random

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

POLICY = """\
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


def project() -> str:
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


def environment(name: str, team: str, tier: str, previous: str | None) -> str:
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


def contract(rng: random.Random, contract_id: str, domain: str, team: str, columns: list[tuple[str, ...]]) -> str:
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


def suite(rng: random.Random, *, name: str, team: str, task: str, contract_id: str, sensitive: list[str]) -> str:
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


def model(
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
