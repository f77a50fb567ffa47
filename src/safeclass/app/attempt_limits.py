"""How often a guesser may try: the limits port (sign-in attempts, failed family lookups).

The app owns these interfaces and values; `safeclass.adapters.auth.limits` keeps the counts in
this process's memory and `safeclass.adapters.store.shared_limits` shares them between a
cluster's workers in PostgreSQL. The composition root (bootstrap.py) chooses, and the web layer
takes whichever it chose from `Services` (`login_limits`, `lookup_limits`).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Protocol


class TooManyAttemptsError(Exception):
    """Refused before any work: the caller answers 429 with Retry-After."""

    def __init__(self, retry_after: dt.timedelta) -> None:
        self.retry_after_seconds = max(1, math.ceil(retry_after.total_seconds()))
        super().__init__(f"Too many attempts: wait {_how_long(self.retry_after_seconds)}")


def _how_long(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


@dataclass(frozen=True, slots=True)
class Attempt:
    """One counted sign-in attempt, so that a success can take it back."""

    key: str
    client: str | None  # the address it was counted under (untrusted attempts only)
    started: dt.datetime


class LoginLimits(Protocol):
    """Counts sign-in attempts (in this process, or shared by a cluster's workers)."""

    async def attempt(
        self, *, account: str, device: str | None, client: str, now: dt.datetime
    ) -> Attempt:
        """Count an attempt, or raise TooManyAttemptsError."""
        ...

    async def succeeded(self, attempt: Attempt) -> None:
        """The attempt succeeded: it does not count, nor do the failures before it."""
        ...


class LookupLimits(Protocol):
    """Counts failed family link and pupil-cookie lookups per address."""

    async def check(self, client: str, now: dt.datetime) -> None:
        """Raise TooManyAttemptsError if this address must wait before looking anything up."""
        ...

    async def failed(self, client: str, now: dt.datetime) -> None:
        """A lookup from this address matched nothing."""
        ...
