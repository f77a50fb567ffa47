"""The outbox worker delivering DSL alerts and notices through a real SMTP server, with retries.

An emergency end in a real room (uvicorn, WebSocket clients) writes the DSL's alert to the
outbox; the worker started by the server sends it to aiosmtpd on loopback. When the mail server
is down the alert waits and is tried again later, never lost.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from safeclass.adapters.notify.mail import Mailer
from safeclass.adapters.store import school_records
from safeclass.adapters.store.notifications import StoreOutbox
from safeclass.adapters.store.sessions import load_session
from safeclass.adapters.store.tables import Notification
from safeclass.app.clock import AdjustableClock
from safeclass.app.outbox import Outbox
from tests.integration.families import (
    MailSink,
    School,
    eventually,
    make_school,
    parts,
    schedule,
)
from tests.integration.live import Client, LiveServer, free_port
from tests.integration.seed import seed_session
from tests.support.rooms import START

DSL_EMAIL = "dsl@werrington.test"


@pytest.fixture
async def mail() -> AsyncIterator[MailSink]:
    sink = MailSink().start()
    try:
        yield sink
    finally:
        sink.stop()


async def live_server(db_url: str, tmp_path: Path, mail: MailSink, every: float) -> LiveServer:
    return await LiveServer(
        db_url,
        tmp_path,
        AdjustableClock(START - dt.timedelta(days=1)),
        smtp_host="127.0.0.1",
        smtp_port=mail.port,
        outbox_every_seconds=every,
    ).start()


async def emergency_end(server: LiveServer) -> tuple[School, str]:
    """A Werrington lesson with a DSL on the staff list, ended in an emergency by the teacher."""
    school = await make_school(server.services, "werrington")
    async with server.services.engine.begin() as conn:
        await school_records.add_staff(
            conn, school.id, name="Ms Patel", email=DSL_EMAIL, role="dsl"
        )
    session_id = await schedule(server, school)
    server.clock.set(START - dt.timedelta(minutes=3))
    teacher = await Client(server, session_id, school.teacher_cookie, "teacher").connect()
    assistant = await Client(server, session_id, school.assistant_cookie, "assistant").connect()
    try:
        assert (await teacher.send("join"))["type"] == "ok"
        assert (await assistant.send("join"))["type"] == "ok"
        # everyone is disconnected at once, the teacher too, before any reply could come
        await teacher.send_raw(
            json.dumps({"type": "emergency_end", "note": "a stranger on a pupil's screen"})
        )
        for client in (teacher, assistant):
            await asyncio.wait_for(client.closed.wait(), 5)
            assert client.close_code == 4000
    finally:
        await teacher.close()
        await assistant.close()
    return school, session_id


async def dsl_rows(server: LiveServer, session_id: str) -> list[tuple[str, int, str | None]]:
    async with server.services.engine.connect() as conn:
        rows = await conn.execute(
            select(Notification.status, Notification.attempts, Notification.last_error).where(
                Notification.session_id == session_id,
                Notification.kind == "dsl_emergency_end",
            )
        )
        return [(r.status, r.attempts, r.last_error) for r in rows]


# covers: C12, WER-14, S04-19
async def test_an_emergency_end_reaches_the_dsl_by_email(
    db_url: str, tmp_path: Path, mail: MailSink
):
    server = await live_server(db_url, tmp_path, mail, every=0.1)
    try:
        _, session_id = await emergency_end(server)
        (alert,) = await mail.wait_for(1)
        assert alert["To"] == DSL_EMAIL
        assert str(alert["Subject"]).startswith(
            "[safeclass] A session was ended in an emergency: Year 2 Maths"
        )
        plain, rich = parts(alert)
        assert "By: Mrs Khan." in plain
        assert "Open safeclass to read the details; they are not sent by email." in plain
        assert "A session was ended in an emergency." in rich
        assert "a stranger" not in plain  # the details stay inside safeclass

        async def marked_sent() -> bool:  # once the server has said "250 accepted"
            return await dsl_rows(server, session_id) == [("sent", 1, None)]

        await eventually(marked_sent)
    finally:
        await server.stop()


# covers: C12, WER-14, S04-19
async def test_the_alert_waits_and_is_retried_while_the_mail_server_is_down(
    db_url: str, tmp_path: Path, mail: MailSink
):
    server = await live_server(db_url, tmp_path, mail, every=3600)  # later passes by hand
    outbox = server.services.outbox
    assert outbox is not None
    try:
        mail.stop()
        _, session_id = await emergency_end(server)

        async def tried() -> bool:  # the worker, woken by the alert, has tried at once
            return [attempts for _, attempts, _ in await dsl_rows(server, session_id)] == [1]

        await eventually(tried)
        ((status, _, error),) = await dsl_rows(server, session_id)
        assert status == "pending"
        assert error is not None
        report = await outbox.run_once()
        assert (report.sent, report.retrying) == (0, 0)  # not due again for 30 seconds

        mail.start()
        server.clock.advance(dt.timedelta(seconds=31))
        assert (await outbox.run_once()).sent == 1
        assert await dsl_rows(server, session_id) == [("sent", 2, None)]
        (alert,) = await mail.wait_for(1)
        assert alert["To"] == DSL_EMAIL
    finally:
        await server.stop()


async def _queue(engine: AsyncEngine, at: dt.datetime) -> str:
    session_id = await seed_session(engine, "claydon")
    stored = await load_session(engine, session_id)
    async with engine.begin() as conn:
        await conn.execute(
            insert(Notification).values(
                school_id=stored.school_id,
                session_id=session_id,
                kind="parent_removed",
                recipient="parent@family.test",
                subject="A notice",
                body="Dear parent or carer,\n\nA notice.",
                status="pending",
                attempts=0,
                send_after=at,
                created_at=at,
            )
        )
    return session_id


async def _statuses(engine: AsyncEngine) -> list[tuple[str, int]]:
    async with engine.connect() as conn:
        return [
            (r.status, r.attempts)
            for r in await conn.execute(select(Notification.status, Notification.attempts))
        ]


# covers: C10, STJ-06
async def test_a_notice_that_cannot_be_sent_is_given_up_after_the_last_attempt(
    engine: AsyncEngine,
):
    clock = AdjustableClock(START)
    await _queue(engine, START)
    nobody = Mailer(host="127.0.0.1", port=free_port(), timeout=2)  # nothing listens there
    outbox = Outbox(StoreOutbox(engine), nobody, clock, max_attempts=3)
    assert outbox.retry_delay(1) == dt.timedelta(seconds=30)
    assert outbox.retry_delay(3) == dt.timedelta(minutes=2)
    for attempt in (1, 2):
        assert (await outbox.run_once()).retrying == 1
        assert await _statuses(engine) == [("pending", attempt)]
        clock.advance(outbox.retry_delay(attempt))
    assert (await outbox.run_once()).failed == 1
    assert await _statuses(engine) == [("failed", 3)]
    assert (await outbox.run_once()).failed == 0  # failed rows are left for an operator


# covers: C10, STJ-06
async def test_two_workers_never_send_the_same_notice_twice(engine: AsyncEngine, mail: MailSink):
    clock = AdjustableClock(START)
    await _queue(engine, START)
    mailer = Mailer(host="127.0.0.1", port=mail.port)
    first, second = (
        Outbox(StoreOutbox(engine), mailer, clock),
        Outbox(StoreOutbox(engine), mailer, clock),
    )
    reports = await asyncio.gather(first.run_once(), second.run_once())
    assert sum(r.sent for r in reports) == 1
    await asyncio.sleep(0.2)
    assert len(mail.received) == 1
    assert await _statuses(engine) == [("sent", 1)]
