"""Sign-in and family-lookup limits that every worker of a cluster shares, in PostgreSQL.

A guesser behind a load balancer reaches every worker in turn; counts kept per process would
give them one allowance per worker. So in a cluster the counts live in one table,
`limit_counts`, and each change is one atomic upsert (`INSERT … ON CONFLICT DO UPDATE`, which
locks the key's row for its transaction), so twenty attempts sent at once to three workers are
counted twenty times, never checked against a stale count.

The limits and their numbers are those of `adapters.auth.limits` (which says why), with one
difference of shape: a window is fixed, from the first event it counts until `window` later,
where the one-process limiter slides. The allowance over time is the same (five sign-in
attempts at an account per fifteen minutes, ten failed lookups per address per minute); only
at a window's edge can a guesser fit up to twice the allowance in one stretch of that length.
An address's bucket is a leaky bucket as before, kept as its level and when. A refused attempt
counts nowhere, as before: its transaction is rolled back.

What is counted is never stored: each key is an HMAC of the kind and the value (an account's
school and email, a device's id, an address) under a key derived from the server's secret, so
the table holds neither addresses nor emails. Rows past their `expires_at` count for nothing and
are deleted by whichever worker writes next, at most once a minute per worker.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.types import Float

from safeclass.adapters.auth.limits import Attempt, TooManyAttemptsError
from safeclass.adapters.store.tables import UTCDateTime

LIMIT_KEY = "limit-keys"  # the name of the key that hashes what is counted (ServerSecret.derive)
CLEAN_EVERY = dt.timedelta(minutes=1)

_NOW = bindparam("now", type_=UTCDateTime())
_EVERY = bindparam("every", type_=Float())  # seconds
_WINDOW_ADD = text(
    """
    INSERT INTO limit_counts AS l (key, count, at, expires_at)
    VALUES (:key, 1, :now, :ends)
    ON CONFLICT (key) DO UPDATE SET
        count = CASE WHEN l.expires_at <= :now THEN 1 ELSE l.count + 1 END,
        at = CASE WHEN l.expires_at <= :now THEN :now ELSE l.at END,
        expires_at = CASE WHEN l.expires_at <= :now THEN :ends ELSE l.expires_at END
    RETURNING count, expires_at
    """
).bindparams(_NOW, bindparam("ends", type_=UTCDateTime()))
_WINDOW_PEEK = text(
    "SELECT count, expires_at FROM limit_counts WHERE key = :key AND expires_at > :now"
).bindparams(_NOW)
# The bucket's new level: what it held at `at`, less what has leaked away since, plus one; it is
# empty again that many `every`s after the later of `now` and `at`.
_BUCKET_ADD = text(
    """
    INSERT INTO limit_counts AS l (key, count, at, expires_at)
    VALUES (:key, 1, :now, :empty)
    ON CONFLICT (key) DO UPDATE SET
        count = GREATEST(0.0, l.count - GREATEST(0.0,
            CAST(EXTRACT(EPOCH FROM (:now - l.at)) AS double precision)) / :every) + 1,
        at = GREATEST(:now, l.at),
        expires_at = GREATEST(:now, l.at) + (GREATEST(0.0, l.count - GREATEST(0.0,
            CAST(EXTRACT(EPOCH FROM (:now - l.at)) AS double precision)) / :every) + 1)
            * :every * INTERVAL '1 second'
    RETURNING count
    """
).bindparams(_NOW, _EVERY, bindparam("empty", type_=UTCDateTime()))
_TAKE_BACK = text("UPDATE limit_counts SET count = GREATEST(count - 1, 0) WHERE key = :key")
_CLEAR = text("DELETE FROM limit_counts WHERE key = :key")
_CLEAN = text("DELETE FROM limit_counts WHERE expires_at <= :now").bindparams(_NOW)


class _Counts:
    """The shared counts: windows and buckets by hashed key."""

    def __init__(self, engine: AsyncEngine, key: bytes) -> None:
        self._engine = engine
        self._key = key
        self._cleaned: dt.datetime | None = None

    def key(self, kind: str, value: str) -> str:
        return hmac.new(self._key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()

    async def window_add(
        self, conn: AsyncConnection, key: str, window: dt.timedelta, now: dt.datetime
    ) -> tuple[float, dt.datetime]:
        """Count one event in `key`'s window; the count with it, and when the window ends."""
        params = {"key": key, "now": now, "ends": now + window}
        count, ends = (await conn.execute(_WINDOW_ADD, params)).one()
        await self._clean(conn, now)
        return float(count), ends

    async def window_peek(self, key: str, now: dt.datetime) -> tuple[float, dt.datetime] | None:
        async with self._engine.connect() as conn:
            row = (await conn.execute(_WINDOW_PEEK, {"key": key, "now": now})).first()
        return None if row is None else (float(row[0]), row[1])

    async def bucket_add(
        self, conn: AsyncConnection, key: str, every: dt.timedelta, now: dt.datetime
    ) -> float:
        """Add one to `key`'s bucket; its level with it."""
        seconds = every.total_seconds()
        params = {"key": key, "now": now, "empty": now + every, "every": seconds}
        return float((await conn.execute(_BUCKET_ADD, params)).scalar_one())

    async def take_back(self, conn: AsyncConnection, key: str) -> None:
        await conn.execute(_TAKE_BACK, {"key": key})

    async def clear(self, conn: AsyncConnection, key: str) -> None:
        await conn.execute(_CLEAR, {"key": key})

    async def _clean(self, conn: AsyncConnection, now: dt.datetime) -> None:
        if self._cleaned is not None and now - self._cleaned < CLEAN_EVERY:
            return
        self._cleaned = now
        await conn.execute(_CLEAN, {"now": now})


class SharedLoginLimiter:
    """`LoginLimits` shared by a cluster: per trusted browser, per account, per address."""

    def __init__(
        self,
        engine: AsyncEngine,
        key: bytes,
        *,
        per_device: int = 5,
        per_account: int = 5,
        window: dt.timedelta = dt.timedelta(minutes=15),
        per_client_burst: int = 10,
        per_client_every: dt.timedelta = dt.timedelta(seconds=30),
    ) -> None:
        """`key`: `ServerSecret.derive(LIMIT_KEY)`, the same on every worker."""
        self._engine = engine
        self._counts = _Counts(engine, key)
        self.per_device = per_device
        self.per_account = per_account
        self.window = window
        self.burst = per_client_burst
        self.every = per_client_every

    async def attempt(
        self, *, account: str, device: str | None, client: str, now: dt.datetime
    ) -> Attempt:
        """Count an attempt, or raise TooManyAttemptsError (as `LoginLimiter.attempt`)."""
        counts = self._counts
        # A refusal raises inside the transaction, which is rolled back: it is not counted.
        async with self._engine.begin() as conn:
            if device is not None:
                key = counts.key("device", device)
                count, ends = await counts.window_add(conn, key, self.window, now)
                if count > self.per_device:
                    raise TooManyAttemptsError(ends - now)
                return Attempt(key, None, now)
            key = counts.key("account", account)
            count, ends = await counts.window_add(conn, key, self.window, now)
            if count > self.per_account:
                raise TooManyAttemptsError(ends - now)
            client_key = counts.key("client", client)
            level = await counts.bucket_add(conn, client_key, self.every, now)
            if level > self.burst:
                raise TooManyAttemptsError(self.every * (level - self.burst))
            return Attempt(key, client_key, now)

    async def succeeded(self, attempt: Attempt) -> None:
        """The attempt succeeded: it does not count, nor do the failures before it."""
        async with self._engine.begin() as conn:
            await self._counts.clear(conn, attempt.key)
            if attempt.client is not None:
                await self._counts.take_back(conn, attempt.client)


class SharedLookupLimiter:
    """`LookupLimits` shared by a cluster: failed family lookups per address."""

    def __init__(
        self,
        engine: AsyncEngine,
        key: bytes,
        *,
        per_client: int = 10,
        window: dt.timedelta = dt.timedelta(minutes=1),
    ) -> None:
        """`key`: `ServerSecret.derive(LIMIT_KEY)`, the same on every worker."""
        self._engine = engine
        self._counts = _Counts(engine, key)
        self.per_client = per_client
        self.window = window

    async def check(self, client: str, now: dt.datetime) -> None:
        """Raise TooManyAttemptsError if this address must wait before looking anything up."""
        found = await self._counts.window_peek(self._counts.key("lookup", client), now)
        if found is not None and found[0] >= self.per_client:
            raise TooManyAttemptsError(found[1] - now)

    async def failed(self, client: str, now: dt.datetime) -> None:
        async with self._engine.begin() as conn:
            await self._counts.window_add(
                conn, self._counts.key("lookup", client), self.window, now
            )
