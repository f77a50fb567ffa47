"""The session event log: appends, the hash chain, and tampering found by `verify`."""

from __future__ import annotations

import asyncio
import itertools

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from safeclass.adapters.store import EventLog, NewEntry
from safeclass.adapters.store.tables import SessionEvent, SessionLogHead
from tests.support.keys import TEST_CHAIN_KEY

AT = "2026-11-24T10:00:00+00:00"


def _entries(n: int, start: int = 0) -> list[NewEntry]:
    return [
        NewEntry("PupilWaiting", AT, {"pupil": f"p{i}", "name": "Siân O."})
        for i in range(start, start + n)
    ]


async def _logged(engine: AsyncEngine, n: int = 6, session: str = "s1") -> EventLog:
    log = EventLog(engine, TEST_CHAIN_KEY)
    await log.append(session, _entries(n))
    return log


# covers: C14, C15, CLA-17
async def test_appended_events_read_back_in_order_with_contiguous_numbers(engine: AsyncEngine):
    log = EventLog(engine, TEST_CHAIN_KEY)
    first = await log.append("s1", _entries(3))
    second = await log.append("s1", _entries(2, start=3))
    entries = await log.read("s1")
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert [e.payload["pupil"] for e in entries if e.payload] == ["p0", "p1", "p2", "p3", "p4"]
    assert entries[0].payload == {"pupil": "p0", "name": "Siân O."}
    assert [e.hash for e in first + second] == [e.hash for e in entries]
    assert (await log.verify("s1")).ok


# covers: CLA-17
async def test_each_session_has_its_own_numbering_and_chain(engine: AsyncEngine):
    log = EventLog(engine, TEST_CHAIN_KEY)
    await log.append_many({"a": _entries(2), "b": _entries(3)})
    assert [e.seq for e in await log.read("a")] == [1, 2]
    assert [e.seq for e in await log.read("b")] == [1, 2, 3]
    assert await log.sessions() == ["a", "b"]
    assert (await log.verify("a")).ok and (await log.verify("b")).ok


# covers: CLA-17
async def test_concurrent_writers_to_one_session_never_interleave_wrongly(engine: AsyncEngine):
    log = EventLog(engine, TEST_CHAIN_KEY)
    other = EventLog(engine, TEST_CHAIN_KEY)  # a second writer object with its own in-process lock
    writers = [w.append("s1", _entries(5, start=i * 5)) for i, w in enumerate([log, other] * 10)]
    await asyncio.gather(*writers)
    entries = await log.read("s1")
    assert [e.seq for e in entries] == list(range(1, 101))
    report = await log.verify("s1")
    assert report.ok, report.problems
    # each batch of five stayed together: a writer's appends are never split by another's
    pupils = [int(e.payload["pupil"][1:]) for e in entries if e.payload]
    for i in range(0, 100, 5):
        assert pupils[i : i + 5] == list(range(pupils[i], pupils[i] + 5))


# covers: CLA-17
async def test_a_changed_payload_is_reported_with_its_number(engine: AsyncEngine):
    log = await _logged(engine)
    async with engine.begin() as conn:
        await conn.execute(
            update(SessionEvent)
            .where(SessionEvent.session_id == "s1", SessionEvent.seq == 3)
            .values(payload='{"name":"Someone Else","pupil":"p2"}')
        )
    report = await log.verify("s1")
    assert not report.ok
    assert any("event 3" in p and "changed" in p for p in report.problems), report.problems


# covers: CLA-17
async def test_a_changed_time_is_reported(engine: AsyncEngine):
    log = await _logged(engine)
    async with engine.begin() as conn:
        await conn.execute(
            update(SessionEvent)
            .where(SessionEvent.session_id == "s1", SessionEvent.seq == 2)
            .values(at="2026-11-24T09:00:00+00:00")
        )
    report = await log.verify("s1")
    assert any("event 2" in p and "changed" in p for p in report.problems), report.problems


# covers: CLA-17
async def test_a_deleted_event_is_reported(engine: AsyncEngine):
    log = await _logged(engine)
    async with engine.begin() as conn:
        await conn.execute(
            delete(SessionEvent).where(SessionEvent.session_id == "s1", SessionEvent.seq == 4)
        )
    report = await log.verify("s1")
    assert any("event 4 deleted" in p for p in report.problems), report.problems


# covers: CLA-17
async def test_a_deleted_last_event_is_reported(engine: AsyncEngine):
    log = await _logged(engine)
    async with engine.begin() as conn:
        await conn.execute(
            delete(SessionEvent).where(SessionEvent.session_id == "s1", SessionEvent.seq >= 5)
        )
    report = await log.verify("s1")
    assert any("5-6 deleted from the end" in p for p in report.problems), report.problems


# covers: CLA-17
async def test_an_inserted_event_is_reported(engine: AsyncEngine):
    log = await _logged(engine)
    async with engine.begin() as conn:
        # make room at 4 and insert a forged entry that claims to follow event 3
        await conn.execute(
            update(SessionEvent)
            .where(SessionEvent.session_id == "s1", SessionEvent.seq >= 4)
            .values(seq=SessionEvent.seq + 100)
        )
        third = (
            await conn.execute(
                select(SessionEvent.hash).where(
                    SessionEvent.session_id == "s1", SessionEvent.seq == 3
                )
            )
        ).scalar_one()
        await conn.execute(
            SessionEvent.__table__.insert().values(
                session_id="s1",
                seq=4,
                type="PupilAdmitted",
                at=AT,
                payload="{}",
                digest="0" * 64,
                prev_hash=third,
                hash="f" * 64,
                redacted=False,
            )
        )
    report = await log.verify("s1")
    assert not report.ok
    assert any("event 4" in p for p in report.problems), report.problems


# covers: CLA-17
async def test_reordered_events_are_reported(engine: AsyncEngine):
    log = await _logged(engine)
    async with engine.begin() as conn:
        await conn.execute(
            update(SessionEvent)
            .where(SessionEvent.session_id == "s1", SessionEvent.seq == 2)
            .values(seq=-2)
        )
        await conn.execute(
            update(SessionEvent)
            .where(SessionEvent.session_id == "s1", SessionEvent.seq == 5)
            .values(seq=2)
        )
        await conn.execute(
            update(SessionEvent)
            .where(SessionEvent.session_id == "s1", SessionEvent.seq == -2)
            .values(seq=5)
        )
    report = await log.verify("s1")
    assert any("out of order" in p for p in report.problems), report.problems


# covers: CLA-17
async def test_a_silently_blanked_payload_is_reported_but_a_recorded_redaction_is_not(
    engine: AsyncEngine,
):
    log = await _logged(engine)
    await log.redact("s1", [2], reason="retention: chat messages", at=AT)
    assert (await log.verify("s1")).ok
    entries = await log.read("s1")
    assert entries[1].payload is None and entries[1].redacted
    assert entries[-1].type == "Redacted" and entries[-1].payload == {
        "seqs": [2],
        "reason": "retention: chat messages",
    }
    async with engine.begin() as conn:
        await conn.execute(
            update(SessionEvent)
            .where(SessionEvent.session_id == "s1", SessionEvent.seq == 4)
            .values(payload=None, redacted=True)
        )
    report = await log.verify("s1")
    assert report.problems == ["event 4 (PupilWaiting) blanked without a recorded redaction"]


# covers: CLA-17
async def test_a_missing_head_record_is_reported(engine: AsyncEngine):
    log = await _logged(engine)
    async with engine.begin() as conn:
        await conn.execute(delete(SessionLogHead))
    report = await log.verify("s1")
    assert report.problems == ["the log's head record is missing"]


@pytest.mark.parametrize("n", [1, 250])
async def test_appends_continue_the_chain_after_a_new_connection(engine: AsyncEngine, n: int):
    await _logged(engine, n=n)
    log = EventLog(engine, TEST_CHAIN_KEY)  # as after a restart
    await log.append("s1", _entries(2))
    assert await log.count("s1") == n + 2
    assert (await log.verify("s1")).ok


# covers: CLA-17
async def test_group_commit_shares_transactions_and_keeps_every_sessions_order(
    engine: AsyncEngine,
):
    from sqlalchemy import event

    from safeclass.adapters.store.group_commit import GroupCommitLog

    commits = 0

    def count(_conn: object) -> None:
        nonlocal commits
        commits += 1

    event.listen(engine.sync_engine, "commit", count)
    log = GroupCommitLog(engine, TEST_CHAIN_KEY)
    sessions = [f"room-{i}" for i in range(20)]

    async def room(sid: str) -> list[int]:
        seqs = []
        for i in range(5):
            (written,) = await log.append(sid, [_entries(1, start=i)[0]])
            seqs.append(written.seq)
        return seqs

    results = await asyncio.gather(*(room(sid) for sid in sessions))
    assert results == [[1, 2, 3, 4, 5]] * 20
    assert commits < 100  # 100 appends, fewer commits: they were grouped
    for sid in sessions:
        entries = await log.read(sid)
        assert [e.payload["pupil"] for e in entries if e.payload] == [f"p{i}" for i in range(5)]
        assert (await log.verify(sid)).ok


async def test_rooms_whose_appends_commit_together_go_on_one_at_a_time_with_the_loop_between(
    engine: AsyncEngine,
):
    """When every lesson starts on the hour, their rooms' appends share one commit, and each
    room then sends its views to its pages. They go on one loop turn apart, so sockets are
    heard between them (before, 160 rooms held the loop for 0.3 s in one turn)."""
    from safeclass.adapters.store.group_commit import GroupCommitLog

    log = GroupCommitLog(engine, TEST_CHAIN_KEY)
    turns = 0
    resumed_at: list[int] = []

    async def ticker() -> None:
        nonlocal turns
        while True:
            await asyncio.sleep(0)
            turns += 1

    async def room(sid: str) -> None:
        await log.append(sid, _entries(1))
        resumed_at.append(turns)

    ticking = asyncio.create_task(ticker())
    try:
        await asyncio.gather(*(room(f"room-{i}") for i in range(20)))
    finally:
        ticking.cancel()
    assert len(resumed_at) == 20
    # the loop turned between every two rooms going on
    assert all(b > a for a, b in itertools.pairwise(resumed_at)), resumed_at
