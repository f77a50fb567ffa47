"""Who is on the other end of a request: a signed-in member of staff or a pupil's device.

One function per kind, each doing every check in one place (the Zulip habit): the token's hash
must match a row that is not revoked and not expired, and for pupils the pass must be for this
very session. The same `None` comes back for "no such token" and "not for this", so a probe
learns nothing.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from safeclass.adapters.auth.tokens import hash_token
from safeclass.adapters.store.tables import PupilPass, SessionPupil, Staff, StaffLogin
from safeclass.app.identity import (
    PUPIL_COOKIE,
    STAFF_COOKIE,
    PupilIdentity,
    StaffIdentity,
    pupil_cookie,
)

__all__ = [  # the port's values (app/identity.py), named here too for older imports
    "PUPIL_COOKIE",
    "STAFF_COOKIE",
    "PupilIdentity",
    "StaffIdentity",
    "pupil_cookie",
    "pupil_for_token",
    "staff_for_token",
]


async def staff_for_token(
    engine: AsyncEngine, token: str | None, now: dt.datetime
) -> StaffIdentity | None:
    if not token:
        return None
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(
                    Staff.id,
                    Staff.school_id,
                    Staff.role,
                    Staff.name,
                    StaffLogin.id,
                    StaffLogin.expires_at,
                    StaffLogin.revoked_at,
                    Staff.active,
                )
                .join(StaffLogin, StaffLogin.staff_id == Staff.id)
                .where(StaffLogin.token_hash == hash_token(token))
            )
        ).first()
    if row is None:
        return None
    staff_id, school_id, role, name, login_id, expires_at, revoked_at, active = row
    if revoked_at is not None or expires_at <= now or not active:
        return None
    return StaffIdentity(staff_id, school_id, role, name, login_id)


async def pupil_for_token(
    engine: AsyncEngine, token: str | None, session_id: str, now: dt.datetime
) -> PupilIdentity | None:
    if not token:
        return None
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(
                    PupilPass.id,
                    PupilPass.pupil_id,
                    PupilPass.school_id,
                    PupilPass.session_id,
                    PupilPass.expires_at,
                    PupilPass.revoked_at,
                    SessionPupil.shown_name,
                )
                .join(
                    SessionPupil,
                    (SessionPupil.session_id == PupilPass.session_id)
                    & (SessionPupil.pupil_id == PupilPass.pupil_id),
                )
                .where(PupilPass.token_hash == hash_token(token))
            )
        ).first()
    if row is None:
        return None
    pass_id, pupil_id, school_id, pass_session, expires_at, revoked_at, name = row
    if pass_session != session_id or revoked_at is not None or expires_at <= now:
        return None
    return PupilIdentity(pupil_id, school_id, pass_session, name, pass_id)
