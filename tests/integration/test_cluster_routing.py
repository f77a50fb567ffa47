"""Routing in a real cluster: three `safeclass serve` workers on PostgreSQL, HAProxy in front.

The cluster (tests/support/cluster.py) runs for the whole module; each test makes its own school
and a class session starting in two minutes by the real clock (the workers' clocks are real).
Who is where is read from the workers themselves (each one's /metrics counts the room sockets
it holds), from the lease table (which worker owns a room) and from HAProxy's admin socket
(what it thinks of each worker).
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import pytest_asyncio
from click.testing import Result
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from safeclass.adapters.auth.identity import pupil_cookie as pupil_cookie_name
from safeclass.adapters.server_secret import ServerSecret
from safeclass.adapters.store import connect
from safeclass.adapters.store.tables import RoomLease
from safeclass.app.clock import SystemClock
from safeclass.app.live.ownership import RELAY_HEADER, RELAY_KEY
from safeclass.cli.main import app as cli_app
from tests.integration.families import School
from tests.integration.live import Client, pupil_cookie
from tests.support.cluster import (
    HAPROXY,
    Cluster,
    RoomSocket,
    lesson_now,
    pg_database,
    refused_status,
    running_cluster,
)
from tests.support.room_clients import ComingBack

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.skipif(HAPROXY is None, reason="haproxy is not installed (scripts/install --dev)"),
]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Cluster]:
    async with (
        pg_database() as url,
        running_cluster(
            tmp_path_factory.mktemp("cluster"), url, 3, env={"SAFECLASS_LEASE_SECONDS": "1"}
        ) as running,
    ):
        yield running


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def engine(cluster: Cluster) -> AsyncIterator[AsyncEngine]:
    eng = connect(cluster.database_url)
    try:
        yield eng
    finally:
        await eng.dispose()


class Class:
    """A school's lesson on the cluster, and its people's sockets (closed at the end)."""

    def __init__(self, cluster: Cluster, engine: AsyncEngine, school: School, sid: str) -> None:
        self.cluster = cluster
        self.engine = engine
        self.school = school
        self.session_id = sid
        self.clients: list[Client] = []

    async def staff(self, role: str = "teacher", door: str | None = None) -> Client:
        cookie = self.school.teacher_cookie if role == "teacher" else self.school.assistant_cookie
        client = await RoomSocket(self.cluster.door(door), self.session_id, cookie, role).connect()
        self.clients.append(client)
        assert (await client.send("join"))["type"] == "ok"
        return client

    async def pupil(
        self, forename: str, door: str | None = None, *, source: str = "127.0.0.1"
    ) -> Client:
        client = await RoomSocket(
            self.cluster.door(door),
            self.session_id,
            await self.cookie(forename),
            forename,
            source=source,
        ).connect()
        self.clients.append(client)
        reply = await client.send("join", acknowledged_expectations=True)
        assert reply["type"] == "ok", reply
        return client

    async def cookie(self, forename: str) -> str:
        reach = SimpleNamespace(engine=self.engine, clock=SystemClock())
        pupil = self.school.pupils[forename]
        return await pupil_cookie(reach, self.school.id, self.session_id, pupil)  # type: ignore[arg-type]

    async def owner(self) -> str | None:
        async with self.engine.connect() as conn:
            return (
                await conn.execute(
                    select(RoomLease.worker_id).where(RoomLease.session_id == self.session_id)
                )
            ).scalar_one_or_none()

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self.clients))


@pytest_asyncio.fixture(loop_scope="module")
async def lesson(cluster: Cluster, engine: AsyncEngine) -> AsyncIterator[Class]:
    school, sid = await lesson_now(engine)
    lesson = Class(cluster, engine, school, sid)
    try:
        yield lesson
    finally:
        await lesson.close()


def _status_is(status: str) -> Any:
    return lambda m: m["type"] == "state" and (m["view"]["me"] or {}).get("status") == status


async def _admitted(teacher: Client, pupils: list[Client]) -> None:
    assert (await teacher.send("admit_all"))["type"] == "ok"
    for pupil in pupils:
        await pupil.wait_for(_status_is("admitted"))


# -- the configuration (async only to share the module's marks) ------------------------------


def _generate(*args: str) -> Result:
    return CliRunner().invoke(cli_app, ["cluster", "config", *args])


async def test_haproxy_accepts_the_configuration_safeclass_cluster_config_writes(tmp_path: Path):
    workers = ["--worker", "w1=10.0.0.11:8000", "--worker", "w2=10.0.0.12:8000"]
    printed = _generate(*workers, "--worker", "w3=[fd00::13]:8000")
    assert printed.exit_code == 0, printed.output
    config = tmp_path / "haproxy.cfg"
    config.write_text(printed.stdout)
    checked = subprocess.run(
        [HAPROXY or "haproxy", "-c", "-f", str(config)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    text = printed.stdout
    assert f"http-request del-header {RELAY_HEADER}" in text
    assert "hash-type consistent" in text
    assert "option redispatch 1" in text
    assert "timeout tunnel" in text
    assert "option forwardfor" in text
    assert "http-check send meth GET uri /healthz" in text
    assert "server w3 [fd00::13]:8000 check" in text
    # every setting line has its reason above it, in a comment
    body = [line for line in text.splitlines() if line.startswith("    ")]
    assert sum(line.lstrip().startswith("#") for line in body) >= 20


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
async def test_haproxy_accepts_the_configuration_that_ends_tls_and_writes_it_to_a_file(
    tmp_path: Path,
):
    pem = tmp_path / "site.pem"
    key = tmp_path / "site.key"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=safeclass.test", "-keyout", str(key), "-out", str(pem)),
        ],
        capture_output=True,
        check=True,
    )
    pem.write_text(pem.read_text() + key.read_text())
    out = tmp_path / "haproxy.cfg"
    written = _generate("--worker", "w1=10.0.0.11:8000", "--cert", str(pem), "--out", str(out))
    assert written.exit_code == 0, written.output
    assert written.stdout == ""
    checked = subprocess.run([HAPROXY or "haproxy", "-c", "-f", str(out)], capture_output=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"ssl crt {pem}" in out.read_text()


async def test_a_worker_given_wrongly_is_refused_with_the_reason():
    for wrong, says in [
        ("w1", "NAME=HOST:PORT"),
        ("w1=10.0.0.11", "HOST:PORT"),
        ("w 1=10.0.0.11:8000", "not a worker name"),
        ("w1=10.0.0.11:99999", "HOST:PORT"),
    ]:
        done = _generate("--worker", wrong)
        assert done.exit_code == 2
        assert says in done.stderr, (wrong, done.stderr)
    twice = _generate("--worker", "w1=10.0.0.11:8000", "--worker", "w1=10.0.0.12:8000")
    assert twice.exit_code == 2
    assert "its own name" in twice.stderr


# -- through HAProxy --------------------------------------------------------------------------


# covers: C3, C5
async def test_a_rooms_sockets_meet_on_one_worker_through_haproxy_and_the_room_works(
    cluster: Cluster, lesson: Class
):
    teacher = await lesson.staff("teacher")
    await lesson.staff("assistant")
    pupils = [
        await lesson.pupil(name, source=f"127.0.0.{10 + n}")
        for n, name in enumerate(("Amelia", "Oliver", "Isla"))
    ]
    await _admitted(teacher, pupils)

    holders = await cluster.holders()
    assert list(holders.values()) == [{"staff": 2, "pupil": 3}], holders
    (where,) = holders
    assert await lesson.owner() == where  # the worker HAProxy chose owns the room: no relay
    assert "room socket not relayed" not in cluster.log(where)


async def test_haproxy_takes_a_killed_worker_out_at_once_and_requests_still_succeed(
    cluster: Cluster, engine: AsyncEngine
):
    victim = "w3"
    async with httpx.AsyncClient(base_url=cluster.public_url, timeout=10) as http:

        async def timed(path: str) -> tuple[int, float]:
            sent = time.monotonic()
            reply = await http.get(path)
            return reply.status_code, time.monotonic() - sent

        # a session's requests go to the worker its id hashes to: a third of these to w3
        paths = [f"/api/sessions/{uuid.uuid4()}" for _ in range(24)]
        cluster.kill(victim)
        killed = time.monotonic()
        # before HAProxy has noticed (2 failed checks, 250 ms apart at least): a request sent
        # to the dead worker goes to another at once, not after a second's wait for the dead
        # one again, nor turned away (502) when HAProxy marks it down meanwhile
        answers = await asyncio.gather(*(timed(path) for path in paths))
        assert not [status for status, _ in answers if status >= 500], answers
        assert max(took for _, took in answers) < 0.8, answers  # a second, without it
        replies = await asyncio.gather(*(http.get("/healthz") for _ in range(12)))
        assert [r.status_code for r in replies] == [200] * 12
        out = await cluster.wait_for_states({victim: "DOWN"}, timeout=5)
        assert time.monotonic() - killed < 2.0, out  # fall 2, inter 500 ms
        replies = [await http.get("/healthz") for _ in range(12)]
        assert [r.status_code for r in replies] == [200] * 12
    # and a class starts on the workers that are left
    school, sid = await lesson_now(engine)
    lesson = Class(cluster, engine, school, sid)
    try:
        teacher = await lesson.staff("teacher")
        await lesson.staff("assistant")
        amelia = await lesson.pupil("Amelia")
        await _admitted(teacher, [amelia])
        assert await lesson.owner() in ("w1", "w2")
    finally:
        await lesson.close()
        await cluster.restart(victim)
        await cluster.wait_for_states({victim: "UP"}, timeout=10)


async def test_haproxy_closes_the_sockets_of_a_paused_worker_and_takes_it_back_when_resumed(
    cluster: Cluster, lesson: Class
):
    """A paused worker keeps its connections open but answers nothing: HAProxy takes it out
    and closes its sockets, so the pages reconnect elsewhere instead of waiting on it."""
    teacher = await lesson.staff("teacher")
    (where,) = await cluster.holders()
    cluster.pause(where)
    try:
        paused = time.monotonic()
        await asyncio.wait_for(teacher.closed.wait(), 5)
        assert time.monotonic() - paused < 3
        assert (await cluster.states())[where] == "DOWN"
    finally:
        cluster.resume(where)
    await cluster.wait_for_states({where: "UP"}, timeout=10)


# covers: C2
async def test_a_relay_header_from_outside_is_stripped_so_its_address_is_not_believed(
    cluster: Cluster, lesson: Class
):
    """Even the right value of the workers' relay header, sent by a client through HAProxy,
    never reaches a worker: the address the client claims is not counted, its own is."""
    key = ServerSecret.load(cluster.secret_file).derive(RELAY_KEY)
    forged = {RELAY_HEADER: key.hex(), "X-Forwarded-For": "203.0.113.9"}
    sid = lesson.session_id
    guess = f"{pupil_cookie_name(sid)}=made-up"
    for _ in range(10):  # ten made-up cookies from 127.0.0.5, each claiming 203.0.113.9
        status = await refused_status(cluster.door(), sid, guess, source="127.0.0.5", **forged)
        assert status == 403
    # the guesses were counted under 127.0.0.5: its working link is slowed too
    cookie = await lesson.cookie("Amelia")
    assert await refused_status(cluster.door(), sid, cookie, source="127.0.0.5") == 403
    # and someone else, through the same door, is not
    await lesson.pupil("Oliver", source="127.0.0.21")


# -- relayed between workers ------------------------------------------------------------------


# covers: C3, C5, C10
async def test_staff_on_one_worker_and_pupils_on_another_are_one_room(
    cluster: Cluster, lesson: Class
):
    teacher = await lesson.staff("teacher", door="w1")
    await lesson.staff("assistant", door="w1")
    assert await lesson.owner() == "w1"
    amelia = await lesson.pupil("Amelia", door="w2", source="127.0.0.31")
    isla = await lesson.pupil("Isla", door="w2", source="127.0.0.32")
    await teacher.wait_for(
        lambda m: (
            m["type"] == "state"
            and sorted(m["view"]["waiting"])
            == sorted([lesson.school.pupils["Amelia"], lesson.school.pupils["Isla"]])
        )
    )
    await _admitted(teacher, [amelia, isla])
    assert (await amelia.send("raise_hand"))["type"] == "ok"
    await teacher.wait_for(
        lambda m: m["type"] == "state" and m["view"]["hands"] == [lesson.school.pupils["Amelia"]]
    )
    # w2 holds no room of its own: both pupils' sockets are the owner's, relayed
    assert await cluster.holders() == {"w1": {"staff": 2, "pupil": 2}}
    assert await lesson.owner() == "w1"

    assert (await teacher.send("remove", pupil=lesson.school.pupils["Isla"]))["type"] == "ok"
    await asyncio.wait_for(isla.closed.wait(), 5)
    assert isla.close_code == 4003  # the owner's close, through the relay


# covers: C2
async def test_a_relayed_pupils_limits_count_their_own_address(cluster: Cluster, lesson: Class):
    await lesson.staff("teacher", door="w1")
    assert await lesson.owner() == "w1"
    sid = lesson.session_id
    guess = f"{pupil_cookie_name(sid)}=made-up"
    for _ in range(10):  # ten made-up cookies straight to the owner, from 127.0.0.41
        assert await refused_status(cluster.door("w1"), sid, guess, source="127.0.0.41") == 403
    # the same address's working link, through w2: the owner counts the pupil, not w2
    cookie = await lesson.cookie("Amelia")
    assert await refused_status(cluster.door("w2"), sid, cookie, source="127.0.0.41") == 403
    # another pupil through w2 is let in: w2's own address was never counted
    await lesson.pupil("Oliver", door="w2", source="127.0.0.42")


async def test_a_pupil_relayed_to_an_owner_that_is_killed_comes_back_through_another_worker(
    cluster: Cluster, lesson: Class
):
    """The relay closes a killed owner's sockets with 1012; the page reconnects, and within
    seconds the room is owned by a worker that is alive and the pupil is back in it."""
    await lesson.staff("teacher", door="w2")
    await lesson.staff("assistant", door="w2")
    assert await lesson.owner() == "w2"
    amelia = ComingBack(
        f"ws://127.0.0.1:{cluster.workers['w1'].port}",
        cluster.public_url,
        lesson.session_id,
        await lesson.cookie("Amelia"),
        "Amelia",
    ).start()
    try:
        await amelia.until(lambda c: c.status() == "waiting")
        cluster.kill("w2")
        killed = time.monotonic()
        await amelia.until(lambda c: 1012 in [code for _, code in c.closes], timeout=5)
        back = await amelia.until(lambda c: len(c.joins) >= 2, timeout=10)
        assert back - killed < 5
        assert await lesson.owner() in ("w1", "w3")  # a worker that is alive took the room on
        assert amelia.status() == "waiting"  # back in its waiting room, as after any drop
    finally:
        await amelia.stop()
        await cluster.restart("w2")
        await cluster.wait_for_states({"w2": "UP"}, timeout=10)
