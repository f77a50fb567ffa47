"""Scheduled sessions in the database: saving a plan with its expected pupils, loading it back.

A session keeps its own copy of each expected pupil's shown name and the id of the policy
version that governs it, so its register and compliance report read the same years later even
after the roster or the policy has changed.
"""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from collections.abc import Sequence

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from safeclass.adapters.store.tables import (
    ConsentRecord,
    PolicyVersion,
    Pupil,
    Session,
    SessionPupil,
    SessionResource,
    SessionStaff,
)
from safeclass.app.school_records import SessionNotFoundError, StoredSession
from safeclass.core.state import Consent, ExpectedPupil, SessionKind, SessionPlan
from safeclass.policy import Policy, loads

__all__ = [
    "SessionNotFoundError",
    "StoredSession",
    "create_session",
    "expected_pupil",
    "load_session",
    "parsed_policy",
]


@functools.lru_cache(maxsize=128)
def parsed_policy(toml: str, version: int) -> Policy:
    """A stored policy version, parsed once (versions never change once written)."""
    return loads(toml, source=f"policy v{version}")


def expected_pupil(
    pupil_id: str, forename: str, surname: str, shown_name: str, basis: str | None
) -> ExpectedPupil:
    """A pupil as a session expects them, from their rows; no consent on record is implied."""
    return ExpectedPupil(pupil_id, forename, surname, shown_name, Consent(basis or Consent.IMPLIED))


async def create_session(
    conn: AsyncConnection,
    *,
    school_id: str,
    policy_version_id: int,
    kind: SessionKind,
    title: str,
    starts_at: dt.datetime,
    minutes: int,
    pupils: Sequence[tuple[str, str]],
    staff_ids: Sequence[str] = (),
    class_id: str | None = None,
    agenda: str = "",
    created_by: str | None = None,
    session_id: str | None = None,
) -> str:
    """Save a scheduled session; `pupils` holds (pupil_id, shown_name)."""
    sid = session_id or str(uuid.uuid4())
    await conn.execute(
        insert(Session).values(
            id=sid,
            school_id=school_id,
            policy_version_id=policy_version_id,
            kind=kind.value,
            title=title,
            class_id=class_id,
            starts_at=starts_at,
            minutes=minutes,
            agenda=agenda,
            status="scheduled",
            created_by=created_by,
            created_at=dt.datetime.now(dt.UTC),
        )
    )
    if pupils:
        await conn.execute(
            insert(SessionPupil),
            [{"session_id": sid, "pupil_id": pid, "shown_name": name} for pid, name in pupils],
        )
    if staff_ids:
        await conn.execute(
            insert(SessionStaff), [{"session_id": sid, "staff_id": s} for s in staff_ids]
        )
    return sid


async def load_session(
    engine: AsyncEngine, session_id: str, school_id: str | None = None
) -> StoredSession:
    """The session's plan and governing policy; `school_id`, when given, must own it."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(
                select(Session, PolicyVersion.toml, PolicyVersion.version)
                .join(PolicyVersion, PolicyVersion.id == Session.policy_version_id)
                .where(Session.id == session_id)
            )
        ).first()
        if row is None or (school_id is not None and row.school_id != school_id):
            raise SessionNotFoundError(session_id)
        pupils = (
            await conn.execute(
                select(
                    SessionPupil.pupil_id,
                    SessionPupil.shown_name,
                    Pupil.forename,
                    Pupil.surname,
                    ConsentRecord.basis,
                )
                .join(Pupil, Pupil.id == SessionPupil.pupil_id)
                .outerjoin(ConsentRecord, ConsentRecord.pupil_id == SessionPupil.pupil_id)
                .where(SessionPupil.session_id == session_id)
            )
        ).all()
        staff = (
            await conn.execute(
                select(SessionStaff.staff_id).where(SessionStaff.session_id == session_id)
            )
        ).all()
        offered = (
            await conn.execute(
                select(SessionResource.title, SessionResource.url, SessionResource.filename)
                .where(
                    SessionResource.session_id == session_id,
                    SessionResource.removed_at.is_(None),
                )
                .order_by(SessionResource.added_at, SessionResource.id)
            )
        ).all()
    expected = {
        pid: expected_pupil(pid, forename, surname, shown, basis)
        for pid, shown, forename, surname, basis in pupils
    }
    plan = SessionPlan(
        session_id=row.id,
        kind=SessionKind(row.kind),
        starts_at=row.starts_at,
        minutes=row.minutes,
        expected=expected,
        title=row.title,
        agenda=row.agenda,
        resources=tuple(f"{title} ({url or filename or ''})" for title, url, filename in offered),
    )
    return StoredSession(
        plan=plan,
        policy=parsed_policy(row.toml, row.version),
        school_id=row.school_id,
        policy_version=row.version,
        status=row.status,
        agenda=row.agenda,
        staff_ids=tuple(sorted(s for (s,) in staff)),
    )
