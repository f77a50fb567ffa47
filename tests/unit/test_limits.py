"""The sign-in and family-lookup limiters: who is held back, for how long, and who never is."""

from __future__ import annotations

import datetime as dt

import pytest

from safeclass.adapters.auth.limits import LoginLimiter, LookupLimiter, TooManyAttemptsError

NOW = dt.datetime(2026, 11, 24, 8, 55, tzinfo=dt.UTC)
KHAN = "claydon:khan@school.test"


# covers: C21, CLA-16
async def test_the_sixth_untrusted_attempt_at_one_account_within_fifteen_minutes_is_refused():
    limiter = LoginLimiter()
    for i in range(5):
        await limiter.attempt(account=KHAN, device=None, client=f"10.0.0.{i}", now=NOW)
    with pytest.raises(TooManyAttemptsError, match="wait 15 minutes") as caught:
        await limiter.attempt(account=KHAN, device=None, client="10.0.1.1", now=NOW)
    assert caught.value.retry_after_seconds == 15 * 60
    with pytest.raises(TooManyAttemptsError, match=r"wait 1 minute$"):
        await limiter.attempt(
            account=KHAN, device=None, client="10.0.1.1", now=NOW + dt.timedelta(minutes=14)
        )
    await limiter.attempt(
        account=KHAN, device=None, client="10.0.1.1", now=NOW + dt.timedelta(minutes=15)
    )


# covers: C21, CLA-16
async def test_a_trusted_browser_is_judged_by_its_own_failures_only():
    limiter = LoginLimiter()
    for _ in range(5):
        await limiter.attempt(account=KHAN, device=None, client="10.0.0.1", now=NOW)
    await limiter.attempt(account=KHAN, device="laptop", client="10.0.0.1", now=NOW)  # not locked
    for _ in range(4):
        await limiter.attempt(account=KHAN, device="laptop", client="10.0.0.1", now=NOW)
    with pytest.raises(TooManyAttemptsError, match="wait 15 minutes"):
        await limiter.attempt(account=KHAN, device="laptop", client="10.0.0.1", now=NOW)
    await limiter.attempt(account=KHAN, device="tablet", client="10.0.0.1", now=NOW)


async def test_a_success_takes_back_the_failures_before_it():
    limiter = LoginLimiter()
    for _ in range(4):
        await limiter.attempt(account=KHAN, device=None, client="10.0.0.1", now=NOW)
    ok = await limiter.attempt(account=KHAN, device=None, client="10.0.0.1", now=NOW)
    await limiter.succeeded(ok)
    for _ in range(5):
        await limiter.attempt(account=KHAN, device=None, client="10.0.0.1", now=NOW)


# covers: C21, CLA-16
async def test_one_address_is_slowed_to_one_untrusted_attempt_every_thirty_seconds():
    limiter = LoginLimiter()
    for i in range(10):
        await limiter.attempt(
            account=f"claydon:t{i}@school.test", device=None, client="203.0.113.9", now=NOW
        )
    with pytest.raises(TooManyAttemptsError, match="wait 30 seconds"):
        await limiter.attempt(
            account="claydon:new@school.test", device=None, client="203.0.113.9", now=NOW
        )
    await limiter.attempt(
        account="claydon:new@school.test", device=None, client="198.51.100.1", now=NOW
    )
    await limiter.attempt(account=KHAN, device="laptop", client="203.0.113.9", now=NOW)  # trusted
    later = NOW + dt.timedelta(seconds=30)
    await limiter.attempt(
        account="claydon:new@school.test", device=None, client="203.0.113.9", now=later
    )
    with pytest.raises(TooManyAttemptsError):
        await limiter.attempt(
            account="claydon:x@school.test", device=None, client="203.0.113.9", now=later
        )


async def test_the_limiters_forget_old_keys_instead_of_growing_without_bound():
    logins = LoginLimiter(max_keys=10)
    lookups = LookupLimiter(max_keys=10)
    for i in range(100):
        at = NOW + dt.timedelta(minutes=i)
        await logins.attempt(
            account=f"claydon:g{i}@school.test", device=None, client=f"10.0.0.{i}", now=at
        )
        await lookups.failed(f"10.0.0.{i}", at)
    assert len(logins._windows._times) <= 10 and len(logins._clients._levels) <= 10
    assert len(lookups._windows._times) <= 10


# covers: C2, WER-02
async def test_failed_lookups_from_one_address_wait_out_the_minute():
    limiter = LookupLimiter()
    for _ in range(10):
        await limiter.check("203.0.113.9", NOW)
        await limiter.failed("203.0.113.9", NOW)
    with pytest.raises(TooManyAttemptsError, match="wait 59 seconds"):
        await limiter.check("203.0.113.9", NOW + dt.timedelta(seconds=1))
    await limiter.check("198.51.100.1", NOW)
    await limiter.check("203.0.113.9", NOW + dt.timedelta(minutes=1))
