"""What the staff console and the pupil's page are told, through a real server and sockets.

A page must never guess a rule: each view says what its viewer may do now (and, for a rule that
forbids it, why, in the room's own words), the school's expectations before a pupil joins, why
the room is held, when a noticed recording begins, and the chat so far, so a reload loses
nothing. Every view any client receives here is also checked against the published schema
(`StaffView`, `PupilView`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from safeclass.adapters.store.sessions import load_session
from safeclass.app.clock import AdjustableClock
from safeclass.core import SessionKind
from safeclass.policy import load_preset
from safeclass.web.views import PupilView, StaffView
from tests.integration.live import Client, Lesson, LiveServer, running, seeded_lesson
from tests.integration.seed import seed_session
from tests.support.rooms import START

# Everything only staff may send: never offered to a pupil.
STAFF_ONLY = {
    "admit",
    "admit_all",
    "deny",
    "remove",
    "allow_to_speak",
    "call_on",
    "chat_on",
    "chat_off",
    "start_recording",
    "stop_recording",
    "note",
    "concern",
    "end",
    "emergency_end",
}


@pytest.fixture
async def server(db_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    async with running(
        LiveServer(db_url, tmp_path, AdjustableClock(START - dt.timedelta(minutes=3)))
    ) as live:
        yield live


def states(client: Client) -> list[dict[str, Any]]:
    return [m for m in client.messages if m["type"] == "state"]


def check_schema(*clients: Client) -> None:
    """Every view a client was sent follows the published schema (extra fields are errors)."""
    for client in clients:
        for message in states(client):
            view = message["view"]
            (StaffView if view["kind"] == "staff" else PupilView).model_validate(view)


async def event(client: Client, kind: str) -> dict[str, Any]:
    """The first event of this kind the client was told of."""
    message = await client.wait_for(
        lambda m: m["type"] == "state" and any(e["type"] == kind for e in m.get("events", []))
    )
    return next(e for e in message["events"] if e["type"] == kind)


def me(view: dict[str, Any], field: str) -> Any:
    """A field of the pupil's own controls, or None before they are in the room on this page."""
    return (view["me"] or {}).get(field)


def status(view: dict[str, Any], pid: str) -> str | None:
    return next((p["status"] for p in view["people"] if p["id"] == pid), None)


def when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


async def view_where(client: Client, test: Any) -> dict[str, Any]:
    message = await client.wait_for(lambda m: m["type"] == "state" and test(m["view"]))
    return message["view"]  # type: ignore[no-any-return]


# covers: CLA-02, CLA-04, C3, C5
async def test_a_teachers_view_offers_admit_only_once_two_adults_are_present(server: LiveServer):
    async with seeded_lesson(server, "claydon", pupils=4) as lesson:
        teacher = await lesson.staff("teacher", "Mrs Khan")
        await lesson.pupil("p1")
        view = await view_where(teacher, lambda v: v["waiting"] == ["p1"])
        assert "admit" not in view["can_for"]["p1"]
        assert "deny" in view["can_for"]["p1"]
        assert "admit_all" not in view["can"]
        assert view["cannot"]["admit_all"] == {
            "message": "Cannot admit Amelia R.: 1 of 2 required staff present",
            "clause": "CLA-02",
        }
        # what the view said is what the room answers
        refused = await teacher.send("admit", pupils=["p1"])
        assert (refused["type"], refused["message"]) == (
            "refused",
            view["cannot"]["admit_all"]["message"],
        )

        await lesson.staff("assistant", "Mr Lee")
        view = await view_where(teacher, lambda v: v["staffing"]["staff_present"] == 2)
        assert "admit" in view["can_for"]["p1"]
        assert "admit_all" in view["can"]
        assert "admit_all" not in view["cannot"]
        assert (await teacher.send("admit", pupils=["p1"]))["type"] == "ok"
        view = await view_where(teacher, lambda v: status(v, "p1") == "admitted")
        assert "admit" not in view["can_for"]["p1"]
        assert {"unmute", "allow_to_speak", "remove"} <= set(view["can_for"]["p1"])
        assert "mute" not in view["can_for"]["p1"]  # muted on entry (CLA-05): nothing to mute
        check_schema(*lesson.clients)


# covers: C9, C21, CLA-04
async def test_a_pupils_view_offers_raise_hand_but_never_admit(server: LiveServer):
    async with seeded_lesson(server, "claydon", pupils=4) as lesson:
        teacher = await lesson.staff("teacher")
        await lesson.staff("assistant", "Mr Lee")
        pupil = await lesson.pupil("p1")
        waiting = await view_where(pupil, lambda v: me(v, "status") == "waiting")
        assert "raise_hand" not in waiting["can"]  # hands are for the room, not the waiting room
        assert "leave" in waiting["can"]
        assert (await teacher.send("admit", pupils=["p1"]))["type"] == "ok"
        view = await view_where(pupil, lambda v: me(v, "status") == "admitted")
        assert "raise_hand" in view["can"]
        assert "lower_hand" not in view["can"]
        assert view["expectations"] is None  # ticked at the door; the start reminds (an event)
        assert view["cannot"]["unmute"] == {
            "message": "You can speak when your teacher lets you",
            "clause": "CLA-05",
        }
        assert (await pupil.send("raise_hand"))["type"] == "ok"
        view = await view_where(pupil, lambda v: me(v, "hand_up"))
        assert "lower_hand" in view["can"] and "raise_hand" not in view["can"]

        assert (await teacher.send("call_on", pupil="p1"))["type"] == "ok"
        view = await view_where(pupil, lambda v: me(v, "mic_allowed"))
        assert "unmute" in view["can"] and "unmute" not in view["cannot"]
        assert (await pupil.send("unmute", target="p1"))["type"] == "ok"
        for message in states(pupil):
            offered = set(message["view"]["can"]) | set(message["view"]["cannot"])
            assert not offered & STAFF_ONLY
        check_schema(*lesson.clients)


# covers: C8, CLA-13
async def test_chat_history_survives_a_reconnect(server: LiveServer):
    async with seeded_lesson(server, "claydon", pupils=4) as lesson:
        teacher = await lesson.staff("teacher", "Mrs Khan")
        await lesson.staff("assistant", "Mr Lee")
        amelia = await lesson.pupil("p1")
        oliver = await lesson.pupil("p2")
        assert (await teacher.send("admit_all"))["type"] == "ok"
        view = await view_where(oliver, lambda v: me(v, "status") == "admitted")
        assert "chat" not in view["can"]
        assert view["cannot"]["chat"]["message"] == (
            "The chat is off until your teacher switches it on"
        )
        assert (await teacher.send("chat_on"))["type"] == "ok"
        view = await view_where(amelia, lambda v: v["session"]["chat_on"])
        assert "chat" in view["can"]
        assert (await amelia.send("chat", text="I finished question 3"))["type"] == "ok"
        assert (await teacher.send("chat", text="Well done, Amelia"))["type"] == "ok"
        await oliver.wait_for(
            lambda m: any(e.get("text") == "Well done, Amelia" for e in m.get("events", []))
        )
        # a view already sent the chat does not carry it again: new lines come as events
        assert states(oliver)[-1]["view"]["chat"] is None

        # Oliver's tablet drops; the page reconnects on the same device and joins again
        assert oliver.ws is not None
        oliver.ws.transport.abort()
        await oliver.closed.wait()
        await view_where(teacher, lambda v: status(v, "p2") == "left")  # the room noticed
        back = await Client(server, lesson.session_id, oliver.cookie, "oliver-again").connect()
        lesson.clients.append(back)
        assert back.view()["chat"] is None  # not this device's room yet: nothing of the room
        assert (await back.send("join", acknowledged_expectations=True))["type"] == "ok"
        view = await view_where(back, lambda v: v["chat"] is not None)
        assert view["chat"] == [
            {
                "number": 1,
                "at": view["chat"][0]["at"],
                "name": "Amelia R.",
                "text": "I finished question 3",
            },
            {
                "number": 2,
                "at": view["chat"][1]["at"],
                "name": "Mrs Khan",
                "text": "Well done, Amelia",
            },
        ]  # names only: a pupil never sees anyone's id

        # the teacher's page is reloaded: its first view has the chat, with who wrote each line
        reloaded = await Client(server, lesson.session_id, teacher.cookie, "reloaded").connect()
        lesson.clients.append(reloaded)
        lines = reloaded.view()["chat"]
        assert [(m["number"], m["by"], m["text"]) for m in lines] == [
            (1, "p1", "I finished question 3"),
            (2, teacher.who, "Well done, Amelia"),
        ]
        check_schema(*lesson.clients)


# covers: C18, C6, CLA-18, CLA-19, S04-07, S04-09, C3
async def test_the_expectations_text_reaches_a_pupil_before_joining(db_url: str, tmp_path: Path):
    policy = load_preset("claydon")
    early = AdjustableClock(START - dt.timedelta(minutes=10))
    async with (
        running(LiveServer(db_url, tmp_path, early)) as server,
        seeded_lesson(server, "claydon", pupils=2) as lesson,
    ):
        pupil = await lesson.pupil("p1", join=False)
        view = pupil.view()
        assert view["me"] is None and view["in_the_room"] == [] and view["chat"] is None
        assert view["expectations"] == {
            "pupil": list(policy.expectations.pupil),
            "parent": list(policy.expectations.parent),
            "must_tick": True,
            "parent_in_room": None,  # a class: no parent is asked to be in the room
            "parent_note": None,
        }
        assert view["can"] == []
        assert view["cannot"]["join"] == {
            "message": "The waiting room opens at 09:55",
            "clause": "CLA-04",
        }
        assert (await pupil.send("join", acknowledged_expectations=True))["type"] == "refused"

        early.set(START - dt.timedelta(minutes=3))
        view = await view_where(pupil, lambda v: v["session"]["phase"] == "open")
        assert view["can"] == ["join"] and view["cannot"] == {}
        check_schema(*lesson.clients)


# covers: C6, C18, S04-07, S04-09
async def test_a_one_to_one_asks_the_parent_to_say_they_are_in_the_room(server: LiveServer):
    session_id = await seed_session(server.services.engine, "s04", 1, SessionKind.ONE_TO_ONE)
    stored = await load_session(server.services.engine, session_id)
    lesson = Lesson(server, session_id, stored.school_id)
    try:
        teacher = await lesson.staff("teacher")
        await lesson.staff("assistant", "Mr Lee")
        child = await lesson.pupil("p1", join=False)
        expectations = child.view()["expectations"]
        assert expectations["parent_in_room"] == "required"
        assert expectations["parent_note"] == (
            "A parent or carer must stay in the room for the whole session: your child is let "
            "in only once you confirm you are in the room."
        )
        assert (await child.send("join", acknowledged_expectations=True))["type"] == "ok"
        view = await view_where(teacher, lambda v: v["waiting"] == ["p1"])
        assert "admit" not in view["can_for"]["p1"] and "parent_present" in view["can_for"]["p1"]
        view = await view_where(child, lambda v: v["me"] is not None)
        assert "parent_present" in view["can"]
        assert (await child.send("parent_present", pupil="p1", present=True))["type"] == "ok"
        view = await view_where(teacher, lambda v: "admit" in v["can_for"].get("p1", []))
        assert (await teacher.send("admit", pupils=["p1"]))["type"] == "ok"
        check_schema(*lesson.clients)
    finally:
        await lesson.close()


# covers: C13, STJ-09, CLA-09
async def test_recording_is_offered_only_where_the_policy_and_the_server_allow_it(
    server: LiveServer,
):
    # St Joseph's records with notice (STJ-09), but this server has no video to record: the
    # console says so instead of offering a button the server would refuse
    async with seeded_lesson(server, "st-josephs", pupils=2) as lesson:
        teacher = await lesson.staff("teacher")
        view = teacher.view()
        assert view["session"]["recording_policy"] == "with_notice"
        assert "start_recording" not in view["can"]
        assert view["cannot"]["start_recording"] == {
            "message": "Recording needs video, which is off on this server",
            "clause": "STJ-09",
        }
        refused = await teacher.send("start_recording")
        assert refused["message"] == view["cannot"]["start_recording"]["message"]
        check_schema(*lesson.clients)
    # Where recording works, the notice's end is in every view: tests/integration/
    # test_recording.py (a real Janus) checks `recording_starts_at` there.


# covers: C13, CLA-09
async def test_recording_is_never_offered_where_the_policy_forbids_it(server: LiveServer):
    async with seeded_lesson(server, "claydon", pupils=2) as lesson:
        teacher = await lesson.staff("teacher")
        view = teacher.view()
        assert view["session"]["recording_policy"] == "never"
        assert view["session"]["recording_starts_at"] is None
        assert "start_recording" not in view["can"]
        assert view["cannot"]["start_recording"] == {
            "message": "Recording is switched off in this school's policy",
            "clause": "CLA-09",
        }
        check_schema(*lesson.clients)


# covers: C5, CLA-02, C11
async def test_a_held_room_says_why_to_staff_and_to_pupils_in_their_own_words(
    server: LiveServer,
):
    async with seeded_lesson(server, "claydon", pupils=3) as lesson:
        teacher = await lesson.staff("teacher")
        assistant = await lesson.staff("assistant", "Mr Lee")
        pupil = await lesson.pupil("p1")
        await lesson.pupil("p2")
        assert (await teacher.send("admit_all"))["type"] == "ok"
        view = await view_where(pupil, lambda v: me(v, "status") == "admitted")
        assert view["session"]["hold"] is None
        assert view["session"]["warnings_minutes"] == [5, 1]
        assert assistant.ws is not None
        assistant.ws.transport.abort()
        view = await view_where(pupil, lambda v: v["session"]["held"])
        held_at = when((await event(teacher, "RoomHeld"))["at"])
        hold = view["session"]["hold"]
        assert hold == {
            "reason": "staff_below_minimum",
            "message": "Waiting for another adult to join.",
            "clause": "CLA-02",
            "ends_session_at": hold["ends_session_at"],
        }
        # a hold that goes on ends the session (claydon: after 5 minutes)
        assert when(hold["ends_session_at"]) == held_at + dt.timedelta(minutes=5)
        assert "raise_hand" in view["can"] and "chat" not in view["can"]
        view = await view_where(teacher, lambda v: v["session"]["held"])
        assert view["session"]["hold"]["message"] == (
            "Pupils are held until another adult joins: 1 of 2 required staff present."
        )
        assert "unmute" not in view["can_for"]["p1"]
        assert "leave" in view["cannot"]  # the one adult left cannot walk out on the pupils
        check_schema(*lesson.clients)


# covers: C4, STJ-11, C2
async def test_staff_see_when_a_pupils_link_is_also_open_on_another_device(server: LiveServer):
    async with seeded_lesson(server, "claydon", pupils=4) as lesson:
        teacher = await lesson.staff("teacher", "Mrs Khan")
        await lesson.pupil("p1")  # waiting, on the family's tablet
        await view_where(teacher, lambda v: v["waiting"] == ["p1"] and v["other_devices"] == [])
        second = await lesson.pupil("p1", join=False)  # the link forwarded to another device
        view = await view_where(teacher, lambda v: v["other_devices"] == ["p1"])
        assert view["waiting"] == ["p1"]  # still the first device's place
        refused = await second.send("join", acknowledged_expectations=True)
        assert refused["type"] == "refused"  # one device per pupil (STJ-11)
        await second.close()
        await view_where(teacher, lambda v: v["other_devices"] == [])
        # a device not yet in the room is not a second device
        await lesson.pupil("p2", join=False)
        await lesson.pupil("p2", join=False)
        assert states(teacher)[-1]["view"]["other_devices"] == []
        check_schema(*lesson.clients)
