"""A page that reconnects resumes from the last `seq` it saw: what it missed, once, in order.

Through a real server and real sockets (issue 12): a page's socket drops, the room goes on
(chat, a teacher letting a pupil speak, a hand, a note, a concern), and the page comes back with
`?since=` (docs/protocol.md, "Resuming"). Its first `state` carries exactly the events that
viewer would have been told live, read back from the session's log; the chat lines come as
those events, not again in the view; later `state`s do not repeat them. A pupil's device that
is not theirs in the room is sent no chat; a `since` the room cannot resume from is the current
view, as for a page that loads.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from safeclass.app.clock import AdjustableClock
from safeclass.web import room_resume
from tests.integration.live import Client, Lesson, LiveServer, running, seeded_lesson
from tests.support.rooms import START


@pytest.fixture
async def server(db_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    async with running(
        LiveServer(db_url, tmp_path, AdjustableClock(START - dt.timedelta(minutes=3)))
    ) as live:
        yield live


def states(client: Client) -> list[dict[str, Any]]:
    return [m for m in client.messages if m["type"] == "state"]


def events(client: Client) -> list[dict[str, Any]]:
    """Every event the client was told of, in order."""
    return [e for m in states(client) for e in m.get("events", [])]


def last_seq(client: Client) -> int:
    return int(states(client)[-1]["seq"])


def lines(client: Client) -> list[str]:
    """Every chat line the client was sent, in the views' history and as events, in order."""
    out = []
    for m in states(client):
        out += [line["text"] for line in m["view"]["chat"] or []]
        out += [e["text"] for e in m.get("events", []) if e["type"] == "ChatPosted"]
    return out


async def back(client: Client, since: int | str | None, who: str) -> Client:
    """The same page's socket again, on the same device (its cookie), saying where it was."""
    again = Client(client.server, client.session_id, client.cookie, who)
    return await again.connect(since=since)


async def settled(*clients: Client) -> None:
    """Every state the room has sent so far has reached these clients."""
    room = clients[0].server.services.rooms.running()[0]
    for client in clients:
        await client.wait_for(lambda m: m["type"] == "state" and m["seq"] == room.seq)


async def class_in_the_room(lesson: Lesson) -> tuple[Client, Client, Client, Client]:
    teacher = await lesson.staff("teacher", "Mrs Khan")
    assistant = await lesson.staff("assistant", "Mr Lee")
    amelia = await lesson.pupil("p1")
    oliver = await lesson.pupil("p2")
    assert (await teacher.send("admit_all"))["type"] == "ok"
    assert (await teacher.send("chat_on"))["type"] == "ok"
    assert (await amelia.send("chat", text="Good morning"))["type"] == "ok"
    await settled(teacher, assistant, amelia, oliver)
    return teacher, assistant, amelia, oliver


# covers: C8
async def test_a_pupils_page_that_reconnects_gets_the_chat_and_notices_it_missed_once_in_order(
    server: LiveServer,
):
    async with seeded_lesson(server, "claydon", pupils=4) as lesson:
        teacher, _, amelia, oliver = await class_in_the_room(lesson)
        since = last_seq(amelia)

        # Amelia's tablet loses its network; the server has not noticed yet (no close reached
        # it), so she is still in the room when her page connects again
        assert amelia.ws is not None
        amelia.ws.transport.pause_reading()
        assert (await teacher.send("chat", text="Open your books"))["type"] == "ok"
        assert (await oliver.send("raise_hand"))["type"] == "ok"  # not Amelia's to hear of
        assert (await teacher.send("note", kind="note", text="Quiet start", pupil="p1"))[
            "type"
        ] == "ok"  # the session log: staff only
        assert (await teacher.send("chat", text="Page 12, please"))["type"] == "ok"
        assert (await teacher.send("allow_to_speak", pupil="p1"))["type"] == "ok"
        room = server.services.rooms.running()[0]
        seq = room.seq

        resumed = await back(amelia, since, "amelia-again")
        lesson.clients.append(resumed)

        first = states(resumed)[0]
        assert first["seq"] == seq
        assert [(e["type"], e.get("text")) for e in first["events"]] == [
            ("ChatPosted", "Open your books"),
            ("ChatPosted", "Page 12, please"),
            ("SpeakingAllowed", None),
        ]
        assert [e.get("name") for e in first["events"][:2]] == ["Mrs Khan", "Mrs Khan"]
        assert "by" not in first["events"][0]  # a pupil never sees an id
        assert first["events"][2]["by_you"] is False  # "your teacher": she did not do it
        assert first["view"]["chat"] is None  # the lines came as events, not again
        assert first["view"]["me"]["status"] == "admitted"  # still in the room: no join needed

        # the room goes on: the next line comes once, and nothing missed comes again
        assert (await teacher.send("chat", text="Well read"))["type"] == "ok"
        await resumed.wait_for(
            lambda m: any(e.get("text") == "Well read" for e in m.get("events", []))
        )
        await settled(resumed)
        assert lines(resumed) == ["Open your books", "Page 12, please", "Well read"]
        assert [e["type"] for e in events(resumed)].count("SpeakingAllowed") == 1
        # the old socket, read at last: it was replaced, not dropped, and what it was told
        # live over the same stretch is exactly what the new one was told on resuming
        amelia.ws.transport.resume_reading()
        await asyncio.wait_for(amelia.closed.wait(), 5)
        assert amelia.close_code == 4001
        live = [e for m in states(amelia) if since < m["seq"] <= seq for e in m.get("events", [])]
        assert live == first["events"]


# covers: C8
async def test_a_teachers_page_that_reconnects_gets_what_a_colleague_was_told_meanwhile(
    server: LiveServer,
):
    async with seeded_lesson(server, "claydon", pupils=4) as lesson:
        teacher, assistant, amelia, _ = await class_in_the_room(lesson)
        colleague = await lesson.staff("teacher", "Ms Patel")  # stays, and reads no concern
        await settled(teacher, colleague)
        since = last_seq(teacher)
        start = len(colleague.messages)

        assert teacher.ws is not None
        teacher.ws.transport.abort()  # the network drops: the room notices at once
        await teacher.closed.wait()
        assert (await assistant.send("chat", text="Mrs Khan has dropped out"))["type"] == "ok"
        assert (await amelia.send("raise_hand"))["type"] == "ok"
        assert (await assistant.send("chat", text="Yes, Amelia?"))["type"] == "ok"
        concern = await assistant.send("concern", summary="Said something worrying", pupil="p1")
        assert concern["type"] == "ok"
        await settled(colleague)
        seq = server.services.rooms.running()[0].seq

        resumed = await back(teacher, since, "teacher-again")
        lesson.clients.append(resumed)

        first = states(resumed)[0]
        assert first["seq"] == seq
        meanwhile = [m for m in colleague.messages[start:] if m["type"] == "state"]
        told = [e for m in meanwhile for e in m.get("events", [])]
        assert first["events"] == told  # the same notices, in the same order, the same words
        assert [e["type"] for e in first["events"]] == [
            "ConnectionDropped",
            "ChatPosted",
            "HandRaised",
            "ChatPosted",
            "ConcernRaised",
            "DslAlerted",
        ]
        assert first["events"][4]["summary"] == ""  # not hers to read
        assert first["view"]["chat"] is None
        assert (await resumed.send("join"))["type"] == "ok"  # the client takes its place again
        await settled(resumed)
        assert lines(resumed) == ["Mrs Khan has dropped out", "Yes, Amelia?"]
        assert [e["type"] for e in events(resumed)].count("ConcernRaised") == 1


# covers: C8, CLA-13
async def test_a_pupils_device_not_in_the_room_is_sent_no_chat_when_it_reconnects(
    server: LiveServer,
):
    async with seeded_lesson(server, "claydon", pupils=4) as lesson:
        teacher, _, _, _ = await class_in_the_room(lesson)
        outside = await lesson.pupil("p3", join=False)  # opened the link, has not joined
        since = last_seq(outside)
        assert outside.ws is not None
        outside.ws.transport.abort()
        await outside.closed.wait()
        assert (await teacher.send("chat", text="Not for the waiting room"))["type"] == "ok"
        server.clock.set(START)  # the lesson starts: that, everyone is told
        await teacher.wait_for(
            lambda m: any(e["type"] == "SessionStarted" for e in m.get("events", []))
        )

        resumed = await back(outside, since, "outside-again")
        lesson.clients.append(resumed)

        first = states(resumed)[0]
        assert [e["type"] for e in first["events"]] == ["SessionStarted"]
        assert first["view"]["chat"] is None and first["view"]["me"] is None
        assert lines(resumed) == []
        # once it joins and is let in, the chat so far is in its view, as for any page
        assert (await resumed.send("join", acknowledged_expectations=True))["type"] == "ok"
        assert (await teacher.send("admit", pupils=["p3"]))["type"] == "ok"
        view = await resumed.wait_for(lambda m: m["type"] == "state" and m["view"]["chat"])
        assert [line["text"] for line in view["view"]["chat"]] == [
            "Good morning",
            "Not for the waiting room",
        ]


@pytest.mark.parametrize("since", ["abc", "-1", "12345678", "1e3", ""])
async def test_a_since_the_room_cannot_resume_from_is_the_current_view(
    server: LiveServer, since: str
):
    async with seeded_lesson(server, "claydon", pupils=4) as lesson:
        teacher, _, _, _ = await class_in_the_room(lesson)
        resumed = await back(teacher, since, "teacher-again")
        lesson.clients.append(resumed)
        first = states(resumed)[0]
        assert "events" not in first
        assert [line["text"] for line in first["view"]["chat"]] == ["Good morning"]
        assert (await resumed.send("join"))["type"] == "ok"  # and the socket works as ever


async def test_a_page_too_far_behind_gets_the_current_view_and_the_chat_from_it(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(room_resume, "RESUME_LIMIT", 2)
    async with seeded_lesson(server, "claydon", pupils=4) as lesson:
        teacher, assistant, _, _ = await class_in_the_room(lesson)
        since = last_seq(teacher)
        for text in ("One", "Two", "Three"):
            assert (await assistant.send("chat", text=text))["type"] == "ok"

        resumed = await back(teacher, since, "teacher-again")
        lesson.clients.append(resumed)
        first = states(resumed)[0]
        assert "events" not in first
        assert [line["text"] for line in first["view"]["chat"]] == [
            "Good morning",
            "One",
            "Two",
            "Three",
        ]

        near = await back(teacher, since + 2, "teacher-near")  # two behind: within the limit
        lesson.clients.append(near)
        assert [e["text"] for e in states(near)[0]["events"]] == ["Three"]


async def test_a_page_that_missed_nothing_is_sent_nothing_again(server: LiveServer):
    async with seeded_lesson(server, "claydon", pupils=4) as lesson:
        teacher, _, _, _ = await class_in_the_room(lesson)
        resumed = await back(teacher, last_seq(teacher), "teacher-again")
        lesson.clients.append(resumed)
        first = states(resumed)[0]
        assert "events" not in first and first["view"]["chat"] is None


async def test_what_happens_while_the_log_is_read_reaches_the_page_once(
    server: LiveServer, monkeypatch: pytest.MonkeyPatch
):
    """The room does not wait for a page's catching up: a line written while its missed events
    are read from the log is in its first state, or comes live after it, never both or neither."""
    async with seeded_lesson(server, "claydon", pupils=4) as lesson:
        teacher, assistant, _, _ = await class_in_the_room(lesson)
        since = last_seq(teacher)
        assert (await assistant.send("chat", text="Before"))["type"] == "ok"
        log = server.services.event_log
        read = log.read
        reading, go_on = asyncio.Event(), asyncio.Event()

        async def read_then_wait(session_id: str, after_seq: int = 0) -> list[Any]:
            entries = await read(session_id, after_seq)
            if not reading.is_set():  # the first read: the room moves on meanwhile
                reading.set()
                await go_on.wait()
            return entries

        monkeypatch.setattr(log, "read", read_then_wait)
        connecting = asyncio.create_task(back(teacher, since, "teacher-again"))
        await asyncio.wait_for(reading.wait(), 5)
        assert (await assistant.send("chat", text="While it was read"))["type"] == "ok"
        go_on.set()
        resumed = await connecting
        lesson.clients.append(resumed)

        first = states(resumed)[0]
        assert first["seq"] == server.services.rooms.running()[0].seq
        assert [e["text"] for e in first["events"]] == ["Before", "While it was read"]
        assert (await assistant.send("chat", text="After"))["type"] == "ok"
        await settled(resumed)
        assert lines(resumed) == ["Before", "While it was read", "After"]
