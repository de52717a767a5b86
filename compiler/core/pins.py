"""Actions the generated workflows use, pinned to full commit SHAs (tags can move).

Bumping a pin is a reviewed change of this file; the version stays beside it
as a comment in every workflow, so Dependabot and readers can see it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Pin:
    repository: str
    sha: str
    version: str

    @property
    def ref(self) -> str:
        return f"{self.repository}@{self.sha}"


PINS: dict[str, Pin] = {
    "checkout": Pin("actions/checkout", "11bd71901bbe5b1630ceea73d27597364c9af683", "v4.2.2"),
    "setup_python": Pin("actions/setup-python", "0b93645e9fea7318ecaed2b359559ac225c90a2b", "v5.3.0"),
    "upload_artifact": Pin("actions/upload-artifact", "ea165f8d65b6e75b540449e92b4886f43607fa02", "v4.6.2"),
    "download_artifact": Pin("actions/download-artifact", "d3f86a106a0bac45b974a628896c90dbdf5c8093", "v4.3.0"),
    # Cloud credentials from GitHub's OIDC token, for the jobs that read data (Project spec.cloud).
    "aws_credentials": Pin(
        "aws-actions/configure-aws-credentials", "e6de054238d6b7531b4efff3b6587d9aade6a06c", "v6.2.3"
    ),
    "gcp_auth": Pin("google-github-actions/auth", "7c6bc770dae815cd3e89ee6cdf493a5fab2cc093", "v3.0.0"),
    "azure_login": Pin("azure/login", "f5d393ae46f8fde4be8b75f32e3fc50e654ad0ca", "v3.0.1"),
    "upload_sarif": Pin("github/codeql-action/upload-sarif", "5d4e8d1aca955e8d8589aabd499c5cae939e33c7", "v4.31.9"),
    # Charter itself, through the `setup` action of this repository at this commit: Charter from the commit,
    # its dependencies from the commit's hashed lock. A Project can choose another commit (`ci.charter`).
    "charter": Pin("charter-dev/charter", "e379eb30708ba3b7552ec82d966952d5c70df094", "v0.1.0"),
}


def charter_setup(repository: str, commit: str) -> Pin:
    """The `uses:` of the step that installs Charter; the version comment only for the commit Charter knows."""
    known = PINS["charter"]
    version = known.version if (repository, commit) == (known.repository, known.sha) else "pinned in charter.yaml"
    return Pin(f"{repository}/setup", commit, version)
