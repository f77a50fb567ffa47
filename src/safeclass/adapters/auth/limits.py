"""How often a guesser may try: sign-in attempts, and failed family link or cookie lookups.

Limits must slow a guesser without letting the guesser keep anyone else out. Sign-in follows
OWASP's "device cookie" design: a browser that has signed in to an account before holds a
device token for it, and its attempts are judged only by that browser's own failures (five in
15 minutes lock that one browser). Attempts without one ("untrusted") share a per-account lock
(five in 15 minutes), which never touches trusted browsers, so a pupil who types wrong
passwords for their teacher locks out only untrusted browsers. Untrusted attempts from one
address are slowed, not locked: ten at once, then one every 30 seconds, so a whole school
behind one public address waits seconds at worst, and staff on their usual browsers not at all.

An attempt counts from the moment it starts (so twenty sent at once are not all checked); a
success takes it back. Family lookups (a link or pupil cookie that matches nothing) are
counted per address: more than ten in a minute, and that address gets 429 for the rest of the
minute; lookups that find something never count, so families whose links work are never slowed.

The limiters here keep everything in this process's memory, one of each per server; keys are
bounded: when full, empty ones go first, then the oldest. A cluster of workers shares its
counts in PostgreSQL instead (adapters/store/shared_limits.py), behind the same two interfaces
(`LoginLimits`, `LookupLimits`: the app's, in app/attempt_limits.py), which are async so that a
shared count never blocks the event loop; the composition root (bootstrap.py) chooses.
"""

from __future__ import annotations

import collections
import datetime as dt
from dataclasses import dataclass

# The port's values and interfaces (app/attempt_limits.py), named here too for older imports.
from safeclass.app.attempt_limits import Attempt as Attempt
from safeclass.app.attempt_limits import LoginLimits as LoginLimits
from safeclass.app.attempt_limits import LookupLimits as LookupLimits
from safeclass.app.attempt_limits import TooManyAttemptsError as TooManyAttemptsError


class _Windows:
    """Times of recent events per key, forgotten after `window`."""

    def __init__(self, window: dt.timedelta, max_keys: int) -> None:
        self.window = window
        self._max_keys = max_keys
        self._times: dict[str, collections.deque[dt.datetime]] = {}

    def retry_after(self, key: str, limit: int, now: dt.datetime) -> dt.timedelta | None:
        """How long until `key` may act again, or None if it is under `limit` now."""
        recent = self._recent(key, now)
        return recent[-limit] + self.window - now if len(recent) >= limit else None

    def add(self, key: str, now: dt.datetime) -> None:
        times = self._recent(key, now)
        if not times:
            self._times[key] = times
            if len(self._times) > self._max_keys:
                self._prune(now)
        times.append(now)

    def take_back(self, key: str, at: dt.datetime) -> None:
        times = self._times.get(key)
        if times is not None and at in times:
            times.remove(at)

    def clear(self, key: str) -> None:
        self._times.pop(key, None)

    def _recent(self, key: str, now: dt.datetime) -> collections.deque[dt.datetime]:
        times = self._times.get(key, collections.deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def _prune(self, now: dt.datetime) -> None:
        for key in list(self._times):
            if not self._recent(key, now):
                del self._times[key]
        while len(self._times) > self._max_keys:  # still full: forget the oldest keys
            del self._times[next(iter(self._times))]


@dataclass(slots=True)
class _Level:
    used: float
    at: dt.datetime


class _Buckets:
    """A leaky bucket per key: `burst` at once, then one more every `every`."""

    def __init__(self, burst: int, every: dt.timedelta, max_keys: int) -> None:
        self.burst = burst
        self.every = every
        self._max_keys = max_keys
        self._levels: dict[str, _Level] = {}

    def retry_after(self, key: str, now: dt.datetime) -> dt.timedelta | None:
        used = self._drain(key, now)
        return self.every * (used + 1 - self.burst) if used + 1 > self.burst else None

    def add(self, key: str, now: dt.datetime) -> None:
        used = self._drain(key, now) + 1
        self._levels.pop(key, None)  # re-inserted last: the dict's order is oldest first
        if len(self._levels) >= self._max_keys:
            for other in list(self._levels):
                if self._drain(other, now) == 0:
                    del self._levels[other]
            while len(self._levels) >= self._max_keys:
                del self._levels[next(iter(self._levels))]
        self._levels[key] = _Level(used, now)

    def take_back(self, key: str) -> None:
        level = self._levels.get(key)
        if level is not None:
            level.used = max(0.0, level.used - 1)

    def _drain(self, key: str, now: dt.datetime) -> float:
        level = self._levels.get(key)
        if level is None:
            return 0.0
        drained = max(0.0, level.used - (now - level.at) / self.every)
        level.used, level.at = drained, max(now, level.at)
        return drained


class LoginLimiter:
    """Sign-in attempts per trusted browser, per account for untrusted ones, and per address."""

    def __init__(
        self,
        *,
        per_device: int = 5,
        per_account: int = 5,
        window: dt.timedelta = dt.timedelta(minutes=15),
        per_client_burst: int = 10,
        per_client_every: dt.timedelta = dt.timedelta(seconds=30),
        max_keys: int = 50_000,
    ) -> None:
        self.per_device = per_device
        self.per_account = per_account
        self._windows = _Windows(window, max_keys)
        self._clients = _Buckets(per_client_burst, per_client_every, max_keys)

    async def attempt(
        self, *, account: str, device: str | None, client: str, now: dt.datetime
    ) -> Attempt:
        """Count an attempt, or raise TooManyAttemptsError.

        `account` names what is signed in to (school key and email, whether or not it exists,
        so the limit reveals nothing); `device` is the id of this browser's device token for
        that very account, or None.
        """
        if device is not None:
            key = f"device:{device}"
            wait = self._windows.retry_after(key, self.per_device, now)
            if wait is not None:
                raise TooManyAttemptsError(wait)
            self._windows.add(key, now)
            return Attempt(key, None, now)
        key = f"account:{account}"
        client_key = f"client:{client}"
        wait = self._windows.retry_after(key, self.per_account, now)
        if wait is None:
            wait = self._clients.retry_after(client_key, now)
        if wait is not None:
            raise TooManyAttemptsError(wait)
        self._windows.add(key, now)
        self._clients.add(client_key, now)
        return Attempt(key, client_key, now)

    async def succeeded(self, attempt: Attempt) -> None:
        """The attempt succeeded: it does not count, nor do the failures before it."""
        self._windows.clear(attempt.key)
        if attempt.client is not None:
            self._clients.take_back(attempt.client)


class LookupLimiter:
    """Failed family link and pupil-cookie lookups per address (see the module docstring)."""

    def __init__(
        self,
        *,
        per_client: int = 10,
        window: dt.timedelta = dt.timedelta(minutes=1),
        max_keys: int = 50_000,
    ) -> None:
        self.per_client = per_client
        self._windows = _Windows(window, max_keys)

    async def check(self, client: str, now: dt.datetime) -> None:
        """Raise TooManyAttemptsError if this address must wait before looking anything up."""
        wait = self._windows.retry_after(client, self.per_client, now)
        if wait is not None:
            raise TooManyAttemptsError(wait)

    async def failed(self, client: str, now: dt.datetime) -> None:
        self._windows.add(client, now)
