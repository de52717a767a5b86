"""Breaking-change rules for where gates may send credentials: the base revision's Project decides.

`charter check` judges a contract's servers by the Project of the same revision (CH430). A pull request
that adds an endpoint to `spec.endpoints` and points a contract at it checks clean; so the plan says both:
- CH695: the Project's trusted list grows (an entry added, or its TLS or authentication lowered), at the
  line of charter.yaml. It is a governance change: the Project's owners approve it.
- CH696: a contract server that the base revision's Project would refuse, at the contract's line.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from compiler.core.diagnostics import PathSegment
from compiler.core.endpoints import DEFAULT_PORTS, Refusal, judge, normal_host
from compiler.core.models.endpoints import TrustedAccount, TrustedHost, TrustedUrl
from compiler.core.models.project import Project
from compiler.core.odcs import read_odcs
from compiler.plan.changes import SpecChange
from compiler.plan.rules import Context, Found, both_versions

_TLS_RANK = {"verify-full": 0, "require": 1, "disabled": 2}
_KINDS = ("s3", "postgres", "redshift", "azure")


def endpoints_widened(change: SpecChange, context: Context) -> Iterator[Found]:
    """Entries of `spec.endpoints` that the base's Project does not have, or has with stronger settings."""
    if (pair := both_versions(change)) is None:
        return
    old, new = pair[0].spec.model, pair[1].spec.model
    if not isinstance(old, Project) or not isinstance(new, Project):
        return
    for kind in _KINDS:
        before = {_key(kind, entry): entry for entry in getattr(old.spec.endpoints, kind)}
        for index, entry in enumerate(getattr(new.spec.endpoints, kind)):
            path: tuple[PathSegment, ...] = ("spec", "endpoints", kind, index)
            previous = before.get(_key(kind, entry))
            if previous is None:
                yield Found(
                    f"spec.endpoints.{kind} adds `{_label(kind, entry)}`: the gates may now send the job's "
                    "credentials there; a governance change for the Project's owners to approve",
                    path,
                )
            elif (lowered := _lowered(previous, entry)) is not None:
                yield Found(f"spec.endpoints.{kind} `{_label(kind, entry)}`: {lowered}", path)


def trusted_only_by_head(change: SpecChange, context: Context) -> Iterator[Found]:
    """Servers of an added or changed contract that the base revision's Project would not let a gate contact."""
    if change.head is None or change.status not in ("added", "changed"):
        return
    base, head = context.base.result.project, context.head.result.project
    for server in read_odcs(change.head.spec.data).servers:
        if isinstance(judge(server, head), Refusal):
            continue  # refused by the head's own Project too: CH430 in the check says so
        refused = judge(server, base)
        if isinstance(refused, Refusal):
            index = server.index
            at: tuple[PathSegment, ...] = ("servers", index, refused.field) if server.writes(refused.field) else ()
            yield Found(
                f"server `{server.name}`: {refused.message} by the base revision's Project; only this "
                "change's charter.yaml trusts it",
                at or ("servers", index),
            )


def _key(kind: str, entry: Any) -> tuple[Any, ...]:
    if isinstance(entry, TrustedUrl):
        return (entry.url.rstrip("/").lower(),)
    if isinstance(entry, TrustedHost):
        return (normal_host(entry.host), entry.port or DEFAULT_PORTS["redshift" if kind == "redshift" else "postgres"])
    return (entry.account,)


def _label(kind: str, entry: Any) -> str:
    if isinstance(entry, TrustedUrl):
        return entry.url
    if isinstance(entry, TrustedHost):
        return f"{entry.host}:{_key(kind, entry)[1]}"
    return str(entry.account)


def _lowered(before: Any, after: Any) -> str | None:
    if isinstance(before, TrustedAccount) or isinstance(after, TrustedAccount):
        return None
    if _TLS_RANK[after.tls] > _TLS_RANK[before.tls]:
        return f"TLS lowered from `{before.tls}` to `{after.tls}`; a governance change for the Project's owners"
    hosts = isinstance(before, TrustedHost) and isinstance(after, TrustedHost)
    # SCRAM is the strongest; a cleartext password the weakest.
    if hosts and before.auth != after.auth and (before.auth == "scram-sha-256" or after.auth == "password"):
        lowered = f"authentication lowered from `{before.auth}` to `{after.auth}`"
        return f"{lowered}; a governance change for the Project's owners"
    return None
