"""Whole sessions through a real server: uvicorn on loopback, real WebSocket clients.

Each test drives the room the way browsers would (cookies, Origin, JSON messages) and checks
what staff and pupils are told, and that the server, not the client, keeps every rule.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from safeclass.adapters.store.sessions import load_session
from safeclass.app.clock import AdjustableClock
from tests.integration.live import Client, LiveServer, pupil_cookie, staff_cookie
from tests.integration.seed import seed_session
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


class Lesson:
    """A scheduled session with its staff and pupils' clients, on a live server."""

    def __init__(self, server: LiveServer, session_id: str, school_id: str) -> None:
        self.server = server
        self.session_id = session_id
        self.school_id = school_id
        self.clients: list[Client] = []

    async def staff(self, role: str = "teacher", name: str = "Mrs Khan") -> Client:
        staff_id, cookie = await staff_cookie(self.server.services, self.school_id, role, name)
        client = await Client(self.server, self.session_id, cookie, staff_id).connect()
        self.clients.append(client)
        reply = await client.send("join")
        assert reply["type"] == "ok", reply
        return client

    async def pupil(self, pupil_id: str, join: bool = True, **join_fields: object) -> Client:
        cookie = await pupil_cookie(self.server.services, self.school_id, self.session_id, pupil_id)
        client = await Client(self.server, self.session_id, cookie, pupil_id).connect()
        self.clients.append(client)
        if join:
            join_fields.setdefault("acknowledged_expectations", True)
            reply = await client.send("join", **join_fields)
            assert reply["type"] == "ok", reply
        return client

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self.clients))


@pytest.fixture
async def lesson(server: LiveServer) -> AsyncIterator[Lesson]:
    session_id = await seed_session(server.services.engine, "claydon", pupils=30)
    stored = await load_session(server.services.engine, session_id)
    lesson = Lesson(server, session_id, stored.school_id)
    try:
        yield lesson
    finally:
        await lesson.close()


# covers: CLA-02, CLA-04, CLA-05, C3, C5, C7, S04-11
async def test_a_class_of_thirty_is_admitted_once_two_adults_are_present(lesson: Lesson):
    teacher = await lesson.staff("teacher", "Mrs Khan")
    pupils = await asyncio.gather(*(lesson.pupil(f"p{i}") for i in range(1, 31)))
    view = teacher.view()
    assert len(view["waiting"]) == 30
    assert view["staffing"] == {
        "staff_present": 1,
        "staff_required": 2,
        "single_adult_fallback": False,
    }
    refused = await teacher.send("admit_all")
    assert refused["type"] == "refused"
    assert refused["message"].endswith("1 of 2 required staff present")
    assert refused["clause"] == "CLA-02"

    await lesson.staff("assistant", "Mr Lee")
    assert (await teacher.send("admit_all"))["type"] == "ok"
    for pupil in pupils:
        view = await pupil.wait_for(
            lambda m: m["type"] == "state" and (m["view"]["me"] or {}).get("status") == "admitted"
        )
        assert view["view"]["me"]["mic_on"] is False  # muted on entry (CLA-05)
        assert len(view["view"]["in_the_room"]) == 31  # 29 classmates and 2 staff, by name


# covers: CLA-02, S04-11, STJ-06, C5
async def test_pupils_are_held_within_a_second_when_the_second_adult_drops(lesson: Lesson):
    teacher = await lesson.staff("teacher")
    assistant = await lesson.staff("assistant", "Mr Lee")
    pupils = [await lesson.pupil(f"p{i}") for i in range(1, 6)]
    assert (await teacher.send("admit_all"))["type"] == "ok"

    started = time.monotonic()
    assert assistant.ws is not None
    assistant.ws.transport.abort()  # the assistant's laptop vanishes from the network
    for pupil in pupils:
        held = await pupil.wait_for(lambda m: m["type"] == "state" and m["view"]["session"]["held"])
        assert held["view"]["session"]["hold_reason"] == "staff_below_minimum"
        assert all(not p["mic_on"] and not p["camera_on"] for p in held["view"]["in_the_room"])
    assert time.monotonic() - started < 1.0
    staff_view = await teacher.wait_for(
        lambda m: m["type"] == "state" and m["view"]["session"]["held"]
    )
    assert staff_view["view"]["staffing"]["staff_present"] == 1

    # held pupils cannot chat or unmute, whatever their client sends
    assert (await teacher.send("chat_on"))["type"] == "ok"
    refused = await pupils[0].send("chat", text="hello?")
    assert refused["type"] == "refused"
    assert "1 of 2 required staff present" in refused["message"]


# covers: CLA-06, CLA-10, STJ-07, C11
async def test_at_the_time_limit_everyone_is_disconnected_at_once(
    lesson: Lesson, server: LiveServer
):
    teacher = await lesson.staff("teacher")
    await lesson.staff("assistant", "Mr Lee")
    pupils = [await lesson.pupil(f"p{i}") for i in range(1, 4)]
    assert (await teacher.send("admit_all"))["type"] == "ok"
    server.clock.advance(dt.timedelta(minutes=25))
    warning = await pupils[0].wait_for(
        lambda m: any(e["type"] == "TimeWarning" for e in m.get("events", []))
    )
    assert any(e.get("minutes_left") == 5 for e in warning["events"])
    server.clock.advance(dt.timedelta(minutes=6))
    for client in lesson.clients:
        await asyncio.wait_for(client.closed.wait(), 5)
        assert client.close_code == 4000
        assert client.close_reason == "The session has ended"
    # nobody can come back: the room refuses every connection
    late = Client(
        server,
        lesson.session_id,
        await pupil_cookie(server.services, lesson.school_id, lesson.session_id, "p1"),
        "late",
    )
    with pytest.raises(Exception):  # noqa: B017, PT011 - rejected at the handshake
        await late.connect()
