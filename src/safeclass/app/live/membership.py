"""This worker's membership of a cluster: its heartbeat, and taking on rooms left without owner.

Every quarter of the lease time the worker says it is alive (`LeaseStore.heartbeat`), which also
tells it which rooms it still holds: a room running here whose lease is gone (another worker took
it while this one was paused or cut off) steps down at once, rather than at its next append.
A room whose lease is this worker's but that does not run here was held by an earlier run of
this worker (it was killed, or the machine restarted): it is taken on again at once.
Then it looks for orphans, rooms whose worker stopped saying it is alive, and live sessions with
no owner at all (the whole cluster was stopped), and takes on its share of them: enough to hold
its fair part of all the rooms the workers alive hold between them, in a random order, so the
rooms of a worker that died spread over the others instead of all landing on whichever looked
first. A worker that has just started waits two lease times before taking anyone else's rooms,
so that when a whole cluster starts at once every worker is alive (and has taken its own rooms
back) before the rest are shared out, rather than the first to start taking every room. A
room's clock (warnings, the end) thus runs on even if nobody reconnects to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time

from safeclass.app.live.ownership import LeaseStore, RoomElsewhereError
from safeclass.app.live.registry import Rooms
from safeclass.app.school_records import SessionNotFoundError

log = logging.getLogger(__name__)


class Membership:
    def __init__(self, leases: LeaseStore, rooms: Rooms) -> None:
        self._leases = leases
        self._rooms = rooms
        self._every = leases.ttl / 4
        self._task: asyncio.Task[None] | None = None
        self._shares_from = time.monotonic() + 2 * leases.ttl  # see the module's docstring

    async def join(self) -> None:
        """Say this worker is alive (before it takes any room)."""
        await self._leases.heartbeat()
        self._shares_from = time.monotonic() + 2 * self._leases.ttl

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="cluster membership")

    async def stop(self) -> None:
        """Stop the heartbeat (the rooms are closed next, then `leave`)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def leave(self) -> None:
        """Say this worker has stopped: what it still holds is an orphan from now."""
        with contextlib.suppress(Exception):  # else its leases lapse with its heartbeat
            await self._leases.leave()

    async def _run(self) -> None:
        while True:
            try:
                await self.beat()
            except Exception:  # the database is away: this worker's leases lapse meanwhile
                log.exception("cluster heartbeat failed")
            await asyncio.sleep(self._every)

    async def beat(self) -> list[str]:
        """One heartbeat and one look for orphans; the rooms taken on."""
        held = await self._leases.heartbeat()
        await self._rooms.step_down_unless_held(held)
        running = {room.session_id for room in self._rooms.running()}
        taken = await self._take([sid for sid in sorted(held) if sid not in running])
        if taken:
            log.info("took back %d room(s) held by this worker before it restarted", len(taken))
        if time.monotonic() < self._shares_from:
            return taken
        orphans = await self._leases.orphans()
        if not orphans:
            return taken
        alive, rooms = await self._leases.load()
        mine = len(running) + len(taken)
        share = math.ceil((rooms + len(orphans)) / max(1, alive)) - mine
        if share <= 0:
            return taken
        random.shuffle(orphans)
        adopted = await self._take(orphans[:share])
        if adopted:
            log.info("took on %d room(s) left without owner", len(adopted))
        return taken + adopted

    async def _take(self, session_ids: list[str]) -> list[str]:
        taken = []
        for session_id in session_ids:
            try:
                await self._rooms.room(session_id)
            except (RoomElsewhereError, SessionNotFoundError):
                continue  # another worker was quicker, or the session is gone
            except Exception:
                log.exception("could not take on a room", extra={"session": session_id})
                continue
            taken.append(session_id)
        return taken
