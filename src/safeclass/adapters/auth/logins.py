"""Staff sign-in and sign-out: a login per browser, its cookie token, and the attempt limiter.

Signing in checks school, email and password and creates a `StaffLogin` row that keeps only the
hash of a random token; the token goes to the browser once, in its cookie. A login lasts a
school day. Every refusal says the same thing, after the same work (an unknown email is checked
against a dummy hash), so a guesser cannot learn which staff have accounts; a disabled account
is refused with that message too. Password hashing runs in a worker thread so a sign-in never
stalls the live rooms on the event loop.

The CSRF token of a login is an HMAC keyed by the login's own token: the browser's scripts
cannot read the HttpOnly cookie and another site can read neither it nor `/auth/me`, so only
the signed-in page can know the CSRF token, and the CSRF token does not reveal the cookie. It
needs no server secret (several workers agree on it) and no column: it ends with the login.
"""

from __future__ import annotations

import asyncio
import collections
import datetime as dt
import hashlib
import hmac
import math
import uuid
from dataclasses import dataclass, field

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from safeclass.adapters.auth import passwords
from safeclass.adapters.auth.identity import StaffIdentity
from safeclass.adapters.auth.tokens import hash_token, new_token
from safeclass.adapters.store.school_records import school_by_key, staff_by_email
from safeclass.adapters.store.tables import Staff, StaffLogin

LOGIN_LIFETIME = dt.timedelta(hours=12)  # one school day, then sign in again
NOT_RECOGNISED = "Email, school or password not recognised"
_CSRF_CONTEXT = b"safeclass csrf v1"


class SignInRefusedError(Exception):
    """Sign-in refused; the message is the same whatever the reason."""

    def __init__(self) -> None:
        super().__init__(NOT_RECOGNISED)


class TooManyAttemptsError(Exception):
    def __init__(self, retry_after: dt.timedelta) -> None:
        self.retry_after_seconds = max(1, math.ceil(retry_after.total_seconds()))
        minutes = max(1, math.ceil(self.retry_after_seconds / 60))
        super().__init__(f"Too many attempts: wait {minutes} minute{'s' if minutes != 1 else ''}")


@dataclass(frozen=True, slots=True)
class SignedIn:
    identity: StaffIdentity
    token: str = field(repr=False)  # for the cookie, once; only its hash is stored
    expires_at: dt.datetime

    @property
    def csrf_token(self) -> str:
        return csrf_token(self.token)


def csrf_token(login_token: str) -> str:
    """The CSRF token that goes with a login (see the module docstring for why it is safe)."""
    return hmac.new(login_token.encode(), _CSRF_CONTEXT, hashlib.sha256).hexdigest()


def csrf_matches(login_token: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(csrf_token(login_token), given)


class LoginLimiter:
    """Sign-in attempts remembered in memory, per email and per client address.

    Five failures for one email in 15 minutes lock that email for the rest of the window,
    whether or not it has an account, so the limit says nothing either. A client address gets
    more (30): a whole school's staff often share one public address, and one teacher's typos
    must not lock out their colleagues. An attempt counts from the moment it starts (so twenty
    sent at once are not all checked); a success takes it back and clears the email's count.
    """

    def __init__(
        self,
        *,
        per_email: int = 5,
        per_client: int = 30,
        window: dt.timedelta = dt.timedelta(minutes=15),
        max_keys: int = 50_000,
    ) -> None:
        self.per_email = per_email
        self.per_client = per_client
        self.window = window
        self._max_keys = max_keys
        self._attempts: dict[str, collections.deque[dt.datetime]] = {}

    def attempt(self, email: str, client: str, now: dt.datetime) -> None:
        """Count an attempt, or raise TooManyAttemptsError if the email or client is locked."""
        keys = ((_email_key(email), self.per_email), (_client_key(client), self.per_client))
        for key, limit in keys:
            recent = self._recent(key, now)
            if len(recent) >= limit:
                raise TooManyAttemptsError(recent[-limit] + self.window - now)
        if len(self._attempts) >= self._max_keys:
            self._prune(now)
        for key, _ in keys:
            self._recent(key, now).append(now)

    def succeeded(self, email: str, client: str, started: dt.datetime) -> None:
        """The attempt that started at `started` succeeded: it does not count."""
        self._attempts.pop(_email_key(email), None)
        times = self._attempts.get(_client_key(client))
        if times is not None and started in times:
            times.remove(started)

    def _recent(self, key: str, now: dt.datetime) -> collections.deque[dt.datetime]:
        times = self._attempts.setdefault(key, collections.deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def _prune(self, now: dt.datetime) -> None:
        for key in list(self._attempts):
            if not self._recent(key, now):
                del self._attempts[key]
        while len(self._attempts) >= self._max_keys:  # still full: forget the oldest keys
            del self._attempts[next(iter(self._attempts))]


def _email_key(email: str) -> str:
    return f"email:{email.strip().casefold()}"


def _client_key(client: str) -> str:
    return f"client:{client}"


async def sign_in(
    engine: AsyncEngine,
    limiter: LoginLimiter,
    *,
    school_key: str,
    email: str,
    password: str,
    client: str,
    now: dt.datetime,
    lifetime: dt.timedelta = LOGIN_LIFETIME,
) -> SignedIn:
    """A new login for the member of staff, or SignInRefusedError / TooManyAttemptsError."""
    limiter.attempt(email, client, now)
    async with engine.connect() as conn:
        school = await school_by_key(conn, school_key.strip().casefold())
        # Always the same two queries and one hash check, whichever part is wrong.
        staff = await staff_by_email(conn, school.id if school else "", email)
    stored = staff.password_hash if staff is not None else None
    if staff is None or stored is None:
        await asyncio.to_thread(passwords.verify_dummy, password)
        raise SignInRefusedError
    if not await asyncio.to_thread(passwords.verify_password, stored, password):
        raise SignInRefusedError
    if not staff.active:
        raise SignInRefusedError
    limiter.succeeded(email, client, now)
    rehash = None
    if passwords.needs_rehash(stored):
        rehash = await asyncio.to_thread(passwords.hash_password, password)
    token = new_token()
    login_id = str(uuid.uuid4())
    expires_at = now + lifetime
    async with engine.begin() as conn:
        await conn.execute(
            insert(StaffLogin).values(
                id=login_id,
                token_hash=hash_token(token),
                staff_id=staff.id,
                school_id=staff.school_id,
                created_at=now,
                expires_at=expires_at,
            )
        )
        if rehash is not None:
            await conn.execute(
                update(Staff)
                .where(Staff.id == staff.id, Staff.school_id == staff.school_id)
                .values(password_hash=rehash)
            )
    identity = StaffIdentity(staff.id, staff.school_id, staff.role.value, staff.name, login_id)
    return SignedIn(identity, token, expires_at)


async def revoke_login(engine: AsyncEngine, login_id: str, now: dt.datetime) -> None:
    """Sign one browser out: its cookie stops working at once."""
    async with engine.begin() as conn:
        await conn.execute(
            update(StaffLogin)
            .where(StaffLogin.id == login_id, StaffLogin.revoked_at.is_(None))
            .values(revoked_at=now)
        )


async def revoke_all(conn: AsyncConnection, staff_id: str, now: dt.datetime) -> list[str]:
    """Sign a member of staff out everywhere; the ids of the logins that were still live.

    The caller closes those logins' sockets (`Audiences.disconnect_device`) when it runs in the
    server's process.
    """
    live = (
        await conn.execute(
            select(StaffLogin.id).where(
                StaffLogin.staff_id == staff_id,
                StaffLogin.revoked_at.is_(None),
                StaffLogin.expires_at > now,
            )
        )
    ).scalars()
    ids = list(live)
    await conn.execute(
        update(StaffLogin)
        .where(StaffLogin.staff_id == staff_id, StaffLogin.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return ids
