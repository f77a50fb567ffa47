"""The outbox's rows on the database (`app.outbox.OutboxRows`): the `notifications` table.

Which rows are due, claiming one (its `send_after` moved a lease ahead in the same statement
that checks it is still pending, so two workers never hold the same row), recording how a send
went, and addressing a DSL alert written when the school had no DSL to the DSLs it has now.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from safeclass.adapters.store.alerts import dsl_emails  # the one query for a school's DSLs
from safeclass.adapters.store.tables import Notification
from safeclass.app.outbox import OutgoingRow


class StoreOutbox:
    """The notifications table, read and written through one engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def due(self, now: dt.datetime, channels: Sequence[str], limit: int) -> list[int]:
        async with self.engine.connect() as conn:
            found = await conn.execute(
                select(Notification.id)
                .where(
                    Notification.status == "pending",
                    Notification.send_after <= now,
                    Notification.channel.in_(sorted(channels)),
                )
                .order_by(Notification.send_after, Notification.id)
                .limit(limit)
            )
            return list(found.scalars())

    async def claim(
        self, notification_id: int, now: dt.datetime, until: dt.datetime
    ) -> OutgoingRow | None:
        async with self.engine.begin() as conn:
            claimed = await conn.execute(
                update(Notification)
                .where(
                    Notification.id == notification_id,
                    Notification.status == "pending",
                    Notification.send_after <= now,
                )
                .values(send_after=until)
            )
            if claimed.rowcount != 1:
                return None  # another worker has it
            row = (
                await conn.execute(select(Notification).where(Notification.id == notification_id))
            ).one()
        return OutgoingRow(
            id=row.id,
            school_id=row.school_id,
            session_id=row.session_id,
            kind=row.kind,
            channel=row.channel,
            recipient=row.recipient,
            subject=row.subject,
            body=row.body,
            attempts=row.attempts,
            created_at=row.created_at,
        )

    async def sent(self, notification_id: int, attempts: int, at: dt.datetime) -> None:
        values = {"status": "sent", "attempts": attempts, "sent_at": at, "last_error": None}
        await self._set(notification_id, values)

    async def retry(self, notification_id: int, attempts: int, error: str, at: dt.datetime) -> None:
        await self._set(
            notification_id, {"attempts": attempts, "last_error": error, "send_after": at}
        )

    async def failed(self, notification_id: int, error: str, attempts: int | None = None) -> None:
        values: dict[str, object] = {"status": "failed", "last_error": error}
        if attempts is not None:
            values["attempts"] = attempts
        await self._set(notification_id, values)

    async def to_dsls(
        self, row: OutgoingRow, now: dt.datetime, *, recheck_at: dt.datetime, nobody: str
    ) -> int:
        mine = update(Notification).where(Notification.id == row.id)
        async with self.engine.begin() as conn:
            leads = await dsl_emails(conn, row.school_id)
            if not leads:
                await conn.execute(mine.values(send_after=recheck_at, last_error=nobody))
                return 0
            await conn.execute(mine.values(recipient=leads[0], send_after=now, last_error=None))
            copies = [
                {
                    "school_id": row.school_id,
                    "session_id": row.session_id,
                    "kind": row.kind,
                    "channel": row.channel,
                    "recipient": lead,
                    "subject": row.subject,
                    "body": row.body,
                    "status": "pending",
                    "attempts": 0,
                    "send_after": now,
                    "created_at": row.created_at,
                }
                for lead in leads[1:]
            ]
            if copies:
                await conn.execute(insert(Notification), copies)
        return len(leads)

    async def _set(self, notification_id: int, values: dict[str, object]) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(Notification).where(Notification.id == notification_id).values(**values)
            )
