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
from tests.integration.live import (
    Client,
    Lesson,
    LiveServer,
    pupil_cookie,
    running,
    seeded_lesson,
    staff_cookie,
)
from tests.integration.seed import seed_session
from tests.support.rooms import START


@pytest.fixture
async def server(db_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    clock = AdjustableClock(START - dt.timedelta(minutes=3))
    async with running(LiveServer(db_url, tmp_path, clock)) as live:
        yield live


@pytest.fixture
async def lesson(server: LiveServer) -> AsyncIterator[Lesson]:
    async with seeded_lesson(server, "claydon", pupils=30) as lesson:
        yield lesson


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
    assert refused["message"] == "Please wait for another adult to join"  # said to a child


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


# covers: C21, CLA-04, CLA-15, CRO-15, C4
async def test_a_pupil_forging_staff_commands_is_refused_and_the_attempt_logged(
    lesson: Lesson, server: LiveServer
):
    teacher = await lesson.staff("teacher")
    await lesson.staff("assistant", "Mr Lee")
    amelia = await lesson.pupil("p1")
    oliver = await lesson.pupil("p2")
    assert (await teacher.send("admit", pupils=["p1"]))["type"] == "ok"
    for kind, fields in [
        ("admit", {"pupils": ["p2"]}),
        ("admit_all", {}),
        ("unmute", {"target": "p1"}),  # unmuting herself without permission
        ("remove", {"pupil": "p2"}),
        ("end", {}),
        ("emergency_end", {}),
        ("chat_on", {}),
        ("camera_on", {"target": "p2"}),
        ("start_recording", {}),
        ("concern", {"summary": "made up"}),
    ]:
        reply = await amelia.send(kind, **fields)
        assert reply["type"] == "refused", (kind, reply)
    # an actor field, or any field the protocol does not know, is refused outright
    reply = await amelia.send("admit", pupils=["p2"], actor="staff-1")
    assert reply["type"] == "error"
    assert "actor" in reply["message"]
    reply = await amelia.send("rename", name="The Teacher")
    assert reply["type"] == "error"
    assert reply["message"] == "Unknown message type: 'rename'"
    # nothing changed: Oliver still waits, Amelia is still muted, the lesson goes on
    view = teacher.view()
    assert view["waiting"] == ["p2"]
    assert next(p for p in view["people"] if p["id"] == "p1")["mic_on"] is False
    assert view["session"]["phase"] != "ended"
    assert oliver.view()["me"]["status"] == "waiting"
    entries = await server.services.event_log.read(lesson.session_id)
    attempts = [e.payload for e in entries if e.type == "AttemptRefused"]
    assert {
        "actor": "p1",
        "command": "Admit",
        "message": "Only staff can admit pupils",
        "clause": "CLA-04",
    } in attempts
    assert len(attempts) >= 8


# covers: STJ-06, CLA-08, S04-16, C10
async def test_a_removed_pupil_is_disconnected_and_cannot_rejoin(
    lesson: Lesson, server: LiveServer
):
    teacher = await lesson.staff("teacher")
    await lesson.staff("assistant", "Mr Lee")
    pupil = await lesson.pupil("p3")
    assert (await teacher.send("admit_all"))["type"] == "ok"
    assert (await teacher.send("remove", pupil="p3", reason="swearing"))["type"] == "ok"
    await asyncio.wait_for(pupil.closed.wait(), 2)
    assert pupil.close_code == 4003
    # a new device, a fresh pass: the socket opens but the room will not take them back
    again = await lesson.pupil("p3", join=False)
    reply = await again.send("join", acknowledged_expectations=True)
    assert reply["type"] == "refused"
    assert reply["message"] == "Isla J. was removed from this session and cannot rejoin it"
    assert "p3" not in teacher.view()["waiting"]


# covers: STJ-11, WER-02, S04-02, C2, C4
async def test_a_forwarded_link_on_a_second_device_is_refused_while_the_first_is_on(lesson: Lesson):
    teacher = await lesson.staff("teacher")
    first = await lesson.pupil("p4")
    second = await lesson.pupil("p4", join=False)
    reply = await second.send("join", acknowledged_expectations=True)
    assert reply["type"] == "refused"
    assert "already connected on another device" in reply["message"]
    assert reply["clause"] == "C4"  # Claydon's protocol says nothing of devices: never STJ-11
    # the second device saw none of the room: no names, no waiting list
    assert second.view()["me"] is None
    assert second.view()["in_the_room"] == []
    assert teacher.view()["waiting"] == ["p4"]
    await first.close()
    await teacher.wait_for(lambda m: m["type"] == "state" and m["view"]["waiting"] == [])
    assert (await second.send("join", acknowledged_expectations=True))["type"] == "ok"


# covers: C22
async def test_malformed_messages_get_clear_errors_and_the_socket_stays_open(lesson: Lesson):
    teacher = await lesson.staff("teacher")
    await teacher.send_raw("this is not json")
    error = await teacher.wait_for(lambda m: m["type"] == "error")
    assert error["message"] == "Not valid JSON"
    await teacher.send_raw('{"no_type": 1}')
    await teacher.wait_for(lambda m: m["type"] == "error" and "needs a 'type'" in m["message"])
    reply = await teacher.send("admit", pupils=[])
    assert reply["type"] == "error"
    assert "pupils" in reply["message"]
    assert (await teacher.send("ping"))["type"] == "pong"  # still connected and answering
    await teacher.send_raw("x" * 9000)  # over the 8 KB limit: closed with 1009
    await asyncio.wait_for(teacher.closed.wait(), 2)
    assert teacher.close_code == 1009


# covers: C22
async def test_a_socket_from_another_origin_or_without_a_cookie_is_refused(
    lesson: Lesson, server: LiveServer
):
    _, cookie = await staff_cookie(
        server.services, lesson.school_id, "teacher", "Mrs Khan", on_session=lesson.session_id
    )
    with pytest.raises(Exception, match="403"):
        await Client(server, lesson.session_id, cookie, "evil").connect(origin="http://evil.test")
    with pytest.raises(Exception, match="403"):
        await Client(server, lesson.session_id, "sc_staff=forged", "forged").connect()
    with pytest.raises(Exception, match="403"):
        await Client(server, "no-such-session", cookie, "nosuch").connect()
    # a teacher of this school who is not on this session is refused the same way (C21)
    _, other = await staff_cookie(server.services, lesson.school_id, "teacher", "Mr Other")
    with pytest.raises(Exception, match="403"):
        await Client(server, lesson.session_id, other, "other").connect()
    # the DSL may join any session of the school
    _, dsl = await staff_cookie(server.services, lesson.school_id, "dsl", "Ms Patel")
    await (await Client(server, lesson.session_id, dsl, "dsl").connect()).close()


# covers: C5, CLA-02
async def test_a_silent_connection_is_dropped_within_ten_seconds_and_the_room_told(
    lesson: Lesson, server: LiveServer
):
    teacher = await lesson.staff("teacher")
    assistant = await lesson.staff("assistant", "Mr Lee")
    await lesson.pupil("p1")
    assert (await teacher.send("admit_all"))["type"] == "ok"
    assistant.answer_pings = False  # the tab froze: the socket is open but nothing answers
    started = time.monotonic()
    await teacher.wait_for(
        lambda m: m["type"] == "state" and m["view"]["session"]["held"], timeout=10
    )
    assert time.monotonic() - started < 10
    await asyncio.wait_for(assistant.closed.wait(), 2)
    assert assistant.close_code == 4008


# covers: C5, CLA-02
async def test_a_server_that_stalls_for_a_while_drops_nobody_whose_answers_wait_for_it(
    lesson: Lesson, server: LiveServer
):
    """Silence is counted in the room's heartbeats, not in seconds: a server busy for three
    heartbeats (a garbage collection, a burst of work) first reads the answers that arrived
    meanwhile, instead of taking the whole class for gone."""
    teacher = await lesson.staff("teacher")
    assistant = await lesson.staff("assistant", "Mr Lee")
    pupil = await lesson.pupil("p1")
    assert (await teacher.send("admit_all"))["type"] == "ok"
    await asyncio.sleep(1.5)  # a heartbeat or two, answered
    time.sleep(3.5)  # the server itself is stalled: it shares this loop
    await asyncio.sleep(2.5)  # two more heartbeats, answered
    for client in (teacher, assistant, pupil):
        assert not client.closed.is_set(), (client.who, client.close_code)
    assert (await teacher.send("chat_on"))["type"] == "ok"


# covers: CLA-17, C5, C11
async def test_after_a_server_restart_the_room_resumes_from_its_log(db_url: str, tmp_path: Path):
    clock = AdjustableClock(START - dt.timedelta(minutes=3))
    first = await LiveServer(db_url, tmp_path, clock).start()
    session_id = await seed_session(first.services.engine, "claydon", pupils=5)
    stored = await load_session(first.services.engine, session_id)
    lesson = Lesson(first, session_id, stored.school_id)
    teacher = await lesson.staff("teacher")
    await lesson.staff("assistant", "Mr Lee")
    for pid in ("p1", "p2", "p3"):
        await lesson.pupil(pid)
    assert (await teacher.send("admit_all"))["type"] == "ok"
    assert (await teacher.send("chat_on"))["type"] == "ok"
    assert (await teacher.send("remove", pupil="p2"))["type"] == "ok"
    await lesson.close()
    await first.stop()

    second = await LiveServer(db_url, tmp_path, clock).start()  # same database, same clock
    try:
        lesson = Lesson(second, session_id, stored.school_id)
        teacher = await lesson.staff("teacher")
        view = teacher.view()
        assert view["session"]["chat_on"] is True
        assert view["session"]["phase"] != "ended"
        statuses = {p["id"]: p["status"] for p in view["people"]}
        assert statuses["p2"] == "removed"
        assert statuses["p1"] == "left"  # everyone was disconnected by the restart
        removed = await lesson.pupil("p2", join=False)
        assert (await removed.send("join", acknowledged_expectations=True))["type"] == "refused"
        back = await lesson.pupil("p1")
        assert back.view()["me"]["status"] == "waiting"
        assert (await second.services.event_log.verify(session_id)).ok
        # the time limit still holds after the restart: the clock was never reset
        clock.advance(dt.timedelta(minutes=40))
        await asyncio.wait_for(teacher.closed.wait(), 5)
        assert teacher.close_code == 4000
        await lesson.close()
    finally:
        await second.stop()


# covers: WER-14, S04-19, C12
async def test_an_emergency_end_disconnects_everyone_and_alerts_the_dsl(
    lesson: Lesson, server: LiveServer
):
    from sqlalchemy import select

    from safeclass.adapters.store.tables import Notification

    await staff_cookie(server.services, lesson.school_id, "dsl", "Ms Patel")
    teacher = await lesson.staff("teacher")
    await lesson.staff("assistant", "Mr Lee")
    await lesson.pupil("p1")
    assert (await teacher.send("admit_all"))["type"] == "ok"
    await teacher.send_raw('{"type": "emergency_end", "note": "stranger in the room"}')
    for client in lesson.clients:
        await asyncio.wait_for(client.closed.wait(), 2)
        assert client.close_code == 4000
    async with server.services.engine.connect() as conn:
        rows = (await conn.execute(select(Notification.kind, Notification.subject))).all()
    assert [kind for kind, _ in rows] == ["dsl_emergency_end"]
    assert rows[0][1].startswith("[safeclass] A session was ended in an emergency: Year 2 Maths")


# covers: CLA-06, C11
async def test_a_live_room_is_restored_at_start_and_ends_on_time_with_nobody_connected(
    db_url: str, tmp_path: Path
):
    from sqlalchemy import select

    from safeclass.adapters.store.tables import Session

    clock = AdjustableClock(START - dt.timedelta(minutes=3))
    first = await LiveServer(db_url, tmp_path, clock).start()
    session_id = await seed_session(first.services.engine, "claydon", pupils=3)
    stored = await load_session(first.services.engine, session_id)
    lesson = Lesson(first, session_id, stored.school_id)
    teacher = await lesson.staff("teacher")
    await lesson.staff("assistant", "Mr Lee")
    await lesson.pupil("p1")
    assert (await teacher.send("admit_all"))["type"] == "ok"
    await lesson.close()
    await first.stop()

    clock.advance(dt.timedelta(minutes=45))  # the server was down past the end of the lesson
    second = await LiveServer(db_url, tmp_path, clock).start()
    try:
        async with second.services.engine.connect() as conn:
            status = (
                await conn.execute(select(Session.status).where(Session.id == session_id))
            ).scalar_one()
        assert status == "ended"
        entries = await second.services.event_log.read(session_id)
        assert entries[-1].type == "SessionEnded"
        assert entries[-1].payload is not None
        assert entries[-1].payload["reason"] == "time_limit"
    finally:
        await second.stop()


# covers: C1, CLA-03
async def test_an_early_visitor_does_not_open_the_session_before_its_waiting_room_does(
    db_url: str, tmp_path: Path
):
    from sqlalchemy import select

    from safeclass.adapters.store.tables import Session

    clock = AdjustableClock(START - dt.timedelta(hours=2))
    server = await LiveServer(db_url, tmp_path, clock).start()
    try:
        session_id = await seed_session(server.services.engine, "claydon", pupils=3)
        stored = await load_session(server.services.engine, session_id)
        lesson = Lesson(server, session_id, stored.school_id)
        early = await lesson.pupil("p1", join=False)
        refused = await early.send("join", acknowledged_expectations=True)
        assert refused["message"] == "The waiting room opens at 09:55"

        async def status() -> str:
            async with server.services.engine.connect() as conn:
                return str(
                    (
                        await conn.execute(select(Session.status).where(Session.id == session_id))
                    ).scalar_one()
                )

        assert await status() == "scheduled"  # staff may still move or cancel it
        clock.set(START - dt.timedelta(minutes=5))
        await early.wait_for(
            lambda m: m["type"] == "state" and m["view"]["session"]["phase"] == "open"
        )
        assert await status() == "live"  # on record before anyone is told it opened
        assert (await early.send("join", acknowledged_expectations=True))["type"] == "ok"
        teacher = await lesson.staff("teacher", "Mrs Khan")
        assert (await teacher.send("end"))["type"] == "ok"
        # the one who ended it finds it ended at once (its page offers the register)
        assert await status() == "ended"
        await lesson.close()
    finally:
        await server.stop()
