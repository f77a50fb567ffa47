"""A hostile client on a real socket: nested messages, floods, and staff-only commands by the
thousand. The server answers in plain words, keeps its log bounded, and never crashes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from safeclass.adapters.store.sessions import load_session
from safeclass.app.clock import AdjustableClock
from tests.integration.live import LiveServer
from tests.integration.seed import seed_session
from tests.integration.server_log import ServerLog, server_log
from tests.integration.test_live_room import Lesson
from tests.support.rooms import START


@pytest.fixture
async def server(db_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    live = await LiveServer(
        db_url, tmp_path, AdjustableClock(START - dt.timedelta(minutes=3))
    ).start()
    try:
        yield live
    finally:
        await live.stop()


@pytest.fixture
def problems(server: LiveServer) -> Iterator[ServerLog]:
    """The server's errors and tracebacks: the test fails if there is any."""
    with server_log() as watched:
        yield watched
    assert watched.problems == []


@pytest.fixture
async def lesson(server: LiveServer, problems: ServerLog) -> AsyncIterator[Lesson]:
    session_id = await seed_session(server.services.engine, "claydon", pupils=5)
    stored = await load_session(server.services.engine, session_id)
    lesson = Lesson(server, session_id, stored.school_id)
    try:
        yield lesson
    finally:
        await lesson.close()


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
