"""10,000 generated messages against a live room through a real server, from a pupil's socket and
a staff socket, while the real staff go on teaching.

A seeded generator (the seed is printed on failure) sends malformed JSON, deep nesting, huge and
binary frames, wrong types, unknown types, floods, and real commands with wrong fields or with
the ids of other participants. A socket the server closes (too many bad messages, a flood, a
frame too large or binary) is opened again and the fuzzing goes on. After it: the server logged
no error or traceback, the teacher got `ok` for every real command in between, the log stayed
bounded and its count of refused attempts is exact, the room's invariants hold, and replaying
the log gives the room's state.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import random
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

import websockets

from safeclass.adapters.store.sessions import load_session
from safeclass.app.clock import AdjustableClock
from safeclass.app.room_log import ATTEMPT_REFUSED, ATTEMPTS_REFUSED, replay
from safeclass.core.invariants import violations
from safeclass.web import protocol
from tests.integration.live import Client, LiveServer, pupil_cookie, staff_cookie
from tests.integration.seed import seed_session
from tests.integration.server_log import server_log
from tests.integration.test_live_room import Lesson
from tests.support.rooms import START

MESSAGES = 10_000
BATCH = 80  # messages between the teacher's real commands
SEED = int(os.environ.get("SAFECLASS_FUZZ_SEED", "20260909"))

# Commands as the protocol names them, with the fields each takes. `end`, `emergency_end` and
# `leave` only come from the pupil (refused): from the staff socket they would end the lesson.
KINDS = [
    "join", "admit", "admit_all", "deny", "remove", "mute", "unmute", "camera_off", "camera_on",
    "allow_to_speak", "raise_hand", "lower_hand", "call_on", "chat_on", "chat_off", "chat",
    "parent_present", "start_recording", "stop_recording", "note", "concern", "ping", "pong",
    "media_publish", "media_subscribe", "media_start", "trickle", "media_share",
    "media_share_stop",
]  # fmt: skip
PUPIL_ONLY_KINDS = ["end", "emergency_end", "leave"]


class Fuzzer:
    """Generates one message at a time (text or bytes), seeded."""

    def __init__(self, rng: random.Random, ids: list[str], staff: bool) -> None:
        self.rng = rng
        self.ids = ids  # every participant's id, and some that are nobody's
        self.kinds = KINDS if staff else KINDS + PUPIL_ONLY_KINDS
        self.makers: list[tuple[float, Callable[[], str | bytes | list[str]]]] = [
            (6, self.malformed),
            (4, self.nested),
            (0.3, self.huge),
            (0.3, self.binary),
            (0.25, self.flood),
            (30, self.command),
            (10, self.wrong_fields),
            (8, self.wrong_types),
            (5, self.unknown_type),
        ]

    def next(self) -> str | bytes | list[str]:
        """One message, or a list of them (a flood, sent at once)."""
        weights = [w for w, _ in self.makers]
        maker = self.rng.choices([m for _, m in self.makers], weights)[0]
        return maker()

    # -- values ------------------------------------------------------------------------------
    def text(self, longest: int = 40) -> str:
        alphabet = string.printable + 'ñé漢字🙂\u202e"\\[]{}'
        return "".join(self.rng.choice(alphabet) for _ in range(self.rng.randint(0, longest)))

    def someone(self) -> str:
        return self.rng.choice(self.ids)

    def anything(self, depth: int = 0) -> Any:
        """A JSON value of any type, a few levels deep at most."""
        r = self.rng
        makers: list[Callable[[], Any]] = [
            lambda: None,
            lambda: r.random() < 0.5,
            lambda: r.randint(-(2**70), 2**70),
            lambda: r.random() * 1e300,
            self.text,
            self.someone,
            lambda: "x" * r.randint(60, 5000),
        ]
        if depth < 3:
            makers.append(lambda: [self.anything(depth + 1) for _ in range(r.randint(0, 3))])
            makers.append(
                lambda: {self.text(8): self.anything(depth + 1) for _ in range(r.randint(0, 3))}
            )
        return r.choice(makers)()

    def fields(self, kind: str) -> dict[str, Any]:
        """Plausible fields for a command, with the ids of anyone (or of nobody)."""
        r = self.rng
        match kind:
            case "admit":
                return {"pupils": [self.someone() for _ in range(r.randint(1, 4))]}
            case "deny" | "allow_to_speak" | "lower_hand" | "call_on":
                return {"pupil": self.someone()}
            case "remove":
                return {"pupil": self.someone(), "reason": self.text()}
            case "mute" | "unmute" | "camera_off" | "camera_on":
                return {"target": self.someone()}
            case "chat":
                return {"text": self.text(200)}
            case "parent_present":
                return {"pupil": self.someone(), "present": r.random() < 0.5}
            case "note":
                kind_of = r.choice(["agenda", "incident", "behaviour", "reward", "note", "x"])
                return {"kind": kind_of, "text": self.text(), "pupil": self.someone()}
            case "concern":
                return {"summary": self.text(), "pupil": self.someone()}
            case "join":
                return {"acknowledged_expectations": True, "shown_name": self.text(20)}
            case "emergency_end":
                return {"note": self.text()}
            case "media_publish" | "media_share":
                return {"jsep": {"type": "offer", "sdp": "v=0\r\n" + self.text()}}
            case "media_start":
                return {"jsep": {"type": "answer", "sdp": "v=0\r\n" + self.text()}}
            case "trickle":
                return {
                    "target": r.choice(["publisher", "subscriber", "screen"]),
                    "candidate": r.choice([None, {"candidate": self.text(), "sdpMLineIndex": 0}]),
                }
        return {}

    def message(self, kind: str, fields: dict[str, Any]) -> str:
        body: dict[str, Any] = {"type": kind, **fields}
        if self.rng.random() < 0.7:
            body["id"] = self.rng.choice([f"fz{self.rng.randint(0, 10**6)}", self.text(70)])
        return json.dumps(body, ensure_ascii=self.rng.random() < 0.5)

    # -- makers ------------------------------------------------------------------------------
    def command(self) -> str:
        kind = self.rng.choice(self.kinds)
        return self.message(kind, self.fields(kind))

    def wrong_fields(self) -> str:
        kind = self.rng.choice(self.kinds)
        fields = self.fields(kind)
        extra = self.rng.choice(["actor", "name", "to", "by", "role", "seq", self.text(10)])
        fields[extra] = self.someone()
        if fields and self.rng.random() < 0.5:
            fields.pop(self.rng.choice(list(fields)))
        return self.message(kind, fields)

    def wrong_types(self) -> str:
        kind = self.rng.choice(self.kinds)
        fields = self.fields(kind) or {"id": None}
        for name in list(fields):
            if self.rng.random() < 0.6:
                fields[name] = self.anything()
        return self.message(kind, fields)

    def unknown_type(self) -> str:
        kind = self.rng.choice(["rename", "admin", "", "ADMIT", "admit ", None, 7, ["admit"]])
        return json.dumps({"type": kind, "actor": self.someone(), "pupils": [self.someone()]})

    def malformed(self) -> str:
        good = self.command()
        return self.rng.choice(
            [
                good[: self.rng.randint(0, max(len(good) - 1, 0))],  # cut short
                good.replace('"', "'"),
                self.text(300),
                "null",
                "[]",
                json.dumps(self.anything()),
                good + good,
                "\ufeff" + good,
                '{"type": "chat", "text": "\\ud800"}',
                '{"type": "admit", "pupils": ["p1"], "pupils": ["p2"]}',
            ]
        )

    def nested(self) -> str:
        depth = self.rng.choice([9, 50, 500, 3000, 7000])
        opener, closer = self.rng.choice([("[", "]"), ('{"a":', "}")])
        inner = opener * depth + "1" + closer * depth * self.rng.randint(0, 1)
        if self.rng.random() < 0.5:
            inner = '{"type": "chat", "text": ' + inner + "}"
        return inner[: protocol.MAX_MESSAGE_BYTES]

    def huge(self) -> str:
        size = self.rng.choice([9 * 1024, 230 * 1024, 300 * 1024])
        kind = self.rng.choice(["chat", "media_publish"])
        return json.dumps({"type": kind, "jsep": {"type": "offer", "sdp": "x" * size}})

    def binary(self) -> bytes:
        return self.rng.randbytes(self.rng.randint(1, 300))

    def flood(self) -> list[str]:
        return ['{"type": "ping"}'] * self.rng.randint(100, 150)


class FuzzSocket:
    """A socket that sends what the fuzzer makes, opened again whenever the server closes it."""

    def __init__(self, server: LiveServer, session_id: str, cookie: str, who: str) -> None:
        self.server, self.session_id, self.cookie, self.who = server, session_id, cookie, who
        self.client: Client | None = None
        self.sent = 0  # generated messages
        self.frames = 0
        self.reopened = 0
        self.replies: list[dict[str, Any]] = []

    async def open(self) -> Client:
        if self.client is not None:
            self.replies += self.client.messages
            await self.client.close()
            self.reopened += 1
        for _ in range(5):  # the other fuzzer may remove this pupil as it comes back
            self.client = Client(self.server, self.session_id, self.cookie, self.who)
            try:
                await self.client.connect()
                await self.client.send("join", acknowledged_expectations=True)
            except (ConnectionError, websockets.ConnectionClosed):
                self.replies += self.client.messages
                continue
            return self.client
        raise AssertionError(f"{self.who} could not open the room again")

    async def send(self, message: str | bytes | list[str]) -> None:
        client = self.client or await self.open()
        assert client.ws is not None
        self.sent += 1  # a flood is one generated case of many frames
        try:
            for one in message if isinstance(message, list) else [message]:
                await client.ws.send(one)
                self.frames += 1
        except websockets.ConnectionClosed:
            await self.open()

    async def settle(self) -> None:
        """Wait until the server has read everything sent (its reply to a ping), or reopen."""
        client = self.client or await self.open()
        try:
            reply = await client.send("ping")
            assert reply["type"] in ("pong", "error"), reply  # an error: rate limited
        except (ConnectionError, websockets.ConnectionClosed):
            await self.open()

    def all_messages(self) -> list[dict[str, Any]]:
        return self.replies + (self.client.messages if self.client else [])


async def _note(teacher: Client, text: str) -> dict[str, Any]:
    """A real staff command (a note for the log), and its reply."""
    mid = f"real-{text}"
    await teacher.send_raw(json.dumps({"type": "note", "id": mid, "kind": "note", "text": text}))
    return await teacher.wait_for(lambda m: m.get("id") == mid)


def _not_permitted(server: LiveServer) -> int:
    """Refusals for a role that may not, as the server counted them (its metrics)."""
    total = 0.0
    for metric in server.services.metrics.registry.collect():
        for sample in metric.samples:
            if (
                sample.name == "safeclass_refusals_total"
                and sample.labels["code"] == "not_permitted"
            ):
                total += sample.value
    return int(total)


# covers: C21, C22, CLA-16
async def test_ten_thousand_generated_messages_never_break_the_server_or_the_room(
    db_url: str, tmp_path: Path
):
    rng = random.Random(SEED)
    live = LiveServer(
        db_url,
        tmp_path,
        AdjustableClock(START - dt.timedelta(minutes=3)),
        heartbeat=30.0,
        socket_rate=1000.0,  # fast enough for 10,000 messages; a flood still trips it
        socket_burst=60,
    )
    await live.start()
    with server_log() as watched:
        try:
            session_id = await seed_session(live.services.engine, "claydon", pupils=5)
            stored = await load_session(live.services.engine, session_id)
            lesson = Lesson(live, session_id, stored.school_id)
            teacher = await lesson.staff("teacher")
            assistant = await lesson.staff("assistant", "Mr Lee")
            for pupil in ("p2", "p3"):
                await lesson.pupil(pupil)
            fuzz_staff_id, staff_cookie_ = await staff_cookie(
                live.services, stored.school_id, "assistant", "Ms Fuzz", on_session=session_id
            )
            pupil_cookie_ = await pupil_cookie(live.services, stored.school_id, session_id, "p1")
            ids = [teacher.who, assistant.who, fuzz_staff_id, "p1", "p2", "p3", "p4", "p5"]
            ids += ["p999", "", "clock", "x" * 65]
            sockets = [
                (FuzzSocket(live, session_id, pupil_cookie_, "p1"), Fuzzer(rng, ids, False)),
                (FuzzSocket(live, session_id, staff_cookie_, "fz"), Fuzzer(rng, ids, True)),
            ]
            assert (await teacher.send("admit_all"))["type"] == "ok"

            real_replies = []
            while sum(s.sent for s, _ in sockets) < MESSAGES:
                for sock, fuzzer in sockets:
                    for _ in range(BATCH // 2):
                        await sock.send(fuzzer.next())
                await asyncio.gather(*(sock.settle() for sock, _ in sockets))
                # the real teacher acts in between, and is always heard
                real_replies.append(await _note(teacher, f"checkpoint {len(real_replies)}"))
                if "p1" in teacher.view()["waiting"]:  # let the fuzzing pupil back in
                    admitted = await teacher.send("admit", pupils=["p1"])
                    assert admitted["type"] in ("ok", "refused"), admitted  # it may be gone

            assert [r["type"] for r in real_replies] == ["ok"] * len(real_replies)
            pupil_socket, staff_socket = (s for s, _ in sockets)
            assert pupil_socket.reopened > 0 and staff_socket.reopened > 0
            everything = pupil_socket.all_messages() + staff_socket.all_messages()
            assert any(m.get("code") == "rate_limited" for m in everything)
            assert any(m.get("message") == protocol.TOO_DEEP for m in everything)

            room = await live.services.rooms.room(session_id)
            assert violations(room.state) == []
            entries = await live.services.event_log.read(session_id)
            assert replay(stored.plan, stored.policy, entries) == room.state
            assert (await live.services.event_log.verify(session_id)).ok
            # bounded: each actor's refused attempts are ten logged and one count a minute
            logged = [e for e in entries if e.type == ATTEMPT_REFUSED]
            assert len(logged) <= 10 * 2
            # ...and exact, once the counts are written (the session ends)
            await teacher.send_raw(json.dumps({"type": "end"}))
            await asyncio.wait_for(teacher.closed.wait(), 5)
            entries = await live.services.event_log.read(session_id)
            counted = sum(e.payload["count"] for e in entries if e.type == ATTEMPTS_REFUSED)
            attempts = len(logged) + counted
            assert attempts == _not_permitted(live) > 0
            # bounded: well under one entry per five messages, most of them the teachers' own
            # notes and admissions, reconnections, and the fuzzing assistant's real commands
            assert len(entries) < MESSAGES / 5
            for sock, _ in sockets:
                if sock.client is not None:
                    await sock.client.close()
            await lesson.close()
        finally:
            await live.stop()
    assert watched.problems == [], f"seed {SEED}"
