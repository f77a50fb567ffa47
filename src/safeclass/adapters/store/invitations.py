"""Families' links on the database (`app.invitations.InvitationRecords`).

The `invitations` table (one link per pupil and session, only its token's hash), the
`pupil_passes` each link opened, the `parent_reports` kept from them, and the few reads of the
school, its staff and pupils' guardians that sending a letter or telling the staff needs. The
app module decides who is sent what, and when a link opens; these are its statements.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import and_, bindparam, case, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from safeclass.adapters.store.db import OnEngine
from safeclass.adapters.store.sessions import expected_pupil, load_session, parsed_policy
from safeclass.adapters.store.tables import (
    ConsentRecord,
    Guardian,
    Invitation,
    Notification,
    ParentReport,
    PolicyVersion,
    Pupil,
    PupilPass,
    School,
    Session,
    SessionPupil,
    SessionStaff,
    Staff,
)
from safeclass.app.invitations import EarlierReport, InvitationRecord, LinkFacts, ReportReason
from safeclass.app.school_records import SchoolRecord, StoredSession

# Opening a family's link is the busiest request of a school's morning: its statements are built
# once here, not for every tap (building one is most of what SQLAlchemy spends on it).
_LINK_FACTS = (
    select(
        Invitation.id,
        Invitation.school_id,
        Invitation.session_id,
        Invitation.pupil_id,
        Invitation.expires_at,
        Invitation.sent_at,
        Invitation.revoked_at,
        School.name.label("school_name"),
        Session.title,
        Session.starts_at,
        Session.minutes,
        Session.status,
        PolicyVersion.toml,
        PolicyVersion.version,
        SessionPupil.shown_name,
        Pupil.forename,
        Pupil.surname,
        ConsentRecord.basis,
    )
    .join(School, School.id == Invitation.school_id)
    .join(
        Session,
        and_(Session.id == Invitation.session_id, Session.school_id == Invitation.school_id),
    )
    .join(PolicyVersion, PolicyVersion.id == Session.policy_version_id)
    .outerjoin(
        SessionPupil,
        and_(
            SessionPupil.session_id == Invitation.session_id,
            SessionPupil.pupil_id == Invitation.pupil_id,
        ),
    )
    .outerjoin(Pupil, Pupil.id == SessionPupil.pupil_id)
    .outerjoin(ConsentRecord, ConsentRecord.pupil_id == Pupil.id)
    .where(Invitation.token_hash == bindparam("token_hash"))
)
_LOCK_LINK = select(Invitation.id).where(Invitation.id == bindparam("link_id")).with_for_update()
_PASSES_OF = select(
    func.count(),
    func.max(
        case(
            (
                and_(
                    PupilPass.token_hash == bindparam("pass_hash"),
                    PupilPass.expires_at > bindparam("now"),
                ),
                1,
            ),
            else_=0,
        )
    ),
).where(PupilPass.invitation_id == bindparam("link_id"), PupilPass.revoked_at.is_(None))
_ADD_PASS = insert(PupilPass)


class StoreInvitations(OnEngine):
    """Links, passes and families' reports, through one engine."""

    async def load_session(self, session_id: str, school_id: str | None = None) -> StoredSession:
        return await load_session(self.engine, session_id, school_id)

    async def school(self, conn: AsyncConnection, school_id: str) -> SchoolRecord:
        row = (await conn.execute(select(School).where(School.id == school_id))).one()
        return SchoolRecord(row.id, row.key, row.name, row.created_at)

    async def links_of(self, conn: AsyncConnection, session_id: str) -> dict[str, InvitationRecord]:
        return await links_of(conn, session_id)

    async def guardian_emails(
        self, conn: AsyncConnection, school_id: str, pupil_ids: Sequence[str]
    ) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        for chunk in chunks(pupil_ids):
            rows = await conn.execute(
                select(Guardian.pupil_id, Guardian.email)
                .where(
                    Guardian.school_id == school_id,
                    Guardian.pupil_id.in_(chunk),
                    Guardian.email.is_not(None),
                )
                .order_by(Guardian.id)
            )
            found += [(pupil_id, email) for pupil_id, email in rows if email is not None]
        return found

    async def mis_ids(
        self, conn: AsyncConnection, pupil_ids: Sequence[str]
    ) -> dict[str, str | None]:
        found: dict[str, str | None] = {}
        for chunk in chunks(pupil_ids):
            rows = await conn.execute(select(Pupil.id, Pupil.mis_id).where(Pupil.id.in_(chunk)))
            found.update({pupil_id: mis_id for pupil_id, mis_id in rows})
        return found

    async def add_link(
        self,
        conn: AsyncConnection,
        *,
        school_id: str,
        session_id: str,
        pupil_id: str,
        token_hash: str,
        expires_at: dt.datetime,
        now: dt.datetime,
    ) -> None:
        await conn.execute(
            insert(Invitation).values(
                id=str(uuid.uuid4()),
                school_id=school_id,
                session_id=session_id,
                pupil_id=pupil_id,
                token_hash=token_hash,
                expires_at=expires_at,
                created_at=now,
            )
        )

    async def renew_link(
        self, conn: AsyncConnection, link_id: str, token_hash: str, expires_at: dt.datetime
    ) -> None:
        await conn.execute(
            update(Invitation)
            .where(Invitation.id == link_id)
            .values(token_hash=token_hash, expires_at=expires_at, revoked_at=None, sent_at=None)
        )

    async def mark_sent(self, session_id: str, pupil_ids: Sequence[str], now: dt.datetime) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(Invitation)
                .where(Invitation.session_id == session_id, Invitation.pupil_id.in_(pupil_ids))
                .values(sent_at=now)
            )

    async def link_of(
        self, conn: AsyncConnection, school_id: str, session_id: str, pupil_id: str
    ) -> InvitationRecord | None:
        row = (
            await conn.execute(
                select(Invitation).where(
                    Invitation.school_id == school_id,
                    Invitation.session_id == session_id,
                    Invitation.pupil_id == pupil_id,
                )
            )
        ).first()
        return link_record(row) if row is not None else None

    async def link_facts(self, conn: AsyncConnection, token_hash: str) -> LinkFacts | None:
        row = (await conn.execute(_LINK_FACTS, {"token_hash": token_hash})).first()
        if row is None:
            return None
        pupil = None
        if row.forename is not None:  # still on the session
            pupil = expected_pupil(
                row.pupil_id, row.forename, row.surname, row.shown_name, row.basis
            )
        return LinkFacts(
            link=link_record(row),
            school_name=row.school_name,
            title=row.title,
            starts_at=row.starts_at,
            minutes=row.minutes,
            status=row.status,
            policy=parsed_policy(row.toml, row.version),
            pupil=pupil,
        )

    async def revoke_link(self, conn: AsyncConnection, link_id: str, now: dt.datetime) -> None:
        await conn.execute(
            update(Invitation).where(Invitation.id == link_id).values(revoked_at=now)
        )

    async def revoke_passes(
        self, conn: AsyncConnection, link_ids: Sequence[str], now: dt.datetime
    ) -> list[str]:
        return await revoke_passes(conn, PupilPass.invitation_id.in_(link_ids), now)

    async def lock_link(self, conn: AsyncConnection, link_id: str) -> None:
        await conn.execute(_LOCK_LINK, {"link_id": link_id})

    async def passes_of(
        self, conn: AsyncConnection, link_id: str, pass_hash: str | None, now: dt.datetime
    ) -> tuple[int, bool]:
        found = await conn.execute(
            _PASSES_OF, {"link_id": link_id, "pass_hash": pass_hash or "", "now": now}
        )
        live, held = found.one()
        return int(live), bool(held)

    async def add_pass(
        self, conn: AsyncConnection, link: InvitationRecord, pass_hash: str, now: dt.datetime
    ) -> None:
        await conn.execute(
            _ADD_PASS,
            {
                "id": str(uuid.uuid4()),
                "token_hash": pass_hash,
                "invitation_id": link.id,
                "session_id": link.session_id,
                "pupil_id": link.pupil_id,
                "school_id": link.school_id,
                "created_at": now,
                "expires_at": link.expires_at,
            },
        )

    async def reports_of(
        self, conn: AsyncConnection, session_id: str, pupil_id: str
    ) -> list[EarlierReport]:
        rows = await conn.execute(
            select(ParentReport.reason, ParentReport.message, ParentReport.emailed).where(
                ParentReport.session_id == session_id, ParentReport.pupil_id == pupil_id
            )
        )
        return [EarlierReport(r.reason, r.message, r.emailed) for r in rows]

    async def keep_report(
        self,
        conn: AsyncConnection,
        link: InvitationRecord,
        reason: ReportReason,
        message: str,
        *,
        emailed: bool,
        now: dt.datetime,
    ) -> None:
        await conn.execute(
            insert(ParentReport).values(
                id=str(uuid.uuid4()),
                school_id=link.school_id,
                session_id=link.session_id,
                pupil_id=link.pupil_id,
                reason=reason.value,
                message=message,
                emailed=emailed,
                created_at=now,
            )
        )

    async def lesson_staff_emails(self, conn: AsyncConnection, session_id: str) -> list[str]:
        found = await conn.execute(
            select(Staff.email)
            .join(SessionStaff, SessionStaff.staff_id == Staff.id)
            .where(SessionStaff.session_id == session_id, Staff.active.is_(True))
        )
        return list(found.scalars())

    async def emails_of_roles(
        self, conn: AsyncConnection, school_id: str, roles: Sequence[str]
    ) -> list[str]:
        found = await conn.execute(
            select(Staff.email).where(
                Staff.school_id == school_id, Staff.role.in_(roles), Staff.active.is_(True)
            )
        )
        return list(found.scalars())

    async def queue(self, conn: AsyncConnection, rows: Sequence[Mapping[str, object]]) -> None:
        await queue(conn, rows)


def link_record(row: Any) -> InvitationRecord:
    """A row of `invitations` as the app reads it."""
    return InvitationRecord(
        id=row.id,
        school_id=row.school_id,
        session_id=row.session_id,
        pupil_id=row.pupil_id,
        expires_at=row.expires_at,
        sent_at=row.sent_at,
        revoked_at=row.revoked_at,
    )


async def links_of(conn: AsyncConnection, session_id: str) -> dict[str, InvitationRecord]:
    """A session's links, by pupil id."""
    rows = await conn.execute(select(Invitation).where(Invitation.session_id == session_id))
    return {row.pupil_id: link_record(row) for row in rows.all()}


async def revoke_passes(conn: AsyncConnection, where: Any, now: dt.datetime) -> list[str]:
    """Every live pass that `where` picks stops; their ids."""
    ids = list(
        (await conn.execute(select(PupilPass.id).where(where, PupilPass.revoked_at.is_(None))))
        .scalars()
        .all()
    )
    if ids:
        await conn.execute(update(PupilPass).where(PupilPass.id.in_(ids)).values(revoked_at=now))
    return ids


async def queue(conn: AsyncConnection, rows: Sequence[Mapping[str, object]]) -> None:
    """Notifications into the outbox, in the caller's transaction."""
    if rows:
        await conn.execute(insert(Notification), [dict(row) for row in rows])


def chunks(ids: Sequence[str], size: int = 500) -> Iterable[Sequence[str]]:
    """SQLite allows a limited number of bound parameters per statement."""
    for start in range(0, len(ids), size):
        yield ids[start : start + size]
