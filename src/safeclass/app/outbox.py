"""The outbox worker: delivers the `notifications` table (DSL alerts, parents' notices, reports).

Rooms and use cases only write rows (alerts.py, timetable.py, invitations.py); this worker sends the
ones that are due, each by its row's channel (email, or the school's signed webhook: one row per
channel, so a webhook that is down never makes the email go twice), marks each sent, or counts the
attempt, keeps the error and tries again later (30 s, then 1, 2, 4, 8 minutes), and gives up as
`failed` after `max_attempts`, so a mail server that is down delays an alert but never loses it.
Before sending, a row is claimed by moving its `send_after` a lease ahead, so two workers never send
the same row, and a worker that dies mid-send only delays it by the lease (a minute). A send is cut
off well inside the lease (`SEND_LIMIT`), so a lease never runs out under a send still going: no
second worker can claim a row this one is still sending. Rows of a channel this server has no sender
for are left alone (they wait, and app/undelivered.py says so).

The worker looks every `every` seconds, and at once when woken (`wake`: a room has just committed an
alert), so a DSL alert leaves within moments of its event. Each message carries a Message-ID made
from its row, so one sent again (after a crash mid-send, or a mail server that took it but failed to
say so) is recognisably the same message; a webhook delivery's id is made from the row the same way
(adapters/notify/webhook.py `delivery_id`). A DSL alert written when the school had no DSL account
waits, with a warning each time it is looked at, and goes to whoever holds the role once someone
does. The rows are read and written through `OutboxRows` (on the database:
`safeclass.adapters.store.notifications`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from safeclass.app.alerts import NO_ADDRESS, NO_DSL
from safeclass.app.clock import Clock
from safeclass.app.delivery import EMAIL, Notice, NoticeSender
from safeclass.observability import scrub

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BACKOFF = dt.timedelta(seconds=30)
# How long a claimed row is held for its sender: well over a send's worst case (the mailer gives
# each SMTP step 15 s), and short, because a worker that dies mid-send delays that row (a DSL's
# alert among them) by this much.
LEASE = dt.timedelta(seconds=60)
SEND_LIMIT = 40.0  # seconds one send may take before it counts as failed: well inside LEASE
BATCH = 50
NOBODY_RECHECK = dt.timedelta(minutes=1)  # how often an alert with no DSL to go to looks again


@dataclass(slots=True)
class PassReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    unaddressed: int = 0  # DSL alerts that still have nobody to go to


@dataclass(frozen=True, slots=True)
class OutgoingRow:
    """A notification claimed for sending."""

    id: int
    school_id: str
    session_id: str | None
    kind: str
    channel: str
    recipient: str  # "" for a DSL alert written when the school had no DSL
    subject: str
    body: str
    attempts: int
    created_at: dt.datetime


class OutboxRows(Protocol):
    """The notifications waiting to go, as the outbox reads and marks them."""

    async def due(self, now: dt.datetime, channels: Sequence[str], limit: int) -> list[int]:
        """Up to `limit` pending rows of these channels due by `now`, the longest due first."""

    async def claim(
        self, notification_id: int, now: dt.datetime, until: dt.datetime
    ) -> OutgoingRow | None:
        """The row, held for this worker until `until`; None if it is no longer pending and due
        (another worker has it)."""

    async def sent(self, notification_id: int, attempts: int, at: dt.datetime) -> None:
        """It went at `at`, at attempt `attempts`."""

    async def retry(self, notification_id: int, attempts: int, error: str, at: dt.datetime) -> None:
        """It did not go (`error`); tried again at `at`."""

    async def failed(self, notification_id: int, error: str, attempts: int | None = None) -> None:
        """It will never go (`error`)."""

    async def to_dsls(
        self, row: OutgoingRow, now: dt.datetime, *, recheck_at: dt.datetime, nobody: str
    ) -> int:
        """Address a DSL alert to the school's DSLs now (the row to the first, a copy to each
        other), in one transaction; how many there are. 0: it waits until `recheck_at`,
        with `nobody` as its error."""


class Outbox:
    def __init__(
        self,
        rows: OutboxRows,
        sender: NoticeSender | Mapping[str, NoticeSender],
        clock: Clock,
        *,
        every: float = 5.0,
        max_attempts: int = MAX_ATTEMPTS,
        backoff: dt.timedelta = BACKOFF,
        batch: int = BATCH,
    ) -> None:
        """`sender`: the sender of each channel ("email", "webhook"), or one for email alone."""
        self._rows = rows
        self._senders: dict[str, NoticeSender] = (
            dict(sender) if isinstance(sender, Mapping) else {EMAIL: sender}
        )
        self._clock = clock
        self._every = every
        self._max_attempts = max_attempts
        self._backoff = backoff
        self._batch = batch
        self._task: asyncio.Task[None] | None = None
        self._woken = asyncio.Event()
        self._one_pass = asyncio.Lock()

    @property
    def channels(self) -> frozenset[str]:
        """The channels this worker delivers (rows of any other wait)."""
        return frozenset(self._senders)

    def wake(self) -> None:
        """Look now (a notification has just been committed), not at the next poll."""
        self._woken.set()

    def retry_delay(self, attempts: int) -> dt.timedelta:
        """How long to wait after the `attempts`-th failure."""
        return self._backoff * (1 << max(0, attempts - 1))

    async def run_once(self) -> PassReport:
        """Send every notification that is due now; one pass. A pass waits for one already
        under way in this process (the loop's, woken by a new alert) to finish first, so a
        row is never claimed again by its own process while it is being sent."""
        async with self._one_pass:
            report = PassReport()
            now = self._clock.now()
            for notification_id in await self._rows.due(now, sorted(self._senders), self._batch):
                row = await self._rows.claim(notification_id, now, now + LEASE)
                if row is not None:
                    await self._send(row, now, report)
            return report

    async def _send(self, row: OutgoingRow, now: dt.datetime, report: PassReport) -> None:
        if not row.recipient:
            await self._address(row, now, report)
            return
        attempts = row.attempts + 1
        notice = Notice(row.recipient, row.subject, row.body, key=message_key(row))
        try:
            async with asyncio.timeout(SEND_LIMIT):
                await self._senders[row.channel].send_notice(notice)
        except Exception as exc:  # any failure is retried; the error is kept for operators
            error = scrub(f"{type(exc).__name__}: {exc}")[:500]
            if attempts >= self._max_attempts:
                await self._rows.failed(row.id, error, attempts)
                report.failed += 1
                log.error("notification %s failed for good: %s", row.id, error)
            else:
                await self._rows.retry(row.id, attempts, error, now + self.retry_delay(attempts))
                report.retrying += 1
                log.warning("notification %s not sent (attempt %d): %s", row.id, attempts, error)
        else:
            await self._rows.sent(row.id, attempts, now)
            report.sent += 1

    async def _address(self, row: OutgoingRow, now: dt.datetime, report: PassReport) -> None:
        """A DSL alert written when the school had no DSL account: it goes to the school's DSLs
        now (the row to the first, a copy to each other), or waits and says so again."""
        if not row.kind.startswith("dsl_"):
            await self._rows.failed(row.id, NO_ADDRESS)
            report.failed += 1
            log.error("notification %s (%s) has no recipient", row.id, row.kind)
            return
        leads = await self._rows.to_dsls(row, now, recheck_at=now + NOBODY_RECHECK, nobody=NO_DSL)
        if not leads:
            report.unaddressed += 1
            log.warning("notification %s (%s) waits: %s", row.id, row.kind, NO_DSL)
            return
        self.wake()  # addressed now: sent in the next pass, which starts at once

    def start(self) -> None:
        """Run passes in the background every `every` seconds until `stop()`."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="notification outbox")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            self._woken.clear()  # a wake during the pass makes another pass at once
            try:
                await self.run_once()
            except Exception:  # the database may be briefly unavailable; try again next time
                log.exception("outbox pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), self._every)


def message_key(row: OutgoingRow) -> str:
    """The Message-ID's left part, the same each time this row is sent (unique: its id, and the
    school's own random id, so two servers' rows never share one)."""
    return f"notification.{row.id}.{row.school_id}"
