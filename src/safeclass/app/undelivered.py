"""What the outbox has not delivered, so nothing waits silently (issue 11, C12, C16).

An alert to the DSL that sits in the `notifications` table helps nobody unless someone knows it
is there. This module counts what is waiting: every row not yet sent that has waited longer than
`STALE` (a healthy outbox sends a DSL alert within a second, and retries a refused one after
30 s, then 1 and 2 minutes), every row the outbox gave up on (`failed`), and, on a server with no
way to deliver at all (no mail server), every row at once. Parents' notices held until the end of
their session are waiting by design and are not counted. `/healthz` reports the counts and the
reason, and the staff home tells staff so they can tell the DSL themselves. The timeline reads
each alert's own rows (`alert_deliveries`) to say whether it was sent, and when.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from safeclass.adapters.store.tables import Notification
from safeclass.app.alerts import NO_DSL, PENDING_AT_END

STALE = dt.timedelta(minutes=2)


class Why(StrEnum):
    """Why notifications wait, most fundamental first."""

    NO_CHANNEL = "no_channel"  # this server has no mail server set up: nothing can go
    NO_DSL = "no_dsl"  # the school has no DSL account to send alerts to
    NOT_TAKEN = "not_taken"  # the mail server refuses or is down (the outbox retries, then fails)


REASONS = {
    Why.NO_CHANNEL: "email is not set up on this server (SAFECLASS_SMTP_HOST)",
    Why.NO_DSL: NO_DSL,
    Why.NOT_TAKEN: "the mail server did not take them",
}


@dataclass(frozen=True, slots=True)
class Undelivered:
    dsl_alerts: int = 0
    other: int = 0  # parents' notices and everything else
    why: Why | None = None

    @property
    def total(self) -> int:
        return self.dsl_alerts + self.other

    @property
    def reason(self) -> str:
        return REASONS[self.why] if self.why is not None else ""


async def count_undelivered(
    conn: AsyncConnection,
    now: dt.datetime,
    *,
    can_deliver: bool,
    school_id: str | None = None,
    stale: dt.timedelta = STALE,
) -> Undelivered:
    """What is waiting undelivered now (of one school, or of every school)."""
    waiting = or_(
        Notification.status == "failed",
        (Notification.status == "pending")
        & (Notification.created_at <= (now if not can_deliver else now - stale)),
    )
    is_dsl = Notification.kind.like("dsl_%")
    query = select(
        func.coalesce(func.sum(case((is_dsl, 1), else_=0)), 0),
        func.coalesce(func.sum(case((is_dsl, 0), else_=1)), 0),
        func.coalesce(func.sum(case((is_dsl & (Notification.recipient == ""), 1), else_=0)), 0),
    ).where(waiting, Notification.status != PENDING_AT_END)
    if school_id is not None:
        query = query.where(Notification.school_id == school_id)
    dsl, other, nobody = (int(n) for n in (await conn.execute(query)).one())
    if not dsl + other:
        return Undelivered()
    if not can_deliver:
        why = Why.NO_CHANNEL
    elif nobody:
        why = Why.NO_DSL
    else:
        why = Why.NOT_TAKEN
    return Undelivered(dsl, other, why)


@dataclass(frozen=True, slots=True)
class AlertDelivery:
    """One row of a DSL alert: written at `created_at` (its event's time), sent at `sent_at`."""

    created_at: dt.datetime
    sent_at: dt.datetime | None
    status: str
    last_error: str | None


async def alert_deliveries(conn: AsyncConnection, session_id: str) -> list[AlertDelivery]:
    """The DSL alert rows of a session, for its timeline."""
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
