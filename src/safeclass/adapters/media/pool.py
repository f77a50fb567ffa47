"""Several Janus servers behind one `Media`: each room lives on one, new rooms on the least loaded.

A room is placed when it is opened, on the connected Janus with the fewest rooms of this server
(the count of rooms is the load: a class is about the same load wherever it goes), and stays
there until it is closed; every other call goes to the Janus the room is on. A Janus that
cannot be reached is recovered by its `JanusMedia` (reconnect, rebuild its rooms, RESTORED);
the pool places new rooms elsewhere meanwhile. A local Janus child process is a pool of one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from safeclass.adapters.media.janus_client import JanusError
from safeclass.adapters.media.janus_media import JanusMedia
from safeclass.adapters.media.janus_process import JanusEndpoint
from safeclass.app.media_port import Jsep, MediaError, MediaListener, RecordedFile, Target
from safeclass.core import Role

log = logging.getLogger(__name__)


class JanusPool:
    """`Media` over one or more `JanusMedia`, one per Janus server."""

    def __init__(self, backends: Sequence[tuple[JanusEndpoint, JanusMedia]]) -> None:
        if not backends:
            raise ValueError("a pool needs at least one Janus")
        self._backends = list(backends)
        self._placed: dict[str, JanusMedia] = {}

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

    async def close(self) -> None:
        for _, backend in self._backends:
            await backend.close()
        self._placed.clear()

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
            backend = min(
                (b for _, b in self._backends),
                key=lambda b: (not b.connected, self._rooms_on(b)),
            )
            self._placed[session_id] = backend
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

    async def collect_recordings(self, session_id: str) -> list[RecordedFile]:
        backend = self._placed.get(session_id)
        if backend is not None:
            return await backend.collect_recordings(session_id)
        # the room has closed: its folder is the same whichever Janus it was on
        return await self._backends[0][1].collect_recordings(session_id)

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
