"""The DSL is told at once, once, and never not at all (C12, C16, WER-14, S04-19).

Where a user meets it: a real server (uvicorn on loopback, WebSocket clients as the staff page)
and a real SMTP server (aiosmtpd on loopback) as the DSL's mail server. An emergency end or a
concern reaches the DSL's inbox within a second, without waiting for the outbox's poll; the
alert is written in the same transaction as the events, so a database that cannot take the alert
does not take the end either; a server process killed before the mail went sends it exactly once
after restart; the end's note is kept in the log and on the timeline, never in the email; and an
alert with nobody to go to (no DSL account, no mail server) waits, with a warning, instead of
vanishing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import math
import signal
import time
import types
from pathlib import Path
from typing import Any

import pytest
from bench.server_process import ServerProcess
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from safeclass.adapters.store import EventLog, connect, school_records
from safeclass.adapters.store.sessions import create_session
from safeclass.adapters.store.tables import Notification
from safeclass.app.clock import AdjustableClock, SystemClock
from safeclass.cli.main import app as cli_app
from safeclass.core import SessionKind
from safeclass.settings import Settings
from tests.integration.families import (
    MailSink,
    School,
    eventually,
    make_school,
    parts,
    schedule,
)
from tests.integration.faults import refuse_rows
from tests.integration.live import Client, LiveServer, free_port
from tests.support.rooms import START

DSL = "dsl@werrington.test"
DEPUTY = "deputy.dsl@werrington.test"
TRIES = 20
NOTE = "a stranger on a pupil's screen"


async def live_server(
    db_url: str, tmp_path: Path, mail: MailSink | None, every: float = 5.0
) -> LiveServer:
    """A server whose outbox polls every `every` seconds (5 s is the default of a real one)."""
    smtp: dict[str, Any] = {"smtp_host": "127.0.0.1", "smtp_port": mail.port} if mail else {}
    return await LiveServer(
        db_url,
        tmp_path,
        AdjustableClock(START - dt.timedelta(days=1)),
        outbox_every_seconds=every,
        **smtp,
    ).start()


async def with_dsls(services: Any, *emails: str) -> School:
    """A Werrington school (teacher, assistant, class 2B) with these DSL accounts."""
    school = await make_school(services, "werrington")
    async with services.engine.begin() as conn:
        for n, address in enumerate(emails):
            await school_records.add_staff(
                conn, school.id, name=f"Ms Patel {n}", email=address, role="dsl"
            )
    return school


async def lesson(server: Any, school: School) -> tuple[str, Client, Client]:
    """A session of class 2B that the teacher and the assistant have joined."""
    session_id = await schedule(server, school)
    teacher = await Client(server, session_id, school.teacher_cookie, "teacher").connect()
    assistant = await Client(server, session_id, school.assistant_cookie, "assistant").connect()
    assert (await teacher.send("join"))["type"] == "ok"
    assert (await assistant.send("join"))["type"] == "ok"
    return session_id, teacher, assistant


async def end_in_emergency(teacher: Client, assistant: Client, note: str = "") -> None:
    """Everyone is disconnected at once, the teacher too, before any reply could come."""
    try:
        await teacher.send_raw(json.dumps({"type": "emergency_end", "note": note}))
        for client in (teacher, assistant):
            await asyncio.wait_for(client.closed.wait(), 5)
            assert client.close_code == 4000
    finally:
        await teacher.close()
        await assistant.close()


async def alert_rows(engine: AsyncEngine, session_id: str) -> list[Any]:
    async with engine.connect() as conn:
        return list(
            await conn.execute(
                select(Notification)
                .where(Notification.session_id == session_id, Notification.kind.like("dsl_%"))
                .order_by(Notification.id)
            )
        )


async def logged_types(engine: AsyncEngine, session_id: str) -> list[str]:
    return [entry.type for entry in await EventLog(engine).read(session_id)]


# covers: C12, WER-14, S04-19
async def test_the_dsl_hears_of_an_emergency_end_within_a_second_every_time(
    db_url: str, tmp_path: Path, mail: MailSink
):
    server = await live_server(db_url, tmp_path, mail)  # the outbox's own poll: every 5 s
    server.clock.set(START - dt.timedelta(minutes=3))
    try:
        school = await with_dsls(server.services, DSL)
        took = []
        for n in range(TRIES):
            _, teacher, assistant = await lesson(server, school)
            ended_at = time.monotonic()
            await end_in_emergency(teacher, assistant)
            await mail.wait_for(n + 1)
            took.append(mail.arrived[n] - ended_at)
        assert [m["To"] for m in mail.received] == [DSL] * TRIES
        p99 = sorted(took)[math.ceil(0.99 * len(took)) - 1]
        assert p99 <= 1.0, [round(t, 3) for t in took]
    finally:
        await server.stop()


# covers: C16, CLA-7, STJ-08, WER-16, S04-21
async def test_a_concern_reaches_the_dsl_without_waiting_for_the_outbox_to_look(
    db_url: str, tmp_path: Path, mail: MailSink
):
    server = await live_server(db_url, tmp_path, mail, every=3600)  # it never looks again
    server.clock.set(START - dt.timedelta(minutes=3))
    try:
        school = await with_dsls(server.services, DSL)
        _, teacher, assistant = await lesson(server, school)
        reply = await teacher.send(
            "concern",
            summary="A bruise on Amelia's arm",
            pupil=school.pupils["Amelia"],
            category="Physical abuse",
        )
        assert reply["type"] == "ok", reply
        (alert,) = await mail.wait_for(1)
        assert alert["To"] == DSL
        assert str(alert["Subject"]).startswith("[safeclass] A safeguarding concern was raised")
        plain, rich = parts(alert)
        # who raised it, the category and the link to it; never the account nor the pupil
        assert "Category: Physical abuse." in plain
        assert "/staff/concerns/" in plain
        assert "bruise" not in plain + rich  # what was seen stays inside safeclass
        assert "Amelia" not in plain + rich
        await teacher.close()
        await assistant.close()
    finally:
        await server.stop()


async def refuse_notifications(engine: AsyncEngine, refuse: bool) -> None:
    """A database that will not take a notification row (a fault of the outbox table alone)."""
    await refuse_rows(engine, "notifications", "no_outbox", "outbox unavailable", refuse)


# covers: C12, WER-14, S04-19, CLA-17
async def test_an_emergency_end_whose_alert_cannot_be_written_is_not_on_record(
    db_url: str, tmp_path: Path, mail: MailSink
):
    server = await live_server(db_url, tmp_path, mail, every=3600)
    server.clock.set(START - dt.timedelta(minutes=3))
    engine = server.services.engine
    try:
        school = await with_dsls(server.services, DSL)
        session_id, teacher, assistant = await lesson(server, school)
        before = await logged_types(engine, session_id)
        await refuse_notifications(engine, True)

        reply = await teacher.send("emergency_end", note=NOTE)
        assert reply["type"] == "error", reply
        assert reply["message"] == (
            "That could not be saved, so nothing changed. Please try again."
        )
        assert await logged_types(engine, session_id) == before  # no alert, no end, nothing
        assert not teacher.closed.is_set() and not assistant.closed.is_set()

        await refuse_notifications(engine, False)
        await end_in_emergency(teacher, assistant, NOTE)  # the teacher tries again
        (alert,) = await mail.wait_for(1)
        assert alert["To"] == DSL
        assert (await logged_types(engine, session_id))[len(before) :] == [
            "DslAlerted",
            "SessionEnded",
        ]
    finally:
        await server.stop()


# covers: C12, WER-14, S04-19
async def test_the_emergency_note_is_kept_for_the_dsl_and_never_emailed_or_printed(
    db_url: str, tmp_path: Path, mail: MailSink
):
    server = await live_server(db_url, tmp_path, mail, every=3600)
    server.clock.set(START - dt.timedelta(minutes=3))
    try:
        school = await with_dsls(server.services, DSL)
        session_id, teacher, assistant = await lesson(server, school)
        await end_in_emergency(teacher, assistant, NOTE)
        (alert,) = await mail.wait_for(1)
        plain, rich = parts(alert)
        assert "By: Mrs Khan." in plain
        assert "stranger" not in plain + rich + str(alert["Subject"])

        entries = await EventLog(server.services.engine).read(session_id)
        (alerted,) = [e for e in entries if e.type == "DslAlerted"]
        assert alerted.payload is not None and alerted.payload["note"] == NOTE
        runner = CliRunner(env={"COLUMNS": "200"})
        shown = await asyncio.to_thread(
            runner.invoke,
            cli_app,
            ["report", "timeline", session_id, "--database-url", db_url],
        )
        assert shown.exit_code == 0, shown.output
        assert "DSL alert: an emergency end (with a note for the DSL); sent to the DSL at " in (
            shown.output
        )
        assert "stranger" not in shown.output  # the timeline may be printed: the note is the DSL's
        # the other adult in the room is told of the alert, not of the note (like a concern)
        told = [
            e for m in assistant.messages for e in m.get("events", []) if e["type"] == "DslAlerted"
        ]
        assert told and all(e["note"] == "" for e in told)
    finally:
        await server.stop()


# covers: C12, WER-14, S04-19
async def test_an_alert_with_no_dsl_to_go_to_waits_with_a_warning_until_one_is_added(
    db_url: str, tmp_path: Path, mail: MailSink, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.WARNING)
    server = await live_server(db_url, tmp_path, mail, every=3600)  # passes run by hand
    server.clock.set(START - dt.timedelta(minutes=3))
    outbox = server.services.outbox
    assert outbox is not None
    try:
        school = await with_dsls(server.services)  # nobody has the DSL role yet
        session_id, teacher, assistant = await lesson(server, school)
        await end_in_emergency(teacher, assistant)
        (row,) = await alert_rows(server.services.engine, session_id)
        assert (row.recipient, row.status) == ("", "pending")
        assert "no DSL account" in caplog.text

        async def waiting() -> bool:  # the worker looked, found nobody, and will look again
            (row,) = await alert_rows(server.services.engine, session_id)
            return row.status == "pending" and "no DSL account" in (row.last_error or "")

        await eventually(waiting)
        assert mail.received == []

        async with server.services.engine.begin() as conn:
            await school_records.add_staff(conn, school.id, name="Ms Patel", email=DSL, role="dsl")
        server.clock.advance(dt.timedelta(minutes=2))
        await outbox.run_once()
        (alert,) = await mail.wait_for(1)
        assert alert["To"] == DSL
        assert str(alert["Subject"]).startswith("[safeclass] A session was ended in an emergency")
    finally:
        await server.stop()


# covers: C12, WER-14, S04-19
async def test_an_alert_on_a_server_with_no_mail_set_up_waits_with_a_warning(
    db_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.WARNING)
    server = await live_server(db_url, tmp_path, None)
    server.clock.set(START - dt.timedelta(minutes=3))
    try:
        school = await with_dsls(server.services, DSL)
        session_id, teacher, assistant = await lesson(server, school)
        await end_in_emergency(teacher, assistant)
        (row,) = await alert_rows(server.services.engine, session_id)
        assert (row.recipient, row.status) == (DSL, "pending")
        assert "no mail server is set up" in caplog.text
    finally:
        await server.stop()


class ForgetfulSink(MailSink):
    """A mail server that keeps the first message but fails before saying so (451)."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        await super().handle_DATA(server, session, envelope)
        return "451 Local error in processing" if len(self.received) == 1 else "250 OK"


# covers: C12, WER-14, S04-19
async def test_an_alert_sent_again_carries_the_same_message_id(db_url: str, tmp_path: Path):
    sink = ForgetfulSink().start()
    server = await live_server(db_url, tmp_path, sink, every=3600)
    server.clock.set(START - dt.timedelta(minutes=3))
    outbox = server.services.outbox
    assert outbox is not None
    try:
        school = await with_dsls(server.services, DSL)
        session_id, teacher, assistant = await lesson(server, school)
        await end_in_emergency(teacher, assistant)
        await eventually(lambda: _attempted(server.services.engine, session_id))
        server.clock.advance(dt.timedelta(seconds=31))
        assert (await outbox.run_once()).sent == 1
        first, second = await sink.wait_for(2)
        assert first["Message-ID"] == second["Message-ID"]
        (row,) = await alert_rows(server.services.engine, session_id)
        assert str(first["Message-ID"]).startswith(f"<notification.{row.id}.")
    finally:
        await server.stop()
        sink.stop()


async def _attempted(engine: AsyncEngine, session_id: str) -> bool:
    return [r.attempts for r in await alert_rows(engine, session_id)] == [1]


# -- a real server process, killed -------------------------------------------------------------


class Served:
    """What the test clients need to know of a `safeclass serve` process."""

    def __init__(self, process: ServerProcess, db_url: str, tmp_path: Path) -> None:
        self.process = process
        self.port = process.port
        self.url = f"http://127.0.0.1:{process.port}"
        self.settings = Settings(data_dir=tmp_path, database_url=db_url, public_url=self.url)


def serve(db_url: str, tmp_path: Path, mail: MailSink, name: str) -> Served:
    env = {
        "SAFECLASS_SMTP_HOST": "127.0.0.1",
        "SAFECLASS_SMTP_PORT": str(mail.port),
        "SAFECLASS_OUTBOX_RETRY_SECONDS": "1",  # the first retry after a second, not 30
    }
    process = ServerProcess(tmp_path / name, db_url, free_port(), media=False, env=env)
    return Served(process, db_url, tmp_path)


async def starting_now(engine: AsyncEngine, school: School) -> str:
    """A session of class 2B starting in two minutes by the real clock, written as the timetable
    writes it (the real clock may be outside the school day, which scheduling refuses)."""
    async with engine.begin() as conn:
        version = await school_records.current_policy_version(conn, school.id)
        return await create_session(
            conn,
            school_id=school.id,
            policy_version_id=version.id,
            kind=SessionKind.CLASS,
            title="Year 2 Maths",
            starts_at=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2),
            minutes=30,
            pupils=[(pid, f"{forename} R.") for forename, pid in school.pupils.items()],
            staff_ids=[school.teacher_id, school.assistant_id],
            class_id=school.class_id,
        )


# covers: C12, WER-14, S04-19, CLA-17
async def test_a_server_killed_before_the_alert_went_sends_it_once_after_restart(
    db_url: str, tmp_path: Path
):
    mail = MailSink()  # the DSL's mail server is down when the session is ended
    engine = connect(db_url)
    first = serve(db_url, tmp_path, mail, "first")
    second: Served | None = None
    try:
        await first.process.ready()
        services = types.SimpleNamespace(engine=engine, clock=SystemClock())
        school = await with_dsls(services, DSL, DEPUTY)
        session_id = await starting_now(engine, school)
        teacher = await Client(first, session_id, school.teacher_cookie, "teacher").connect()
        assistant = await Client(first, session_id, school.assistant_cookie, "assistant").connect()
        assert (await teacher.send("join"))["type"] == "ok"
        assert (await assistant.send("join"))["type"] == "ok"
        await end_in_emergency(teacher, assistant, NOTE)

        async def on_record() -> bool:  # and tried once, so no send is under way when killed
            rows = await alert_rows(engine, session_id)
            return len(rows) == 2 and all(r.attempts == 1 and r.last_error for r in rows)

        await eventually(on_record)
        first.process.proc.send_signal(signal.SIGKILL)  # no chance to send, flush or close
        first.process.proc.wait(timeout=10)
        assert (await logged_types(engine, session_id))[-2:] == ["DslAlerted", "SessionEnded"]
        assert {r.status for r in await alert_rows(engine, session_id)} == {"pending"}
        assert mail.received == []

        mail.start()
        second = serve(db_url, tmp_path, mail, "second")
        await second.process.ready()

        async def delivered() -> bool:
            return {r.status for r in await alert_rows(engine, session_id)} == {"sent"}

        await eventually(delivered, timeout=20)
        assert sorted(m["To"] for m in mail.received) == sorted([DSL, DEPUTY])
        assert len({m["Message-ID"] for m in mail.received}) == 2
    finally:
        for served in (first, second):
            if served is not None:
                served.process.stop()
        mail.stop()
        await engine.dispose()
