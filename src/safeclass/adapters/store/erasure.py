"""What erasing a pupil counts and erases, on the database (`app.erasure.ErasureRecords`).

The rows that name the pupil (guardians, consent and its history, the head's attendance rows,
groups, class lists, invitations with their passes and parents' reports, recordings),
the log entries of their sessions with their id in the payload, and the one transaction that
erases what the app's plan says may go. The app decides what goes and what stays, blanks the
log's entries through the event store and journals the erasure.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from safeclass.adapters.store.tables import (
    AttendanceMark,
    BehaviourMark,
    Concern,
    ConcernEntry,
    ConcernPupil,
    ConsentChange,
    ConsentRecord,
    GroupMember,
    Guardian,
    Invitation,
    Notification,
    ParentReport,
    Pupil,
    PupilPass,
    Recording,
    Session,
    SessionEvent,
    SessionPupil,
)
from safeclass.app.erasure import (
    ERASED_FORENAME,
    ERASED_NAME,
    ERASED_SURNAME,
    HELD,
    NamingEntry,
    PupilErasure,
    PupilRecording,
    PupilRows,
)


class StoreErasure:
    """A pupil's records, counted and erased through one engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def pupil_sessions(self, conn: AsyncConnection, pupil_id: str) -> list[str]:
        listed = await conn.execute(
            select(SessionPupil.session_id).where(SessionPupil.pupil_id == pupil_id)
        )
        invited = await conn.execute(
            select(Invitation.session_id).where(Invitation.pupil_id == pupil_id)
        )
        return sorted(set(listed.scalars()) | set(invited.scalars()))

    async def pupil_rows(self, conn: AsyncConnection, pupil_id: str) -> PupilRows:
        async def count(table: type, *where: ColumnElement[bool]) -> int:
            found = await conn.scalar(select(func.count()).select_from(table).where(*where))
            return int(found or 0)

        return PupilRows(
            guardians=await count(Guardian, Guardian.pupil_id == pupil_id),
            consent=await count(ConsentRecord, ConsentRecord.pupil_id == pupil_id),
            consent_history=await count(ConsentChange, ConsentChange.pupil_id == pupil_id),
            attendance=await count(AttendanceMark, AttendanceMark.pupil_id == pupil_id),
            groups=await count(GroupMember, GroupMember.pupil_id == pupil_id),
            named_on_lists=await count(
                SessionPupil,
                SessionPupil.pupil_id == pupil_id,
                SessionPupil.shown_name != ERASED_NAME,
            ),
            invitations=await count(Invitation, Invitation.pupil_id == pupil_id),
            passes=await count(PupilPass, PupilPass.pupil_id == pupil_id),
            reports=await count(ParentReport, ParentReport.pupil_id == pupil_id),
        )

    async def pupil_recordings(
        self, conn: AsyncConnection, school_id: str, pupil_id: str
    ) -> list[PupilRecording]:
        found = await conn.execute(
            select(
                Recording.id, Recording.path, Recording.session_id, Recording.delete_after
            ).where(
                Recording.school_id == school_id,
                Recording.participant_id == pupil_id,
                Recording.deleted_at.is_(None),
            )
        )
        return [PupilRecording(*row) for row in found]

    async def naming_entries(
        self, conn: AsyncConnection, session_ids: Sequence[str], types: Sequence[str], pupil_id: str
    ) -> list[NamingEntry]:
        found = await conn.execute(
            select(
                SessionEvent.session_id, SessionEvent.seq, SessionEvent.type, SessionEvent.payload
            )
            .where(
                SessionEvent.session_id.in_(list(session_ids)),
                SessionEvent.type.in_(list(types)),
                SessionEvent.payload.like(f"%{pupil_id}%"),
            )
            .order_by(SessionEvent.session_id, SessionEvent.seq)
        )
        return [NamingEntry(sid, seq, kind, _payload(payload)) for sid, seq, kind, payload in found]

    async def live_lessons(self, pupil_id: str) -> int:
        async with self.engine.connect() as conn:
            live = await conn.scalar(
                select(func.count())
                .select_from(Session)
                .where(
                    Session.status == "live",
                    Session.id.in_(
                        select(SessionPupil.session_id).where(SessionPupil.pupil_id == pupil_id)
                    ),
                )
            )
        return int(live or 0)

    async def recording_deleted(self, recording_id: str, at: dt.datetime) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(Recording).where(Recording.id == recording_id).values(deleted_at=at)
            )

    async def erase(self, erasure: PupilErasure) -> None:
        pid, now = erasure.pupil_id, erasure.at
        async with self.engine.begin() as conn:
            if erasure.notifications:
                await conn.execute(
                    delete(Notification).where(Notification.id.in_(erasure.notifications))
                )
            await conn.execute(delete(PupilPass).where(PupilPass.pupil_id == pid))
            await conn.execute(delete(ParentReport).where(ParentReport.pupil_id == pid))
            await conn.execute(delete(Invitation).where(Invitation.pupil_id == pid))
            # a lesson to come loses them; one that happened keeps its class list whole (its
            # register and compliance still add up) with the name replaced
            held = select(Session.id).where(Session.status.in_(HELD))
            await conn.execute(
                delete(SessionPupil).where(
                    SessionPupil.pupil_id == pid, SessionPupil.session_id.not_in(held)
                )
            )
            await conn.execute(
                update(SessionPupil)
                .where(SessionPupil.pupil_id == pid)
                .values(shown_name=ERASED_NAME)
            )
            await conn.execute(delete(GroupMember).where(GroupMember.pupil_id == pid))
            await conn.execute(delete(Guardian).where(Guardian.pupil_id == pid))
            await conn.execute(delete(ConsentRecord).where(ConsentRecord.pupil_id == pid))
            await _erase_newer_records(conn, pid)
            if erasure.concerns_due:  # past their date: the record, its entries and its pupils
                due = list(erasure.concerns_due)
                await conn.execute(delete(ConcernEntry).where(ConcernEntry.concern_id.in_(due)))
                await conn.execute(delete(ConcernPupil).where(ConcernPupil.concern_id.in_(due)))
                await conn.execute(delete(Concern).where(Concern.id.in_(due)))
            if erasure.keep_record:
                await conn.execute(
                    update(Pupil).where(Pupil.id == pid).values(class_id=None, updated_at=now)
                )
            else:
                # emptied rather than deleted: the lessons' logs and class lists still point at it
                await conn.execute(
                    update(Pupil)
                    .where(Pupil.id == pid)
                    .values(
                        forename=ERASED_FORENAME,
                        surname=ERASED_SURNAME,
                        mis_id=None,
                        date_of_birth=None,
                        class_id=None,
                        updated_at=now,
                    )
                )


async def _erase_newer_records(conn: AsyncConnection, pupil_id: str) -> None:
    """Rows of tables newer than erasure that name the pupil, erased in the same transaction
    before the school record goes (their foreign keys would refuse it otherwise): the consent
    history and the head's attendance rows. (A concern's additions and pupils go with the
    concern when it is past its date; a kept concern keeps them.)"""
    await conn.execute(delete(ConsentChange).where(ConsentChange.pupil_id == pupil_id))
    # the head's view's rows (app/oversight.py): the pupil's own go; a behaviour note stays
    # counted in its lesson, no longer linked to them
    await conn.execute(delete(AttendanceMark).where(AttendanceMark.pupil_id == pupil_id))
    await conn.execute(
        update(BehaviourMark).where(BehaviourMark.pupil_id == pupil_id).values(pupil_id=None)
    )


def _payload(text: str | None) -> dict[str, Any] | None:
    loaded = json.loads(text) if text else None
    return loaded if isinstance(loaded, dict) else None
