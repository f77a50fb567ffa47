"""What the outbox has not delivered, so nothing waits silently (issue 11, C12, C16).

An alert to the DSL that sits in the `notifications` table helps nobody unless someone knows it
is there. This module counts what is waiting: every row not yet sent that has waited longer than
`STALE` (a healthy outbox sends a DSL alert within a second, and retries a refused one after
30 s, then 1 and 2 minutes), every row the outbox gave up on (`failed`), and every row of a
channel this server cannot deliver (no mail server for an email row, no webhook for a webhook
row; with neither, every row) at once. Parents' notices held until the end of their session are
waiting by design and are not counted. `/healthz` reports the counts and the reason; the staff
home and the session's page tell staff, so they can tell the DSL or the family themselves
(`waiting_notices` names the pupils). The timeline reads each alert's and each parents' notice's
own rows (`alert_deliveries`, `parent_deliveries`) to say whether it was sent, and when.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, case, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from safeclass.adapters.store.tables import Notification
from safeclass.app.alerts import NO_ADDRESS, NO_DSL, PENDING_AT_END
from safeclass.app.delivery import EMAIL, WEBHOOK

STALE = dt.timedelta(minutes=2)
ALL_CHANNELS = frozenset((EMAIL, WEBHOOK))


class Why(StrEnum):
    """Why notifications wait, most fundamental first."""

    NO_CHANNEL = "no_channel"  # the way they go (email, the webhook) is not set up here
    NO_DSL = "no_dsl"  # the school has no DSL account to send alerts to
    NO_ADDRESS = "no_address"  # a pupil's parents have no email address, and there is no webhook
    NOT_TAKEN = "not_taken"  # the mail server refuses or is down (the outbox retries, then fails)


REASONS = {
    Why.NO_CHANNEL: (
        "no way to send them is set up on this server "
        "(email: SAFECLASS_SMTP_HOST; webhook: SAFECLASS_WEBHOOK_URL)"
    ),
    Why.NO_DSL: NO_DSL,
    Why.NO_ADDRESS: NO_ADDRESS,
    Why.NOT_TAKEN: "the mail server or the webhook did not take them",
}


def is_parents_notice() -> ColumnElement[bool]:
    """A notice to a pupil's parents (removed, camera off, recorded, absent, a lesson moved or
    cancelled); not `parent_report`, which is a family's report going to staff."""
    return and_(Notification.kind.like("parent_%"), Notification.kind != "parent_report")


def _channels(can_deliver: bool | Collection[str]) -> list[str]:
    if isinstance(can_deliver, bool):
        return sorted(ALL_CHANNELS) if can_deliver else []
    return sorted(can_deliver)


def _waiting(now: dt.datetime, channels: list[str], stale: dt.timedelta) -> ColumnElement[bool]:
    """Rows that wait undelivered now: given up on, of a channel nobody can send, or late."""
    cannot = ~Notification.channel.in_(channels) if channels else Notification.id.is_not(None)
    return and_(
        Notification.status != PENDING_AT_END,
        or_(
            Notification.status == "failed",
            (Notification.status == "pending") & cannot,
            (Notification.status == "pending") & (Notification.created_at <= now - stale),
        ),
    )


@dataclass(frozen=True, slots=True)
class Undelivered:
    dsl_alerts: int = 0
    other: int = 0  # parents' notices and everything else
    why: Why | None = None
    parent_notices: int = 0  # of `other`: notices to pupils' parents

    @property
    def total(self) -> int:
        return self.dsl_alerts + self.other

    @property
    def reason(self) -> str:
        return REASONS[self.why] if self.why is not None else ""


async def health_undelivered(
    engine: AsyncEngine, now: dt.datetime, *, can_deliver: bool | Collection[str]
) -> Undelivered:
    """For `/healthz`: that the database answers (any driver error is raised), and what waits
    undelivered of every school."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
        return await count_undelivered(conn, now, can_deliver=can_deliver)


async def count_undelivered(
    conn: AsyncConnection,
    now: dt.datetime,
    *,
    can_deliver: bool | Collection[str],
    school_id: str | None = None,
    stale: dt.timedelta = STALE,
) -> Undelivered:
    """What is waiting undelivered now (of one school, or of every school). `can_deliver`: the
    channels this server sends ("email", "webhook"), or True for all and False for none."""
    channels = _channels(can_deliver)
    is_dsl = Notification.kind.like("dsl_%")
    parents = is_parents_notice()
    unsendable = ~Notification.channel.in_(channels) if channels else Notification.id.is_not(None)
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
    dsl, other, nobody, parents_n, no_address, no_way = (int(n) for n in found)
    if not dsl + other:
        return Undelivered()
    if no_way:
        why = Why.NO_CHANNEL
    elif nobody:
        why = Why.NO_DSL
    elif no_address:
        why = Why.NO_ADDRESS
    else:
        why = Why.NOT_TAKEN
    return Undelivered(dsl, other, why, parents_n)


@dataclass(frozen=True, slots=True)
class WaitingNotice:
    """A notice of one session that waits undelivered: to the DSL, or to a pupil's parents."""

    kind: str  # "dsl_concern", "parent_removed", "parent_absent", ...
    pupil_id: str | None
    why: Why


async def waiting_notices(
    conn: AsyncConnection,
    session_id: str,
    now: dt.datetime,
    *,
    can_deliver: bool | Collection[str],
    stale: dt.timedelta = STALE,
) -> list[WaitingNotice]:
    """The session's DSL alerts and parents' notices that wait undelivered, one per notice
    (its channels and addresses together), for the session's page."""
    channels = _channels(can_deliver)
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
            or_(Notification.kind.like("dsl_%"), is_parents_notice()),
            _waiting(now, channels, stale),
        )
        .order_by(Notification.id)
    )
    found: dict[tuple[str, str | None, dt.datetime], WaitingNotice] = {}
    for kind, pupil_id, created_at, channel, recipient, status in rows:
        if status == "pending" and channel not in channels:
            why = Why.NO_CHANNEL
        elif not recipient:
            why = Why.NO_DSL if kind.startswith("dsl_") else Why.NO_ADDRESS
        else:
            why = Why.NOT_TAKEN
        found.setdefault((kind, pupil_id, created_at), WaitingNotice(kind, pupil_id, why))
    return list(found.values())


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


@dataclass(frozen=True, slots=True)
class ParentDelivery:
    """One row of a parents' notice: about `pupil_id`, by `channel`, written at `created_at` (its
    event's time, or the end for an absence), sent at `sent_at`."""

    kind: str
    pupil_id: str | None
    channel: str
    created_at: dt.datetime
    sent_at: dt.datetime | None
    status: str
    last_error: str | None


async def parent_deliveries(conn: AsyncConnection, session_id: str) -> list[ParentDelivery]:
    """The parents' notice rows of a session, for its timeline."""
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
        .where(Notification.session_id == session_id, is_parents_notice())
        .order_by(Notification.id)
    )
    return [ParentDelivery(*row) for row in rows]
