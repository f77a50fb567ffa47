"""Whom alerts and notices go to, and the outbox they are written to, on the database
(`app.alerts.AlertRows`).

A session with its school's key and name, the school's DSLs (`dsl_emails`, the one query for
them, which the outbox's rows use too), what families said through their links, the pupils'
guardians' addresses and MIS ids; and the `notifications` rows written in the log's own
transaction, with the parents' notices held until the end of a session made due.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from safeclass.adapters.store.db import OnEngine
from safeclass.adapters.store.tables import (
    Guardian,
    Notification,
    ParentReport,
    Pupil,
    School,
    Session,
    Staff,
)
from safeclass.app.alerts import AlertedSession


class StoreAlerts(OnEngine):
    """The records alerts read and the outbox they write, through one engine."""

    async def session_of(self, conn: AsyncConnection, session_id: str) -> AlertedSession:
        row = (
            await conn.execute(
                select(Session.school_id, School.key, School.name, Session.title, Session.starts_at)
                .join(School, School.id == Session.school_id)
                .where(Session.id == session_id)
            )
        ).one()
        return AlertedSession(*row)

    async def dsl_emails(self, conn: AsyncConnection, school_id: str) -> list[str]:
        return await dsl_emails(conn, school_id)

    async def families_said(
        self, conn: AsyncConnection, session_id: str, reasons: Sequence[str]
    ) -> set[str]:
        found = await conn.execute(
            select(ParentReport.pupil_id).where(
                ParentReport.session_id == session_id, ParentReport.reason.in_(list(reasons))
            )
        )
        return set(found.scalars())

    async def guardian_emails(
        self, conn: AsyncConnection, school_id: str, pupil_id: str
    ) -> list[str]:
        found = await conn.execute(
            select(Guardian.email).where(
                Guardian.school_id == school_id,
                Guardian.pupil_id == pupil_id,
                Guardian.email.is_not(None),
            )
        )
        return [email for email in found.scalars() if email is not None]

    async def mis_id(self, conn: AsyncConnection, pupil_id: str) -> str | None:
        found = await conn.execute(select(Pupil.mis_id).where(Pupil.id == pupil_id))
        mis_id: str | None = found.scalar_one_or_none()
        return mis_id

    async def queue(self, conn: AsyncConnection, rows: Sequence[dict[str, object]]) -> None:
        await conn.execute(insert(Notification), list(rows))

    async def release_held(
        self, conn: AsyncConnection, session_id: str, held: str, at: dt.datetime
    ) -> None:
        await conn.execute(
            update(Notification)
            .where(Notification.session_id == session_id, Notification.status == held)
            .values(status="pending", send_after=at)
        )


async def dsl_emails(conn: AsyncConnection, school_id: str) -> list[str]:
    """The addresses of the school's DSLs (every active account with the role)."""
    found = await conn.execute(
        select(Staff.email)
        .where(Staff.school_id == school_id, Staff.role == "dsl", Staff.active.is_(True))
        .order_by(Staff.email)
    )
    return list(found.scalars())
