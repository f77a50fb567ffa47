"""The media side of a cluster: whole workers on one PostgreSQL database sharing a Janus pool.

Each `LiveServer` is a whole worker (as in test_room_leases.py), with `janus_urls` naming the
same real Janus processes on loopback: rooms, admissions and offers only (no media flows, so no
network namespace is needed; test_cluster_media_flow.py sends real audio and video). A Janus
started here stands in for a trust's external server: the pool shares one API secret and one
admin key, as `SAFECLASS_JANUS_API_SECRET` and `SAFECLASS_JANUS_ADMIN_KEY` say.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import inspect
import os
import signal
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from safeclass.adapters.media import janus_process
from safeclass.adapters.media.janus_client import JanusClient, JanusError
from safeclass.adapters.media.janus_media import JanusMedia
from safeclass.adapters.media.janus_process import JanusEndpoint, JanusProcess
from safeclass.adapters.media.pool import JanusPool
from safeclass.app.clock import AdjustableClock
from tests.integration.live import Client, Lesson, LiveServer, seeded_lesson
from tests.integration.workers import lapse, taken_on
from tests.support.janus import (
    FAKE_OFFER,
    janus_processes,
    kill_all,
    listed_rooms,
    needs_janus,
    session_rooms,
)
from tests.support.rooms import START

pytestmark = pytest.mark.postgres
LEASE = 1.0
GRACE = 4.0


@contextlib.asynccontextmanager
async def janus_pool(folder: Path, count: int) -> AsyncIterator[list[JanusProcess]]:
    """`count` local Janus processes set up as one pool: one API secret and admin key."""
    keys = janus_process._Secrets.new()
    processes = [JanusProcess(folder / f"janus-{i}") for i in range(1, count + 1)]
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(janus_process._Secrets, "new", classmethod(lambda _cls: keys))
            for process in processes:
                await process.start()
        yield processes
    finally:
        for i, process in enumerate(processes, 1):
            await process.stop()
            kill_all(janus_processes(folder / f"janus-{i}"))


def endpoints(processes: Sequence[JanusProcess]) -> list[JanusEndpoint]:
    found = [p.endpoint for p in processes]
    assert all(e is not None for e in found)
    return [e for e in found if e is not None]


def worker(
    url: str, data: Path, clock: AdjustableClock, name: str, janus: Sequence[JanusEndpoint]
) -> LiveServer:
    return LiveServer(
        url,
        data,
        clock,
        worker_id=name,
        lease_seconds=LEASE,
        reload_grace_seconds=GRACE,
        media=True,
        janus_urls=tuple(e.url for e in janus),
        janus_api_secret=janus[0].api_secret,
        janus_admin_key=janus[0].admin_key,
    )


@contextlib.asynccontextmanager
async def two_workers(
    pg_url: str, data: Path, janus: Sequence[JanusEndpoint]
) -> AsyncIterator[tuple[LiveServer, LiveServer]]:
    clock = AdjustableClock(START - dt.timedelta(minutes=3))
    one, two = (worker(pg_url, data, clock, name, janus) for name in ("w1", "w2"))
    await one.start()
    try:
        await two.start()
        try:
            yield one, two
        finally:
            await two.stop()
    finally:
        await one.stop()


async def eventually(check: Callable[[], Any], what: str, timeout: float = 10.0) -> Any:
    """Poll a check (a function, or a coroutine function) until it gives something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if inspect.isawaitable(found):
            found = await found
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"never: {what}")
        await asyncio.sleep(0.05)


def backend_of(server: LiveServer, session_id: str) -> JanusMedia:
    media = server.services.media
    assert media is not None and media.pool is not None
    return media.pool._on(session_id)


def muted_mids(server: LiveServer, session_id: str, participant: str) -> set[str]:
    """The mids of a publisher's streams that Janus has acknowledged muting (`moderate`
    answered success) in the worker's room. Janus's own lists do not show an audio mute."""
    member = backend_of(server, session_id)._rooms[session_id].members[participant]
    return {mid for mid, muted in member.muted.items() if muted}


async def publish(client: Client) -> None:
    reply = await client.send("media_publish", jsep=FAKE_OFFER)
    assert reply["type"] == "media_answer", reply


def person(view: dict[str, Any], pid: str) -> dict[str, Any]:
    return next(p for p in view["people"] if p["id"] == pid)


@needs_janus
async def test_a_room_taken_over_is_rebuilt_with_its_mutes_and_hold_and_the_old_one_goes(
    pg_url: str, tmp_path: Path
) -> None:
    # covers: CLA-02, CLA-05: a failover is no way round a mute or a hold
    async with (
        janus_pool(tmp_path, 1) as processes,
        two_workers(pg_url, tmp_path, endpoints(processes)) as (one, two),
        seeded_lesson(one, pupils=2) as lesson,
    ):
        (janus,) = endpoints(processes)
        sid = lesson.session_id
        teacher = await lesson.staff("teacher")
        await lesson.staff("assistant", "Mr Lee")
        pupil = await lesson.pupil("p1")
        assert (await teacher.send("admit", pupils=["p1"]))["type"] == "ok"
        await pupil.wait_for(
            lambda m: m["type"] == "state" and (m["view"]["me"] or {}).get("status") == "admitted"
        )
        assert (await teacher.send("camera_on", target="p1"))["type"] == "ok"  # mic stays off
        for client in lesson.clients:
            await publish(client)
        assert muted_mids(one, sid, "p1") == {"0"}  # audio (mid 0) muted, video forwarded
        (old,) = await session_rooms(janus, sid)

        await lapse(one)
        await taken_on(two, sid)
        # the new owner builds its room at once, and the old owner's room is destroyed
        new = await eventually(
            lambda: _only_new(janus, sid, old), "the new room alone on janus", timeout=5
        )
        assert new != old
        membership = one.services.membership
        assert membership is not None
        await membership.beat()  # the old owner learns it lost the room: its pages reconnect
        await asyncio.wait_for(teacher.closed.wait(), 5)
        assert teacher.close_code == 1012

        # the teacher and the pupil come back on the same devices (to the owner); the
        # assistant's laptop never does
        back = {}
        for client in (teacher, pupil):
            again = await Client(two, sid, client.cookie, client.who).connect()
            fields = {"acknowledged_expectations": True} if client is pupil else {}
            assert (await again.send("join", **fields))["type"] == "ok"
            await publish(again)
            back[client.who] = again
        # the mute made before the failover holds at the SFU of the new room
        assert muted_mids(two, sid, "p1") == {"0"}
        assert person(back[teacher.who].view(), "p1")["mic_on"] is False
        refused = await back["p1"].send("unmute", target="p1")
        assert refused["type"] == "refused"
        assert muted_mids(two, sid, "p1") == {"0"}

        # past the grace the assistant counts as gone: held, and all the pupil sends is cut
        held = await back["p1"].wait_for(
            lambda m: m["type"] == "state" and m["view"]["session"]["held"], GRACE + 5
        )
        assert held["view"]["session"]["hold_reason"] == "staff_below_minimum"
        await eventually(lambda: muted_mids(two, sid, "p1") == {"0", "1"}, "the pupil cut")
        assert muted_mids(two, sid, teacher.who) == set()  # staff are not held
        assert await session_rooms(janus, sid) == [new]  # the old room never came back
        for client in back.values():
            await client.close()


async def _only_new(janus: JanusEndpoint, session_id: str, old: str) -> str | None:
    ids = await session_rooms(janus, session_id)
    return ids[0] if len(ids) == 1 and ids[0] != old else None


async def open_room(server: LiveServer, stack: contextlib.AsyncExitStack) -> Lesson:
    """A class whose teacher has joined on `server` (its SFU room is opened there)."""
    lesson = await stack.enter_async_context(seeded_lesson(server, pupils=0))
    await lesson.staff("teacher")
    return lesson


async def where(janus: Sequence[JanusEndpoint], session_id: str) -> int:
    """Which Janus of the pool (by index) the session's room is on, once it is there."""

    async def found() -> int | None:
        for i, endpoint in enumerate(janus):
            if await session_rooms(endpoint, session_id):
                return i + 1  # truthy
        return None

    return int(await eventually(found, f"the room of {session_id} on a janus")) - 1


@needs_janus
async def test_workers_place_rooms_by_the_whole_pools_load(pg_url: str, tmp_path: Path) -> None:
    async with (
        janus_pool(tmp_path, 2) as processes,
        two_workers(pg_url, tmp_path, endpoints(processes)) as (one, two),
        contextlib.AsyncExitStack() as stack,
    ):
        janus = endpoints(processes)
        placed: list[int] = []
        lessons = []
        for i in range(6):  # each worker opens every other room
            lesson = await open_room((one, two)[i % 2], stack)
            lessons.append(lesson)
            placed.append(await where(janus, lesson.session_id))
        # each worker sees the other's rooms: three on each Janus (counting only its own rooms,
        # each worker would have put its 1st and 3rd on the first Janus: four there, two here)
        assert sorted(placed) == [0, 0, 0, 1, 1, 1]
        assert placed[:2] == [0, 1]

        # people count before rooms: two classes on the first Janus publish
        busy = [lesson for lesson, at in zip(lessons, placed, strict=True) if at == 0][:2]
        for lesson in busy:
            await publish(lesson.clients[0])
        listed = await listed_rooms(janus[0])
        assert sum(r.participants for r in listed) == 2  # num_participants, of every worker
        later = [await open_room(server, stack) for server in (one, two)]
        assert [await where(janus, lesson.session_id) for lesson in later] == [1, 1]


@needs_janus
async def test_a_janus_that_does_not_answer_quickly_gets_no_new_room(tmp_path: Path) -> None:
    """Placement asks each Janus with a short time limit; one that is paused (or swamped) is
    passed over for one that answered, and the room opens without waiting for it."""
    async with janus_pool(tmp_path, 2) as processes:
        janus = endpoints(processes)
        backends = [JanusMedia(e) for e in janus]
        pool = JanusPool(list(zip(janus, backends, strict=True)), survey_timeout=1.0)
        await pool.start()
        try:
            await pool.open_room("s1")
            first = 0 if await session_rooms(janus[0], "s1") else 1
            other = 1 - first  # no room here: by this server's count it would take the next
            pid = processes[other].pid
            assert pid is not None
            os.kill(pid, signal.SIGSTOP)
            try:
                started = time.monotonic()
                await pool.open_room("s2")
                assert time.monotonic() - started < 3.0  # waited 1 s for it at most, not 10
            finally:
                os.kill(pid, signal.SIGCONT)
            listed = [await session_rooms(e, "s2") for e in janus]
            assert listed[first] and not listed[other], (first, listed, pool.load())
            assert pool.load() == {janus[first].url: 2, janus[other].url: 0}
        finally:
            await pool.close()


@needs_janus
async def test_a_room_left_behind_is_destroyed_only_with_the_secret_the_workers_share(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Janus 1.1 destroys a room (or kicks from it) only with the room's secret: the admin key
    is not enough. So a room's secret derives from a key every worker shares, and the worker
    that opens a session's room destroys what another worker left of it."""
    key = b"server secret of this trust's workers"
    async with janus_pool(tmp_path, 1) as processes:
        (janus,) = endpoints(processes)
        gone, stranger = JanusMedia(janus, room_key=key), JanusMedia(janus)  # another key
        for backend, session in ((gone, "s1"), (stranger, "s2")):
            await backend.start()
            await backend.open_room(session)
        (left,) = await session_rooms(janus, "s1")
        client = await JanusClient.connect(janus.url, janus.api_secret)
        try:
            control = await (await client.create_session()).attach_videoroom()
            for request in ("destroy", "kick"):
                body = {"request": request, "room": left, "id": "p1", "admin_key": janus.admin_key}
                with pytest.raises(JanusError) as refused:
                    await control.message(body)
                assert refused.value.reason == "Missing mandatory element (secret)"
        finally:
            await client.close()

        owner = JanusPool([(janus, JanusMedia(janus, room_key=key))])
        await owner.start()
        try:
            await owner.open_room("s1")
            (now,) = await session_rooms(janus, "s1")
            assert now != left  # the one left behind is gone
            await owner.open_room("s2")
            assert len(await session_rooms(janus, "s2")) == 2  # made with another key: it stays
            assert any("made with another key" in r.getMessage() for r in caplog.records)
        finally:
            for backend in (owner, gone, stranger):
                await backend.close()
