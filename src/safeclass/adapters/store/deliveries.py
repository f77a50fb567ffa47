"""The outbox's rows as the pages count and list them, on the database
(`app.undelivered.DeliveryRows`): the `notifications` table.

Which rows wait undelivered (given up on, of a channel this server cannot send, or late), counted
for `/healthz` and the staff home and listed for a session's page, and the rows of a session's
DSL alerts and parents' notices for its timeline (the alerts' also for its compliance report,
adapters/store/compliance_results.py). The app says why they wait.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import ColumnElement, and_, case, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from safeclass.adapters.store.tables import Notification
from safeclass.app.alerts import PENDING_AT_END
from safeclass.app.undelivered import AlertDelivery, ParentDelivery, WaitingCounts, WaitingRow


class StoreDeliveries:
    """The notifications table, read through one engine (or the caller's connection)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def health_counts(
        self, now: dt.datetime, channels: Sequence[str], stale: dt.timedelta
    ) -> WaitingCounts:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            return await self.waiting_counts(conn, now, channels, stale, None)

    async def waiting_counts(
        self,
        conn: AsyncConnection,
        now: dt.datetime,
        channels: Sequence[str],
        stale: dt.timedelta,
        school_id: str | None,
    ) -> WaitingCounts:
        is_dsl = Notification.kind.like("dsl_%")
        parents = _is_parents_notice()
        unsendable = (
            ~Notification.channel.in_(list(channels)) if channels else Notification.id.is_not(None)
        )
        nobody_at = Notification.recipient == ""

        def count(condition: ColumnElement[bool]) -> ColumnElement[int]:
            return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

        query = select(
            count(is_dsl),
            count(~is_dsl),
            count(is_dsl & nobody_at),
            count(parents),
            count(~is_dsl & nobody_at),
            count((Notification.status == "pending") & unsendable),
        ).where(_waiting(now, channels, stale))
        if school_id is not None:
            query = query.where(Notification.school_id == school_id)
        found = (await conn.execute(query)).one()
        return WaitingCounts(*(int(n) for n in found))

    async def waiting_rows(
        self,
        conn: AsyncConnection,
        session_id: str,
        now: dt.datetime,
        channels: Sequence[str],
        stale: dt.timedelta,
    ) -> list[WaitingRow]:
        rows = await conn.execute(
            select(
                Notification.kind,
                Notification.pupil_id,
                Notification.created_at,
                Notification.channel,
                Notification.recipient,
                Notification.status,
            )
            .where(
                Notification.session_id == session_id,
                or_(Notification.kind.like("dsl_%"), _is_parents_notice()),
                _waiting(now, channels, stale),
            )
            .order_by(Notification.id)
        )
        return [WaitingRow(*row) for row in rows]

    async def alert_deliveries(self, conn: AsyncConnection, session_id: str) -> list[AlertDelivery]:
        return await alert_deliveries(conn, session_id)

    async def parent_deliveries(
        self, conn: AsyncConnection, session_id: str
    ) -> list[ParentDelivery]:
        rows = await conn.execute(
            select(
                Notification.kind,
                Notification.pupil_id,
                Notification.channel,
                Notification.created_at,
                Notification.sent_at,
                Notification.status,
                Notification.last_error,
            )
            .where(Notification.session_id == session_id, _is_parents_notice())
            .order_by(Notification.id)
        )
        return [ParentDelivery(*row) for row in rows]


async def alert_deliveries(conn: AsyncConnection, session_id: str) -> list[AlertDelivery]:
    """The DSL alert rows of a session, in the order written (its timeline and its compliance
    report read them: `compliance_results` too)."""
    rows = await conn.execute(
        select(
            Notification.created_at,
            Notification.sent_at,
            Notification.status,
            Notification.last_error,
        )
        .where(Notification.session_id == session_id, Notification.kind.like("dsl_%"))
        .order_by(Notification.id)
    )
    return [AlertDelivery(*row) for row in rows]


def _is_parents_notice() -> ColumnElement[bool]:
    """A notice to a pupil's parents (removed, camera off, recorded, absent, a lesson moved or
    cancelled); not `parent_report`, which is a family's report going to staff."""
    return and_(Notification.kind.like("parent_%"), Notification.kind != "parent_report")


def _waiting(now: dt.datetime, channels: Sequence[str], stale: dt.timedelta) -> ColumnElement[bool]:
    """Rows that wait undelivered now: given up on, of a channel nobody can send, or late."""
    cannot = ~Notification.channel.in_(list(channels)) if channels else Notification.id.is_not(None)
    return and_(
        Notification.status != PENDING_AT_END,
        or_(
            Notification.status == "failed",
            (Notification.status == "pending") & cannot,
            (Notification.status == "pending") & (Notification.created_at <= now - stale),
        ),
    )
