"""The school-records port (`safeclass.app.school_records.SchoolRecords`) on the database.

It gathers the reads the pages make, from `school_records`, `pupil_records` and `sessions`, and
the small queries the web layer and the app used to run themselves (who is on a session's
staff, which pupils have a parent's email address, the consent on record of live rooms' pupils,
which sessions are live, every session's status and every school for the log audit), so neither
runs SQL.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from safeclass.adapters.store import pupil_records, school_records, sessions
from safeclass.adapters.store.tables import (
    ConsentChange,
    ConsentRecord,
    Guardian,
    School,
    Session,
    SessionPupil,
    SessionStaff,
)
from safeclass.app.school_records import (
    ClassRecord,
    ConsentMark,
    PolicyRecord,
    PupilRecord,
    RecordedConsent,
    SessionStatus,
    StaffRecord,
    StaffRole,
    StoredSession,
)
from safeclass.core import Consent
from safeclass.policy import Policy


class StoreRecords:
    """The school's records, read through one engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def load_session(self, session_id: str, school_id: str | None = None) -> StoredSession:
        return await sessions.load_session(self.engine, session_id, school_id)

    async def set_session_status(self, session_id: str, status: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(Session).where(Session.id == session_id).values(status=status)
            )

    async def current_policy(self, conn: AsyncConnection, school_id: str) -> Policy:
        return await school_records.current_policy(conn, school_id)

    async def current_policy_version(self, conn: AsyncConnection, school_id: str) -> PolicyRecord:
        return await school_records.current_policy_version(conn, school_id)

    async def list_classes(self, conn: AsyncConnection, school_id: str) -> list[ClassRecord]:
        return await school_records.list_classes(conn, school_id)

    async def class_in_school(
        self, conn: AsyncConnection, school_id: str, class_id: str
    ) -> ClassRecord:
        return await school_records.class_in_school(conn, school_id, class_id)

    async def staff_by_role(
        self, conn: AsyncConnection, school_id: str, role: StaffRole | str | None = None
    ) -> list[StaffRecord]:
        return await school_records.staff_by_role(conn, school_id, role)

    async def list_pupils(
        self, conn: AsyncConnection, school_id: str, class_id: str | None = None
    ) -> list[PupilRecord]:
        return await pupil_records.list_pupils(conn, school_id, class_id)

    async def on_session_staff(self, session_id: str, staff_id: str) -> bool:
        async with self.engine.connect() as conn:
            found = await conn.execute(
                select(SessionStaff.staff_id).where(
                    SessionStaff.session_id == session_id, SessionStaff.staff_id == staff_id
                )
            )
            return found.first() is not None

    async def with_guardian_email(self, school_id: str, pupil_ids: Sequence[str]) -> set[str]:
        if not pupil_ids:
            return set()
        async with self.engine.connect() as conn:
            found = await conn.execute(
                select(Guardian.pupil_id).where(
                    Guardian.school_id == school_id,
                    Guardian.pupil_id.in_(pupil_ids),
                    Guardian.email.is_not(None),
                    Guardian.email != "",
                )
            )
            return set(found.scalars())

    async def recorded_consents(self, session_ids: Sequence[str]) -> list[RecordedConsent]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(
                    SessionPupil.session_id,
                    SessionPupil.pupil_id,
                    ConsentRecord.basis,
                    ConsentRecord.source,
                )
                .outerjoin(ConsentRecord, ConsentRecord.pupil_id == SessionPupil.pupil_id)
                .where(SessionPupil.session_id.in_(list(session_ids)))
            )
            found = rows.all()
        return [
            RecordedConsent(
                session_id,
                pupil_id,
                Consent(basis) if basis is not None else Consent.IMPLIED,
                source or "",
            )
            for session_id, pupil_id, basis, source in found
        ]

    async def consent_marks(self, session_ids: Sequence[str]) -> dict[str, ConsentMark]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(
                    SessionPupil.session_id,
                    func.count(ConsentChange.id),
                    func.coalesce(func.max(ConsentChange.id), 0),
                    func.coalesce(func.sum(ConsentChange.id), 0),
                )
                .outerjoin(ConsentChange, ConsentChange.pupil_id == SessionPupil.pupil_id)
                .where(SessionPupil.session_id.in_(list(session_ids)))
                .group_by(SessionPupil.session_id)
            )
            return {
                session_id: ConsentMark(int(changes), int(last), int(total))
                for session_id, changes, last, total in rows.all()
            }

    async def live_sessions(self) -> list[str]:
        async with self.engine.connect() as conn:
            found = await conn.execute(select(Session.id).where(Session.status == "live"))
            return list(found.scalars())

    async def session_statuses(self) -> list[SessionStatus]:
        async with self.engine.connect() as conn:
            found = await conn.execute(
                select(Session.id, Session.status, Session.starts_at).order_by(
                    Session.starts_at, Session.id
                )
            )
            return [SessionStatus(*row) for row in found.all()]

    async def school_ids(self) -> set[str]:
        async with self.engine.connect() as conn:
            return set((await conn.execute(select(School.id))).scalars().all())
