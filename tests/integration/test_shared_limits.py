"""The limits a cluster's workers share in PostgreSQL hold back whom the one-process limits do.

Each scenario of tests/unit/test_limits.py runs here against two shared limiters on one real
database (two workers), alternating between them; and twenty attempts sent at once to both are
counted as twenty. The table keeps neither addresses nor emails, and forgets what has expired.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from safeclass.adapters.auth.limits import TooManyAttemptsError
from safeclass.adapters.store.shared_limits import (
    CLEAN_EVERY,
    SharedLoginLimiter,
    SharedLookupLimiter,
)
from safeclass.adapters.store.tables import LimitCount

pytestmark = [pytest.mark.postgres, pytest.mark.parametrize("db_url", ["postgres"], indirect=True)]

NOW = dt.datetime(2026, 11, 24, 8, 55, tzinfo=dt.UTC)
KHAN = "claydon:khan@school.test"
KEY = b"k" * 32


def workers(engine: AsyncEngine) -> tuple[SharedLoginLimiter, SharedLoginLimiter]:
    """Two workers' limiters (each its own object, as in two processes) on one database."""
    return SharedLoginLimiter(engine, KEY), SharedLoginLimiter(engine, KEY)


# covers: C21, CLA-16
async def test_the_sixth_attempt_at_one_account_is_refused_whichever_worker_it_reaches(
    engine: AsyncEngine,
):
    one, two = workers(engine)
    for i in range(5):
        await (one, two)[i % 2].attempt(account=KHAN, device=None, client=f"10.0.0.{i}", now=NOW)
    with pytest.raises(TooManyAttemptsError, match="wait 15 minutes") as caught:
        await two.attempt(account=KHAN, device=None, client="10.0.1.1", now=NOW)
    assert caught.value.retry_after_seconds == 15 * 60
    with pytest.raises(TooManyAttemptsError, match=r"wait 1 minute$"):
        await one.attempt(
            account=KHAN, device=None, client="10.0.1.1", now=NOW + dt.timedelta(minutes=14)
        )
    await two.attempt(
        account=KHAN, device=None, client="10.0.1.1", now=NOW + dt.timedelta(minutes=15)
    )


# covers: C21, CLA-16
async def test_a_trusted_browser_is_judged_by_its_own_failures_on_every_worker(
    engine: AsyncEngine,
):
    one, two = workers(engine)
    for _ in range(5):
        await one.attempt(account=KHAN, device=None, client="10.0.0.1", now=NOW)
    await two.attempt(account=KHAN, device="laptop", client="10.0.0.1", now=NOW)  # not locked
    for i in range(4):
        await (one, two)[i % 2].attempt(account=KHAN, device="laptop", client="10.0.0.1", now=NOW)
    with pytest.raises(TooManyAttemptsError, match="wait 15 minutes"):
        await one.attempt(account=KHAN, device="laptop", client="10.0.0.1", now=NOW)
    await two.attempt(account=KHAN, device="tablet", client="10.0.0.1", now=NOW)


async def test_a_success_on_one_worker_takes_back_the_failures_counted_by_another(
    engine: AsyncEngine,
):
    one, two = workers(engine)
    for _ in range(4):
        await one.attempt(account=KHAN, device=None, client="10.0.0.1", now=NOW)
    ok = await two.attempt(account=KHAN, device=None, client="10.0.0.1", now=NOW)
    await two.succeeded(ok)
    for _ in range(5):
        await one.attempt(account=KHAN, device=None, client="10.0.0.1", now=NOW)


# covers: C21, CLA-16
async def test_one_address_is_slowed_to_one_untrusted_attempt_every_thirty_seconds_in_all(
    engine: AsyncEngine,
):
    one, two = workers(engine)
    for i in range(10):
        await (one, two)[i % 2].attempt(
            account=f"claydon:t{i}@school.test", device=None, client="203.0.113.9", now=NOW
        )
    with pytest.raises(TooManyAttemptsError, match="wait 30 seconds"):
        await one.attempt(
            account="claydon:new@school.test", device=None, client="203.0.113.9", now=NOW
        )
    await two.attempt(
        account="claydon:new@school.test", device=None, client="198.51.100.1", now=NOW
    )
    await one.attempt(account=KHAN, device="laptop", client="203.0.113.9", now=NOW)  # trusted
    later = NOW + dt.timedelta(seconds=30)
    await two.attempt(
        account="claydon:new@school.test", device=None, client="203.0.113.9", now=later
    )
    with pytest.raises(TooManyAttemptsError):
        await one.attempt(
            account="claydon:x@school.test", device=None, client="203.0.113.9", now=later
        )


# covers: C21
async def test_twenty_attempts_sent_at_once_to_two_workers_let_five_through(
    engine: AsyncEngine,
):
    one, two = workers(engine)

    async def attempt(i: int) -> bool:
        try:
            await (one, two)[i % 2].attempt(
                account=KHAN, device=None, client=f"10.0.{i}.1", now=NOW
            )
        except TooManyAttemptsError:
            return False
        return True

    let_through = await asyncio.gather(*(attempt(i) for i in range(20)))
    assert sum(let_through) == 5


# covers: C2, WER-02
async def test_failed_lookups_on_one_worker_slow_the_address_on_another(engine: AsyncEngine):
    one, two = SharedLookupLimiter(engine, KEY), SharedLookupLimiter(engine, KEY)
    for i in range(10):
        await (one, two)[i % 2].check("203.0.113.9", NOW)
        await (one, two)[i % 2].failed("203.0.113.9", NOW)
    with pytest.raises(TooManyAttemptsError, match="wait 59 seconds"):
        await two.check("203.0.113.9", NOW + dt.timedelta(seconds=1))
    await one.check("198.51.100.1", NOW)
    await two.check("203.0.113.9", NOW + dt.timedelta(minutes=1))


async def test_the_table_keeps_no_address_or_email_and_forgets_what_expired(engine: AsyncEngine):
    logins, lookups = SharedLoginLimiter(engine, KEY), SharedLookupLimiter(engine, KEY)
    await logins.attempt(account=KHAN, device=None, client="203.0.113.9", now=NOW)
    await lookups.failed("198.51.100.7", NOW)
    async with engine.connect() as conn:
        rows = (await conn.execute(select(LimitCount))).all()
    assert len(rows) == 3  # the account's window, the address's bucket, the lookups' window
    stored = " ".join(str(value) for row in rows for value in row)
    for secret in ("khan", "school.test", "203.0.113", "198.51.100"):
        assert secret not in stored
    # a later write, once the rows have expired and a minute has passed, deletes them
    later = NOW + dt.timedelta(minutes=16) + CLEAN_EVERY
    await lookups.failed("192.0.2.1", later)
    async with engine.connect() as conn:
        left = (await conn.execute(select(LimitCount.expires_at))).scalars().all()
    assert left == [later + dt.timedelta(minutes=1)]
