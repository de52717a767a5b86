"""A lending project in a temporary git repository, shared by the plan and scope tests.

The project lives in `ml/` of the repository and reads an organisation's
policies from `org-policies/` beside it, outside its own directory, so
revisions are read with a prefix and a policy directory outside it. At the
first commit it checks clean: no error, one warning (a policy rule that
recommends monitoring) and one finding waived.
"""

from __future__ import annotations

import datetime
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

TODAY = datetime.date(2026, 6, 1)

PROJECT = """\
apiVersion: charter/v1alpha1
kind: Project
metadata:
  name: lending
  owner: team-ml
spec:
  specs: ["**/*.yaml"]
  policies:
    packs: []
    paths: [../org-policies]
  governance:
    owners:
      policies: [acme/model-risk]
      waivers: [acme/model-risk]
      environments: [acme/platform]
      trust: [acme/security]
    maxWaiverDays: 36500
"""

APPLICATIONS = """\
apiVersion: v3.2.0
kind: DataContract
id: applications
name: applications
version: 1.0.0
status: active
schema:
  - name: loans
    physicalType: table
    properties:
      - name: application_id
        logicalType: string
        required: true
        unique: true
        classification: internal
        quality:
          - metric: duplicateValues
            mustBe: 0
      - name: email
        logicalType: string
        classification: restricted
        tags: [pii]
      - name: gender
        logicalType: string
        classification: confidential
        tags: [protected]
        quality:
          - metric: invalidValues
            arguments:
              validValues: [female, male, other]
            mustBe: 0
      - name: income
        logicalType: number
        required: true
        classification: confidential
        logicalTypeOptions:
          minimum: 0
      - name: term
        logicalType: integer
        required: true
        classification: internal
        enum:
          - value: 12
          - value: 24
          - value: 36
      - name: region
        logicalType: string
        physicalName: region_code
        classification: internal
      - name: notes
        logicalType: string
        classification: internal
        logicalTypeOptions:
          maxLength: 500
      - name: defaulted
        logicalType: boolean
        required: true
        classification: internal
        quality:
          - metric: nullValues
            mustBeLessThan: 1
            unit: percent
            severity: error
    quality:
      - metric: rowCount
        mustBeGreaterThan: 1000
team:
  name: team-data
slaProperties:
  - property: latency
    value: 1
    unit: d
  - property: retention
    value: 7
    unit: y
  - property: availability
    value: 99.9
    unit: percent
"""

HOLDOUT = """\
apiVersion: v3.1.0
kind: DataContract
id: holdout
name: holdout
version: 1.0.0
status: active
schema:
  - name: loans
    properties:
      - name: gender
        logicalType: string
        classification: confidential
        tags: [protected]
      - name: income
        logicalType: number
      - name: term
        logicalType: integer
      - name: region
        logicalType: string
      - name: defaulted
        logicalType: boolean
team:
  name: team-data
"""

MODEL = """\
apiVersion: charter/v1alpha1
kind: Model
metadata:
  name: scorer
  owner: team-credit
  labels:
    domain: lending
spec:
  task: binary-classification
  version: "1.0.0"
  riskTier: high
  data:
    training:
      contract: applications
  features:
    - income
    - term
    - region
  label: defaulted
  sensitiveFeatures:
    - gender
  training:
    image: ghcr.io/acme/train@sha256:0000000000000000000000000000000000000000000000000000000000000000
    command: [python, -m, train]
  evaluation:
    suite: scorer-eval
  serving:
    runtime: kserve
    modelFormat: xgboost
    storageUri: s3://models/scorer/1.0.0
  deployments:
    - environment: staging
      replicas: 1
    - environment: production
      replicas: 2
      canary:
        trafficPercent: 10
"""

SUITE = """\
apiVersion: charter/v1alpha1
kind: EvaluationSuite
metadata:
  name: scorer-eval
  owner: team-risk
spec:
  dataset:
    contract: holdout
  metrics:
    - metric: roc_auc
      min: 0.8
    - metric: brier
      max: 0.2
  fairness:
    - metric: demographic_parity_difference
      sensitiveFeature: gender
      max: 0.1
  minGroupSize: 30
"""

STAGING = """\
apiVersion: charter/v1alpha1
kind: Environment
metadata:
  name: staging
  owner: team-platform
spec:
  tier: staging
  cluster: staging
  namespace: lending
  githubEnvironment: staging
  approvals: 1
"""

PRODUCTION = """\
apiVersion: charter/v1alpha1
kind: Environment
metadata:
  name: production
  owner: team-platform
spec:
  tier: production
  cluster: production
  namespace: lending
  githubEnvironment: production
  approvals: 2
  promotesFrom: staging
"""

WAIVER = """\
apiVersion: charter/v1alpha1
kind: Waiver
metadata:
  name: scorer-validation
  owner: team-credit
spec:
  policy: lending-rules
  rule: needs-validation-data
  target:
    kind: Model
    name: scorer
  justification: A time-based split of the training data serves as validation until the new feed lands.
  approvers: [alice]
  expires: 2099-12-31
"""

POLICY = """\
apiVersion: charter/v1alpha1
kind: Policy
metadata:
  name: lending-rules
  owner: team-governance
spec:
  match:
    kinds: [Model]
    labels:
      domain: lending
  params:
    maxCanary: 20
  validations:
    - name: small-canary
      expression: object.spec.deployments.all(d, d.canary == null || d.canary.trafficPercent <= params.maxCanary)
      message: Canaries of lending models take at most 20% of traffic.
      path: spec.deployments
    - name: needs-validation-data
      expression: object.spec.data.validation != null
      message: Lending models are tuned on a separate validation contract.
    - name: monitoring-recommended
      expression: object.spec.monitoring != null
      message: Lending models should watch for drift.
      severity: warning
"""

REGION = (
    "      - name: region\n"
    "        logicalType: string\n"
    "        physicalName: region_code\n"
    "        classification: internal\n"
)

FILES = {
    "ml/charter.yaml": PROJECT,
    "ml/contracts/applications.odcs.yaml": APPLICATIONS,
    "ml/contracts/holdout.odcs.yaml": HOLDOUT,
    "ml/models/scorer.yaml": MODEL,
    "ml/suites/scorer-eval.yaml": SUITE,
    "ml/environments/staging.yaml": STAGING,
    "ml/environments/production.yaml": PRODUCTION,
    "ml/waivers/scorer-validation.yaml": WAIVER,
    "org-policies/lending.yaml": POLICY,
    "README.md": "# lending\n",
}


def git(repo: Path, *args: str) -> str:
    # An empty global config of our own (not /dev/null, which a test elsewhere may have replaced).
    config = repo.parent / ".gitconfig-tests"
    if not config.exists():
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text("", "utf-8")
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": str(config)}
    done = subprocess.run(
        ["git", "-c", "user.name=Charter Tests", "-c", "user.email=tests@charter.invalid", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
        env=env,
    )
    assert done.returncode == 0, f"git {' '.join(args)} in {repo}: {done.stderr}"
    return done.stdout


def write(repo: Path, files: dict[str, str | None]) -> None:
    for name, text in files.items():
        path = repo / name
        if text is None:
            path.unlink()
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--allow-empty", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def make_repo(root: Path) -> Path:
    """A repository with the project committed once; returns its root."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "--quiet", "--initial-branch=main")
    write(root, dict(FILES))
    commit(root, "lending project")
    return root


Edit = Callable[[Path], None]


def edit(repo: Path, name: str, old: str, new: str) -> None:
    """Replace `old` (which must occur exactly once) in a file of the repository."""
    path = repo / name
    text = path.read_text("utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {name}"
    path.write_text(text.replace(old, new), "utf-8")
