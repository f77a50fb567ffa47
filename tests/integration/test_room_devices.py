"""Who a connection speaks for, through a real server: a reload, a second tab, a second device,
and a consent withdrawn while a pupil's device is already connected.

The room knows each participant by the device they joined on (a staff login, a pupil's pass).
A connection replaced by a newer one of the same person on the same device is not that person
leaving; a connection on another device never acts for someone already in the room; and a
change to a pupil's consent reaches a live room without anyone reconnecting.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import websockets

from safeclass.adapters.store import pupil_records
from safeclass.app.clock import AdjustableClock
from safeclass.core import Consent
from tests.integration.live import Client, Lesson, LiveServer, running, seeded_lesson
from tests.support.rooms import START


@pytest.fixture
async def server(db_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    clock = AdjustableClock(START - dt.timedelta(minutes=3))
    live_server = LiveServer(
        db_url, tmp_path, clock, revocations_every_seconds=0.2, reload_grace_seconds=1.0
    )
    async with running(live_server) as live:
        yield live


@pytest.fixture
async def lesson(server: LiveServer) -> AsyncIterator[Lesson]:
    async with seeded_lesson(server, "claydon", pupils=6) as lesson:
        yield lesson


async def _types_after(server: LiveServer, session_id: str, seq: int) -> list[str]:
    return [e.type for e in await server.services.event_log.read(session_id, after_seq=seq)]


async def _class_in_the_room(lesson: Lesson) -> tuple[Client, Client, list[Client]]:
    teacher = await lesson.staff("teacher", "Mrs Khan")
    assistant = await lesson.staff("assistant", "Mr Lee")
    pupils = [await lesson.pupil(f"p{i}") for i in range(1, 4)]
    assert (await teacher.send("admit_all"))["type"] == "ok"
    for pupil in pupils:
        await pupil.wait_for(
            lambda m: m["type"] == "state" and (m["view"]["me"] or {}).get("status") == "admitted"
        )
    return teacher, assistant, pupils


def _person(view: dict[str, Any], participant: str) -> dict[str, Any]:
    return next((p for p in view["people"] if p["id"] == participant), {})


# covers: CLA-02, S04-11, C5
async def test_a_teacher_who_reloads_the_page_does_not_hold_the_class(lesson: Lesson):
    server = lesson.server
    teacher, _, pupils = await _class_in_the_room(lesson)
    seq = server.services.rooms.running()[0].seq

    reloaded = await Client(server, lesson.session_id, teacher.cookie, "reloaded").connect()
    lesson.clients.append(reloaded)
    await asyncio.wait_for(teacher.closed.wait(), 2)
    assert teacher.close_code == 4001  # the old page: "Opened again on this device"
    assert (await reloaded.send("join"))["type"] == "ok"
    assert (await reloaded.send("chat_on"))["type"] == "ok"  # the reloaded page is in charge
    await asyncio.sleep(0.3)

    # the log says only what happened: the chat was switched on; nobody left or dropped
    assert await _types_after(server, lesson.session_id, seq) == ["ChatSwitched"]
    for pupil in pupils:
        assert pupil.view()["session"]["held"] is False
        assert not any(
            m["type"] == "state" and m["view"]["session"]["held"] for m in pupil.messages
        )
    me = _person(reloaded.view(), teacher.who)
    assert (me["status"], me["connected"]) == ("admitted", True)


# covers: CLA-02, S04-11, C5
async def test_a_page_reloaded_as_a_browser_does_it_does_not_hold_the_class(lesson: Lesson):
    """A browser closes the old page's socket (1001, going away) before the new page opens its
    own: the assistant's reload is not the assistant leaving."""
    server = lesson.server
    _, assistant, pupils = await _class_in_the_room(lesson)
    seq = server.services.rooms.running()[0].seq

    assert assistant.ws is not None
    await assistant.ws.close(code=1001)
    await asyncio.sleep(0.3)  # the new page loads
    reloaded = await Client(server, lesson.session_id, assistant.cookie, "reloaded").connect()
    lesson.clients.append(reloaded)
    me = _person(reloaded.view(), assistant.who)
    assert (me["status"], me["connected"]) == ("admitted", True)  # no need to join again
    await asyncio.sleep(1.5)  # past the grace

    assert await _types_after(server, lesson.session_id, seq) == []
    assert not any(
        m["type"] == "state" and m["view"]["session"]["held"] for p in pupils for m in p.messages
    )
    assert (await reloaded.send("chat_on"))["type"] == "ok"


# covers: CLA-02, S04-11, C5
async def test_a_page_closed_for_good_holds_the_class_once_the_grace_is_over(lesson: Lesson):
    server = lesson.server
    _, assistant, pupils = await _class_in_the_room(lesson)
    seq = server.services.rooms.running()[0].seq

    assert assistant.ws is not None
    await assistant.ws.close(code=1001)  # the tab closed, and nobody opens it again
    await pupils[0].wait_for(
        lambda m: m["type"] == "state" and m["view"]["session"]["held"], timeout=3
    )
    assert await _types_after(server, lesson.session_id, seq) == ["ConnectionDropped", "RoomHeld"]


# covers: CLA-02, C5
async def test_a_connection_lost_any_other_way_holds_the_class_at_once(lesson: Lesson):
    server = lesson.server
    _, assistant, pupils = await _class_in_the_room(lesson)
    seq = server.services.rooms.running()[0].seq

    assert assistant.ws is not None
    await assistant.ws.close(code=1000)  # not a page going away: no grace
    await pupils[0].wait_for(
        lambda m: m["type"] == "state" and m["view"]["session"]["held"], timeout=0.5
    )
    assert await _types_after(server, lesson.session_id, seq) == ["ConnectionDropped", "RoomHeld"]


# covers: CLA-02, C5
async def test_a_second_tab_and_a_burst_of_reloads_leave_the_teacher_in_the_room(lesson: Lesson):
    server = lesson.server
    teacher, assistant, pupils = await _class_in_the_room(lesson)
    seq = server.services.rooms.running()[0].seq

    # five tabs opened at once, each joining as soon as it can: whichever wins, the teacher
    # stays in the room and connected, and the class is never held
    async def tab(n: int) -> Client:
        client = Client(server, lesson.session_id, teacher.cookie, f"tab{n}")
        lesson.clients.append(client)
        # a newer tab may take over at once
        with contextlib.suppress(ConnectionError, websockets.ConnectionClosed):
            await client.connect()
            assert client.ws is not None
            await client.ws.send('{"type": "join", "id": "j"}')
        return client

    tabs = await asyncio.gather(*(tab(n) for n in range(5)))
    await asyncio.sleep(0.5)
    open_tabs = [t for t in tabs if not t.closed.is_set()]
    assert len(open_tabs) == 1  # the newest tab; the others were told it opened elsewhere
    assert all(t.close_code == 4001 for t in tabs if t.closed.is_set())
    assert (await open_tabs[0].send("chat_on"))["type"] == "ok"

    assert set(await _types_after(server, lesson.session_id, seq)) <= {"ChatSwitched"}
    row = _person(assistant.view(), teacher.who)
    assert (row["status"], row["connected"]) == ("admitted", True)
    assert all(not p.view()["session"]["held"] for p in pupils)


# covers: STJ-11, WER-02, C4
async def test_a_pupils_second_device_cannot_act_for_the_pupil_in_the_room(lesson: Lesson):
    server = lesson.server
    teacher, _, _ = await _class_in_the_room(lesson)
    assert (await teacher.send("chat_on"))["type"] == "ok"
    seq = server.services.rooms.running()[0].seq

    second = await lesson.pupil("p2", join=False)  # the forwarded link, opened elsewhere
    for kind, fields in (
        ("chat", {"text": "I am p2, honest"}),
        ("raise_hand", {}),
        ("parent_present", {"pupil": "p2"}),
        ("mute", {"target": "p2"}),
        ("leave", {}),
    ):
        reply = await second.send(kind, **fields)
        assert reply["type"] == "refused", (kind, reply)
        assert reply["code"] == "not_here"
        assert "another device" in reply["message"]

    assert await _types_after(server, lesson.session_id, seq) == []
    view = teacher.view()
    p2 = _person(view, "p2")
    assert (p2["status"], p2["connected"], p2["parent_present"]) == ("admitted", True, False)
    assert view["hands"] == []


# covers: CRO-16, CLA-14, C17
async def test_a_consent_withdrawn_reaches_a_pupil_already_connected_at_once(lesson: Lesson):
    server = lesson.server
    teacher = await lesson.staff("teacher", "Mrs Khan")
    await lesson.staff("assistant", "Mr Lee")
    waiting = await lesson.pupil("p1")  # in the waiting room
    early = await lesson.pupil("p2", join=False)  # the page is open, not yet joined
    admitted = await lesson.pupil("p3")
    assert (await teacher.send("admit", pupils=["p3"]))["type"] == "ok"

    # the family tells the school; the office records it (the CLI, another process)
    async with server.services.engine.begin() as conn:
        for pupil in ("p1", "p2", "p3"):
            await pupil_records.set_consent(
                conn, lesson.school_id, pupil, Consent.REFUSED, source="parent email"
            )

    for client in (waiting, admitted):
        await asyncio.wait_for(client.closed.wait(), 3)
        assert client.close_code == 4004
        assert "not taking part" in client.close_reason
    reply = await early.send("join", acknowledged_expectations=True)
    assert reply["type"] == "refused"
    assert "not taking part in live sessions" in reply["message"]
    view = await teacher.wait_for(
        lambda m: m["type"] == "state" and _person(m["view"], "p3").get("status") == "denied"
    )
    assert view["view"]["waiting"] == []
    consents = {p["id"]: p["consent"] for p in view["view"]["expected"]}
    assert consents["p1"] == consents["p2"] == consents["p3"] == "refused"
    # the admit the teacher might still click is refused too
    again = await lesson.pupil("p1", join=False)
    assert (await again.send("join", acknowledged_expectations=True))["type"] == "refused"
    types = [e.type for e in await server.services.event_log.read(lesson.session_id)]
    assert types.count("ConsentChanged") == 3
    assert types.count("PupilWithdrawn") == 2

    # consent given again: the pupil may join again
    async with server.services.engine.begin() as conn:
        await pupil_records.set_consent(
            conn, lesson.school_id, "p1", Consent.GIVEN, source="parent email"
        )
    await asyncio.sleep(0.8)
    assert (await again.send("join", acknowledged_expectations=True))["type"] == "ok"


# covers: CLA-10, C11
async def test_a_socket_to_an_ended_session_is_told_it_has_ended(lesson: Lesson):
    teacher = await lesson.staff("teacher")
    await teacher.send_raw('{"type": "end", "id": "end"}')
    await asyncio.wait_for(teacher.closed.wait(), 3)
    late = Client(lesson.server, lesson.session_id, teacher.cookie, "late")
    lesson.clients.append(late)
    with pytest.raises(ConnectionError):
        await late.connect()
    assert late.close_code == 4000
    assert late.close_reason == "The session has ended"


# covers: CLA-10, STJ-07, C11, C12
@pytest.mark.parametrize("ending", ["end", "emergency_end"])
async def test_whoever_ends_the_session_is_answered_before_everyone_is_disconnected(
    lesson: Lesson, ending: str
):
    teacher, assistant, pupils = await _class_in_the_room(lesson)
    reply = await teacher.send(ending)
    assert reply["type"] == "ok"
    for client in (teacher, assistant, *pupils):
        await asyncio.wait_for(client.closed.wait(), 3)
        assert (client.close_code, client.close_reason) == (4000, "The session has ended")
