"""The live room's authorisation matrix: every WebSocket command from every kind of caller,
through a real server, checked against the one permissions table (`core.permissions`).

Callers who may not be in the room at all (a teacher not on the session, an admin, another
school's staff, anyone without a cookie) are refused at the handshake, so they can send
nothing. Everyone else sends every command; what the table says they may not send must be
refused as `not_permitted` (and logged), what it allows must never be, and a pupil's second
device acts for nobody. docs/protocol.md's "who" column is checked against the same table.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, get_args

import pytest
from pydantic import TypeAdapter
from sqlalchemy import insert

from safeclass.adapters.store.tables import School
from safeclass.app.clock import AdjustableClock
from safeclass.app.live.attempts import FIRST_LOGGED
from safeclass.core import Role
from safeclass.core import commands as cmd
from safeclass.core.permissions import ROOM_COMMANDS, Who, may_send
from safeclass.web import protocol
from tests.integration.live import Client, Lesson, LiveServer, running, seeded_lesson, staff_cookie
from tests.support.janus import FAKE_OFFER
from tests.support.rooms import START

ROOT = Path(__file__).resolve().parents[2]

# Every command message with fields that make sense in the lesson below: p1 and p2 are in the
# room, p3 and p4 wait, p5 is in the room (a staff caller removes them). `leave` and the ends
# come last, as they take the caller (or everyone) out.
MESSAGES: list[dict[str, Any]] = [
    {"type": "join", "acknowledged_expectations": True},
    {"type": "admit", "pupils": ["p3"]},
    {"type": "deny", "pupil": "p4"},
    {"type": "admit_all"},
    {"type": "mute", "target": "p2"},
    {"type": "unmute", "target": "p2"},
    {"type": "mute", "target": "SELF"},
    {"type": "camera_off", "target": "p2"},
    {"type": "camera_on", "target": "p2"},
    {"type": "camera_off", "target": "SELF"},
    {"type": "allow_to_speak", "pupil": "p2"},
    {"type": "chat_on"},
    {"type": "chat", "text": "hello everyone"},
    {"type": "chat_off"},
    {"type": "raise_hand"},
    {"type": "lower_hand", "pupil": "p1"},
    {"type": "call_on", "pupil": "p1"},
    {"type": "lower_hand", "pupil": "SELF"},
    {"type": "parent_present", "pupil": "p2", "present": True},
    {"type": "parent_present", "pupil": "SELF", "present": True},
    {"type": "start_recording"},
    {"type": "stop_recording"},
    {"type": "note", "kind": "behaviour", "text": "Great listening"},
    {"type": "concern", "summary": "Something worrying was said"},
    {"type": "media_share", "jsep": {"type": "offer", "sdp": FAKE_OFFER["sdp"]}},
    {"type": "media_share_stop"},
    {"type": "remove", "pupil": "p5", "reason": "testing"},
    {"type": "leave"},
    {"type": "end"},
]
COMMAND_TYPES = {m["type"] for m in MESSAGES} | {"emergency_end", "chat_on", "chat_off"}


def _message(template: dict[str, Any], me: str) -> dict[str, Any]:
    return {k: (me if v == "SELF" else v) for k, v in template.items()}


def _command(message: dict[str, Any], me: str, role: Role) -> cmd.Command:
    parsed = TypeAdapter(protocol.ClientMessage).validate_python(message)
    if isinstance(parsed, protocol.Join):
        return cmd.RequestToJoin(me, role, "device")
    command = protocol.to_command(parsed, me)
    assert command is not None, message
    return command


@pytest.fixture
async def server(db_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    clock = AdjustableClock(START + dt.timedelta(minutes=1))
    async with running(LiveServer(db_url, tmp_path, clock)) as live:
        yield live


@pytest.fixture
async def lesson(server: LiveServer) -> AsyncIterator[Lesson]:
    async with seeded_lesson(server, "claydon", pupils=6) as lesson:
        yield lesson


async def _class(lesson: Lesson) -> dict[str, Client]:
    teacher = await lesson.staff("teacher", "Mrs Khan")
    assistant = await lesson.staff("assistant", "Mr Lee")
    pupils = {p: await lesson.pupil(p) for p in ("p1", "p2", "p5")}
    assert (await teacher.send("admit_all"))["type"] == "ok"
    for p in ("p3", "p4"):
        await lesson.pupil(p)
    return {"teacher": teacher, "assistant": assistant, **pupils}


async def _school_wide(lesson: Lesson, role: str) -> Client:
    """A DSL or head teacher: not on the session, may join any of the school's (C21)."""
    staff_id, cookie = await staff_cookie(lesson.server.services, lesson.school_id, role, role)
    client = await Client(lesson.server, lesson.session_id, cookie, staff_id).connect()
    lesson.clients.append(client)
    return client


CALLERS = ("teacher on the session", "assistant on it", "dsl", "head", "a family's link")


# covers: C21, CLA-16, STJ-02, CRO-03, C4, C5
@pytest.mark.parametrize("caller", CALLERS)
async def test_every_command_from_every_caller_in_the_room_follows_the_table(
    lesson: Lesson, caller: str
):
    people = await _class(lesson)
    if caller in ("dsl", "head"):
        client, role = await _school_wide(lesson, caller), Role(caller)
    elif caller == "a family's link":
        client, role = people["p1"], Role.PUPIL
    else:
        client = people["teacher" if caller.startswith("teacher") else "assistant"]
        role = Role.TEACHER if caller.startswith("teacher") else Role.ASSISTANT
    me = client.who
    refused_attempts = 0
    for template in MESSAGES:
        message = _message(template, me)
        command = _command(message, me, role)
        allowed = may_send(role, command)
        kind = message.pop("type")
        if kind == "end" and allowed:  # everyone is disconnected at once, this page too
            await client.send_raw('{"type": "end", "id": "end"}')
            with contextlib.suppress(ConnectionError):  # or refused: e.g. after leaving
                reply = await client.wait_for(lambda m: m.get("id") == "end")
                assert reply.get("code") != "not_permitted", reply
                continue
            assert client.close_code == 4000
            continue
        reply = await client.send(kind, **message)
        answer = (reply["type"], reply.get("code"))
        if allowed:
            assert answer[1] != "not_permitted", (template, reply)
        elif ROOM_COMMANDS[type(command)] is Who.PUPILS:  # staff raising a hand: a slip
            assert answer == ("refused", "invalid"), (template, reply)
        else:
            assert answer == ("refused", "not_permitted"), (template, reply)
            refused_attempts += 1
    logged = [
        e
        for e in await lesson.server.services.event_log.read(lesson.session_id)
        if e.type == "AttemptRefused"
    ]
    # every forbidden attempt is on record: the first few one by one, the rest counted into one
    # entry once their minute is up
    assert len(logged) == min(refused_attempts, FIRST_LOGGED)
    if refused_attempts > FIRST_LOGGED:
        lesson.server.clock.advance(dt.timedelta(seconds=61))
        note = await people["teacher"].send("note", kind="note", text="a minute later")
        assert note["type"] == "ok"
        counts = [
            e.payload["count"]
            for e in await lesson.server.services.event_log.read(lesson.session_id)
            if e.type == "AttemptsRefused" and e.payload is not None
        ]
        assert counts == [refused_attempts - FIRST_LOGGED]


# covers: STJ-11, WER-02, C4
async def test_a_pupils_second_device_acts_for_nobody(lesson: Lesson):
    people = await _class(lesson)
    second = await lesson.pupil("p1", join=False)
    for template in MESSAGES:
        message = _message(template, "p1")
        kind = message.pop("type")
        reply = await second.send(kind, **message)
        if kind == "join":
            assert "already connected on another device" in reply["message"]
        else:
            assert (reply["type"], reply["code"]) == ("refused", "not_here"), (template, reply)
    assert people["p1"].view()["me"]["status"] == "admitted"


# covers: C21, CLA-16, STJ-02
@pytest.mark.parametrize("role", ["teacher", "assistant", "dsl", "head"])
async def test_every_adult_in_the_room_may_end_it_in_an_emergency(lesson: Lesson, role: str):
    people = await _class(lesson)
    if role in ("dsl", "head"):
        client = await _school_wide(lesson, role)
        assert (await client.send("join"))["type"] == "ok"
    else:
        client = people[role]
    assert (await people["p1"].send("emergency_end"))["code"] == "not_permitted"
    await client.send_raw('{"type": "emergency_end", "id": "e", "note": "a stranger came in"}')
    await asyncio.wait_for(people["p2"].closed.wait(), 5)
    assert people["p2"].close_code == 4000


# covers: C21, CLA-16, CRO-03
@pytest.mark.parametrize(
    "caller", ["teacher not on it", "admin", "another school's staff", "anonymous"]
)
async def test_callers_who_may_not_be_in_the_room_cannot_open_a_socket(lesson: Lesson, caller: str):
    services = lesson.server.services
    school_id = lesson.school_id
    if caller == "another school's staff":
        school_id = str(uuid.uuid4())
        async with services.engine.begin() as conn:
            await conn.execute(
                insert(School).values(
                    id=school_id, key="elsewhere", name="Elsewhere", created_at=services.clock.now()
                )
            )
    if caller == "anonymous":
        cookie = ""
    else:
        role = {"admin": "admin"}.get(caller, "teacher")
        _, cookie = await staff_cookie(services, school_id, role, caller)
    with pytest.raises(Exception, match="403"):
        await Client(lesson.server, lesson.session_id, cookie, caller).connect()


# covers: C21
def test_the_protocol_docs_say_who_may_send_each_command_as_the_table_does():
    text = (ROOT / "docs" / "protocol.md").read_text("utf-8")
    rows = re.findall(r"^\| (`[a-z_]+`(?: / `[a-z_]+`)?) \|[^|]*\| ([^|]+) \|", text, re.M)
    said: dict[str, str] = {}
    for names, who in rows:
        for name in re.findall(r"`([a-z_]+)`", names):
            said[name] = who.strip()
    for kind in sorted(COMMAND_TYPES):
        template = next((m for m in MESSAGES if m["type"] == kind), {"type": kind})
        command = _command(_message(template, "p1"), "p1", Role.PUPIL)
        assert said.get(kind) == ROOM_COMMANDS[type(command)].value, kind


# covers: C21
def test_every_command_and_every_message_that_makes_one_has_a_row_in_the_table():
    commands = {
        value
        for value in vars(cmd).values()
        if isinstance(value, type) and issubclass(value, cmd.Command) and value is not cmd.Command
    }
    assert set(ROOM_COMMANDS) == commands  # a new command without a row fails here
    kinds: set[str] = set()
    for member in get_args(get_args(protocol.ClientMessage)[0]):
        kinds |= set(get_args(member.model_fields["type"].annotation))
    not_commands = {"ping", "pong", "offer", "answer"} | {
        "media_publish",
        "media_subscribe",
        "media_start",
        "trickle",
    }
    assert kinds - not_commands == COMMAND_TYPES  # a new message must join the matrix above
