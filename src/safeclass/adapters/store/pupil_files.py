"""One pupil's records on the database (`app.pupil_files.PupilFileRecords`).

The reads a subject access request (and an erasure) makes of one pupil: the school record,
guardians, consent and its history, the sessions they were expected in or invited to and the
other pupils of those, invitation links, concerns and what was added to them, parents' reports,
recordings, notices to families, and the log entries that name them. `find_pupil` and
`concerns_about` are also what erasure's own queries find the pupil and their concerns with.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from safeclass.adapters.store import pupil_records, school_records
from safeclass.adapters.store.sessions import load_session
from safeclass.adapters.store.tables import (
    Concern,
    ConcernEntry,
    ConcernPupil,
    ConsentRecord,
    GroupMember,
    Guardian,
    Invitation,
    Notification,
    ParentReport,
    Pupil,
    PupilPass,
    Recording,
    SchoolClass,
    Session,
    SessionEvent,
    SessionPupil,
    Staff,
)
from safeclass.app.event_store import LogEntry
from safeclass.app.pupil_files import (
    Classmate,
    ConcernEntryRow,
    ConcernRow,
    ConsentRow,
    FoundPupil,
    InvitationRow,
    NoticeRow,
    ParentReportRow,
    PupilNotFoundError,
    PupilSessionRow,
    RecordingRow,
)
from safeclass.app.school_records import GuardianRecord, StoredSession
from safeclass.policy import Policy

# Notices to families: every kind of outbox row sent to parents (never "parent_report", which
# goes to staff).
_TO_FAMILIES = "parent_%"
_NOT_TO_FAMILIES = "parent_report"


async def find_pupil(conn: AsyncConnection, ident: str, school_id: str | None = None) -> FoundPupil:
    """The pupil by safeclass id, or by MIS id within `school_id`; else PupilNotFoundError."""
    query = select(Pupil).where(Pupil.id == ident)
    if school_id is not None:
        query = query.where(Pupil.school_id == school_id)
    row = (await conn.execute(query)).first()
    if row is None and school_id is not None:
        row = (
            await conn.execute(
                select(Pupil).where(Pupil.school_id == school_id, Pupil.mis_id == ident)
            )
        ).first()
    if row is None:
        raise PupilNotFoundError(ident)
    return FoundPupil(
        row.id,
        row.school_id,
        row.class_id,
        row.mis_id,
        row.forename,
        row.surname,
        row.date_of_birth,
        row.created_at,
        row.updated_at,
    )


def concerns_about(pupil_id: str) -> ColumnElement[bool]:
    """The concerns about the pupil: those naming them among their pupils (`concern_pupils`),
    or first (`concerns.pupil_id`, which older records alone have)."""
    return or_(
        Concern.pupil_id == pupil_id,
        Concern.id.in_(select(ConcernPupil.concern_id).where(ConcernPupil.pupil_id == pupil_id)),
    )


class StorePupilFiles:
    """One pupil's records, read on the caller's connection (the sessions through one engine)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def find_pupil(
        self, conn: AsyncConnection, ident: str, school_id: str | None = None
    ) -> FoundPupil:
        return await find_pupil(conn, ident, school_id)

    async def current_policy(self, conn: AsyncConnection, school_id: str) -> Policy:
        return await school_records.current_policy(conn, school_id)

    async def class_name(self, conn: AsyncConnection, class_id: str) -> str | None:
        return await conn.scalar(select(SchoolClass.name).where(SchoolClass.id == class_id))

    async def group_names(self, conn: AsyncConnection, pupil_id: str) -> list[str]:
        rows = await conn.execute(
            select(SchoolClass.name)
            .join(GroupMember, GroupMember.group_id == SchoolClass.id)
            .where(GroupMember.pupil_id == pupil_id)
            .order_by(SchoolClass.name)
        )
        return list(rows.scalars())

    async def guardians(
        self, conn: AsyncConnection, school_id: str, pupil_id: str
    ) -> list[GuardianRecord]:
        rows = await conn.execute(
            select(Guardian.id, Guardian.pupil_id, Guardian.name, Guardian.email, Guardian.phone)
            .where(Guardian.school_id == school_id, Guardian.pupil_id == pupil_id)
            .order_by(Guardian.id)
        )
        return [GuardianRecord(*row) for row in rows]

    async def consents(
        self, conn: AsyncConnection, school_id: str, pupil_id: str
    ) -> list[ConsentRow]:
        changes = [
            ConsentRow(c.basis.value, c.recorded_at, c.changed_at, c.source, current=False)
            for c in await pupil_records.consent_history(conn, school_id, pupil_id)
        ]
        rows = await conn.execute(
            select(ConsentRecord.basis, ConsentRecord.recorded_at, ConsentRecord.source).where(
                ConsentRecord.school_id == school_id, ConsentRecord.pupil_id == pupil_id
            )
        )
        return changes + [
            ConsentRow(basis, at, at, source, current=True) for basis, at, source in rows
        ]

    async def sessions_of(
        self, conn: AsyncConnection, school_id: str, pupil_id: str
    ) -> list[PupilSessionRow]:
        expected = select(SessionPupil.session_id).where(SessionPupil.pupil_id == pupil_id)
        invited = select(Invitation.session_id).where(Invitation.pupil_id == pupil_id)
        rows = await conn.execute(
            select(Session.id, Session.title, Session.starts_at, Session.minutes, Session.status)
            .where(
                Session.school_id == school_id,
                or_(Session.id.in_(expected), Session.id.in_(invited)),
            )
            .order_by(Session.starts_at, Session.id)
        )
        return [PupilSessionRow(*row) for row in rows]

    async def classmates(
        self, conn: AsyncConnection, session_ids: Sequence[str], pupil_id: str
    ) -> list[Classmate]:
        found: list[Classmate] = []
        for chunk in _chunks(session_ids):
            rows = await conn.execute(
                select(
                    SessionPupil.pupil_id, SessionPupil.shown_name, Pupil.forename, Pupil.surname
                )
                .join(Pupil, Pupil.id == SessionPupil.pupil_id)
                .where(SessionPupil.session_id.in_(chunk), SessionPupil.pupil_id != pupil_id)
            )
            found.extend(Classmate(*row) for row in rows)
        return found

    async def invitations(
        self, conn: AsyncConnection, school_id: str, pupil_id: str
    ) -> list[InvitationRow]:
        rows = (
            await conn.execute(
                select(
                    Invitation.id,
                    Invitation.session_id,
                    Invitation.created_at,
                    Invitation.sent_at,
                    Invitation.expires_at,
                    Invitation.revoked_at,
                )
                .where(Invitation.school_id == school_id, Invitation.pupil_id == pupil_id)
                .order_by(Invitation.created_at)
            )
        ).all()
        opened: dict[str, dt.datetime] = {}
        for inv_id, first in (
            await conn.execute(
                select(PupilPass.invitation_id, PupilPass.created_at).where(
                    PupilPass.pupil_id == pupil_id
                )
            )
        ).all():
            if inv_id not in opened or first < opened[inv_id]:
                opened[inv_id] = first
        return [
            InvitationRow(sid, made, sent, opened.get(inv_id), expires, revoked)
            for inv_id, sid, made, sent, expires, revoked in rows
        ]

    async def staff_names(self, conn: AsyncConnection, school_id: str) -> dict[str, str]:
        rows = await conn.execute(select(Staff.id, Staff.name).where(Staff.school_id == school_id))
        return {sid: name for sid, name in rows}

    async def concerns(
        self, conn: AsyncConnection, school_id: str, pupil_id: str
    ) -> list[ConcernRow]:
        rows = await conn.execute(
            select(
                Concern.id,
                Concern.session_id,
                Concern.raised_at,
                Concern.happened_at,
                Concern.category,
                Concern.summary,
                Concern.status,
                Concern.keep_until,
                Staff.name,
            )
            .outerjoin(Staff, Staff.id == Concern.raised_by)
            .where(Concern.school_id == school_id, concerns_about(pupil_id))
            .order_by(Concern.raised_at)
        )
        return [ConcernRow(*row) for row in rows]

    async def concern_entries(
        self, conn: AsyncConnection, concern_ids: Sequence[str]
    ) -> list[ConcernEntryRow]:
        found: list[ConcernEntryRow] = []
        for chunk in _chunks(concern_ids):
            rows = await conn.execute(
                select(
                    ConcernEntry.concern_id,
                    ConcernEntry.kind,
                    ConcernEntry.at,
                    ConcernEntry.happened_at,
                    ConcernEntry.by_name,
                    ConcernEntry.text,
                )
                .where(ConcernEntry.concern_id.in_(chunk), ConcernEntry.kind != "account")
                .order_by(ConcernEntry.concern_id, ConcernEntry.seq)
            )
            found.extend(ConcernEntryRow(*row) for row in rows)
        return found

    async def parent_reports(
        self, conn: AsyncConnection, school_id: str, pupil_id: str
    ) -> list[ParentReportRow]:
        rows = await conn.execute(
            select(
                ParentReport.session_id,
                ParentReport.reason,
                ParentReport.message,
                ParentReport.emailed,
                ParentReport.created_at,
            )
            .where(ParentReport.school_id == school_id, ParentReport.pupil_id == pupil_id)
            .order_by(ParentReport.created_at)
        )
        return [
            ParentReportRow(sid, reason, message, bool(emailed), at)
            for sid, reason, message, emailed, at in rows
        ]

    async def recordings(
        self, conn: AsyncConnection, school_id: str, pupil_id: str
    ) -> list[RecordingRow]:
        rows = await conn.execute(
            select(
                Recording.id,
                Recording.session_id,
                Recording.kinds,
                Recording.size_bytes,
                Recording.started_at,
                Recording.ended_at,
                Recording.delete_after,
                Recording.deleted_at,
            )
            .where(Recording.school_id == school_id, Recording.participant_id == pupil_id)
            .order_by(Recording.started_at)
        )
        return [RecordingRow(*row) for row in rows]

    async def notices(
        self, conn: AsyncConnection, school_id: str, pupil_id: str, emails: Sequence[str]
    ) -> list[NoticeRow]:
        rows = await conn.execute(
            select(
                Notification.id,
                Notification.session_id,
                Notification.kind,
                Notification.recipient,
                Notification.subject,
                Notification.body,
                Notification.status,
                Notification.created_at,
                Notification.sent_at,
                Notification.pupil_id,
            )
            .where(
                Notification.school_id == school_id,
                or_(
                    Notification.pupil_id == pupil_id,
                    and_(Notification.pupil_id.is_(None), Notification.recipient.in_(emails)),
                ),
                Notification.kind.like(_TO_FAMILIES),
                Notification.kind != _NOT_TO_FAMILIES,
            )
            .order_by(Notification.id)
        )
        return [
            NoticeRow(nid, sid, kind, to, subject, body, status, made, sent, about)
            for nid, sid, kind, to, subject, body, status, made, sent, about in rows
        ]

    async def entries_naming(
        self,
        conn: AsyncConnection,
        session_ids: Sequence[str],
        pupil_id: str,
        also: Sequence[str],
    ) -> dict[str, list[LogEntry]]:
        # an indexed read of the pupil's own sessions, not a replay of all
        out: dict[str, list[LogEntry]] = {sid: [] for sid in session_ids}
        pattern = f"%{pupil_id}%"
        for chunk in _chunks(session_ids):
            rows = await conn.execute(
                select(
                    SessionEvent.session_id,
                    SessionEvent.seq,
                    SessionEvent.type,
                    SessionEvent.at,
                    SessionEvent.payload,
                    SessionEvent.hash,
                    SessionEvent.redacted,
                )
                .where(
                    SessionEvent.session_id.in_(chunk),
                    or_(SessionEvent.payload.like(pattern), SessionEvent.type.in_(also)),
                )
                .order_by(SessionEvent.session_id, SessionEvent.seq)
            )
            for sid, seq, kind, at, payload, digest, redacted in rows:
                data = json.loads(payload) if payload is not None else None
                out[sid].append(LogEntry(sid, seq, kind, at, data, digest, bool(redacted)))
        return out

    async def load_session(self, session_id: str) -> StoredSession:
        return await load_session(self.engine, session_id)


def _chunks(ids: Sequence[str], size: int = 500) -> Iterable[Sequence[str]]:
    # SQLite allows a limited number of bound parameters per statement.
    for i in range(0, len(ids), size):
        yield ids[i : i + size]
