"""A hostile client on a real socket: nested messages, floods, and staff-only commands by the
thousand. The server answers in plain words, keeps its log bounded, and never crashes.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets

from safeclass.adapters.store.sessions import load_session
from safeclass.app.clock import AdjustableClock
from safeclass.app.reports.loading import session_report
from safeclass.app.room_log import replay
from safeclass.core import Phase
from tests.integration.live import Client, Lesson, LiveServer, running, seeded_lesson
from tests.integration.seed import seed_session
from tests.integration.server_log import ServerLog, server_log
from tests.support.rooms import START


@pytest.fixture
async def server(db_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    clock = AdjustableClock(START - dt.timedelta(minutes=3))
    async with running(LiveServer(db_url, tmp_path, clock)) as live:
        yield live


@pytest.fixture
def problems(server: LiveServer) -> Iterator[ServerLog]:
    """The server's errors and tracebacks: the test fails if there is any."""
    with server_log() as watched:
        yield watched
    assert watched.problems == []


@pytest.fixture
async def lesson(server: LiveServer, problems: ServerLog) -> AsyncIterator[Lesson]:
    async with seeded_lesson(server, "claydon", pupils=5) as lesson:
        yield lesson


# covers: C22
async def test_a_deeply_nested_message_is_a_bad_message_and_the_socket_stays_open(
    lesson: Lesson, problems: ServerLog
):
    pupil = await lesson.pupil("p1", join=False)
    await pupil.send_raw("[" * 8000)  # under 8 KB, 8000 levels deep
    error = await pupil.wait_for(lambda m: m["type"] == "error")
    assert error["code"] == "bad_message"
    assert error["message"] == "Nested too deeply: a message has at most 8 levels"
    await pupil.send_raw('{"type": "chat", "text": "' + "[" * 4000 + '"}')  # brackets in text
    error = await pupil.wait_for(lambda m: m["type"] == "error" and m is not error)
    assert error["message"] != "Nested too deeply: a message has at most 8 levels"
    assert (await pupil.send("ping"))["type"] == "pong"
    assert problems.problems == []


# covers: C22
async def test_nested_messages_count_toward_the_bad_message_limit(lesson: Lesson):
    pupil = await lesson.pupil("p1", join=False)
    for depth in range(20):
        await pupil.send_raw('{"type": "join", "id": ' + "{" * (100 + depth) + "}")
    await asyncio.wait_for(pupil.closed.wait(), 5)
    assert pupil.close_code == 1008
    assert pupil.close_reason == "Too many bad messages"
    errors = [m for m in pupil.messages if m["type"] == "error"]
    assert errors
    assert all(e["code"] == "bad_message" for e in errors)


# covers: C22
async def test_a_deep_message_over_8_kb_is_closed_as_too_large_without_a_traceback(
    lesson: Lesson,
):
    pupil = await lesson.pupil("p1", join=False)
    await pupil.send_raw('{"type": "media_publish", "jsep": ' + "[" * 20_000 + "}")
    await asyncio.wait_for(pupil.closed.wait(), 5)
    assert pupil.close_code == 1009


async def _flood(client: Client, count: int, kind: str, **fields: object) -> list[dict[str, Any]]:
    """Send `count` messages without waiting, then wait for every reply; the replies."""
    assert client.ws is not None
    start = len(client.messages)
    ids = [f"{client.who}-flood-{len(client.messages)}-{i}" for i in range(count)]
    for mid in ids:
        await client.ws.send(json.dumps({"type": kind, "id": mid, **fields}))
    await client.wait_for(lambda m: m.get("id") == ids[-1], timeout=30, start=start)
    wanted = set(ids)
    return [m for m in client.messages[start:] if m.get("id") in wanted]


async def _entries(server: LiveServer, session_id: str, kind: str) -> list[dict[str, Any]]:
    entries = await server.services.event_log.read(session_id)
    return [dict(e.payload or {}) for e in entries if e.type == kind]


# covers: C21, CLA-16
async def test_thousands_of_staff_only_commands_from_a_pupil_leave_a_bounded_exact_record(
    db_url: str, tmp_path: Path
):
    """The rate limit lifted, so every attempt reaches the room: the log alone stays bounded."""
    live = LiveServer(
        db_url,
        tmp_path,
        AdjustableClock(START - dt.timedelta(minutes=3)),
        socket_rate=1e6,
        socket_burst=10**6,
    )
    await live.start()
    with server_log() as watched:
        try:
            session_id = await seed_session(live.services.engine, "claydon", pupils=5)
            stored = await load_session(live.services.engine, session_id)
            lesson = Lesson(live, session_id, stored.school_id)
            teacher = await lesson.staff("teacher")
            await lesson.staff("assistant", "Mr Lee")
            amelia = await lesson.pupil("p1")
            assert (await teacher.send("admit", pupils=["p1"]))["type"] == "ok"

            replies = await _flood(amelia, 3000, "admit", pupils=["p2"])
            assert [r["code"] for r in replies] == ["not_permitted"] * 3000
            logged = await _entries(live, session_id, "AttemptRefused")
            assert len(logged) == 10
            assert logged[0] == {
                "actor": "p1",
                "command": "Admit",
                "message": "Only staff can admit pupils",
                "clause": "CLA-04",  # admitting is the waiting-room clause,
            }
            assert await _entries(live, session_id, "AttemptsRefused") == []  # counting
            # a minute on, the window closes and its count goes on record, exact
            live.clock.advance(dt.timedelta(seconds=61))
            for _ in range(500):
                if counted := await _entries(live, session_id, "AttemptsRefused"):
                    break
                await asyncio.sleep(0.01)
            assert len(counted) == 1
            assert counted[0]["actor"] == "p1"
            assert counted[0]["count"] == 2990
            assert counted[0]["commands"] == {"Admit": 2990}

            # a new window: ten logged, the rest counted, and the end writes the count
            replies = await _flood(amelia, 15, "end")
            assert [r["code"] for r in replies] == ["not_permitted"] * 15
            await teacher.send_raw(json.dumps({"type": "end"}))
            await asyncio.wait_for(teacher.closed.wait(), 5)
            assert teacher.close_code == 4000
            logged = await _entries(live, session_id, "AttemptRefused")
            counted = await _entries(live, session_id, "AttemptsRefused")
            assert len(logged) == 20
            assert [c["count"] for c in counted] == [2990, 5]
            assert counted[1]["commands"] == {"EndSession": 5}
            entries = await live.services.event_log.read(session_id)
            assert len(entries) < 60  # 3,015 attempts, a bounded record
            assert entries[-1].type == "AttemptsRefused"  # written at the end
            # replay skips them; the register counts them; the timeline tells them
            assert replay(stored.plan, stored.policy, entries).phase is Phase.ENDED
            report = await session_report(
                live.services.engine,
                live.services.records,
                live.services.event_log,
                session_id,
                resources=live.services.resources,
                deliveries=live.services.deliveries,
            )
            amelia_row = next(r for r in report.register.pupils if r.pupil_id == "p1")
            assert amelia_row.refused_attempts == 3015
            assert report.register.facts.refused_attempts == 3015
            told = [line.text for line in report.timeline if "refused" in line.text.lower()]
            assert told[0] == "Refused attempt by Amelia R. (Admit): Only staff can admit pupils"
            assert told[10].startswith("2,990 more refused attempts by Amelia R. from ")
            assert told[10].endswith(" (Admit 2,990)")
            assert told[-1].endswith(" (EndSession 5)")
            assert len(told) == 22
            await lesson.close()
        finally:
            await live.stop()
    assert watched.problems == []


async def _admitted_class(lesson: Lesson, pupils: int) -> tuple[Client, list[Client]]:
    teacher = await lesson.staff("teacher")
    await lesson.staff("assistant", "Mr Lee")
    joined = [await lesson.pupil(f"p{i}") for i in range(1, pupils + 1)]
    assert (await teacher.send("admit_all"))["type"] == "ok"
    return teacher, joined


# covers: C21, C22
async def test_a_flooding_pupil_is_told_to_slow_down_then_closed_and_the_staff_told_why(
    lesson: Lesson, server: LiveServer
):
    teacher, (amelia, *_) = await _admitted_class(lesson, 2)
    assert amelia.ws is not None
    with contextlib.suppress(websockets.ConnectionClosed):
        for i in range(1000):
            await amelia.ws.send(json.dumps({"type": "admit", "id": f"f{i}", "pupils": ["p2"]}))
    await asyncio.wait_for(amelia.closed.wait(), 5)
    assert amelia.close_code == 1008
    assert amelia.close_reason == "Too many messages, too fast"
    slow = [m for m in amelia.messages if m.get("code") == "rate_limited"]
    assert slow
    assert slow[0]["message"] == "Too many messages at once: please slow down"
    notice = await teacher.wait_for(lambda m: m["type"] == "notice")
    assert notice == {
        "type": "notice",
        "kind": "flooding",
        "participant": "p1",
        "message": "Amelia R.'s connection was closed: it sent too many messages too fast",
    }
    # the flood reached the room only as far as the limit let it, and the log stayed bounded
    entries = await server.services.event_log.read(lesson.session_id)
    assert sum(e.type == "AttemptRefused" for e in entries) == 10
    assert (await teacher.send("mute", target="p2"))["type"] == "ok"  # the lesson goes on


# covers: C7, C3
async def test_a_teacher_clicking_as_fast_as_the_server_answers_is_never_rate_limited(
    lesson: Lesson,
):
    teacher, _ = await _admitted_class(lesson, 5)
    replies = []
    for _ in range(6):  # 60 actions, one after another, faster than anyone clicks
        for i in range(1, 6):
            replies.append(await teacher.send("unmute", target=f"p{i}"))
            replies.append(await teacher.send("mute", target=f"p{i}"))
    assert [r["type"] for r in replies] == ["ok"] * 60
    assert not [m for m in teacher.messages if m.get("code") == "rate_limited"]
