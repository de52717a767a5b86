"""Whether a contract's server may be contacted, decided by the Project's `spec.endpoints`, never by the contract.

One judgement for `charter check` (CH430 at the server's field) and for the gates (CH750, before any
connection): `judge(server, project)` returns the settings to connect with, or why not. Hosts are compared
after normalisation (case, a trailing dot, brackets, IP literals in their canonical form), so a listed host
matches however a contract spells it, and an unlisted one never does: `0x7f.1` or `2130706433` are not
`127.0.0.1` unless the Project lists them so.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import socket
from dataclasses import dataclass
from typing import Any

from compiler.core.models import patterns
from compiler.core.models.endpoints import TrustedEndpoints, TrustedHost
from compiler.core.models.project import Project
from compiler.core.odcs import Server

# Server types whose servers the gates contact with credentials, and the Project field that lists them.
DATABASE_TYPES = {"postgres": "postgres", "postgresql": "postgres", "redshift": "redshift"}
DEFAULT_PORTS = {"postgres": 5432, "redshift": 5439}
METADATA_HOSTS = frozenset({"169.254.169.254", "fd00:ec2::254", "metadata.google.internal", "metadata"})
_LEGACY_IPV4 = re.compile(r"[0-9a-fx.]+")
_AZURE_HOST_SUFFIXES = (".dfs.core.windows.net", ".blob.core.windows.net")


@dataclass(frozen=True)
class Refusal:
    """Why a server may not be contacted: `field` is the server's key the finding points at."""

    field: str
    message: str
    hint: str


@dataclass(frozen=True)
class Allowed:
    """How to connect: the TLS mode and, for databases, the one authentication method accepted."""

    tls: str = "verify-full"
    auth: str | None = None


def normal_host(host: str) -> str:
    """A host as compared: lower case, no trailing dot or brackets, an IP literal in canonical form."""
    text = host.strip().lower().rstrip(".")
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if _LEGACY_IPV4.fullmatch(text):
        # `2130706433`, `0x7f.1`, `127.1`: what the resolver connects to, written as it is compared.
        with contextlib.suppress(OSError):
            text = socket.inet_ntoa(socket.inet_aton(text))
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return text
    mapped = getattr(address, "ipv4_mapped", None)
    return str(mapped or address)


def special(host: str) -> str | None:
    """What is special about a host a contract may not choose unless listed: metadata, loopback, link-local."""
    normal = normal_host(host)
    if normal in METADATA_HOSTS:
        return "a cloud metadata address, which hands out the machine's credentials"
    if normal == "localhost" or normal.endswith(".localhost"):
        return "a loopback address"
    try:
        address = ipaddress.ip_address(normal)
    except ValueError:
        return None
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_unspecified:
        return "the unspecified address (this machine)"
    return None


def judge(server: Server, project: Project | None) -> Refusal | Allowed:
    """The settings to contact this server with, or why it may not be contacted."""
    trusted = project.spec.endpoints if project is not None else TrustedEndpoints()
    kind = server.kind
    if kind == "s3":
        region = server.region
        if region is not None and not (isinstance(region, str) and re.fullmatch(patterns.AWS_REGION, region)):
            # The SDK builds AWS's host name from the region: `x@evil.example/` would choose another host.
            return Refusal("region", f"region `{region}` is not an AWS region name", "for example eu-west-1")
        return _s3(server.endpoint_url, trusted)
    if kind == "azure":
        account = project.spec.cloud.azure.storage_account if project and project.spec.cloud.azure else None
        return _azure(server.location, trusted, account)
    if kind is not None and kind in DATABASE_TYPES:
        listed = trusted.postgres if DATABASE_TYPES[kind] == "postgres" else trusted.redshift
        return _database(server, DATABASE_TYPES[kind], listed)
    return Allowed()


def judge_s3_endpoint(endpoint_url: str | None, project: Project | None) -> Refusal | Allowed:
    """Whether an S3 endpoint that is not a contract's (a model store's) may be contacted: as an s3 server's."""
    return judge(Server(0, {"type": "s3", "endpointUrl": endpoint_url}), project)


def _s3(endpoint: Any, trusted: TrustedEndpoints) -> Refusal | Allowed:
    if endpoint is None:
        return Allowed()  # AWS's own endpoint for the region, over HTTPS
    origin = _origin(endpoint)
    if origin is None:
        return Refusal(
            "endpointUrl",
            f"endpointUrl `{endpoint}` is not an http(s) URL of one host",
            "write scheme, host and port, as listed in charter.yaml `spec.endpoints.s3`",
        )
    for entry in trusted.s3:
        if _origin(entry.url) == origin:
            return Allowed(entry.tls)
    scheme, host, port = origin
    what = special(host)
    why = f" ({what})" if what else ""
    shown = f"{scheme}://{host}:{port}"
    if scheme == "http":
        return Refusal(
            "endpointUrl",
            f"endpointUrl `{endpoint}` is plain HTTP{why}: the request signatures and session token would travel in "
            "clear, to an endpoint the Project does not list",
            f"use https://, and list it in charter.yaml `spec.endpoints.s3` (url: https://{host}:{port})",
        )
    return Refusal(
        "endpointUrl",
        f"endpointUrl `{endpoint}` is not a trusted S3 endpoint{why}: the gate would send it the job's credentials",
        f"list it in charter.yaml `spec.endpoints.s3` (url: {shown}), or leave endpointUrl out for AWS",
    )


def _origin(url: Any) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) URL naming one host and nothing else, or None."""
    if not isinstance(url, str):
        return None
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in ("http", "https"):
        return None
    authority = rest.rstrip("/")
    if not authority or any(c in authority for c in "/?#@\\ \t") or any(ord(c) < 0x21 for c in authority):
        return None
    host, port_text = authority, ""
    if authority.startswith("["):
        host, _, tail = authority[1:].partition("]")
        port_text = tail[1:] if tail.startswith(":") else tail
    elif authority.count(":") == 1:
        host, port_text = authority.split(":")
    if port_text and (not port_text.isdigit() or not 0 < int(port_text) < 65536):
        return None
    port = int(port_text) if port_text else (443 if scheme == "https" else 80)
    return scheme, normal_host(host), port


def azure_account(location: Any) -> tuple[str | None, str | None]:
    """(the account an abfss://container@account... location names, the host as written), else (None, None)."""
    if not isinstance(location, str) or "://" not in location:
        return None, None
    netloc = location.split("://", 1)[1].split("/", 1)[0]
    if "@" not in netloc:
        return None, None
    host = netloc.split("@", 1)[1]
    return host.split(".", 1)[0].lower(), host


def _azure(location: Any, trusted: TrustedEndpoints, cloud_account: str | None) -> Refusal | Allowed:
    account, host = azure_account(location)
    if account is None or host is None:
        return Allowed()  # the account comes from the job's environment, set from spec.cloud.azure
    if not host.lower().rstrip(".").endswith(_AZURE_HOST_SUFFIXES):
        return Refusal(
            "location",
            f"location names `{host}`, not an Azure storage host (account.dfs.core.windows.net)",
            "write abfss://container@account.dfs.core.windows.net/path",
        )
    if account == cloud_account or any(entry.account == account for entry in trusted.azure):
        return Allowed()
    return Refusal(
        "location",
        f"storage account `{account}` is not trusted: the gate would send it the job's Azure token",
        f"list it in charter.yaml `spec.endpoints.azure` (account: {account}), or use spec.cloud.azure.storageAccount",
    )


def _database(server: Server, kind: str, listed: list[TrustedHost]) -> Refusal | Allowed:
    host, port = server.host, server.port
    if not isinstance(host, str) or not host.strip():
        return Refusal(
            "host",
            f"a {kind} server without `host`: the job's environment would choose where the password goes",
            f"name the host, and list it in charter.yaml `spec.endpoints.{kind}`",
        )
    wanted = port if isinstance(port, int) and not isinstance(port, bool) else DEFAULT_PORTS[kind]
    if port is not None and wanted != port:
        return Refusal("port", f"port `{port}` is not a port number", "write the port as a number")
    for entry in listed:
        if normal_host(entry.host) == normal_host(host) and (entry.port or DEFAULT_PORTS[kind]) == wanted:
            return Allowed(entry.tls, entry.auth)
    what = special(host)
    why = f" ({what})" if what else ""
    # A listed host on another port: the port is what to fix.
    other_port = port is not None and any(normal_host(e.host) == normal_host(host) for e in listed)
    return Refusal(
        "port" if other_port else "host",
        f"{kind} host `{host}:{wanted}` is not trusted{why}: the gate would send it the database password",
        f"list it in charter.yaml `spec.endpoints.{kind}` (host: {host}, port: {wanted})",
    )
