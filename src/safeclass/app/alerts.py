"""From room events to the notification outbox: DSL alerts at once, parents' notices on time.

The room never sends mail itself: it writes what must be said, to whom and when, into the
`notifications` table in the same transaction as the events (`outbox_write` is run inside the
log's append), and the outbox worker delivers (and retries). So an alert is on record exactly when
its event is: a crash cannot leave `DslAlerted` in the log with no alert to send. Once that
transaction has committed, `written` wakes the worker, so the DSL hears at once rather than at
the next poll. A DSL alert survives a mail server that is down, and a parent's notice "at the
end of the session" (STJ-06, S04-16) waits for the end. An alert with nobody to go to (no DSL
account, no mail server) is still written, and a warning says why it waits.

A concern raised in the room (`ConcernRaised`) also becomes its record in the same transaction
(`concerns.RoomConcern`), and its alert links to that record on the DSL's page: who raised it,
the category and the link, never the account nor the pupil.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from safeclass.adapters.store.tables import Guardian, Notification, Session, Staff
from safeclass.app import concerns
from safeclass.core import RoomState
from safeclass.core import events as ev

log = logging.getLogger(__name__)

PENDING_AT_END = "held_until_end"
NO_DSL = "the school has no DSL account to send it to"
# Events that make someone outside the room hear of something.
_OUTSIDE = (ev.DslAlerted, ev.ParentNoticeQueued, ev.SessionEnded, ev.ConcernRaised)


@dataclass(frozen=True, slots=True)
class OutboxWrite:
    """The notification rows some events cause, written inside the log's own transaction."""

    session_id: str
    rows: list[dict[str, object]] = field(default_factory=list)
    ended_at: dt.datetime | None = None  # the parents' notices held until the end are due then
    concerns: list[concerns.RoomConcern] = field(default_factory=list)  # their records

    async def __call__(self, conn: AsyncConnection) -> None:
        for concern in self.concerns:
            await concern(conn)
        if self.rows:
            await conn.execute(insert(Notification), self.rows)
        if self.ended_at is not None:
            # the parents' notices that waited for the end are due now (STJ-06)
            await conn.execute(
                update(Notification)
                .where(
                    Notification.session_id == self.session_id,
                    Notification.status == PENDING_AT_END,
                )
                .values(status="pending", send_after=self.ended_at)
            )


class OutboxAlerts:
    """Implements the runtime's `Alerts` port by writing to the notification outbox.

    `deliver` wakes the outbox worker; None means this server has no mail channel, so what is
    written waits in the outbox (with a warning) until one is set up.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        deliver: Callable[[], None] | None = None,
        public_url: str = "",
        concern_key: bytes | None = None,
    ) -> None:
        """`concern_key`: `ServerSecret.derive(concerns.CONCERN_KEY)`, which chains the records
        of concerns raised in the room; without it none is recorded (a warning says so)."""
        self._engine = engine
        self.deliver = deliver
        self._public_url = public_url.rstrip("/")
        self._concern_key = concern_key

    async def outbox_write(
        self, session_id: str, state: RoomState, events: Sequence[ev.Event]
    ) -> OutboxWrite | None:
        """What these events make the outbox say (whom to tell is read now, before the log's
        transaction); None when they concern only the room, which is most commands."""
        if not any(isinstance(e, _OUTSIDE) for e in events):
            return None
        rows: list[dict[str, object]] = []
        records: list[concerns.RoomConcern] = []
        ended = next((e for e in events if isinstance(e, ev.SessionEnded)), None)
        async with self._engine.connect() as conn:
            school_id = (
                await conn.execute(select(Session.school_id).where(Session.id == session_id))
            ).scalar_one()
            for event in events:
                if isinstance(event, ev.ConcernRaised):
                    records += await self._record(conn, school_id, session_id, state, event)
                elif isinstance(event, ev.DslAlerted) and event.reason is ev.AlertReason.CONCERN:
                    rows += await self._concern_to_dsl(
                        conn, school_id, session_id, state, event, records
                    )
                elif isinstance(event, ev.DslAlerted):
                    rows += await self._to_dsl(conn, school_id, session_id, state, event)
                elif isinstance(event, ev.ParentNoticeQueued):
                    rows += await self._to_parents(conn, school_id, session_id, state, event)
        if rows and self.deliver is None:
            log.warning(
                "%d notification(s) of session %s will wait in the outbox: no mail server is set "
                "up (SAFECLASS_SMTP_HOST)",
                len(rows),
                session_id,
            )
        return OutboxWrite(session_id, rows, ended.at if ended is not None else None, records)

    def written(self, session_id: str) -> None:
        """The log's transaction that carried this session's outbox write has committed."""
        if self.deliver is not None:
            self.deliver()

    async def _record(
        self,
        conn: AsyncConnection,
        school_id: str,
        session_id: str,
        state: RoomState,
        event: ev.ConcernRaised,
    ) -> list[concerns.RoomConcern]:
        if self._concern_key is None:
            log.warning(
                "concern %d of session %s has no record: no concern key", event.number, session_id
            )
            return []
        who = state.participants.get(event.by)
        return [
            await concerns.room_concern(
                conn,
                self._concern_key,
                school_id=school_id,
                session_id=session_id,
                event=event,
                by_name=who.name if who else event.by,
                keep_to_age=state.policy.retention.concerns_until_pupil_age,
            )
        ]

    async def _concern_to_dsl(
        self,
        conn: AsyncConnection,
        school_id: str,
        session_id: str,
        state: RoomState,
        event: ev.DslAlerted,
        records: list[concerns.RoomConcern],
    ) -> list[dict[str, object]]:
        """The alert of the concern just raised: who, the category and the link to its record."""
        record = records[-1].new if records else None
        who = state.participants.get(event.by)
        subject, body = concerns.alert_words(
            who.name if who else event.by,
            record.category if record else "",
            state.plan.title,
            event.at,
            state.policy.school.timezone,
            record.concern_id if record else "",
            self._public_url,
        )
        leads = await dsl_emails(conn, school_id)
        if not leads:
            log.warning(
                "the DSL alert (concern) of session %s has nobody to go to: %s; it waits in the "
                "outbox",
                session_id,
                NO_DSL,
            )
            leads = [""]
        return [
            notification_row(
                school_id, session_id, concerns.ALERT_KIND, email, subject, body, event.at
            )
            for email in leads
        ]

    async def _to_dsl(
        self,
        conn: AsyncConnection,
        school_id: str,
        session_id: str,
        state: RoomState,
        event: ev.DslAlerted,
    ) -> list[dict[str, object]]:
        leads = await dsl_emails(conn, school_id)
        who = state.participants.get(event.by)
        pupil = state.plan.expected.get(event.pupil) if event.pupil else None
        what = {
            ev.AlertReason.CONCERN: "A safeguarding concern was raised",
            ev.AlertReason.EMERGENCY_END: "A session was ended in an emergency",
            ev.AlertReason.ONE_TO_ONE_RECORDED: (
                "A 1-to-1 session is being recorded without a parent present"
            ),
        }[event.reason]
        when = _local(state, event.at)
        subject = f"[safeclass] {what}: {state.plan.title} at {when}"
        body = "\n".join(
            line
            for line in (
                f"{what}.",
                f"Session: {state.plan.title} ({when}).",
                f"By: {who.name if who else event.by}.",
                f"Pupil: {pupil.shown_name}." if pupil else "",
                "Open safeclass to read the details; they are not sent by email.",
                f"{self._public_url}/room/{session_id}" if self._public_url else "",
            )
            if line
        )
        if not leads:
            # still written: the outbox sends it to whoever holds the DSL role once someone does
            log.warning(
                "the DSL alert (%s) of session %s has nobody to go to: %s; it waits in the outbox",
                event.reason.value,
                session_id,
                NO_DSL,
            )
            leads = [""]
        return [
            notification_row(
                school_id, session_id, f"dsl_{event.reason.value}", email, subject, body, event.at
            )
            for email in leads
        ]

    async def _to_parents(
        self,
        conn: AsyncConnection,
        school_id: str,
        session_id: str,
        state: RoomState,
        event: ev.ParentNoticeQueued,
    ) -> list[dict[str, object]]:
        guardians = (
            await conn.execute(
                select(Guardian.email).where(
                    Guardian.school_id == school_id,
                    Guardian.pupil_id == event.pupil,
                    Guardian.email.is_not(None),
                )
            )
        ).all()
        pupil = state.plan.expected.get(event.pupil)
        name = pupil.forename if pupil else "your child"
        what = {
            ev.NoticeReason.REMOVED: f"{name} was asked to leave today's live session",
            ev.NoticeReason.CAMERA_TURNED_OFF: (
                f"{name}'s camera was turned off by staff in today's live session"
            ),
            ev.NoticeReason.RECORDED: f"{name}'s 1-to-1 session is being recorded for safeguarding",
        }[event.reason]
        subject = f"[{state.policy.school.name}] {what}"
        body = (
            f"Dear parent or carer,\n\n{what} ({state.plan.title}, {_local(state, event.at)}).\n"
            "A member of staff will be in touch if there is anything to discuss.\n\n"
            f"{state.policy.school.name}"
        )
        status = PENDING_AT_END if event.send_at_end else "pending"
        return [
            notification_row(
                school_id,
                session_id,
                f"parent_{event.reason.value}",
                email,
                subject,
                body,
                event.at,
                status=status,
            )
            for (email,) in guardians
            if email
        ]


async def dsl_emails(conn: AsyncConnection, school_id: str) -> list[str]:
    """The addresses of the school's DSLs (every active account with the role)."""
    found = await conn.execute(
        select(Staff.email)
        .where(Staff.school_id == school_id, Staff.role == "dsl", Staff.active.is_(True))
        .order_by(Staff.email)
    )
    return list(found.scalars())


def notification_row(
    school_id: str,
    session_id: str | None,
    kind: str,
    recipient: str,
    subject: str,
    body: str,
    at: dt.datetime,
    status: str = "pending",
) -> dict[str, object]:
    """A new row of the `notifications` table, due at `at`: the one shape every writer uses."""
    return {
        "school_id": school_id,
        "session_id": session_id,
        "kind": kind,
        "recipient": recipient,
        "subject": subject[:200],
        "body": body,
        "status": status,
        "attempts": 0,
        "send_after": at,
        "created_at": at,
    }


def _local(state: RoomState, when: dt.datetime) -> str:
    return when.astimezone(ZoneInfo(state.policy.school.timezone)).strftime("%a %d %b %H:%M")
