"""Two workers on one PostgreSQL behave as one server for what they must share (issue 12).

Each test runs two real servers (uvicorn on loopback, each a full `bootstrap.build`) with
different worker ids on one fresh database, a real SMTP server (aiosmtpd) where mail is sent,
and real WebSocket clients. What one worker counts, the other refuses; what must run once runs
on one worker and moves to the other when the first stops or loses its connection; one queued
notification is sent once though both outboxes look; and a withdrawal, a sign-out or an alert
on one worker reaches the sockets and the outbox of the other at once. The polls that would
catch these anyway are set to look only every 30 s or hourly, so only the shared parts can pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, insert, select

from safeclass.adapters.store.tables import ClusterJob, Notification
from safeclass.app.alerts import notification_row
from safeclass.app.checkpoints import NOTIFICATION_KIND
from safeclass.app.clock import AdjustableClock
from safeclass.app.run_once import CHECKPOINTS, RETENTION
from tests.integration.families import (
    MailSink,
    School,
    eventually,
    family_token,
    make_school,
    schedule,
    staff_http,
)
from tests.integration.live import Client, Lesson, LiveServer
from tests.integration.test_dsl_alerts import DSL, lesson, with_dsls
from tests.support.rooms import START

pytestmark = [pytest.mark.postgres, pytest.mark.parametrize("db_url", ["postgres"], indirect=True)]

Workers = Callable[..., Awaitable[tuple[LiveServer, LiveServer]]]
SLOW_POLLS = {"revocations_every_seconds": 30.0, "outbox_every_seconds": 3600.0}


@pytest.fixture
async def workers(db_url: str, tmp_path: Path) -> AsyncIterator[Workers]:
    """Start two workers, w1 and w2, on the test's database (both stopped at the end).

    They share the data folder (so the server secret, as a cluster's workers must) and a clock;
    `one` and `two` are more Settings for each, `both` for both."""
    started: list[LiveServer] = []
    clock = AdjustableClock(START - dt.timedelta(minutes=30))

    async def start(
        both: dict[str, Any] | None = None,
        one: dict[str, Any] | None = None,
        two: dict[str, Any] | None = None,
    ) -> tuple[LiveServer, LiveServer]:
        for worker, own in (("w1", one), ("w2", two)):
            fields = {**(both or {}), **(own or {})}
            server = LiveServer(db_url, tmp_path, clock, worker_id=worker, **fields)
            started.append(await server.start())
        return started[0], started[1]

    try:
        yield start
    finally:
        for server in started:
            with contextlib.suppress(Exception):
                await server.stop()


def smtp(mail: MailSink) -> dict[str, Any]:
    return {"smtp_host": "127.0.0.1", "smtp_port": mail.port}


def browser(server: LiveServer, address: str) -> httpx.AsyncClient:
    """A browser at `address` (the test servers believe loopback's X-Forwarded-For)."""
    return httpx.AsyncClient(base_url=server.url, headers={"X-Forwarded-For": address})


def sign_in(school: str, email: str) -> dict[str, str]:
    return {"email": email, "school": school, "password": "not the password"}


# -- shared limits ---------------------------------------------------------------------------


# covers: C21, CLA-16
async def test_a_sign_in_limit_reached_through_one_worker_holds_on_the_other(workers: Workers):
    w1, w2 = await workers()
    async with browser(w1, "203.0.113.5") as one, browser(w2, "203.0.113.5") as two:
        # five wrong passwords for one account through worker 1: the sixth, on worker 2, waits
        for _ in range(5):
            reply = await one.post("/auth/login", data=sign_in("claydon", "khan@claydon.test"))
            assert reply.status_code == 401
        refused = await two.post("/auth/login", data=sign_in("claydon", "khan@claydon.test"))
        assert refused.status_code == 429
        assert refused.json() == {"detail": "Too many attempts: wait 15 minutes"}
        assert 0 < int(refused.headers["retry-after"]) <= 900
    # one address's untrusted attempts at different accounts: ten at once, spread over both
    # workers, then the eleventh waits, whichever worker it reaches
    async with browser(w1, "198.51.100.9") as one, browser(w2, "198.51.100.9") as two:
        for i in range(10):
            reply = await (one, two)[i % 2].post(
                "/auth/login", data=sign_in("claydon", f"t{i}@claydon.test")
            )
            assert reply.status_code == 401
        for worker in (one, two):
            slowed = await worker.post("/auth/login", data=sign_in("claydon", "x@claydon.test"))
            assert slowed.status_code == 429
            assert 0 < int(slowed.headers["retry-after"]) <= 30  # one a 30 s, less the time taken
    async with browser(w2, "192.0.2.44") as elsewhere:  # another address is not held back
        reply = await elsewhere.post("/auth/login", data=sign_in("claydon", "x@claydon.test"))
        assert reply.status_code == 401


# covers: C2, WER-02
async def test_made_up_links_through_one_worker_slow_that_address_on_the_other(
    workers: Workers,
):
    w1, w2 = await workers()
    school = await make_school(w1.services, "claydon")
    session_id = await schedule(w1, school)
    token = await family_token(w1, school, session_id, "Amelia")
    async with browser(w1, "203.0.113.66") as one, browser(w2, "203.0.113.66") as two:
        for i in range(10):
            guess = await one.get(f"/join/made-up-{i:02d}-xxxxxxxxxxxxxxxxxxxx")
            assert guess.status_code == 404
        slowed = await two.get("/join/made-up-10-xxxxxxxxxxxxxxxxxxxx")
        assert slowed.status_code == 429
        assert 0 < int(slowed.headers["retry-after"]) <= 60
        # slowed before anything is looked up: even a real link from that address waits
        assert (await two.get(f"/join/{token}", follow_redirects=False)).status_code == 429
    async with browser(w2, "192.0.2.7") as family:  # the family at home is not slowed
        assert (await family.get(f"/join/{token}", follow_redirects=False)).status_code == 303


# -- jobs that run once ----------------------------------------------------------------------


async def _checkpoints_queued(server: LiveServer) -> int:
    async with server.services.engine.connect() as conn:
        found = await conn.execute(
            select(func.count()).where(Notification.kind == NOTIFICATION_KIND)
        )
        return int(found.scalar_one())


async def _ran(server: LiveServer) -> dict[str, str]:
    """Which worker last finished each once-only job."""
    async with server.services.engine.connect() as conn:
        found = await conn.execute(select(ClusterJob.name, ClusterJob.done_by))
        return {name: worker for name, worker in found.all()}


async def _done_at(server: LiveServer, job: str) -> dt.datetime:
    async with server.services.engine.connect() as conn:
        found = await conn.execute(select(ClusterJob.done_at).where(ClusterJob.name == job))
        return found.scalar_one()


def leads(server: LiveServer) -> bool:
    return server.services.lead is not None and server.services.lead.leading


async def until(check: Callable[[], bool], timeout: float = 5) -> None:
    async def holds() -> bool:
        return check()

    await eventually(holds, timeout)


async def _checkpoints_reach(server: LiveServer, count: int) -> None:
    async def reached() -> bool:
        return await _checkpoints_queued(server) >= count

    await eventually(reached, timeout=8)


def _leader(w1: LiveServer, w2: LiveServer) -> tuple[LiveServer, LiveServer]:
    """(the worker that leads, the other); exactly one leads."""
    leading = [w for w in (w1, w2) if leads(w)]
    assert len(leading) == 1, [w.settings.worker_id for w in leading]
    return leading[0], w2 if leading[0] is w1 else w1


# covers: CLA-17, C16
async def test_retention_and_checkpoints_run_once_and_the_other_worker_takes_over(
    workers: Workers,
):
    every = {"checkpoint_every_hours": 3 / 3600, "retention_every_hours": 3 / 3600}
    w1, w2 = await workers(both={**SLOW_POLLS, **every})
    await with_dsls(w1.services, DSL)  # one DSL: each checkpoint run queues one email
    await until(lambda: leads(w1) or leads(w2))
    leader, other = _leader(w1, w2)
    # the first run, 3 s after a worker began to lead: one checkpoint, not one per worker
    await _checkpoints_reach(leader, 1)
    await asyncio.sleep(1.5)
    assert await _checkpoints_queued(leader) == 1
    name = leader.settings.worker_id
    assert await _ran(leader) == {CHECKPOINTS: name, RETENTION: name}
    assert not leads(other)
    first_done = await _done_at(leader, CHECKPOINTS)

    # the lead stops: the other worker leads within a second or two, and runs the jobs when
    # they are next due (3 s after the last run, and 3 s after it began to lead), not at once
    await leader.stop()
    await until(lambda: leads(other))
    await _checkpoints_reach(other, 2)
    await asyncio.sleep(1.0)
    assert await _checkpoints_queued(other) == 2
    name = str(other.settings.worker_id)
    assert await _ran(other) == {CHECKPOINTS: name, RETENTION: name}
    assert await _done_at(other, CHECKPOINTS) - first_done >= dt.timedelta(seconds=3)


async def test_a_lead_whose_connection_drops_hands_over_and_does_not_take_it_back(
    workers: Workers,
):
    w1, w2 = await workers(both=SLOW_POLLS)
    await until(lambda: leads(w1) or leads(w2))
    leader, other = _leader(w1, w2)
    assert leader.services.lead is not None and other.services.lead is not None
    await leader.services.lead.drop_connection()  # as if the network had cut it
    await until(lambda: leads(other))
    await asyncio.sleep(2.5)  # the old lead has connected again by now, and asked again
    assert _leader(w1, w2) == (other, leader)


# -- the outbox ------------------------------------------------------------------------------


# covers: C12, C23
async def test_queued_notifications_are_each_sent_once_though_both_workers_deliver(
    workers: Workers, mail: MailSink
):
    w1, w2 = await workers(both={**smtp(mail), "outbox_every_seconds": 0.05})
    school = await make_school(w1.services, "claydon")
    now = w1.clock.now()
    rows = [
        notification_row(school.id, None, "dsl_test", f"dsl{i}@school.test", f"n{i}", "-", now)
        for i in range(30)
    ]
    async with w1.services.engine.begin() as conn:
        await conn.execute(insert(Notification), rows)
    w1.services.outbox.wake()  # type: ignore[union-attr]
    w2.services.outbox.wake()  # type: ignore[union-attr]
    await mail.wait_for(30)
    await asyncio.sleep(1.0)  # both outboxes look 20 times a second: any second copy is here
    assert sorted(m["To"] for m in mail.received) == sorted(r["recipient"] for r in rows)
    assert len({m["Message-ID"] for m in mail.received}) == 30
    async with w1.services.engine.connect() as conn:
        sent = (await conn.execute(select(Notification.status, Notification.attempts))).all()
    assert sent == [("sent", 1)] * 30


# covers: C16, CLA-7, STJ-08, WER-16
async def test_a_concern_raised_on_a_worker_with_no_mail_is_sent_at_once_by_the_other(
    workers: Workers, mail: MailSink
):
    # worker 1 has no mail server; worker 2's outbox would look only once an hour
    w1, w2 = await workers(both=SLOW_POLLS, two=smtp(mail))
    assert w1.services.outbox is None and w2.services.outbox is not None
    w1.clock.set(START - dt.timedelta(minutes=3))
    school = await with_dsls(w1.services, DSL)
    _, teacher, assistant = await lesson(w1, school)
    try:
        reply = await teacher.send(
            "concern", summary="A bruise", pupil=school.pupils["Amelia"], category="Neglect"
        )
        assert reply["type"] == "ok", reply
        (alert,) = await mail.wait_for(1, timeout=3)
        assert alert["To"] == DSL
        assert str(alert["Subject"]).startswith("[safeclass] A safeguarding concern was raised")
    finally:
        await teacher.close()
        await assistant.close()


# -- at once, across workers -----------------------------------------------------------------


# covers: C17, C23, CRO-16, CLA-14
async def test_a_withdrawal_on_one_worker_takes_the_child_out_of_a_room_on_the_other(
    workers: Workers, mail: MailSink
):
    w1, w2 = await workers(both={**SLOW_POLLS, **smtp(mail)})
    school = await make_school(w2.services, "claydon")
    session_id = await schedule(w2, school, starts_at=START)
    token = await family_token(w2, school, session_id, "Isla")
    w2.clock.set(START - dt.timedelta(minutes=2))
    room = Lesson(w2, session_id, school.id)  # every socket of the lesson is on worker 2
    try:
        teacher = await Client(w2, session_id, school.teacher_cookie, "teacher").connect()
        assistant = await Client(w2, session_id, school.assistant_cookie, "ta").connect()
        room.clients += [teacher, assistant]
        for adult in (teacher, assistant):
            assert (await adult.send("join"))["type"] == "ok"
        isla = await room.pupil(school.pupils["Isla"])
        oliver = await room.pupil(school.pupils["Oliver"])
        assert (await teacher.send("admit_all"))["type"] == "ok"
        for child in (isla, oliver):
            await child.wait_for(
                lambda m: (
                    m["type"] == "state" and (m["view"]["me"] or {}).get("status") == "admitted"
                )
            )
        async with httpx.AsyncClient(base_url=w1.url) as family:  # the family reaches worker 1
            asked_at = asyncio.get_running_loop().time()
            done = await family.post(f"/join/{token}/withdraw")
            assert done.status_code == 200
        await asyncio.wait_for(isla.closed.wait(), 3)
        assert asyncio.get_running_loop().time() - asked_at < 3
        assert isla.close_code == 4004
        assert "not taking part" in isla.close_reason
        assert not oliver.closed.is_set()
    finally:
        await room.close()


async def _staff_room(server: LiveServer, school: School) -> Client:
    session_id = await schedule(server, school)
    client = await Client(server, session_id, school.teacher_cookie, "teacher").connect()
    assert (await client.send("join"))["type"] == "ok"
    return client


# covers: C21
async def test_signing_out_on_one_worker_closes_the_console_on_the_other_at_once(
    workers: Workers,
):
    w1, w2 = await workers(both=SLOW_POLLS)
    school = await make_school(w2.services, "claydon")
    console = await _staff_room(w2, school)  # the teacher's console is on worker 2
    try:
        async with staff_http(w1, school.teacher_cookie) as page:  # signed out on worker 1
            asked_at = asyncio.get_running_loop().time()
            assert (await page.post("/auth/logout")).status_code == 204
        await asyncio.wait_for(console.closed.wait(), 1)
        assert asyncio.get_running_loop().time() - asked_at < 1
        assert (console.close_code, console.close_reason) == (4009, "Signed out")
    finally:
        await console.close()


async def test_a_worker_whose_bus_connection_dropped_still_hears_the_others(workers: Workers):
    w1, w2 = await workers(both=SLOW_POLLS)
    school = await make_school(w2.services, "claydon")
    console = await _staff_room(w2, school)
    try:
        bus = w2.services.bus
        await bus.drop_connection()  # type: ignore[attr-defined]
        await until(lambda: not bus.listening.is_set())  # type: ignore[attr-defined]
        await until(lambda: bus.listening.is_set())  # type: ignore[attr-defined]
        async with staff_http(w1, school.teacher_cookie) as page:
            assert (await page.post("/auth/logout")).status_code == 204
        await asyncio.wait_for(console.closed.wait(), 1)
        assert console.close_code == 4009
    finally:
        await console.close()
