"""Who is on the other end of a request: a signed-in member of staff or a pupil's device.

One function per kind, each doing every check in one place (the Zulip habit): the token's hash
must match a row that is not revoked and not expired, and for pupils the pass must be for this
very session. The same `None` comes back for "no such token" and "not for this", so a probe
learns nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from safeclass.adapters.auth.tokens import hash_token
from safeclass.adapters.store.tables import PupilPass, SessionPupil, Staff, StaffLogin
from safeclass.core import Role

STAFF_COOKIE = "sc_staff"
PUPIL_COOKIE = "sc_pupil"  # the prefix: each session's pass has a cookie of its own


def pupil_cookie(session_id: str) -> str:
    """The name of the cookie that holds a pupil's pass for one session. One per session, so
    siblings who open their own links on a shared tablet do not overwrite each other's."""
    return f"{PUPIL_COOKIE}_{session_id}"


@dataclass(frozen=True, slots=True)
class StaffIdentity:
    staff_id: str
    school_id: str
    role: str  # teacher, assistant, dsl, head, admin
    name: str
    login_id: str  # the device: one signed-in browser

    @property
    def room_role(self) -> Role | None:
        """The role in a live room (admins do not join rooms)."""
        return Role(self.role) if self.role in Role.__members__.values() else None


@dataclass(frozen=True, slots=True)
class PupilIdentity:
    pupil_id: str
    school_id: str
    session_id: str
    name: str  # the session's roster name for the pupil
    pass_id: str  # the device


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
