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
own rows (`alert_deliveries`, `parent_deliveries`) to say whether it was sent, and when. The
rows are counted and read through `DeliveryRows` (on the database:
`safeclass.adapters.store.deliveries`, `Services.deliveries`), in the caller's snapshot where a
page reads them with other things.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from safeclass.app.alerts import NO_ADDRESS, NO_DSL
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


def _channels(can_deliver: bool | Collection[str]) -> list[str]:
    if isinstance(can_deliver, bool):
        return sorted(ALL_CHANNELS) if can_deliver else []
    return sorted(can_deliver)


@dataclass(frozen=True, slots=True)
class WaitingCounts:
    """How many notifications wait undelivered, of each kind that says why."""

    dsl_alerts: int = 0
    other: int = 0
    dsl_nobody: int = 0  # DSL alerts with no DSL to go to
    parent_notices: int = 0  # notices to pupils' parents
    no_address: int = 0  # the others with nobody to go to
    no_channel: int = 0  # pending on a channel this server cannot send


@dataclass(frozen=True, slots=True)
class WaitingRow:
    """One undelivered row of a DSL alert or a parents' notice: one channel and address."""

    kind: str
    pupil_id: str | None
    created_at: dt.datetime
    channel: str
    recipient: str
    status: str


class DeliveryRows(Protocol):
    """The outbox's rows as the pages count and list them. A row waits undelivered when it is
    not held until its session's end (`alerts.PENDING_AT_END`) and the outbox gave up on it,
    or it is pending on a channel not in `channels`, or it was written `stale` or more before
    `now`. A parents' notice is a `parent_…` row other than `parent_report` (a family's
    report going to staff)."""

    async def health_counts(
        self, now: dt.datetime, channels: Sequence[str], stale: dt.timedelta
    ) -> WaitingCounts:
        """That the database answers (any driver error is raised), and what waits of every
        school."""

    async def waiting_counts(
        self,
        conn: AsyncConnection,
        now: dt.datetime,
        channels: Sequence[str],
        stale: dt.timedelta,
        school_id: str | None,
    ) -> WaitingCounts:
        """What waits undelivered now, of one school or (None) of every school."""

    async def waiting_rows(
        self,
        conn: AsyncConnection,
        session_id: str,
        now: dt.datetime,
        channels: Sequence[str],
        stale: dt.timedelta,
    ) -> list[WaitingRow]:
        """The session's DSL alert and parents' notice rows that wait undelivered, in the order
        written."""

    async def alert_deliveries(self, conn: AsyncConnection, session_id: str) -> list[AlertDelivery]:
        """The DSL alert rows of a session, in the order written, for its timeline."""

    async def parent_deliveries(
        self, conn: AsyncConnection, session_id: str
    ) -> list[ParentDelivery]:
        """The parents' notice rows of a session, in the order written, for its timeline."""


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
    rows: DeliveryRows, now: dt.datetime, *, can_deliver: bool | Collection[str]
) -> Undelivered:
    """For `/healthz`: that the database answers (any driver error is raised), and what waits
    undelivered of every school."""
    return _undelivered(await rows.health_counts(now, _channels(can_deliver), STALE))


async def count_undelivered(
    rows: DeliveryRows,
    conn: AsyncConnection,
    now: dt.datetime,
    *,
    can_deliver: bool | Collection[str],
    school_id: str | None = None,
    stale: dt.timedelta = STALE,
) -> Undelivered:
    """What is waiting undelivered now (of one school, or of every school). `can_deliver`: the
    channels this server sends ("email", "webhook"), or True for all and False for none."""
    counts = await rows.waiting_counts(conn, now, _channels(can_deliver), stale, school_id)
    return _undelivered(counts)


def _undelivered(counts: WaitingCounts) -> Undelivered:
    """What waits, and the most fundamental reason why."""
    if not counts.dsl_alerts + counts.other:
        return Undelivered()
    if counts.no_channel:
        why = Why.NO_CHANNEL
    elif counts.dsl_nobody:
        why = Why.NO_DSL
    elif counts.no_address:
        why = Why.NO_ADDRESS
    else:
        why = Why.NOT_TAKEN
    return Undelivered(counts.dsl_alerts, counts.other, why, counts.parent_notices)


@dataclass(frozen=True, slots=True)
class WaitingNotice:
    """A notice of one session that waits undelivered: to the DSL, or to a pupil's parents."""

    kind: str  # "dsl_concern", "parent_removed", "parent_absent", ...
    pupil_id: str | None
    why: Why


async def waiting_notices(
    rows: DeliveryRows,
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
    found: dict[tuple[str, str | None, dt.datetime], WaitingNotice] = {}
    for row in await rows.waiting_rows(conn, session_id, now, channels, stale):
        if row.status == "pending" and row.channel not in channels:
            why = Why.NO_CHANNEL
        elif not row.recipient:
            why = Why.NO_DSL if row.kind.startswith("dsl_") else Why.NO_ADDRESS
        else:
            why = Why.NOT_TAKEN
        key = (row.kind, row.pupil_id, row.created_at)
        found.setdefault(key, WaitingNotice(row.kind, row.pupil_id, why))
    return list(found.values())


@dataclass(frozen=True, slots=True)
class AlertDelivery:
    """One row of a DSL alert: written at `created_at` (its event's time), sent at `sent_at`."""

    created_at: dt.datetime
    sent_at: dt.datetime | None
    status: str
    last_error: str | None


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
