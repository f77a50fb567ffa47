"""Several Janus servers behind one `Media`: new rooms go to the least loaded, and stay there.

Two real Janus processes on loopback stand in for external servers (no media flows: rooms,
admissions and offers only, so no network namespace is needed).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from safeclass.adapters.media.janus_client import JanusClient
from safeclass.adapters.media.janus_media import JanusMedia, media_listener
from safeclass.adapters.media.janus_process import JanusEndpoint, JanusProcess
from safeclass.adapters.media.pool import JanusPool
from safeclass.app.media_port import MediaError, MediaEvent, MediaEventKind
from safeclass.core import Role
from tests.support.janus import FAKE_OFFER, janus_processes, kill_all, needs_janus

Pool = tuple[list[JanusProcess], list[JanusEndpoint], list[JanusMedia], JanusPool]


@pytest.fixture
async def two_janus(tmp_path: Path) -> AsyncIterator[Pool]:
    processes = [JanusProcess(tmp_path / f"janus-{i}") for i in (1, 2)]
    endpoints = [await p.start() for p in processes]
    backends = [JanusMedia(e) for e in endpoints]
    pool = JanusPool(list(zip(endpoints, backends, strict=True)))
    try:
        await pool.start()
        yield processes, endpoints, backends, pool
    finally:
        await pool.close()
        for i, process in enumerate(processes, 1):
            await process.stop()
            kill_all(janus_processes(tmp_path / f"janus-{i}"))


async def _rooms_on(endpoint: JanusEndpoint) -> set[str]:
    client = await JanusClient.connect(endpoint.url, endpoint.api_secret)
    try:
        control = await (await client.create_session()).attach_videoroom()
        listed = await control.message({"request": "list", "admin_key": endpoint.admin_key})
        return {str(r["description"]) for r in listed.data["list"]}
    finally:
        await client.close()


@needs_janus
async def test_new_rooms_go_to_the_least_loaded_janus_and_stay_there(
    two_janus: Pool,
) -> None:
    processes, (first, second), backends, pool = two_janus
    for session in ("s1", "s2", "s3"):
        await pool.open_room(session)
    assert sorted(pool.load().values()) == [1, 2]
    on_first, on_second = await _rooms_on(first), await _rooms_on(second)
    assert on_first | on_second == {"s1", "s2", "s3"} and not on_first & on_second

    # every call about a room goes to the Janus it is on
    await pool.admit("s2", "pupil", Role.PUPIL)
    answer = await pool.offer("s2", "pupil", FAKE_OFFER)
    assert answer["type"] == "answer"
    await pool.set_media("s2", "pupil", audio=False, video=False)
    await pool.hold("s2", True)
    with pytest.raises(MediaError, match="no media room"):
        await pool.admit("nowhere", "pupil", Role.PUPIL)

    # a closed room frees its place: the next one goes where there is room
    await pool.close_room(sorted(on_first if len(on_first) == 2 else on_second)[0])
    assert sorted(pool.load().values()) == [1, 1]
    await pool.open_room("s4")
    assert sorted(pool.load().values()) == [1, 2]

    # a Janus that cannot be reached gets no new rooms
    await processes[0].stop()
    async with asyncio.timeout(5):
        while backends[0].connected:
            await asyncio.sleep(0.01)
    await pool.open_room("s5")
    assert "s5" in await _rooms_on(second)


@needs_janus
async def test_rooms_on_a_janus_that_stays_down_move_to_one_that_is_up(tmp_path: Path) -> None:
    """A lesson does not wait for a server that may never return: after `move_after` seconds its
    room is rebuilt on another Janus with every admission, mute and hold, and RESTORED."""
    processes = [JanusProcess(tmp_path / f"janus-{i}") for i in (1, 2)]
    endpoints = [await p.start() for p in processes]
    events: list[MediaEvent] = []

    async def heard(event: MediaEvent) -> None:
        events.append(event)

    backends = [JanusMedia(e, media_listener(heard)) for e in endpoints]
    pool = JanusPool(list(zip(endpoints, backends, strict=True)), move_after=0.5)
    try:
        await pool.start()
        await pool.open_room("s1")
        dead = 0 if "s1" in await _rooms_on(endpoints[0]) else 1
        alive = 1 - dead
        await pool.admit("s1", "teacher", Role.TEACHER)
        await pool.admit("s1", "pupil", Role.PUPIL)
        await pool.set_media("s1", "teacher", audio=True, video=True)
        await pool.hold("s1", True)
        await processes[dead].stop()  # and it does not come back
        async with asyncio.timeout(10):
            while not any(e.kind is MediaEventKind.RESTORED for e in events):
                await asyncio.sleep(0.02)
        kinds = [e.kind for e in events if e.session_id == "s1"]
        assert kinds[:1] == [MediaEventKind.LOST]  # "Reconnecting video…" first
        assert MediaEventKind.RESTORED in kinds
        assert pool.moves == 1
        assert "s1" in await _rooms_on(endpoints[alive])
        assert pool.load() == {endpoints[dead].url: 0, endpoints[alive].url: 1}
        # the admissions came along: the pupil's token lets them in on the new Janus…
        for who in ("pupil", "teacher"):
            assert (await pool.offer("s1", who, FAKE_OFFER))["type"] == "answer"
        # …and so did the hold, which the new Janus enforces on the pupil's media at once
        assert _muted_mids(backends[alive], "pupil") == {"0", "1"}
        assert _muted_mids(backends[alive], "teacher") == set()  # staff are not held
        # calls about the room now go where it is
        await pool.hold("s1", False)
        await pool.set_media("s1", "pupil", audio=True, video=False)
        assert _muted_mids(backends[alive], "pupil") == {"1"}
    finally:
        try:
            await pool.close()
        finally:  # no Janus is left running, whatever happened
            for i, process in enumerate(processes, 1):
                await process.stop()
                kill_all(janus_processes(tmp_path / f"janus-{i}"))


def _muted_mids(backend: JanusMedia, participant: str) -> set[str]:
    """The mids of a publisher's streams that Janus has acknowledged muting (`moderate`
    answered success). Janus's listparticipants does not show moderation."""
    member = backend._rooms["s1"].members[participant]
    return {mid for mid, muted in member.muted.items() if muted}
