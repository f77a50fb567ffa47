"""From room events to the notification outbox: DSL alerts at once, parents' notices on time.

The room never sends mail itself: it writes what must be said, to whom and when, into the
`notifications` table in the same breath as the events, and the outbox worker delivers (and
retries). So a DSL alert survives a mail server that is down, and a parent's notice "at the end
of the session" (STJ-06, S04-16) waits for the end.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from safeclass.adapters.store.tables import Guardian, Notification, Session, Staff
from safeclass.core import RoomState
from safeclass.core import events as ev

PENDING_AT_END = "held_until_end"
# Events that make someone outside the room hear of something.
_OUTSIDE = (ev.DslAlerted, ev.ParentNoticeQueued, ev.SessionEnded)


class OutboxAlerts:
    """Implements the runtime's `Alerts` port by writing to the notification outbox."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def room_events(
        self, session_id: str, state: RoomState, events: Sequence[ev.Event]
    ) -> None:
        if not any(isinstance(e, _OUTSIDE) for e in events):
            return  # most commands concern only the room: no transaction at all
        rows: list[dict[str, object]] = []
        ended = next((e for e in events if isinstance(e, ev.SessionEnded)), None)
        async with self._engine.begin() as conn:
            school_id = (
                await conn.execute(select(Session.school_id).where(Session.id == session_id))
            ).scalar_one()
            for event in events:
                if isinstance(event, ev.DslAlerted):
                    rows += await self._to_dsl(conn, school_id, session_id, state, event)
                elif isinstance(event, ev.ParentNoticeQueued):
                    rows += await self._to_parents(conn, school_id, session_id, state, event)
            if rows:
                await conn.execute(insert(Notification), rows)
            if ended is not None:
                # the parents' notices that waited for the end are due now (STJ-06)
                await conn.execute(
                    update(Notification)
                    .where(
                        Notification.session_id == session_id,
                        Notification.status == PENDING_AT_END,
                    )
                    .values(status="pending", send_after=ended.at)
                )

    async def _to_dsl(
        self,
        conn: AsyncConnection,
        school_id: str,
        session_id: str,
        state: RoomState,
        event: ev.DslAlerted,
    ) -> list[dict[str, object]]:
        leads = (
            await conn.execute(
                select(Staff.email).where(
                    Staff.school_id == school_id, Staff.role == "dsl", Staff.active.is_(True)
                )
            )
        ).all()
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
            )
            if line
        )
        return [
            _row(school_id, session_id, f"dsl_{event.reason.value}", email, subject, body, event.at)
            for (email,) in leads
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
            _row(
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


def _row(
    school_id: str,
    session_id: str,
    kind: str,
    recipient: str,
    subject: str,
    body: str,
    at: dt.datetime,
    status: str = "pending",
) -> dict[str, object]:
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
