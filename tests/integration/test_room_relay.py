"""A room's socket that reaches a worker which does not own the room is relayed to the owner.

Two real servers on loopback share one PostgreSQL database and one server secret, as workers
of a cluster do, each run as `safeclass serve` runs it (its uvicorn options; no trusted proxy,
so only the relay header can make a worker believe X-Forwarded-For). Until the lease code
decides ownership, `RoomsOwnedElsewhere` stands in for it: the relaying worker's `Rooms.room`
raises `RoomElsewhereError` for the sessions it names, exactly as the lease code will for a
room another live worker owns. Everything else is real: the sockets, both rooms' rules, the
relay's own WebSocket to the owner.

A pupil at an address of their own connects from it (all of 127.0.0.0/8 is loopback).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from bench.server_process import ServerProcess

from safeclass.adapters.auth.identity import pupil_cookie as pupil_cookie_name
from safeclass.adapters.server_secret import ServerSecret
from safeclass.adapters.store import connect
from safeclass.app.clock import AdjustableClock, SystemClock
from safeclass.app.live.ownership import RELAY_HEADER, RELAY_KEY, RoomElsewhereError
from safeclass.app.live.registry import Rooms
from safeclass.cli.serve_cmd import server_config
from safeclass.settings import Settings
from safeclass.web import room_words
from safeclass.web.app import create_app
from safeclass.web.room_relay import CLOSE_RESTARTING, RESTARTING
from tests.integration.live import Client, Lesson, LiveServer, free_port, pupil_cookie, staff_cookie
from tests.integration.live import seeded_lesson as seeded
from tests.integration.server_log import server_log
from tests.support.cluster import RoomSocket, lesson_now, pg_database, refused_status
from tests.support.rooms import START

pytestmark = pytest.mark.postgres

GRACE_S = 1.0  # the owner's reload grace


class RoomsOwnedElsewhere:
    """Stand-in for the lease code: this worker's rooms, except the sessions named, which
    another live worker (at the address given) owns, so `room()` raises RoomElsewhereError for
    them, as `Rooms.room` does once leases decide it."""

    def __init__(self, rooms: Rooms, elsewhere: dict[str, str]) -> None:
        self._rooms = rooms
        self.elsewhere = elsewhere
        self.asked: list[str] = []

    async def room(self, session_id: str) -> Any:
        self.asked.append(session_id)
        if session_id in self.elsewhere:
            raise RoomElsewhereError(session_id, "the-owner", self.elsewhere[session_id])
        return await self._rooms.room(session_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._rooms, name)


async def _worker(db_url: str, folder: Path, public_url: str, clock: Any) -> LiveServer:
    """One worker as `safeclass serve` runs it, on its own port, with the cluster's address."""
    live = LiveServer(db_url, folder, clock)
    live.port = free_port()
    live.settings = Settings(
        data_dir=folder,  # one folder: one server secret, as workers share theirs
        database_url=db_url,
        host="127.0.0.1",
        port=live.port,
        public_url=public_url,
        heartbeat_seconds=1.0,
        reload_grace_seconds=GRACE_S,
        lease_seconds=1.0,
    )
    live.app = create_app(live.settings, live.clock)
    live.server = uvicorn.Server(server_config(live.app, live.settings, log_level="warning"))
    return await live.start()


@dataclass
class Pair:
    owner: LiveServer
    relay: LiveServer  # the worker the sockets reach, which does not own the room
    lesson: Lesson
    stand_in: RoomsOwnedElsewhere

    async def pupil(
        self, pupil_id: str, *, source: str = "127.0.0.1", join: bool = True, **options: Any
    ) -> Client:
        """A pupil whose socket reaches the relaying worker, from `source` (`options`: a
        RoomSocket's headers and query)."""
        cookie = await pupil_cookie(
            self.owner.services, self.lesson.school_id, self.lesson.session_id, pupil_id
        )
        client = await RoomSocket(
            self.relay, self.lesson.session_id, cookie, pupil_id, source=source, **options
        ).connect()
        self.lesson.clients.append(client)
        if join:
            reply = await client.send("join", acknowledged_expectations=True)
            assert reply["type"] == "ok", reply
        return client

    async def staff_through_relay(self, role: str, name: str) -> Client:
        _, cookie = await staff_cookie(
            self.owner.services,
            self.lesson.school_id,
            role,
            name,
            on_session=self.lesson.session_id,
        )
        client = await RoomSocket(self.relay, self.lesson.session_id, cookie, role).connect()
        self.lesson.clients.append(client)
        assert (await client.send("join"))["type"] == "ok"
        return client


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[Pair]:
    async with pg_database() as db_url:
        public_url = f"http://127.0.0.1:{free_port()}"  # HAProxy's, were it there
        clock = AdjustableClock(START - dt.timedelta(minutes=3))
        owner = await _worker(db_url, tmp_path, public_url, clock)
        relay = await _worker(db_url, tmp_path, public_url, clock)
        try:
            with server_log() as problems:
                async with seeded(owner, "claydon", pupils=6) as lesson:
                    stand_in = RoomsOwnedElsewhere(
                        relay.services.rooms, {lesson.session_id: owner.url}
                    )
                    relay.services.rooms = stand_in  # type: ignore[assignment]
                    yield Pair(owner, relay, lesson, stand_in)
                assert problems.problems == []
        finally:
            await relay.stop()
            await owner.stop()


def _status_is(status: str) -> Any:
    return lambda m: m["type"] == "state" and (m["view"]["me"] or {}).get("status") == status


# covers: C3, C5
async def test_a_pupil_whose_socket_reached_another_worker_is_in_the_owners_room(pair: Pair):
    teacher = await pair.lesson.staff("teacher", "Mrs Khan")  # on the owner
    await pair.lesson.staff("assistant", "Mr Lee")
    amelia = await pair.pupil("p1")  # on the other worker

    await teacher.wait_for(lambda m: m["type"] == "state" and m["view"]["waiting"] == ["p1"])
    assert (await teacher.send("admit", pupils=["p1"]))["type"] == "ok"
    await amelia.wait_for(_status_is("admitted"))
    reply = await amelia.send("raise_hand")
    assert reply["type"] == "ok", reply
    await teacher.wait_for(lambda m: m["type"] == "state" and m["view"]["hands"] == ["p1"])
    # one room, the owner's: the other worker built none and holds no socket of its own
    assert pair.relay.services.rooms.running() == []
    assert pair.relay.services.audiences.count() == {"staff": 0, "pupil": 0}
    assert pair.owner.services.audiences.count() == {"staff": 2, "pupil": 1}
    assert pair.stand_in.asked == [pair.lesson.session_id]


# covers: C10
@pytest.mark.parametrize(
    "asks", [{"headers": {"Accept-Language": "cy"}}, {"query": "lang=cy"}], ids=["header", "query"]
)
async def test_the_owners_close_reaches_the_relayed_pupil_with_its_code_and_reason(
    pair: Pair, asks: dict[str, Any]
):
    """The pupil's page asked for Welsh (its browser's language, or the switch's ?lang=): the
    owner hears it through the relay, and its words come back as it said them."""
    teacher = await pair.lesson.staff("teacher", "Mrs Khan")
    await pair.lesson.staff("assistant", "Mr Lee")
    amelia = await pair.pupil("p1", **asks)
    assert (await teacher.send("admit", pupils=["p1"]))["type"] == "ok"
    await amelia.wait_for(_status_is("admitted"))

    assert (await teacher.send("remove", pupil="p1"))["type"] == "ok"
    await asyncio.wait_for(amelia.closed.wait(), 5)
    assert amelia.close_code == 4003
    removed = room_words.close_reason("You have been removed from this session", "cy")
    assert removed != "You have been removed from this session"
    assert amelia.close_reason == removed


# covers: C5
@pytest.mark.parametrize(("code", "held_at_once"), [(1001, False), (1000, True)])
async def test_a_relayed_adults_close_reaches_the_owner_as_the_browser_sent_it(
    pair: Pair, code: int, held_at_once: bool
):
    """A page reloading (1001) has the owner's grace to come back; any other close holds the
    class at once: the relay passes the browser's close on, not one of its own."""
    teacher = await pair.lesson.staff("teacher", "Mrs Khan")
    assistant = await pair.staff_through_relay("assistant", "Mr Lee")
    pupil = await pair.lesson.pupil("p1")
    assert (await teacher.send("admit", pupils=["p1"]))["type"] == "ok"
    await pupil.wait_for(_status_is("admitted"))

    assert assistant.ws is not None
    await assistant.ws.close(code=code)

    def held(m: dict[str, Any]) -> bool:
        return m["type"] == "state" and m["view"]["session"]["held"]

    start = len(pupil.messages)
    if held_at_once:
        await pupil.wait_for(held, timeout=0.5, start=start)
    else:
        with pytest.raises(TimeoutError):
            await pupil.wait_for(held, timeout=GRACE_S * 0.6, start=start)
        await pupil.wait_for(held, timeout=3, start=start)


async def test_a_handshake_the_owner_refuses_is_refused_through_the_relay(pair: Pair):
    """A teacher not on this session is known to the relaying worker (their login opens
    something) but turned away by the owner: the same refusal reaches the browser."""
    _, cookie = await staff_cookie(pair.owner.services, pair.lesson.school_id, "teacher", "Mr X")
    assert await refused_status(pair.relay, pair.lesson.session_id, cookie) == 403
    assert pair.stand_in.asked == [pair.lesson.session_id]  # it was relayed, and refused there


# covers: C2
async def test_the_owner_counts_a_relayed_pupils_guesses_under_the_pupils_own_address(
    pair: Pair,
):
    sid = pair.lesson.session_id
    guess = f"{pupil_cookie_name(sid)}=made-up"
    for _ in range(10):  # ten cookies that open nothing, straight to the owner, from .6
        assert await refused_status(pair.owner, sid, guess, source="127.0.0.6") == 403

    # now a working link from the same address, through the other worker: the owner counts it
    # under the pupil's address, not the relaying worker's, so it is slowed too
    cookie = await pupil_cookie(pair.owner.services, pair.lesson.school_id, sid, "p1")
    assert await refused_status(pair.relay, sid, cookie, source="127.0.0.6") == 403
    # and a pupil at another address, through the same worker, is not
    await pair.pupil("p2", source="127.0.0.7")


# covers: C2
async def test_only_a_worker_can_vouch_for_a_clients_address(pair: Pair):
    sid = pair.lesson.session_id
    guess = f"{pupil_cookie_name(sid)}=made-up"
    for _ in range(10):
        assert await refused_status(pair.owner, sid, guess, source="127.0.0.6") == 403
    cookie = await pupil_cookie(pair.owner.services, pair.lesson.school_id, sid, "p1")
    claim = {"X-Forwarded-For": "127.0.0.6"}
    # a wrong relay header is a request like any other: its X-Forwarded-For is not believed
    forged = {**claim, RELAY_HEADER: "00" * 32}
    assert await refused_status(pair.owner, sid, cookie, source="127.0.0.8", **forged) is None
    # the right one is a worker's: the address it vouches for is counted (and slowed)
    key = ServerSecret.load(pair.owner.settings.secret_path).derive(RELAY_KEY)
    vouched = {**claim, RELAY_HEADER: key.hex()}
    assert await refused_status(pair.owner, sid, cookie, source="127.0.0.8", **vouched) == 403


async def test_a_socket_relayed_to_a_worker_that_no_longer_owns_the_room_is_told_to_reconnect(
    pair: Pair,
):
    """The owner lost the room between the relaying worker's look and the socket's arrival:
    it never relays a relayed socket again (no loops); the browser tries again."""
    sid = pair.lesson.session_id
    owner_now = RoomsOwnedElsewhere(pair.owner.services.rooms, {sid: pair.relay.url})
    pair.owner.services.rooms = owner_now  # type: ignore[assignment]
    cookie = await pupil_cookie(pair.owner.services, pair.lesson.school_id, sid, "p1")
    amelia = RoomSocket(pair.relay, sid, cookie, "p1")
    with pytest.raises(ConnectionError):
        await amelia.connect()
    await amelia.close()
    assert (amelia.close_code, amelia.close_reason) == (CLOSE_RESTARTING, RESTARTING)
    assert pair.stand_in.asked == [sid]
    assert owner_now.asked == [sid]  # once each: no second relay


# -- an owner that dies or stops ----------------------------------------------------------------


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGSTOP], ids=["killed", "paused"])
async def test_relayed_sockets_of_an_owner_that_is_killed_or_paused_are_told_to_reconnect(
    tmp_path: Path, how: signal.Signals
):
    """The owner is a `safeclass serve` process; killed, its connection ends without a close,
    and paused, it stops answering the relay's pings: either way the browser hears 1012 (the
    server is restarting) within a couple of heartbeats, and reconnects."""
    async with pg_database() as db_url:
        public_url = f"http://127.0.0.1:{free_port()}"
        secret = tmp_path / "secret.key"
        ServerSecret.load_or_create(secret)
        owner = ServerProcess(
            tmp_path / "owner",
            db_url,
            free_port(),
            media=False,
            env={"SAFECLASS_PUBLIC_URL": public_url, "SAFECLASS_SECRET_FILE": str(secret)},
        )
        relay: LiveServer | None = None
        engine = connect(db_url)
        try:
            await owner.ready()
            relay = await _worker(
                db_url, tmp_path, public_url, AdjustableClock(SystemClock().now())
            )
            school, sid = await lesson_now(engine)
            relay.services.rooms = RoomsOwnedElsewhere(  # type: ignore[assignment]
                relay.services.rooms, {sid: f"http://127.0.0.1:{owner.port}"}
            )
            teacher = await RoomSocket(relay, sid, school.teacher_cookie, "teacher").connect()
            assert (await teacher.send("join"))["type"] == "ok"

            owner.proc.send_signal(how)
            await asyncio.wait_for(teacher.closed.wait(), 5)
            assert (teacher.close_code, teacher.close_reason) == (CLOSE_RESTARTING, RESTARTING)
            await teacher.close()
        finally:
            with contextlib.suppress(ProcessLookupError):
                owner.proc.send_signal(signal.SIGCONT)
            owner.stop()
            if relay is not None:
                await relay.stop()
            await engine.dispose()


async def test_a_relay_to_an_owner_that_is_not_there_tells_the_browser_to_reconnect(pair: Pair):
    sid = pair.lesson.session_id
    pair.stand_in.elsewhere[sid] = f"http://127.0.0.1:{free_port()}"  # nobody listens there
    cookie = await pupil_cookie(pair.owner.services, pair.lesson.school_id, sid, "p1")
    amelia = RoomSocket(pair.relay, sid, cookie, "p1")
    with pytest.raises(ConnectionError):
        await amelia.connect()
    await amelia.close()
    assert (amelia.close_code, amelia.close_reason) == (CLOSE_RESTARTING, RESTARTING)
