"""What retention deletes, on the database (`app.retention.RetentionRows`).

Every session with the TOML of its governing policy; a session's invitations (with their pupil
passes and the parents' reports sent through them); a whole session log with its head, the
register's rows kept for the head's view and its invitations; a lesson's resources; recordings
past their date (marked deleted once their file is gone); concerns past their `keep_until`,
with their entries and pupils. The app decides what is due and journals it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from safeclass.adapters.store.tables import (
    AttendanceMark,
    AttendanceStamp,
    BehaviourMark,
    Concern,
    ConcernEntry,
    ConcernPupil,
    Invitation,
    ParentReport,
    PolicyVersion,
    PupilPass,
    Recording,
    Session,
    SessionEvent,
    SessionLogHead,
    SessionResource,
)
from safeclass.app.retention import DueRecording, RetainedSession


class StoreRetention:
    """The records retention deletes, through one engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def sessions(self) -> list[RetainedSession]:
        async with self.engine.connect() as conn:
            found = (
                await conn.execute(
                    select(
                        Session.id,
                        Session.school_id,
                        Session.starts_at,
                        Session.minutes,
                        PolicyVersion.toml,
                    ).join(PolicyVersion, PolicyVersion.id == Session.policy_version_id)
                )
            ).all()
        return [RetainedSession(*row) for row in found]

    async def delete_invitations(self, session_id: str) -> int:
        async with self.engine.begin() as conn:
            return await _delete_invitations(conn, session_id)

    async def delete_session_log(self, session_id: str) -> int:
        async with self.engine.begin() as conn:
            result = await conn.execute(
                delete(SessionEvent).where(SessionEvent.session_id == session_id)
            )
            deleted = int(result.rowcount or 0)
            await conn.execute(
                delete(SessionLogHead).where(SessionLogHead.session_id == session_id)
            )
            # the register's rows kept for the head's view (app/oversight.py) go with the log
            for kept in (AttendanceMark, BehaviourMark, AttendanceStamp):
                await conn.execute(delete(kept).where(kept.session_id == session_id))
            await _delete_invitations(conn, session_id)
        return deleted

    async def delete_resources(
        self, session_id: str, delete_files: Callable[[Sequence[str]], None]
    ) -> None:
        async with self.engine.begin() as conn:
            stored = (
                await conn.execute(
                    select(SessionResource.stored_name).where(
                        SessionResource.session_id == session_id,
                        SessionResource.stored_name.is_not(None),
                    )
                )
            ).scalars()
            delete_files([str(name) for name in stored])
            await conn.execute(
                delete(SessionResource).where(SessionResource.session_id == session_id)
            )

    async def recordings_due(self, now: dt.datetime) -> list[DueRecording]:
        async with self.engine.connect() as conn:
            found = (
                await conn.execute(
                    select(
                        Recording.id, Recording.school_id, Recording.session_id, Recording.path
                    ).where(Recording.deleted_at.is_(None), Recording.delete_after <= now)
                )
            ).all()
        return [DueRecording(*row) for row in found]

    async def recording_deleted(self, recording_id: str, at: dt.datetime) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(Recording).where(Recording.id == recording_id).values(deleted_at=at)
            )

    async def delete_concerns_due(self, today: dt.date) -> list[tuple[str, str]]:
        async with self.engine.begin() as conn:
            due = (
                await conn.execute(
                    select(Concern.id, Concern.school_id).where(
                        Concern.keep_until.is_not(None), Concern.keep_until < today
                    )
                )
            ).all()
            if due:
                ids = [c for c, _ in due]  # its entries and pupils go with it
                await conn.execute(delete(ConcernEntry).where(ConcernEntry.concern_id.in_(ids)))
                await conn.execute(delete(ConcernPupil).where(ConcernPupil.concern_id.in_(ids)))
                await conn.execute(delete(Concern).where(Concern.id.in_(ids)))
        return [(concern_id, school_id) for concern_id, school_id in due]


async def _delete_invitations(conn: AsyncConnection, session_id: str) -> int:
    """The session's invitations, with their pupil passes and the parents' reports sent through
    them; how many invitations went."""
    await conn.execute(delete(PupilPass).where(PupilPass.session_id == session_id))
    await conn.execute(delete(ParentReport).where(ParentReport.session_id == session_id))
    result = await conn.execute(delete(Invitation).where(Invitation.session_id == session_id))
    return int(result.rowcount or 0)
