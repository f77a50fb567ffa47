"""One live room: a single task applies its commands in order, logs, then tells everyone.

The order of every step is the safeguarding promise: decide (the core), append the events to
the session's log (durable) together with the outbox rows they cause (the DSL's alert, parents'
notices) in one transaction, wake the outbox, only then change the room's state and tell the
clients, then act on the world (close a removed pupil's socket). If that transaction fails the
command fails and nothing changes, so no client is ever told of something that is not on record,
and nothing on record lacks its alert.
A page that reconnects asks for what it missed (`events_since`): the room's events after the
`seq` it last saw, read back from the log, up to the room's `seq` at that moment.
The room also owns its clock: it sleeps until the state's next deadline and ticks, and its
media (`RoomMedia`): after the log write, and before anyone is told, the events' SFU calls are
queued on the room's media lane, which makes them in order without ever holding up this task.

Every append names the last entry the room knows and, in a cluster, the lease it holds on the
room (ownership.py): if the log has moved on or another worker owns the room now, nothing is
written, the command fails, and the room steps down (`on_fenced`): its sockets are closed with
"reconnect" (1012), so the pages come back to whichever worker owns the room now.

What a participant's role may not do is refused and the attempt logged as evidence, bounded per
actor (attempts.py): a flooding client cannot write without limit into the permanent log.

One rule is the server's, not the policy's: a recording the policy allows is still refused when
this server cannot make it (video off, no converter), so the notice is never given for a
recording that would not happen.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace

from safeclass.app.clock import Clock
from safeclass.app.event_store import EventStore, LogEntry, NewEntry
from safeclass.app.live.attempts import RefusedAttempts
from safeclass.app.live.media import OnRecorded, RoomMedia
from safeclass.app.live.ownership import Lease, LogMovedError, RoomFencedError
from safeclass.app.live.ports import Alerts, Audience, Media, NoMedia
from safeclass.app.room_log import entries_for, room_events
from safeclass.core import Phase, Refusal, RefusalCode, RoomState, Step, step
from safeclass.core import commands as cmd
from safeclass.core import events as ev
from safeclass.observability import Metrics
from safeclass.policy.clauses import Rule, clause_for

log = logging.getLogger(__name__)

CLOSE_ENDED = 4000  # WebSocket close codes the clients understand (docs/protocol.md)
CLOSE_REMOVED = 4003
CLOSE_DENIED = 4004
CLOSE_RESTARTING = 1012  # "service restart": the page reconnects (to the room's owner now)
RESTARTING = "The server is restarting: reconnecting"
NOT_TAKING_PART = "Your family has told the school you are not taking part in live lessons"
SHARING_NEEDS_VIDEO = "Sharing a screen needs video, which is off on this server"
_CATCH_UP_READS = 5  # reads of the log to catch up with a room that keeps moving


@dataclass(frozen=True, slots=True)
class Outcome:
    events: list[ev.Event]
    refusal: Refusal | None
    seq: int


@dataclass(slots=True)
class _Job:
    command: cmd.Command
    device: str | None
    done: asyncio.Future[Outcome] = field(repr=False)


class RoomClosedError(RuntimeError):
    """The room has ended and takes no more commands."""


class LiveRoom:
    def __init__(
        self,
        *,
        school_id: str,
        state: RoomState,
        seq: int,
        event_log: EventStore,
        clock: Clock,
        audience: Audience,
        alerts: Alerts,
        metrics: Metrics | None = None,
        on_end: Callable[[LiveRoom], Awaitable[None]] | None = None,
        on_open: Callable[[LiveRoom], Awaitable[None]] | None = None,
        on_ending: Callable[[LiveRoom], Awaitable[None]] | None = None,
        media: Media | None = None,
        media_off_reason: str | None = None,
        media_stall_seconds: float = 2.0,
        on_recorded: OnRecorded | None = None,
        lease: Lease | None = None,
        on_fenced: Callable[[LiveRoom], Awaitable[None]] | None = None,
    ) -> None:
        """Without `media` the room has none (`NoMedia`, off for `media_off_reason`).
        `on_recorded` keeps the record of each recording the room's media stores. `on_open`
        and `on_ending` put the session's opening and its end on its record before anyone is
        told (a page that hears "ended" and asks for the register finds it ready); `on_end`
        runs once everyone has been disconnected. `lease`: this worker's lease on the room, in a
        cluster; `on_fenced` runs when an append was refused (the room is someone else's now)."""
        self.session_id = state.plan.session_id
        self.lease = lease
        self._on_fenced = on_fenced
        self.fenced = False
        self.school_id = school_id
        self.state = state
        self.seq = seq
        self._log = event_log
        self._clock = clock
        self.audience = audience
        self._alerts = alerts
        self._metrics = metrics
        self._on_end = on_end
        self._ending = False  # the session ended: disconnect everyone after this answer
        self._on_open = on_open
        self._on_ending = on_ending
        self._jobs: asyncio.Queue[_Job | None] = asyncio.Queue()
        self._changed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._attempts = RefusedAttempts()
        if media is None:
            media_off_reason = media_off_reason or "media off"
            media = NoMedia(media_off_reason)
        self.media = RoomMedia(
            self.session_id,
            media,
            audience,
            lambda: self.state,
            off_reason=media_off_reason,
            stall_after=media_stall_seconds,
            on_recorded=on_recorded,
            on_share_ended=self._share_ended,
        )

    @property
    def ended(self) -> bool:
        return self.state.phase is Phase.ENDED

    def start(self) -> None:
        self.audience.recording_unavailable(self.media.recording_unavailable())
        self.media.start()
        self._tasks = [
            asyncio.create_task(self._work(), name=f"room {self.session_id}"),
            asyncio.create_task(self._keep_time(), name=f"room clock {self.session_id}"),
        ]

    async def stop(self) -> None:
        """Stop the tasks (server shutdown): the room lives on in its log."""
        self._jobs.put_nowait(None)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        try:  # the attempts counted so far go on record: nothing is lost
            if not self.fenced:  # (a room that stepped down can write nothing)
                await self._write_attempts(self._attempts.flush(self._clock.now()))
        except Exception:
            log.exception("room %s: refused attempts not written", self.session_id)
        await self.media.stop()

    async def submit(self, command: cmd.Command, device: str | None = None) -> Outcome:
        """Carry out a command in turn; the outcome comes once its events are on record.

        `device`: the device it came from (a connection's login or pass), so that only the
        device a participant joined on acts for them; None for the server's own commands.
        """
        if self.fenced:
            raise RoomFencedError(f"room {self.session_id} is owned by another worker now")
        if self.ended:
            if isinstance(command, cmd.ConnectionLost | cmd.Leave | cmd.Tick):
                return Outcome([], None, self.seq)  # after the end, nothing more happens
            raise RoomClosedError(self.session_id)
        done: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        await self._jobs.put(_Job(command, device, done))
        return await done

    async def _work(self) -> None:
        while (job := await self._jobs.get()) is not None:
            try:
                outcome = await self._carry_out(job.command, job.device)
            except (RoomFencedError, LogMovedError) as exc:  # not this room's to change now
                if not job.done.done():
                    job.done.set_exception(exc)
                await self.step_down(exc)
                return
            except Exception as exc:  # the caller hears of it; the room goes on
                log.exception("room %s: command failed", self.session_id)
                if not job.done.done():
                    job.done.set_exception(exc)
            else:
                if not job.done.done():
                    job.done.set_result(outcome)
            if self._ending:
                await self._after_the_end()

    async def _carry_out(self, command: cmd.Command, device: str | None = None) -> Outcome:
        now = self._clock.now()
        result = step(self.state, command, now, device)
        if isinstance(command, cmd.StartRecording) and result.refusal is None:
            result = self._unless_unrecordable(result, now)
        if isinstance(command, cmd.ShareScreen) and result.refusal is None and self.media.off:
            result = self._refused_by_server(SHARING_NEEDS_VIDEO, now)
        if result.events:
            entries = entries_for(result.events)
            if result.state.phase is Phase.ENDED:  # the counted attempts go on record with it
                entries += self._attempts.flush(now)
            # whom to tell is read first; the alerts are then written with the events, together
            outbox = await self._alerts.outbox_write(self.session_id, result.state, result.events)
            await self._log.append(
                self.session_id, entries, also=outbox, expected_seq=self.seq, lease=self.lease
            )
            if outbox is not None:
                self._alerts.written(self.session_id)  # on record: the outbox sends it now
            before = self.state
            self.state = result.state
            self.seq += len(entries)
            self._changed.set()
            self.media.follow(before, self.state)  # on record: the SFU follows, in order
            await self._tell(before, result.events)
        if result.refusal is not None:
            await self._refused(command, result.refusal, now)
        if not self.ended:
            await self._write_attempts(self._attempts.due(now))
        return Outcome(result.events, result.refusal, self.seq)

    def _unless_unrecordable(self, result: Step, now: dt.datetime) -> Step:
        reason = self.media.recording_unavailable()
        if reason is None:
            return result
        return self._refused_by_server(reason, now, "RECORDING")

    def _refused_by_server(self, reason: str, now: dt.datetime, rule: Rule = "ROLES") -> Step:
        """What this server cannot do, whatever the room allows: refused, and only the clock's
        due events happen."""
        clause = clause_for(self.state.policy.school.key, rule)
        caught_up = step(self.state, cmd.Tick(), now)
        return replace(caught_up, refusal=Refusal(RefusalCode.RULE, reason, clause))

    async def _share_ended(self, sharer: str) -> None:
        """The sharer's screen connection closed at the SFU: the share ends, on record."""
        with contextlib.suppress(RoomClosedError):
            await self.submit(cmd.StopSharing(sharer, only=sharer))

    async def _tell(self, before: RoomState, events: list[ev.Event]) -> None:
        if self._on_open is not None and any(isinstance(e, ev.WaitingRoomOpened) for e in events):
            await self._on_open(self)
        ended = any(isinstance(e, ev.SessionEnded) for e in events)
        if ended and self._on_ending is not None:
            await self._on_ending(self)
        await self.audience.publish(self.state, events, self.seq)
        for event in events:
            if isinstance(event, ev.PupilRemoved):
                await self.audience.disconnect(
                    event.pupil, CLOSE_REMOVED, "You have been removed from this session"
                )
            elif isinstance(event, ev.PupilDenied):
                await self.audience.disconnect(
                    event.pupil, CLOSE_DENIED, "Your teacher could not let you in this time"
                )
            elif isinstance(event, ev.PupilWithdrawn):
                await self.audience.disconnect(event.pupil, CLOSE_DENIED, NOT_TAKING_PART)
            if self._metrics is not None:
                if isinstance(event, ev.PupilAdmitted):
                    self._metrics.admissions.inc()
                elif isinstance(event, ev.RoomHeld):
                    self._metrics.holds.labels(reason=event.reason.value).inc()
        if ended:
            self._ending = True  # everyone is disconnected once this command is answered

    async def _after_the_end(self) -> None:
        """Disconnect everyone at once (C11), after the command that ended the session has had
        its answer: the sender's `ok` goes out before their socket's close, not never."""
        self._ending = False
        await asyncio.sleep(0)  # the answered sender's reply is queued first (FIFO wake-ups)
        await self.audience.disconnect_all(CLOSE_ENDED, "The session has ended")
        if self._on_end is not None:
            await self._on_end(self)
        # Jobs queued before the end are still answered (refused); later ones never queue.
        self._jobs.put_nowait(None)
        for task in self._tasks[1:]:
            task.cancel()

    async def _refused(self, command: cmd.Command, refusal: Refusal, at: dt.datetime) -> None:
        """An attempt the actor's role may not make goes on record, bounded (attempts.py)."""
        if self._metrics is not None:
            self._metrics.refusals.labels(clause=refusal.clause, code=refusal.code.value).inc()
        if refusal.code is not RefusalCode.NOT_PERMITTED:
            return
        what, who = type(command).__name__, command.actor
        was_counting, wake_at = self._attempts.counting(who), self._attempts.wake_at
        entries = self._attempts.refused(who, what, refusal.message, refusal.clause, at)
        await self._write_attempts(entries)
        if self._attempts.wake_at != wake_at:
            self._changed.set()  # the clock wakes when this count's window closes
        if not was_counting:
            more = " (more in a minute are counted)" if self._attempts.counting(who) else ""
            log.warning(
                "refused %s from %s%s",
                what,
                who,
                more,
                extra={"session": self.session_id, "clause": refusal.clause},
            )

    async def _write_attempts(self, entries: list[NewEntry]) -> None:
        if entries:
            await self._log.append(
                self.session_id, entries, expected_seq=self.seq, lease=self.lease
            )
            self.seq += len(entries)

    async def step_down(self, why: Exception) -> None:
        """An append was refused: another worker owns the room now (or wrote to its log). Take
        no more commands, close every socket with "reconnect", and let the registry forget it."""
        if self.fenced:
            return
        self.fenced = True
        log.warning("room %s: stepping down: %s", self.session_id, why)
        while not self._jobs.empty():  # commands that queued meanwhile are refused, not lost
            job = self._jobs.get_nowait()
            if job is not None and not job.done.done():
                job.done.set_exception(RoomFencedError(str(why)))
        self._jobs.put_nowait(None)
        for task in self._tasks[1:]:
            task.cancel()
        await self.audience.disconnect_all(CLOSE_RESTARTING, RESTARTING)
        if self._on_fenced is not None:
            await self._on_fenced(self)

    async def _keep_time(self) -> None:
        while not self.ended:
            wakes = [w for w in (self.state.wake_at, self._attempts.wake_at) if w is not None]
            deadline = min(wakes, default=None)
            self._changed.clear()
            if deadline is None:
                await self._changed.wait()
                continue
            sleeper = asyncio.create_task(self._clock.sleep_until(deadline))
            changed = asyncio.create_task(self._changed.wait())
            done, pending = await asyncio.wait(
                {sleeper, changed}, return_when=asyncio.FIRST_COMPLETED
            )
            for task in pending:
                task.cancel()
            if sleeper in done and self._clock.now() >= deadline:
                with contextlib.suppress(RoomClosedError):
                    await self.submit(cmd.Tick())

    async def events_since(self, since: int, limit: int) -> tuple[int, list[ev.Event]] | None:
        """The room's events logged after entry `since`, read from the log (the one source of
        truth), with the `seq` they reach: the room's own as this returns, so a caller that
        adds a listener before its next `await` misses nothing and hears nothing twice. None
        when `since` is not a point of this room's log (negative, ahead of it) or more than
        `limit` entries back: the caller's view then has to do."""
        if not 0 <= since <= self.seq or self.seq - since > limit:
            return None
        entries: list[LogEntry] = []
        read_to = since
        for _ in range(_CATCH_UP_READS):  # the room may move while the log is read
            if read_to >= self.seq:
                upto = self.seq  # no `await` from here to the caller: this is the room now
                return upto, room_events([e for e in entries if e.seq <= upto])
            if self.seq - since > limit:
                return None
            more = await self._log.read(self.session_id, after_seq=read_to)
            entries += more
            read_to = more[-1].seq if more else read_to
        return None
