"""The string forms spec fields take: each pattern with words for people.

Validation messages say what a value should look like instead of showing
a regular expression.
"""

from __future__ import annotations

NAME = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"
# An OCI image reference (the distribution spec's grammar): registry/repository[:tag][@sha256:<64 hex>].
# It cannot start with `-` (it reaches `docker run` as an argument), holds no control character, and a
# digest can only come last.
_DOMAIN_PART = r"[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?"
_PATH_PART = r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*"
_IMAGE_NAME = rf"({_DOMAIN_PART}(\.{_DOMAIN_PART})*(:[0-9]+)?/)?{_PATH_PART}(/{_PATH_PART})*"
IMAGE = rf"^{_IMAGE_NAME}(:[A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}})?(@sha256:[0-9a-f]{{64}})?$"
QUANTITY = r"^[0-9]+(\.[0-9]+)?(m|k|Ki|M|Mi|G|Gi|T|Ti|P|Pi|E|Ei)?$"
CRON = r"^\s*(\S+\s+){4}\S+\s*$"
STORAGE_URI = r"^(s3|gs|pvc|hf|oci|https|azureblob)://\S+$"
IDENTIFIER = r"^[A-Za-z_][A-Za-z0-9_]*$"
OUTPUT_DIR = r"^\.?[A-Za-z0-9_-][A-Za-z0-9._-]*(/\.?[A-Za-z0-9_-][A-Za-z0-9._-]*)*$"
# The workflows may also be the `.github/workflows` of a directory above the project (a monorepo's root), and
# nothing else above it: `charter build` refuses one outside the git repository (CH449).
WORKFLOWS_DIR = r"^((\.\./)+\.github/workflows|\.?[A-Za-z0-9_-][A-Za-z0-9._-]*(/\.?[A-Za-z0-9_-][A-Za-z0-9._-]*)*)$"
REPO_URL = r"^(https://|ssh://|git@)\S+$"
# A glob or directory inside the project: relative, no `..` component, no backslash or control character.
_COMPONENT = r"(\.|\.?[^./\\\x00-\x1f\x7f][^/\\\x00-\x1f\x7f]*)"
RELATIVE_GLOB = rf"^{_COMPONENT}(/{_COMPONENT})*/?$"
# A policy directory may sit beside the project in its repository (`../org-policies`); the run checks
# that it stays inside the checkout.
POLICY_DIR = rf"^(\.\./)*{_COMPONENT}(/{_COMPONENT})*/?$"
# An ODCS server name becomes a command-line value: it may not start with `-`.
SERVER_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
ROLE_ARN = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$"
GCP_PROVIDER = r"^projects/[0-9]+/locations/global/workloadIdentityPools/[a-z0-9-]+/providers/[a-z0-9-]+$"
GCP_SERVICE_ACCOUNT = r"^[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z0-9-]+\.iam\.gserviceaccount\.com$"
UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
AWS_REGION = r"^[a-z]{2}(-[a-z]+)+-[0-9]$"
# A GitHub repository `owner/name`, as in `uses: owner/name/path@sha`.
GITHUB_REPOSITORY = r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9_.-]{1,100}$"
COMMIT_SHA = r"^[0-9a-f]{40}$"
# A query written into a manifest as one scalar: one line of printable text.
ONE_LINE = r"^[^\x00-\x1f\x7f]+$"
PROMETHEUS_METRIC = r"^[a-zA-Z_:][a-zA-Z0-9_:]*$"
# A GitHub user (`alice`) or team (`acme/model-risk`): who may approve a governance change.
# An MLflow registered model name: MLflow refuses `/`, `\` and `%`; Charter also quotes it in URLs and filters, so
# letters, digits, `_`, `.` and `-`, starting with a letter or digit.
MLFLOW_MODEL_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,255}$"
# A Weights & Biases artifact or model, pinned: `wandb-artifact://<entity>/<project>/<name>:<version or alias>`, as
# W&B's `use_artifact("entity/project/name:v3")` names it; no other characters, so it is safe in a link and a label.
_WANDB_PART = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}"
WANDB_ARTIFACT = rf"^wandb-artifact://[A-Za-z0-9][A-Za-z0-9_-]{{0,63}}/{_WANDB_PART}/{_WANDB_PART}:{_WANDB_PART}$"
GITHUB_OWNER = r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:/[A-Za-z0-9][A-Za-z0-9_.-]{0,99})?$"

MEANINGS: dict[str, tuple[str, str]] = {
    NAME: ("a DNS label", "use lower-case letters, digits and `-` (a DNS label), for example `credit-scorer`"),
    IMAGE: ("an OCI image reference", "`registry/repository[:tag]@sha256:<64 hex>`, pinned by digest"),
    QUANTITY: ("a Kubernetes quantity", "for example `500m`, `2` or `4Gi`"),
    CRON: ("a five-field cron schedule", 'for example "0 6 * * 1" (quote it)'),
    STORAGE_URI: ("a storage URI", "with scheme s3, gs, pvc, hf, oci, https or azureblob, e.g. `s3://bucket/model`"),
    IDENTIFIER: ("a CEL identifier", "letters, digits and `_`, not starting with a digit, e.g. `protectedColumns`"),
    OUTPUT_DIR: ("a directory relative to the project root", "plain characters, no `..` and no leading `/`"),
    REPO_URL: ("a Git repository URL", "starting with https://, ssh:// or git@"),
    POLICY_DIR: ("a directory relative to the project", "no leading `/`, e.g. `policies/` or `../org-policies`"),
    RELATIVE_GLOB: ("a path or glob relative to the project root", "no leading `/`, no `..`, e.g. `models/*.yaml`"),
    SERVER_NAME: ("an ODCS server name", "letters, digits, `_`, `.` and `-`, not starting with `-`, e.g. `prod-s3`"),
    ROLE_ARN: ("an IAM role ARN", "for example `arn:aws:iam::123456789012:role/charter-gates`"),
    GCP_PROVIDER: (
        "a workload identity provider",
        "`projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>`",
    ),
    GCP_SERVICE_ACCOUNT: ("a service account e-mail", "for example `gates@my-project.iam.gserviceaccount.com`"),
    UUID: ("a UUID", "for example `00000000-0000-0000-0000-000000000000`"),
    ONE_LINE: ("one line of printable text", "no line break, tab or other control character"),
    PROMETHEUS_METRIC: ("a Prometheus metric name", "letters, digits, `_` and `:`, e.g. `http_requests_total`"),
    AWS_REGION: ("an AWS region", "for example `eu-west-1`"),
    GITHUB_REPOSITORY: ("a GitHub repository", "`owner/name`, for example `charter-dev/charter`"),
    GITHUB_OWNER: ("a GitHub user or team", "a login such as `lnovak`, or `org/team` such as `acme-bank/model-risk`"),
    MLFLOW_MODEL_NAME: (
        "an MLflow model name",
        "letters, digits, `_`, `.` and `-`, starting with a letter or digit, e.g. `credit-default`",
    ),
    WANDB_ARTIFACT: (
        "a Weights & Biases artifact reference",
        "`wandb-artifact://<entity>/<project>/<name>:<version>`, e.g. `wandb-artifact://acme/credit/applications:v3`",
    ),
    COMMIT_SHA: ("a full commit SHA", "40 lower-case hex digits: a tag or branch can move, a commit cannot"),
}
