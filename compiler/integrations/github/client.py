"""The PyGithub client: GitHub.com or Enterprise, retries with backoff, no secrets in messages.

Retries are PyGithub's `GithubRetry` (a urllib3 `Retry` that understands
GitHub's rate limits): 429 and 5xx answers and primary and secondary rate
limits (403 with `Retry-After`, or a rate-limit message with
`X-RateLimit-Reset`) are retried, for reads and writes alike, with
exponential backoff; a wait for a rate-limit reset longer than
`max_rate_limit_wait` gives up instead of stalling the job.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_API_URL = "https://api.github.com"
_RETRIED_STATUSES = (429, 500, 502, 503, 504)
_METHODS = frozenset({"GET", "HEAD", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"})


class NotInActions(Exception):
    """A variable GitHub Actions sets is missing."""


@dataclass(frozen=True)
class Settings:
    retries: int = 5
    backoff: float = 1.0  # seconds; doubles on each retry
    backoff_max: float = 60.0
    max_rate_limit_wait: float = 120.0
    secondary_rate_wait: float = 60.0  # GitHub: wait at least a minute after a secondary rate limit
    timeout: float = 30.0
    write_interval: float = 1.0  # GitHub asks for a second between content-creating requests


@dataclass(frozen=True)
class Environment:
    """What a GitHub Actions job knows about where it runs."""

    token: str
    repository: str  # owner/name
    sha: str | None
    api_url: str
    event: Mapping[str, object]
    event_name: str | None
    server_url: str
    run_id: str | None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Environment:
        import json

        env = os.environ if environ is None else environ
        missing = [name for name in ("GITHUB_TOKEN", "GITHUB_REPOSITORY") if not env.get(name)]
        if missing:
            raise NotInActions(f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set")
        repository = env["GITHUB_REPOSITORY"]
        if repository.count("/") != 1:
            raise NotInActions(f"GITHUB_REPOSITORY is `{repository}`, not owner/name")
        event: Mapping[str, object] = {}
        event_path = env.get("GITHUB_EVENT_PATH")
        if event_path:
            try:
                with open(event_path, encoding="utf-8") as handle:
                    loaded = json.load(handle)
                event = loaded if isinstance(loaded, dict) else {}
            except (OSError, ValueError) as error:
                raise NotInActions(f"cannot read GITHUB_EVENT_PATH ({event_path}): {error}") from None
        return cls(
            token=env["GITHUB_TOKEN"],
            repository=repository,
            sha=env.get("GITHUB_SHA") or None,
            api_url=(env.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/"),
            event=event,
            event_name=env.get("GITHUB_EVENT_NAME") or None,
            server_url=(env.get("GITHUB_SERVER_URL") or "https://github.com").rstrip("/"),
            run_id=env.get("GITHUB_RUN_ID") or None,
        )

    def scrub(self, text: str) -> str:
        """Never show the token, whatever an error message carries."""
        return text.replace(self.token, "***") if self.token else text


def connect(environment: Environment, settings: Settings) -> object:
    """A `github.Github` for the job's repository host; lazy, so objects cost no request until used."""
    from github import Auth, Github, GithubRetry

    retry = GithubRetry(
        total=settings.retries,
        connect=settings.retries,
        read=settings.retries,
        backoff_factor=settings.backoff,
        backoff_max=settings.backoff_max,
        status_forcelist=list(_RETRIED_STATUSES),
        allowed_methods=_METHODS,
        respect_retry_after_header=True,
        raise_on_status=False,
        secondary_rate_wait=settings.secondary_rate_wait,
        max_rate_limit_wait=settings.max_rate_limit_wait,
    )
    from compiler import __version__

    return Github(
        auth=Auth.Token(environment.token),
        base_url=environment.api_url,
        timeout=max(1, round(settings.timeout)),
        user_agent=f"charter/{__version__}",
        per_page=100,
        retry=retry,
        seconds_between_requests=min(settings.write_interval, 0.25) or None,
        seconds_between_writes=settings.write_interval or None,
        lazy=True,
    )
