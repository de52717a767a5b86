"""Project `spec.endpoints`: where the gates may send the job's credentials, per server type.

The organisation decides where credentials go, not a contract (THREATS.md, "The checkout reaches out"): a
contract's `endpointUrl`, database `host`/`port` or Azure storage account is contacted only when it is listed
here. Object storage at the cloud's own endpoint (S3 without `endpointUrl`, Google Cloud Storage) needs no entry.
TLS is the default everywhere; an entry may lower it for its one host, with a reason.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from compiler.core.models.common import CharterModel

# A host name or an IP literal (IPv6 without brackets): one host, never a list, a path or a conninfo string.
HOST_PATTERN = (
    r"^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?|[0-9A-Fa-f:.]+)$"
)
Host = Annotated[str, StringConstraints(pattern=HOST_PATTERN, min_length=1, max_length=253)]
Reason = Annotated[str, StringConstraints(min_length=10, max_length=500)]
TlsMode = Literal["verify-full", "require", "disabled"]
AuthMethod = Literal["scram-sha-256", "md5", "password", "gss"]


class TrustedUrl(CharterModel):
    """An S3-compatible endpoint a contract's `endpointUrl` may name (MinIO, Ceph, a private AWS endpoint)."""

    url: Annotated[str, StringConstraints(pattern=r"^https?://[^/?#@\s]+/?$", max_length=300)] = Field(
        examples=["https://minio.data.acme.internal:9000"]
    )
    """Scheme, host and port; `http://` only with `tls: disabled`."""
    tls: Literal["verify-full", "disabled"] = "verify-full"
    """`disabled` lets this one endpoint be plain HTTP: the request signatures and session token travel in clear."""
    reason: Reason | None = None
    """Why TLS is off for this endpoint; required with `tls: disabled`."""

    @model_validator(mode="after")
    def _plain_http_is_explicit(self) -> TrustedUrl:
        plain = self.url.startswith("http://")
        if plain != (self.tls == "disabled"):
            raise ValueError("an `http://` endpoint needs `tls: disabled`, and `tls: disabled` an `http://` url")
        if self.tls == "disabled" and self.reason is None:
            raise ValueError("`tls: disabled` needs a `reason`")
        return self


class TrustedHost(CharterModel):
    """A database server a contract's `host` and `port` may name."""

    host: Host = Field(examples=["lending-db.acme-bank.internal"])
    port: int | None = Field(default=None, ge=1, le=65535)
    """Leave out for the type's default port (5432 for PostgreSQL, 5439 for Redshift)."""
    tls: TlsMode = "verify-full"
    """`verify-full` (the default): TLS with the server's certificate checked against the trusted roots
    (`PGSSLROOTCERT`, else the system's) and its name against `host`. `require`: TLS, certificate unchecked.
    `disabled`: no TLS."""
    auth: AuthMethod = "scram-sha-256"
    """The only authentication the gate accepts from this server (libpq's `require_auth`): a server that asks for
    anything else is left before the password is sent."""
    reason: Reason | None = None
    """Why this host has weaker settings than `verify-full` and `scram-sha-256`; required then."""

    @model_validator(mode="after")
    def _weaker_settings_have_a_reason(self) -> TrustedHost:
        if (self.tls != "verify-full" or self.auth != "scram-sha-256") and self.reason is None:
            raise ValueError(
                "a host with `tls` other than verify-full or `auth` other than scram-sha-256 needs a `reason`"
            )
        return self


class TrustedAccount(CharterModel):
    """An Azure storage account an `abfss://container@account...` location may name."""

    account: Annotated[str, StringConstraints(pattern=r"^[a-z0-9]{3,24}$")] = Field(examples=["acmelendinglake"])


class TrustedEndpoints(CharterModel):
    """Where gates may connect, per server type. Anything else is refused: CH430 in `charter check`, and the gate
    stops before connecting (CH750). Loopback, link-local and cloud metadata addresses are refused unless listed."""

    s3: list[TrustedUrl] = Field(default_factory=list)
    """`endpointUrl` values of `s3` servers; an `s3` server without one goes to AWS's own endpoint."""
    postgres: list[TrustedHost] = Field(default_factory=list)
    """Hosts of `postgres` (and `postgresql`) servers."""
    redshift: list[TrustedHost] = Field(default_factory=list)
    """Hosts of `redshift` servers."""
    azure: list[TrustedAccount] = Field(default_factory=list)
    """Storage accounts of `azure` servers, besides `spec.cloud.azure.storageAccount`."""
