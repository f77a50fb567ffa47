"""Several Janus servers behind one `Media`: each room lives on one, new rooms on the least loaded.

A room is placed when it is opened, and stays there until it is closed; every other call goes
to the Janus the room is on. Placing a room asks every connected Janus for its rooms (one `list`
each, with the admin key, answered within `survey_timeout`), which are every worker's: so in a
cluster each worker places by the whole load, the people in each Janus's rooms (those joined as
publishers), then its rooms. A Janus that does not answer in time comes after those that did,
by the count of this server's rooms on it; when none answers (or there is no admin key) that
count alone decides, as with one server. Rooms this server is placing at the same moment count
too, so a burst of classes does not all land on one Janus.

The same lists show what an earlier owner of the session left behind: a worker that died (or
was paused and lost the room) leaves its Janus room, with its participants' connections and
whatever it last forwarded. Before the room is opened here, every other safeclass room of the
session on the pool's Janus servers is destroyed (their secrets derive from the key the workers
share, janus_rooms.py), so nothing of the old room stays usable.

A Janus that cannot be reached is recovered by its `JanusMedia` (reconnect, rebuild its rooms,
RESTORED); the pool places new rooms elsewhere meanwhile, and once it has been unreachable for
`move_after` seconds its rooms are moved to the least loaded Janus that is up (chosen as above):
built there with their admissions, mutes, hold and recording, and RESTORED, so their
participants connect again there (a lesson does not wait for a server that may never return).
A local Janus child process is a pool of one, and its rooms wait for its restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from safeclass.adapters.media.janus_client import JanusError
from safeclass.adapters.media.janus_media import JanusMedia
from safeclass.adapters.media.janus_process import JanusEndpoint
from safeclass.app.media_port import (
    Jsep,
    KeepRecordings,
    MediaError,
    MediaListener,
    RecordedFile,
    Target,
)
from safeclass.core import Role

log = logging.getLogger(__name__)


class JanusPool:
    """`Media` over one or more `JanusMedia`, one per Janus server."""

    def __init__(
        self,
        backends: Sequence[tuple[JanusEndpoint, JanusMedia]],
        *,
        move_after: float = 5.0,
        check_every: float = 0.25,
        survey_timeout: float = 0.5,
    ) -> None:
        if not backends:
            raise ValueError("a pool needs at least one Janus")
        self._backends = list(backends)
        self._placed: dict[str, JanusMedia] = {}
        self._move_after = move_after
        self._check_every = check_every
        self._survey_timeout = survey_timeout
        self._mover: asyncio.Task[None] | None = None
        self.moves = 0

    @property
    def listener(self) -> MediaListener | None:
        return self._backends[0][1].listener

    @listener.setter
    def listener(self, listener: MediaListener | None) -> None:
        for _, backend in self._backends:
            backend.listener = listener

    @property
    def connected(self) -> bool:
        """Whether at least one Janus is reachable."""
        return any(backend.connected for _, backend in self._backends)

    def load(self) -> dict[str, int]:
        """Rooms of this server on each Janus, by its URL."""
        return {endpoint.url: self._rooms_on(backend) for endpoint, backend in self._backends}

    async def start(self) -> None:
        """Connect to every Janus; one that does not answer is retried in the background."""
        for endpoint, backend in self._backends:
            try:
                await backend.start()
            except (OSError, TimeoutError, JanusError) as exc:
                log.error("janus at %s cannot be reached (%s): retrying", endpoint.url, exc)
                await backend.reconnect(endpoint)
        if len(self._backends) > 1:
            self._mover = asyncio.create_task(self._move_rooms_off_dead(), name="janus pool")

    async def close(self) -> None:
        if self._mover is not None:
            self._mover.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._mover
        for _, backend in self._backends:
            await backend.close()
        self._placed.clear()

    async def _move_rooms_off_dead(self) -> None:
        while True:
            await asyncio.sleep(self._check_every)
            for endpoint, backend in self._backends:
                lost = backend.lost_for()
                if lost is None or lost < self._move_after:
                    continue
                for session_id in [s for s, b in self._placed.items() if b is backend]:
                    await self._move(session_id, endpoint, backend)

    async def _move(self, session_id: str, endpoint: JanusEndpoint, dead: JanusMedia) -> None:
        if not any(b is not dead and b.connected for _, b in self._backends):
            return  # nowhere to go: the room waits for a Janus to come back
        target = await self._place(session_id, avoid=dead)
        if self._placed.get(session_id) is not dead:
            return  # closed meanwhile
        room = dead.release(session_id)
        self._placed[session_id] = target
        if room is None:
            return
        try:
            await target.adopt(room)
        except (JanusError, MediaError) as exc:  # tried again at the next check
            log.error("could not move the room of %s: %s", session_id, exc)
            target.release(session_id)
            self._placed[session_id] = dead
            dead.take_back(room)
            return
        self.moves += 1
        log.warning(
            "moved the room of %s off unreachable janus %s",
            session_id,
            endpoint.url,
            extra={"session": session_id},
        )

    async def _place(self, session_id: str, avoid: JanusMedia | None = None) -> JanusMedia:
        """The Janus a room of `session_id` is to be built on (not `avoid`); what is left of
        another worker's room of that session is destroyed first (see the module docstring)."""
        candidates = [b for _, b in self._backends if b is not avoid]
        up = [b for b in candidates if b.connected]
        lists = await asyncio.gather(*(b.survey(self._survey_timeout) for b in up))
        load: dict[int, tuple[int, int]] = {}  # by id(backend): (participants, rooms)
        for backend, listed in zip(up, lists, strict=True):
            if listed is None:
                continue
            for stale in [r for r in listed if r.left_over(session_id)]:
                if await backend.destroy_left_over(stale.janus_id):
                    log.warning(
                        "destroyed the media room an earlier owner left on janus",
                        extra={"session": session_id},
                    )
                    listed.remove(stale)
            seen = {r.janus_id for r in listed}
            ids = backend.room_ids()
            placing = sum(  # this server's rooms there that the list did not show (yet)
                1 for sid, b in self._placed.items() if b is backend and ids.get(sid) not in seen
            )
            load[id(backend)] = (sum(r.participants for r in listed), len(listed) + placing)

        def rank(backend: JanusMedia) -> tuple[int, int, int]:
            if id(backend) in load:
                people, rooms = load[id(backend)]
                return (0, people, rooms)
            return (1 if backend.connected else 2, 0, self._rooms_on(backend))

        return min(candidates, key=rank)

    def _rooms_on(self, backend: JanusMedia) -> int:
        return sum(1 for placed in self._placed.values() if placed is backend)

    def _on(self, session_id: str) -> JanusMedia:
        backend = self._placed.get(session_id)
        if backend is None:
            raise MediaError(f"no media room for session {session_id}")
        return backend

    # -- Media -------------------------------------------------------------------------------
    async def open_room(self, session_id: str, *, recordable: bool = False) -> None:
        backend = self._placed.get(session_id)
        if backend is None:
            backend = self._placed[session_id] = await self._place(session_id)
        await backend.open_room(session_id, recordable=recordable)

    async def close_room(self, session_id: str) -> None:
        backend = self._placed.pop(session_id, None)
        if backend is not None:
            await backend.close_room(session_id)

    def recording_unavailable(self) -> str | None:
        """Every Janus of the pool is set up alike: the first one speaks for them."""
        return self._backends[0][1].recording_unavailable()

    async def record(self, session_id: str, on: bool) -> None:
        await self._on(session_id).record(session_id, on)

    async def collect_recordings(self, session_id: str, keep: KeepRecordings) -> list[RecordedFile]:
        backend = self._placed.get(session_id)
        if backend is not None:
            return await backend.collect_recordings(session_id, keep)
        # the room has closed: its folder is the same whichever Janus it was on
        return await self._backends[0][1].collect_recordings(session_id, keep)

    def pending_recordings(self) -> list[str]:
        pending = {s for _, b in self._backends for s in b.pending_recordings()}
        return sorted(pending - set(self._placed))

    async def admit(self, session_id: str, participant_id: str, role: Role) -> str:
        return await self._on(session_id).admit(session_id, participant_id, role)

    async def revoke(self, session_id: str, participant_id: str) -> None:
        backend = self._placed.get(session_id)
        if backend is not None:
            await backend.revoke(session_id, participant_id)

    async def set_media(
        self, session_id: str, participant_id: str, audio: bool, video: bool
    ) -> None:
        await self._on(session_id).set_media(session_id, participant_id, audio, video)

    async def hold(self, session_id: str, held: bool) -> None:
        await self._on(session_id).hold(session_id, held)

    async def offer(self, session_id: str, participant_id: str, jsep: Jsep) -> Jsep:
        return await self._on(session_id).offer(session_id, participant_id, jsep)

    async def subscribe(
        self, session_id: str, participant_id: str, feeds: Sequence[str]
    ) -> Jsep | None:
        return await self._on(session_id).subscribe(session_id, participant_id, feeds)

    async def answer(self, session_id: str, participant_id: str, jsep: Jsep) -> None:
        await self._on(session_id).answer(session_id, participant_id, jsep)

    async def trickle(
        self,
        session_id: str,
        participant_id: str,
        target: Target,
        candidate: dict[str, Any] | None,
    ) -> None:
        await self._on(session_id).trickle(session_id, participant_id, target, candidate)
