"""Room leases and fencing: two workers on one PostgreSQL database, in this process.

Each `LiveServer` is a whole worker (its own app, event log, rooms and heartbeat) with its own
worker id; they share the database and the server secret, as the workers of a cluster do. A
worker "paused" here is one whose heartbeat was stopped while its room's tasks run on, which is
the dangerous case fencing exists for: a worker that does not know it has lost the room.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from safeclass.adapters.store import connect, upgrade
from safeclass.adapters.store.event_log import EventLog, NewEntry
from safeclass.adapters.store.group_commit import GroupCommitLog
from safeclass.adapters.store.tables import SessionEvent
from safeclass.app.clock import AdjustableClock
from safeclass.app.live.ownership import (
    Lease,
    LogMovedError,
    RoomElsewhereError,
    RoomFencedError,
)
from safeclass.core import commands as cmd
from tests.integration.live import Client, Lesson, LiveServer, running, seeded_lesson
from tests.integration.workers import lapse, taken_on
from tests.support.rooms import START

pytestmark = pytest.mark.postgres
LEASE = 0.6


def worker(url: str, data: Path, clock: AdjustableClock, name: str) -> LiveServer:
    return LiveServer(
        url, data, clock, worker_id=name, lease_seconds=LEASE, reload_grace_seconds=2.0
    )


@pytest.fixture
async def pair(pg_url: str, tmp_path: Path) -> AsyncIterator[tuple[LiveServer, LiveServer]]:
    clock = AdjustableClock(START - dt.timedelta(minutes=3))
    async with (
        running(worker(pg_url, tmp_path, clock, "w1")) as one,
        running(worker(pg_url, tmp_path, clock, "w2")) as two,
    ):
        yield one, two


async def in_class_then_taken_over(
    lesson: Lesson, one: LiveServer, two: LiveServer
) -> tuple[Client, Client]:
    """Two adults and pupil p1 in the room on worker one; then one lapses and two takes the
    room on. The teacher's and the pupil's clients (still connected to one)."""
    teacher = await lesson.staff("teacher")
    await lesson.staff("assistant", "Mr Lee")
    pupil = await lesson.pupil("p1")
    assert (await teacher.send("admit_all"))["type"] == "ok"
    await lapse(one)
    await taken_on(two, lesson.session_id)
    return teacher, pupil


async def entries(server: LiveServer, session_id: str) -> list[str]:
    return [e.type for e in await server.services.event_log.read(session_id)]


async def test_a_room_owned_by_a_live_worker_is_elsewhere_for_the_other(pair):
    one, two = pair
    async with seeded_lesson(one) as lesson:
        await lesson.staff("teacher")
        with pytest.raises(RoomElsewhereError) as found:
            await two.services.rooms.room(lesson.session_id)
        assert found.value.worker_id == "w1"
        assert found.value.address == one.settings.peer_url


async def test_a_paused_owner_cannot_append_once_another_worker_took_the_room(pair):
    one, two = pair
    async with seeded_lesson(one) as lesson:
        teacher = await lesson.staff("teacher")
        stale = await one.services.rooms.room(lesson.session_id)
        await lapse(one)
        await taken_on(two, lesson.session_id)
        owner = await two.services.rooms.room(lesson.session_id)
        assert owner.lease is not None and owner.lease.epoch == 2
        before = await entries(two, lesson.session_id)

        # the old owner's room still runs and tries to write: refused by the database
        with pytest.raises(RoomFencedError):
            await stale.submit(cmd.SetChat(teacher.who, on=True))
        assert await entries(two, lesson.session_id) == before
        # and it stepped down: its sockets are told to reconnect (to the owner, now)
        await asyncio.wait_for(teacher.closed.wait(), 5)
        assert teacher.close_code == 1012
        assert one.services.rooms.running() == []


async def test_the_old_owner_steps_down_at_its_next_heartbeat_without_writing(pair):
    one, two = pair
    async with seeded_lesson(one) as lesson:
        teacher = await lesson.staff("teacher")
        await lapse(one)
        await taken_on(two, lesson.session_id)
        membership_one = one.services.membership
        assert membership_one is not None
        await membership_one.beat()  # resumed: it learns the room is no longer its own
        await asyncio.wait_for(teacher.closed.wait(), 5)
        assert teacher.close_code == 1012
        assert one.services.rooms.running() == []


async def test_people_who_come_back_to_the_new_owner_in_time_stay_in_the_room(pair):
    one, two = pair
    async with seeded_lesson(one, pupils=2) as lesson:
        _, pupil = await in_class_then_taken_over(lesson, one, two)
        # every page reconnects, now to the owner, on the same device
        back = []
        for client in lesson.clients:
            again = Client(two, lesson.session_id, client.cookie, client.who)
            back.append(await again.connect())
            assert (await again.send("join"))["type"] == "ok"
        await asyncio.sleep(2.5)  # past the grace
        kinds = await entries(two, lesson.session_id)
        assert "ConnectionDropped" not in kinds and "RoomHeld" not in kinds
        me = back[2].view()["me"]
        assert me["status"] == "admitted"
        assert pupil.who == "p1"
        for client in back:
            await client.close()


async def test_the_new_owner_drops_whoever_does_not_come_back(pair):
    one, two = pair
    async with seeded_lesson(one, pupils=2) as lesson:
        teacher, _ = await in_class_then_taken_over(lesson, one, two)
        again = await Client(two, lesson.session_id, teacher.cookie, teacher.who).connect()
        assert (await again.send("join"))["type"] == "ok"
        await asyncio.sleep(2.5)  # the assistant and the pupil never came back
        kinds = await entries(two, lesson.session_id)
        assert kinds.count("ConnectionDropped") == 2
        assert "RoomHeld" in kinds  # one adult left: the pupil's media is cut (CLA-02)
        await again.close()


async def test_the_time_limit_ends_the_room_once_across_a_failover(pair):
    one, two = pair
    async with seeded_lesson(one, pupils=2) as lesson:
        await in_class_then_taken_over(lesson, one, two)
        # both workers' clocks reach the warning, then the end: the old owner's room is still
        # running its timers, and only the owner's are written
        one.clock.advance(dt.timedelta(minutes=28))
        await asyncio.sleep(0.5)
        one.clock.advance(dt.timedelta(minutes=10))
        await asyncio.sleep(1.0)
        kinds = await entries(two, lesson.session_id)
        assert kinds.count("SessionEnded") == 1
        assert kinds.count("TimeWarning") == 1


@pytest.mark.parametrize("dialect", ["sqlite", "postgres"])
async def test_an_append_expecting_another_end_of_the_log_writes_nothing(
    dialect: str, pg_url: str, tmp_path: Path
):
    url = pg_url if dialect == "postgres" else f"sqlite+aiosqlite:///{tmp_path / 'l.db'}"
    if dialect == "sqlite":
        upgrade(url)
    engine = connect(url)
    try:
        log = EventLog(engine, b"k" * 32)
        entry = NewEntry("LogNoteAdded", "2026-11-24T10:00:00+00:00", {"text": "one"})
        await log.append("s1", [entry], expected_seq=0)
        with pytest.raises(LogMovedError):
            await log.append("s1", [entry], expected_seq=0)
        async with engine.connect() as conn:
            count = await conn.scalar(select(func.count()).select_from(SessionEvent))
        assert count == 1
        assert (await log.verify("s1")).ok
    finally:
        await engine.dispose()


async def test_one_refused_append_does_not_hold_up_the_others_in_its_group_commit(pg_url: str):
    engine = connect(pg_url)
    try:
        log = GroupCommitLog(engine, b"k" * 32)
        entry = NewEntry("LogNoteAdded", "2026-11-24T10:00:00+00:00", {"text": "one"})
        await log.append("behind", [entry])
        stale = Lease("fenced", "w0", 3)  # a lease nobody holds
        results = await asyncio.gather(
            log.append("behind", [entry], expected_seq=0),
            log.append("fenced", [entry], expected_seq=0, lease=stale),
            log.append("fine", [entry], expected_seq=0),
            return_exceptions=True,
        )
        assert isinstance(results[0], LogMovedError)
        assert isinstance(results[1], RoomFencedError)
        assert not isinstance(results[2], BaseException) and results[2][0].seq == 1
        assert [e.seq for e in await log.read("behind")] == [1]
        assert await log.read("fenced") == []
    finally:
        await engine.dispose()
