"""The timetable on the database (`app.timetable.TimetableRecords`).

The `sessions` rows with their staff and expected pupils, the links of a session that a change
moves or a cancellation stops, and the parents a change is told to; what scheduling reads of
the school (its policy, classes, pupils and staff) comes from `school_records`,
`pupil_records` and `sessions`, which it shares with the rest of the store.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from safeclass.adapters.store import invitations, pupil_records, school_records, sessions
from safeclass.adapters.store.db import OnEngine
from safeclass.adapters.store.tables import (
    Guardian,
    Invitation,
    Pupil,
    PupilPass,
    Session,
    SessionPupil,
    SessionStaff,
    Staff,
)
from safeclass.app.invitations import InvitationRecord
from safeclass.app.school_records import (
    ClassRecord,
    PolicyRecord,
    PupilRecord,
    StaffRecord,
    StoredSession,
)
from safeclass.app.timetable import SessionRow, StaffLine
from safeclass.core import SessionKind


class StoreTimetable(OnEngine):
    """Sessions, their staff, pupils and links, through one engine."""

    async def load_session(self, session_id: str, school_id: str | None = None) -> StoredSession:
        return await sessions.load_session(self.engine, session_id, school_id)

    async def current_policy_version(self, conn: AsyncConnection, school_id: str) -> PolicyRecord:
        return await school_records.current_policy_version(conn, school_id)

    async def policy_version(
        self, conn: AsyncConnection, school_id: str, version_id: int
    ) -> PolicyRecord:
        return await school_records.policy_version(conn, school_id, version_id)

    async def class_in_school(
        self, conn: AsyncConnection, school_id: str, class_id: str
    ) -> ClassRecord:
        return await school_records.class_in_school(conn, school_id, class_id)

    async def get_pupil(self, conn: AsyncConnection, school_id: str, pupil_id: str) -> PupilRecord:
        return await pupil_records.get_pupil(conn, school_id, pupil_id)

    async def list_pupils(
        self, conn: AsyncConnection, school_id: str, class_id: str
    ) -> list[PupilRecord]:
        return await pupil_records.list_pupils(conn, school_id, class_id)

    async def staff_by_role(self, conn: AsyncConnection, school_id: str) -> list[StaffRecord]:
        return await school_records.staff_by_role(conn, school_id)

    async def create_session(
        self,
        conn: AsyncConnection,
        *,
        school_id: str,
        policy_version_id: int,
        kind: SessionKind,
        title: str,
        starts_at: dt.datetime,
        minutes: int,
        pupils: Sequence[tuple[str, str]],
        staff_ids: Sequence[str],
        class_id: str | None,
        agenda: str,
        created_by: str,
    ) -> str:
        return await sessions.create_session(
            conn,
            school_id=school_id,
            policy_version_id=policy_version_id,
            kind=kind,
            title=title,
            starts_at=starts_at,
            minutes=minutes,
            pupils=pupils,
            staff_ids=staff_ids,
            class_id=class_id,
            agenda=agenda,
            created_by=created_by,
        )

    async def session_row(
        self, conn: AsyncConnection, school_id: str, session_id: str
    ) -> SessionRow | None:
        row = (
            await conn.execute(
                select(Session).where(Session.id == session_id, Session.school_id == school_id)
            )
        ).first()
        return _session_row(row) if row is not None else None

    async def on_staff(self, conn: AsyncConnection, session_id: str, staff_id: str) -> bool:
        found = await conn.execute(
            select(SessionStaff.staff_id).where(
                SessionStaff.session_id == session_id, SessionStaff.staff_id == staff_id
            )
        )
        return found.first() is not None

    async def staff_ids(self, conn: AsyncConnection, session_id: str) -> set[str]:
        found = await conn.execute(
            select(SessionStaff.staff_id).where(SessionStaff.session_id == session_id)
        )
        return set(found.scalars())

    async def staff_lines(self, conn: AsyncConnection, session_id: str) -> list[StaffLine]:
        rows = await conn.execute(
            select(Staff.id, Staff.name, Staff.role)
            .join(SessionStaff, SessionStaff.staff_id == Staff.id)
            .where(SessionStaff.session_id == session_id)
            .order_by(Staff.name, Staff.id)
        )
        return [StaffLine(r.id, r.name, r.role) for r in rows]

    async def set_staff(
        self, conn: AsyncConnection, session_id: str, staff_ids: Sequence[str]
    ) -> None:
        await conn.execute(delete(SessionStaff).where(SessionStaff.session_id == session_id))
        await self.add_staff(conn, session_id, staff_ids)

    async def add_staff(
        self, conn: AsyncConnection, session_id: str, staff_ids: Sequence[str]
    ) -> None:
        if staff_ids:
            await conn.execute(
                insert(SessionStaff), [{"session_id": session_id, "staff_id": s} for s in staff_ids]
            )

    async def update_session(
        self,
        conn: AsyncConnection,
        session_id: str,
        *,
        title: str | None = None,
        agenda: str | None = None,
        starts_at: dt.datetime | None = None,
        minutes: int | None = None,
        status: str | None = None,
    ) -> None:
        given = {
            "title": title,
            "agenda": agenda,
            "starts_at": starts_at,
            "minutes": minutes,
            "status": status,
        }
        values = {name: value for name, value in given.items() if value is not None}
        if values:
            await conn.execute(update(Session).where(Session.id == session_id).values(**values))

    async def pupil_count(self, conn: AsyncConnection, session_id: str) -> int:
        count = await conn.scalar(
            select(func.count())
            .select_from(SessionPupil)
            .where(SessionPupil.session_id == session_id)
        )
        return int(count or 0)

    async def pupil_counts(
        self, conn: AsyncConnection, session_ids: Sequence[str]
    ) -> dict[str, int]:
        rows = await conn.execute(
            select(SessionPupil.session_id, func.count())
            .where(SessionPupil.session_id.in_(list(session_ids)))
            .group_by(SessionPupil.session_id)
        )
        return {session_id: int(n) for session_id, n in rows}

    async def sessions_from(
        self,
        conn: AsyncConnection,
        school_id: str,
        since: dt.datetime,
        limit: int,
        staff_id: str | None = None,
    ) -> list[SessionRow]:
        query = select(Session).where(Session.school_id == school_id, Session.starts_at >= since)
        if staff_id is not None:
            query = query.where(
                Session.id.in_(
                    select(SessionStaff.session_id).where(SessionStaff.staff_id == staff_id)
                )
            )
        rows = await conn.execute(query.order_by(Session.starts_at, Session.id).limit(limit))
        return [_session_row(row) for row in rows.all()]

    async def links_of(self, conn: AsyncConnection, session_id: str) -> dict[str, InvitationRecord]:
        return await invitations.links_of(conn, session_id)

    async def move_links(
        self, conn: AsyncConnection, session_id: str, expires_at: dt.datetime
    ) -> None:
        for table in (Invitation, PupilPass):
            await conn.execute(
                update(table)
                .where(table.session_id == session_id, table.revoked_at.is_(None))
                .values(expires_at=expires_at)
            )

    async def revoke_links(
        self, conn: AsyncConnection, session_id: str, now: dt.datetime
    ) -> list[str]:
        await conn.execute(
            update(Invitation)
            .where(Invitation.session_id == session_id, Invitation.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return await invitations.revoke_passes(conn, PupilPass.session_id == session_id, now)

    async def families_sent_links(
        self, conn: AsyncConnection, school_id: str, session_id: str
    ) -> list[tuple[str, str]]:
        rows = await conn.execute(
            select(Guardian.email, Pupil.forename)
            .join(Invitation, Invitation.pupil_id == Guardian.pupil_id)
            .join(Pupil, Pupil.id == Guardian.pupil_id)
            .where(
                Invitation.session_id == session_id,
                Invitation.sent_at.is_not(None),
                Guardian.school_id == school_id,
                Guardian.email.is_not(None),
            )
        )
        return [(email, forename) for email, forename in rows if email is not None]

    async def queue(self, conn: AsyncConnection, rows: Sequence[Mapping[str, object]]) -> None:
        await invitations.queue(conn, rows)


def _session_row(row: Any) -> SessionRow:
    return SessionRow(
        id=row.id,
        school_id=row.school_id,
        policy_version_id=row.policy_version_id,
        kind=row.kind,
        title=row.title,
        class_id=row.class_id,
        starts_at=row.starts_at,
        minutes=row.minutes,
        agenda=row.agenda,
        status=row.status,
    )
