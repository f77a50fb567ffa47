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

Each notice is queued once per channel the server has (`NoticeChannels`): an email row per
address, and one row for the school's signed webhook (the platform routes a parents' notice to
the family by the pupil's MIS id; a DSL alert goes to the staff webhook, else the school's, with
no detail beyond who raised it, why and a link). At the end of a session whose policy says so
(`notices.absence`), the parents of each expected pupil who never came are told too, unless
the family had already told the school through their link (docs/notices.md).

Whom to tell is read, and the rows written, through `AlertRows` (on the database:
`safeclass.adapters.store.alerts`): the reads in one snapshot before the log's transaction, the
writes in that transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from safeclass.app import concerns
from safeclass.app.delivery import EMAIL, PARENTS_HOOK, STAFF_HOOK, WEBHOOK, NoticeChannels
from safeclass.app.transactions import Transactions
from safeclass.core import RoomState
from safeclass.core import events as ev

log = logging.getLogger(__name__)

PENDING_AT_END = "held_until_end"
NO_DSL = "the school has no DSL account to send it to"
NO_ADDRESS = "no email address on record for the pupil's parents, and no webhook set up"
ABSENT = "absent"  # a parents' notice that is not an event's: the pupil never came
# What a family told the school through their link that makes an absence notice needless.
FAMILY_SAID_SO = ("absent", "not_taking_part")
# Events that make someone outside the room hear of something.
_OUTSIDE = (ev.DslAlerted, ev.ParentNoticeQueued, ev.SessionEnded, ev.ConcernRaised)


@dataclass(frozen=True, slots=True)
class AlertedSession:
    """The session an alert is about, and its school."""

    school_id: str
    school_key: str
    school_name: str
    title: str
    starts_at: dt.datetime


class AlertRows(Transactions, Protocol):
    """Whom the alerts and notices go to, and the outbox they are written to (each step in the
    caller's snapshot or transaction)."""

    async def session_of(self, conn: AsyncConnection, session_id: str) -> AlertedSession:
        """The session, with its school's key and name."""

    async def dsl_emails(self, conn: AsyncConnection, school_id: str) -> list[str]:
        """The addresses of the school's DSLs (every active account with the role), in order."""

    async def families_said(
        self, conn: AsyncConnection, session_id: str, reasons: Sequence[str]
    ) -> set[str]:
        """The pupils whose families reported one of `reasons` about the session."""

    async def guardian_emails(
        self, conn: AsyncConnection, school_id: str, pupil_id: str
    ) -> list[str]:
        """The email addresses on record of the pupil's guardians."""

    async def mis_id(self, conn: AsyncConnection, pupil_id: str) -> str | None:
        """The pupil's id in the school's MIS, if any."""

    async def queue(self, conn: AsyncConnection, rows: Sequence[dict[str, object]]) -> None:
        """Put these rows (`notification_row`) in the outbox."""

    async def release_held(
        self, conn: AsyncConnection, session_id: str, held: str, at: dt.datetime
    ) -> None:
        """The session's notices with the status `held` are pending now, due at `at`."""


@dataclass(frozen=True, slots=True)
class OutboxWrite:
    """The notification rows some events cause, written inside the log's own transaction."""

    outbox: AlertRows
    session_id: str
    rows: list[dict[str, object]] = field(default_factory=list)
    ended_at: dt.datetime | None = None  # the parents' notices held until the end are due then
    concerns: list[concerns.RoomConcern] = field(default_factory=list)  # their records

    async def __call__(self, conn: AsyncConnection) -> None:
        for concern in self.concerns:
            await concern(conn)
        if self.rows:
            await self.outbox.queue(conn, self.rows)
        if self.ended_at is not None:
            # the parents' notices that waited for the end are due now (STJ-06)
            await self.outbox.release_held(conn, self.session_id, PENDING_AT_END, self.ended_at)


class OutboxAlerts:
    """Implements the runtime's `Alerts` port by writing to the notification outbox.

    `deliver` wakes the outbox worker; None means this server has no channel at all, so what
    is written waits in the outbox (with a warning) until one is set up. `channels` says which
    rows to write: by email, and by the school's webhook.
    """

    def __init__(
        self,
        rows: AlertRows,
        concern_rows: concerns.ConcernRows,
        deliver: Callable[[], None] | None = None,
        public_url: str = "",
        channels: NoticeChannels | None = None,
        concern_key: bytes | None = None,
    ) -> None:
        """`concern_key`: `ServerSecret.derive(concerns.CONCERN_KEY)`, which chains the records
        of concerns raised in the room (`concern_rows`); without it none is recorded (a warning
        says so)."""
        self._rows = rows
        self._concern_rows = concern_rows
        self.deliver = deliver
        self._public_url = public_url.rstrip("/")
        self._concern_key = concern_key
        self.channels = channels or NoticeChannels()
        self._school_keys: dict[str, str] = {}  # school id -> key, for webhook bodies

    @property
    def _by_email(self) -> bool:
        """Email rows are written when email is set up, or when nothing is (so they wait)."""
        return self.channels.email or not self.channels.any

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
        async with self._rows.connect() as conn:
            lesson = await self._rows.session_of(conn, session_id)
            school_id = lesson.school_id
            self._school_keys[school_id] = lesson.school_key
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
            if ended is not None and state.policy.notices.absence:
                rows += await self._absent(conn, school_id, session_id, state, ended.at)
        if rows and self.deliver is None:
            log.warning(
                "%d notification(s) of session %s will wait in the outbox: no mail server is set "
                "up (SAFECLASS_SMTP_HOST), nor a webhook (SAFECLASS_WEBHOOK_URL)",
                len(rows),
                session_id,
            )
        return OutboxWrite(
            self._rows, session_id, rows, ended.at if ended is not None else None, records
        )

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
                self._concern_rows,
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
        leads = await self._rows.dsl_emails(conn, school_id)
        hook = self._dsl_hook(
            school_id,
            state,
            session_id,
            event,
            category=record.category if record else "",
            text="A safeguarding concern was raised. Open safeclass to read it.",
            link=concerns.concern_link(self._public_url, record.concern_id if record else ""),
        )
        return self.dsl_rows(
            school_id, session_id, concerns.ALERT_KIND, leads, subject, body, event.at, hook
        )

    def dsl_rows(
        self,
        school_id: str,
        session_id: str | None,
        kind: str,
        leads: Sequence[str],
        subject: str,
        body: str,
        at: dt.datetime,
        hook: str,
    ) -> list[dict[str, object]]:
        """An alert to the DSLs on every way out this server has: an email row per DSL (one with
        no address while the school has none, to wait and be shown waiting), and one row for the
        staff webhook with `hook` as its body (no sensitive detail: who, why, when, a link)."""
        rows = []
        if self._by_email:
            if not leads:  # still written: it goes to whoever holds the DSL role once someone does
                log.warning(
                    "the DSL alert (%s) of session %s has nobody to go to: %s; it waits in the "
                    "outbox",
                    kind,
                    session_id,
                    NO_DSL,
                )
            rows = [
                notification_row(school_id, session_id, kind, email, subject, body, at)
                for email in (leads or [""])
            ]
        if self.channels.staff_hook:
            rows.append(
                notification_row(
                    school_id, session_id, kind, STAFF_HOOK, subject, hook, at, channel=WEBHOOK
                )
            )
        return rows

    async def concern_afterwards_rows(
        self,
        conn: AsyncConnection,
        school_id: str,
        session_id: str,
        kind: str,
        subject: str,
        body: str,
        at: dt.datetime,
        *,
        raised_by: str,
        category: str,
        concern_id: str,
    ) -> list[dict[str, object]]:
        """The DSL's alert of a concern written on a lesson's page after it (app/concerns.py):
        the same rows, on the same channels, as one raised in the room."""
        lesson = await self._rows.session_of(conn, session_id)
        hook = hook_json(
            "dsl_alert",
            ev.AlertReason.CONCERN.value,
            at,
            school={"key": lesson.school_key, "name": lesson.school_name},
            session={
                "id": session_id,
                "title": lesson.title,
                "starts_at": lesson.starts_at.isoformat(),
            },
            raised_by=raised_by,
            category=category,
            text="A safeguarding concern was raised. Open safeclass to read it.",
            link=concerns.concern_link(self._public_url, concern_id),
        )
        leads = await self._rows.dsl_emails(conn, school_id)
        return self.dsl_rows(school_id, session_id, kind, leads, subject, body, at, hook)

    async def queue(self, conn: AsyncConnection, rows: Sequence[dict[str, object]]) -> None:
        """Put these notifications in the outbox, in the caller's transaction."""
        await self._rows.queue(conn, rows)

    async def _to_dsl(
        self,
        conn: AsyncConnection,
        school_id: str,
        session_id: str,
        state: RoomState,
        event: ev.DslAlerted,
    ) -> list[dict[str, object]]:
        leads = await self._rows.dsl_emails(conn, school_id)
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
        hook = self._dsl_hook(  # no sensitive detail: who, why, when, and a link
            school_id,
            state,
            session_id,
            event,
            text=f"{what}. Open safeclass to read the details.",
            link=f"{self._public_url}/room/{session_id}" if self._public_url else "",
        )
        kind = f"dsl_{event.reason.value}"
        return self.dsl_rows(school_id, session_id, kind, leads, subject, body, event.at, hook)

    async def _to_parents(
        self,
        conn: AsyncConnection,
        school_id: str,
        session_id: str,
        state: RoomState,
        event: ev.ParentNoticeQueued,
    ) -> list[dict[str, object]]:
        status = PENDING_AT_END if event.send_at_end else "pending"
        return await self._parents_told(
            conn, school_id, session_id, state, event.pupil, event.reason.value, event.at, status
        )

    async def _absent(
        self,
        conn: AsyncConnection,
        school_id: str,
        session_id: str,
        state: RoomState,
        at: dt.datetime,
    ) -> list[dict[str, object]]:
        """At the end: a notice to the family of each expected pupil who never came (never even
        to the waiting room: the register's "absent"), who takes part, and whose family had not
        already told the school through their link. A session ended before its start time (an
        emergency in the waiting room) has nobody absent: nobody was late yet."""
        if at < state.plan.starts_at:
            return []
        said = await self._rows.families_said(conn, session_id, FAMILY_SAID_SO)
        rows: list[dict[str, object]] = []
        for pupil_id, pupil in state.plan.expected.items():
            if pupil_id in state.participants or pupil_id in said:
                continue
            if not state.consent_allows(pupil):
                continue  # opted out: the family know, and nobody expected them
            rows += await self._parents_told(
                conn, school_id, session_id, state, pupil_id, ABSENT, at, "pending"
            )
        return rows

    async def _parents_told(
        self,
        conn: AsyncConnection,
        school_id: str,
        session_id: str,
        state: RoomState,
        pupil_id: str,
        reason: str,
        at: dt.datetime,
        status: str,
    ) -> list[dict[str, object]]:
        """One parents' notice: an email to each guardian with an address, and one to the
        school's webhook (the platform routes it to the family by the pupil's MIS id)."""
        guardians = await self._rows.guardian_emails(conn, school_id, pupil_id)
        pupil = state.plan.expected.get(pupil_id)
        subject, body = parent_words(state, pupil.forename if pupil else "", reason, at)
        kind = f"parent_{reason}"
        emails = [email for email in guardians if email] if self._by_email else []
        rows = [
            notification_row(
                school_id, session_id, kind, email, subject, body, at, status=status, pupil=pupil_id
            )
            for email in emails
        ]
        if self.channels.parents_hook:
            mis_id = await self._rows.mis_id(conn, pupil_id)
            hook = self._hook_body(
                school_id,
                "parent_notice",
                reason,
                state,
                session_id,
                at,
                pupil={
                    "id": pupil_id,
                    "mis_id": mis_id,
                    "shown_name": pupil.shown_name if pupil else "",
                },
                message={"subject": subject, "text": body},
            )
            rows.append(
                notification_row(
                    school_id,
                    session_id,
                    kind,
                    PARENTS_HOOK,
                    subject,
                    hook,
                    at,
                    status=status,
                    channel=WEBHOOK,
                    pupil=pupil_id,
                )
            )
        if not rows:
            # nowhere to send it: kept, so the outbox marks it undelivered and staff see it
            log.warning(
                "a parents' notice of session %s has nowhere to go: %s", session_id, NO_ADDRESS
            )
            rows.append(
                notification_row(
                    school_id,
                    session_id,
                    kind,
                    "",
                    subject,
                    body,
                    at,
                    status=status,
                    pupil=pupil_id,
                )
            )
        return rows

    def _dsl_hook(
        self,
        school_id: str,
        state: RoomState,
        session_id: str,
        event: ev.DslAlerted,
        **more: object,
    ) -> str:
        """A DSL alert for the staff webhook: who raised it, why and when, and `more`."""
        who = state.participants.get(event.by)
        return self._hook_body(
            school_id,
            "dsl_alert",
            event.reason.value,
            state,
            session_id,
            event.at,
            raised_by=who.name if who else "",
            **more,
        )

    def _hook_body(
        self,
        school_id: str,
        kind: str,
        reason: str,
        state: RoomState,
        session_id: str,
        at: dt.datetime,
        **more: object,
    ) -> str:
        """The webhook's JSON, less the `id` and `timestamp` each try adds (webhook.py)."""
        return hook_json(
            kind,
            reason,
            at,
            school={"key": self._school_keys.get(school_id, ""), "name": state.policy.school.name},
            session={
                "id": session_id,
                "title": state.plan.title,
                "starts_at": state.plan.starts_at.isoformat(),
                "when": _local(state, state.plan.starts_at),
            },
            **more,
        )


def hook_json(kind: str, reason: str, at: dt.datetime, **more: object) -> str:
    """A notice's webhook body: its type, why, when, and what the caller adds (the school, the
    session, who); canonical JSON, so the same notice is the same bytes on every try."""
    payload = {"type": f"safeclass.{kind}", "reason": reason, "at": at.isoformat(), **more}
    return json.dumps(payload, separators=(",", ":"), sort_keys=True)


def parent_words(state: RoomState, forename: str, reason: str, at: dt.datetime) -> tuple[str, str]:
    """A parents' notice's subject and text: what happened, kindly, and nothing more."""
    name = forename or "your child"
    what = {
        ev.NoticeReason.REMOVED.value: f"{name} was asked to leave today's live session",
        ev.NoticeReason.CAMERA_TURNED_OFF.value: (
            f"{name}'s camera was turned off by staff in today's live session"
        ),
        ev.NoticeReason.RECORDED.value: (
            f"{name}'s 1-to-1 session is being recorded for safeguarding"
        ),
        ABSENT: f"{name} did not join today's live session",
    }[reason]
    school = state.policy.school.name
    if reason == ABSENT:
        when = _local(state, state.plan.starts_at)
        then = (
            "If something stopped them joining, please let the school know. "
            "If all is well, there is nothing you need to do."
        )
    else:
        when = _local(state, at)
        then = "A member of staff will be in touch if there is anything to discuss."
    body = f"Dear parent or carer,\n\n{what} ({state.plan.title}, {when}).\n{then}\n\n{school}"
    return f"[{school}] {what}", body


def notification_row(
    school_id: str,
    session_id: str | None,
    kind: str,
    recipient: str,
    subject: str,
    body: str,
    at: dt.datetime,
    status: str = "pending",
    *,
    channel: str = EMAIL,
    pupil: str | None = None,
) -> dict[str, object]:
    """A new row of the `notifications` table, due at `at`: the one shape every writer uses."""
    return {
        "school_id": school_id,
        "session_id": session_id,
        "kind": kind,
        "channel": channel,
        "pupil_id": pupil,
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
