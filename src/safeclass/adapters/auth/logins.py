"""Staff sign-in and sign-out: a login per browser, its cookie token, and the browser's device.

Signing in checks school, email and password and creates a `StaffLogin` row that keeps only the
hash of a random token; the token goes to the browser once, in its cookie. A login lasts a
school day. Every refusal says the same thing, after the same work (an unknown email is checked
against a dummy hash), so a guesser cannot learn which staff have accounts; a disabled account
is refused with that message too. Password hashing runs in a worker thread so a sign-in never
stalls the live rooms on the event loop.

The CSRF token of a login, and the device cookie's format, are the app's (`app/identity.py`).

A successful sign-in also leaves a device token for the account in the browser's long-lived
`sc_device` cookie (a `StaffDevice` row keeps its hash). It opens nothing by itself; it only
makes that browser's later attempts at that account "trusted", judged by its own failures, so
a guesser elsewhere cannot lock the owner out (`limits` says how). One browser remembers up to
five accounts (a shared staffroom computer).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from safeclass.adapters.auth import passwords
from safeclass.adapters.auth.tokens import hash_token, new_token
from safeclass.adapters.store.school_records import school_by_key, staff_by_email
from safeclass.adapters.store.tables import Staff, StaffDevice, StaffLogin
from safeclass.app.attempt_limits import LoginLimits
from safeclass.app.identity import (
    DEVICE_COOKIE,
    DEVICE_LIFETIME,
    MAX_DEVICE_TOKENS,
    MAX_TOKEN_CHARS,
    NOT_RECOGNISED,
    SignedIn,
    SignInRefusedError,
    StaffIdentity,
    csrf_matches,
    csrf_token,
    device_cookie,
    device_tokens_in,
)

__all__ = [  # the port's values (app/identity.py), named here too for older imports
    "DEVICE_COOKIE",
    "DEVICE_LIFETIME",
    "LOGIN_LIFETIME",
    "MAX_DEVICE_TOKENS",
    "MAX_TOKEN_CHARS",
    "NOT_RECOGNISED",
    "SignInRefusedError",
    "SignedIn",
    "csrf_matches",
    "csrf_token",
    "device_cookie",
    "device_tokens_in",
    "revoke_all",
    "revoke_login",
    "sign_in",
]

LOGIN_LIFETIME = dt.timedelta(hours=12)  # one school day, then sign in again


async def sign_in(
    engine: AsyncEngine,
    limiter: LoginLimits,
    *,
    school_key: str,
    email: str,
    password: str,
    client: str,
    now: dt.datetime,
    device_tokens: Sequence[str] = (),
    lifetime: dt.timedelta = LOGIN_LIFETIME,
) -> SignedIn:
    """A new login for the member of staff, or SignInRefusedError / TooManyAttemptsError.

    `device_tokens` are the device tokens this browser holds (its `sc_device` cookie); one
    that belongs to this account makes the attempt trusted (see `limits`).
    """
    held = {hash_token(t): t for t in device_tokens[-MAX_DEVICE_TOKENS:]}
    async with engine.connect() as conn:
        school = await school_by_key(conn, school_key.strip().casefold())
        # Always the same three queries and one hash check, whichever part is wrong.
        staff = await staff_by_email(conn, school.id if school else "", email)
        device = (
            await conn.execute(
                select(StaffDevice.id, StaffDevice.token_hash).where(
                    StaffDevice.token_hash.in_(list(held)),
                    StaffDevice.staff_id == (staff.id if staff else ""),
                    StaffDevice.expires_at > now,
                )
            )
        ).first()
    account = f"{school_key.strip().casefold()}:{email.strip().casefold()}"
    attempt = await limiter.attempt(
        account=account, device=device.id if device else None, client=client, now=now
    )
    stored = staff.password_hash if staff is not None else None
    if staff is None or stored is None:
        await asyncio.to_thread(passwords.verify_dummy, password)
        raise SignInRefusedError
    if not await asyncio.to_thread(passwords.verify_password, stored, password):
        raise SignInRefusedError
    if not staff.active:
        raise SignInRefusedError
    await limiter.succeeded(attempt)
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
        new_device = await _keep_device(
            conn, staff.id, staff.school_id, device.id if device else None, now
        )
    identity = StaffIdentity(staff.id, staff.school_id, staff.role.value, staff.name, login_id)
    device_token = held[device.token_hash] if device is not None else new_device
    return SignedIn(identity, token, expires_at, device_token)


async def _keep_device(
    conn: AsyncConnection,
    staff_id: str,
    school_id: str,
    device_id: str | None,
    now: dt.datetime,
) -> str:
    """Renew this browser's device for the account; a new device token when it had none."""
    if device_id is not None:
        await conn.execute(
            update(StaffDevice)
            .where(StaffDevice.id == device_id)
            .values(last_used_at=now, expires_at=now + DEVICE_LIFETIME)
        )
        return ""
    await conn.execute(
        delete(StaffDevice).where(StaffDevice.staff_id == staff_id, StaffDevice.expires_at <= now)
    )
    token = new_token()
    await conn.execute(
        insert(StaffDevice).values(
            id=str(uuid.uuid4()),
            token_hash=hash_token(token),
            staff_id=staff_id,
            school_id=school_id,
            created_at=now,
            last_used_at=now,
            expires_at=now + DEVICE_LIFETIME,
        )
    )
    return token


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
