"""The live rooms of this server: started on first use, restored from the log after a restart.

A room's state is never stored: `room()` replays the session's log into a fresh room. After a
restart nobody is connected any more, so the restored room is told each connection was lost
(pupils are held if the staff count no longer holds; everyone rejoins through the waiting room).

Recordings the rooms' media stores are kept on record here (`app.recordings.keep`), and at
start any left unconverted when the server last stopped are finished (`finish_recordings`).

In a cluster (docs/cluster.md) a room is started only under its lease (ownership.py): a room
another live worker owns raises RoomElsewhereError, and one taken over from a worker that died
gives the people who were connected `adopt_grace` seconds to come back on the same device before
they count as dropped (as a page reload does), so a failover does not send a class back to the
waiting room. A room whose append was refused (fenced) is forgotten here and its SFU room closed.

The registry is also the media adapter's listener: what the SFU reports about a session goes
to that session's room (`RoomMedia.on_event`), and is dropped once the room has ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from safeclass.app import recordings
from safeclass.app.after_end import AfterEnd, keep_after_end
from safeclass.app.clock import Clock
from safeclass.app.event_store import EventStore
from safeclass.app.live.media import OnRecorded
from safeclass.app.live.ownership import (
    Lease,
    LeaseStore,
    Owner,
    RoomElsewhereError,
    RoomFencedError,
)
from safeclass.app.live.ports import Alerts, Audience, Media
from safeclass.app.live.runtime import LiveRoom, RoomClosedError
from safeclass.app.media_port import KeepRecordings, MediaEvent, RecordedFile
from safeclass.app.room_log import replay
from safeclass.app.school_records import SchoolRecords
from safeclass.core import Phase, RoomState
from safeclass.core import commands as cmd
from safeclass.observability import Metrics

log = logging.getLogger(__name__)


class Rooms:
    def __init__(
        self,
        *,
        engine: AsyncEngine,
        event_log: EventStore,
        records: SchoolRecords,
        recordings: recordings.RecordingRows,
        after_end: AfterEnd,
        clock: Clock,
        audience_for: Callable[[str], Audience],
        alerts: Alerts,
        metrics: Metrics | None = None,
        media: Media | None = None,
        media_off_reason: str | None = None,
        media_stall_seconds: float = 2.0,
        leases: LeaseStore | None = None,
        adopt_grace: float = 0.0,
    ) -> None:
        """Without `media` every room runs without video (off for `media_off_reason`); with
        `leases` (a cluster) a room runs here only while this worker holds its lease. What
        the pages keep of a room that has ended is kept where `after_end` says."""
        self._engine = engine
        self._log = event_log
        self._records = records
        self._recordings = recordings
        self._after_end = after_end
        self._clock = clock
        self._audience_for = audience_for
        self._alerts = alerts
        self._metrics = metrics
        self._media = media
        self._media_off_reason = media_off_reason
        self._media_stall_seconds = media_stall_seconds
        self._rooms: dict[str, LiveRoom] = {}
        self._starting: dict[str, asyncio.Lock] = {}
        self.leases = leases
        self._adopt_grace = adopt_grace
        self._background: set[asyncio.Task[None]] = set()

    def running(self) -> list[LiveRoom]:
        return list(self._rooms.values())

    async def room(self, session_id: str) -> LiveRoom:
        """The live room of a session, started (or restored from its log) if need be.

        Raises SessionNotFoundError for a session that does not exist, and RoomElsewhereError
        when another worker of the cluster owns the room.
        """
        existing = self._rooms.get(session_id)
        if existing is not None:
            return existing
        lock = self._starting.setdefault(session_id, asyncio.Lock())
        async with lock:
            existing = self._rooms.get(session_id)
            if existing is not None:
                return existing
            return await self._start(session_id)

    async def _start(self, session_id: str) -> LiveRoom:
        lease = await self._lease(session_id)  # first the lease, then the log: none is missed
        try:
            stored = await self._records.load_session(session_id)
            entries = await self._log.read(session_id)
        except BaseException:
            if lease is not None:
                await self._release(lease)
            raise
        state = replay(stored.plan, stored.policy, entries)
        room = LiveRoom(
            school_id=stored.school_id,
            state=state,
            seq=entries[-1].seq if entries else 0,
            event_log=self._log,
            clock=self._clock,
            audience=self._audience_for(session_id),
            alerts=self._alerts,
            metrics=self._metrics,
            on_end=self._ended,
            on_open=self._opened,
            on_ending=self._ending,
            media=self._media,
            media_off_reason=self._media_off_reason,
            media_stall_seconds=self._media_stall_seconds,
            on_recorded=self._keeper(stored.school_id, session_id),
            lease=lease,
            on_fenced=self._fenced,
        )
        self._rooms[session_id] = room
        room.start()
        if self._metrics is not None:
            self._metrics.live_rooms.set(len(self._rooms))
        if room.ended:
            if lease is not None:  # an ended room is never written again: nothing to own
                await self._release(lease)
        else:
            await self._reconnect_or_drop(room, adopted=lease is not None and lease.epoch > 1)
            await room.submit(cmd.Tick())
            # A room made by an early visitor stays "scheduled" (staff may still change the
            # session) until its waiting room opens; one restored open is live at once.
            if not room.ended and room.state.phase is not Phase.SCHEDULED:
                await self._records.set_session_status(session_id, "live")
        if entries:
            log.info(
                "room restored from %d log entries%s",
                len(entries),
                f" (epoch {lease.epoch})" if lease is not None else "",
                extra={"session": session_id},
            )
        return room

    async def _lease(self, session_id: str) -> Lease | None:
        if self.leases is None:
            return None
        taken = await self.leases.acquire(session_id)
        if isinstance(taken, Owner):
            raise RoomElsewhereError(session_id, taken.worker_id, taken.address)
        return taken

    async def _release(self, lease: Lease, *, hand_over: bool = False) -> None:
        if self.leases is not None:
            try:
                await self.leases.release(lease, hand_over=hand_over)
            except Exception:  # it lapses with this worker's heartbeat instead
                log.exception("lease not released", extra={"session": lease.session_id})

    async def _reconnect_or_drop(self, room: LiveRoom, *, adopted: bool) -> None:
        """Whoever the log says is connected is not connected here. After a restart they count
        as dropped at once; in a room taken over from a worker that died, the pages reconnect
        by themselves within seconds, so they have `adopt_grace` to come back on the same
        device first (as after a reload), and only those who do not are dropped. Its media is
        built at once from the log (admissions, mutes, the hold), so what the SFU forwards to
        and from them is what the room decided, before and after the grace."""
        connected = [p for p in room.state.participants.values() if p.connected]
        if adopted:  # its SFU room is built now, as the log says (and the old owner's goes)
            room.media.resume()
        if not connected:
            return
        if not adopted or self._adopt_grace <= 0:
            for p in connected:
                await room.submit(cmd.ConnectionLost(p.id, p.device))
            return

        for p in connected:
            lost = cmd.ConnectionLost(p.id, p.device)

            async def drop(lost: cmd.ConnectionLost = lost) -> None:
                with contextlib.suppress(RoomClosedError, RoomFencedError):
                    await room.submit(lost)

            room.audience.drop_unless_back(p.id, p.device, self._adopt_grace, drop)

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.create_task(work, name=name)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _fenced(self, room: LiveRoom) -> None:
        """The room's append was refused: it is another worker's now. Forget it and close
        this worker's SFU room for it (the owner builds its own)."""
        if self._rooms.get(room.session_id) is room:
            self._rooms.pop(room.session_id)
        if self._metrics is not None:
            self._metrics.live_rooms.set(len(self._rooms))

        async def retire() -> None:
            await room.stop()
            if self._media is not None:
                with contextlib.suppress(Exception):
                    await self._media.close_room(room.session_id)

        self._spawn(retire(), f"room {room.session_id}: stepped down")

    async def step_down_unless_held(self, held: dict[str, int]) -> None:
        """Rooms running here whose lease this worker no longer holds (taken over while it was
        paused or cut off) step down now, not at their next append."""
        for room in list(self._rooms.values()):
            lease = room.lease
            if lease is not None and not room.ended and held.get(room.session_id) != lease.epoch:
                await room.step_down(RoomFencedError(f"lease of {room.session_id} was taken"))

    def _keeper(self, school_id: str, session_id: str) -> OnRecorded:
        async def keep(files: Sequence[RecordedFile], state: RoomState) -> None:
            await recordings.keep(
                self._recordings,
                school_id=school_id,
                session_id=session_id,
                files=files,
                names={p.id: p.name for p in state.participants.values()},
                now=self._clock.now(),
                keep_days=state.policy.retention.recordings_days,
            )

        return keep

    def _keeper_after(self, school_id: str, session_id: str, state: RoomState) -> KeepRecordings:
        """The keeper of a session that is no longer live (its final state, from the log)."""
        keeper = self._keeper(school_id, session_id)

        async def keep(files: Sequence[RecordedFile]) -> None:
            await keeper(files, state)

        return keep

    async def finish_recordings(self) -> int:
        """Finish the recordings of sessions not live here that were left unconverted (the
        server stopped while converting, or during a recording); how many files were kept."""
        if self._media is None:
            return 0
        kept = 0
        for session_id in self._media.pending_recordings():
            if session_id in self._rooms:
                continue
            try:
                stored = await self._records.load_session(session_id)
                state = replay(stored.plan, stored.policy, await self._log.read(session_id))
                keep = self._keeper_after(stored.school_id, session_id, state)
                files = await self._media.collect_recordings(session_id, keep)
            except Exception:  # kept on disk; tried again at the next start
                log.exception("recordings not finished", extra={"session": session_id})
                continue
            kept += len(files)
        return kept

    async def media_event(self, event: MediaEvent) -> None:
        """`MediaListener`: the SFU's news, to the room it is about."""
        room = self._rooms.get(event.session_id)
        if room is not None:
            await room.media.on_event(event)

    async def _opened(self, room: LiveRoom) -> None:
        await self._records.set_session_status(room.session_id, "live")

    async def _ending(self, room: LiveRoom) -> None:
        await self._records.set_session_status(room.session_id, "ended")

    async def _ended(self, room: LiveRoom) -> None:
        self._rooms.pop(room.session_id, None)
        if room.lease is not None:
            await self._release(room.lease)
        if self._metrics is not None:
            self._metrics.live_rooms.set(len(self._rooms))
        await keep_after_end(self._after_end, room.session_id, self._clock.now())

    async def close(self) -> None:
        """Stop every room's tasks (their state is safe in the log); in a cluster, give their
        leases up so the other workers take them on at once."""
        rooms = list(self._rooms.values())
        self._rooms.clear()
        for task in list(self._background):
            task.cancel()
        for room in rooms:
            await room.stop()
            if room.lease is not None:
                await self._release(room.lease, hand_over=not room.ended)
