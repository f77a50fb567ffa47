"""Safeguarding concerns (C16): raised in the room or afterwards, never edited, read by the DSL.

Where a user meets it: a real server (uvicorn on loopback), the console's WebSocket, the staff's
pages over HTTP, a real SMTP server (aiosmtpd) as the DSL's mail server, on SQLite and
PostgreSQL. A concern raised in the room becomes a record naming its event in the session's log
and reaches the DSL's inbox within a second; one written afterwards from the lesson's page does
too; additions never change what was written (no route edits, and a change made behind the
server's back is caught by the chain); a backdated concern sits where it happened in the pupil's
chronology; only the writer and the DSL read it; the export for CPOMS and MyConcern carries
the fields they keep, and never a cell a spreadsheet would run.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select, update

from safeclass.adapters.store import school_records
from safeclass.adapters.store.event_log import EventLog
from safeclass.adapters.store.tables import Concern, ConcernEntry, Pupil
from safeclass.app import concerns
from safeclass.app.clock import AdjustableClock
from tests.integration.families import MailSink, School, make_school, parts, schedule, staff_http
from tests.integration.live import Client, LiveServer, staff_cookie
from tests.support.rooms import START

DSL = "dsl@claydon.test"
ACCOUNT = "Amelia said her brother hits her when mum is out"


async def start(db_url: str, tmp_path: Path, mail: MailSink) -> LiveServer:
    server = await LiveServer(
        db_url,
        tmp_path,
        AdjustableClock(START - dt.timedelta(days=1)),
        outbox_every_seconds=3600,  # only the wake-up after commit can be that fast
        smtp_host="127.0.0.1",
        smtp_port=mail.port,
    ).start()
    server.clock.set(START - dt.timedelta(minutes=3))
    return server


async def with_dsl(server: LiveServer) -> tuple[School, str, str]:
    """A Claydon school with a DSL account (signed in): the school, the DSL's id and cookie."""
    school = await make_school(server.services, "claydon")
    async with server.services.engine.begin() as conn:
        dsl = await school_records.add_staff(
            conn, school.id, name="Ms Patel", email=DSL, role="dsl"
        )
    dsl_id, cookie = await staff_cookie(
        server.services, school.id, "dsl", "Ms Patel", staff_id=dsl.id
    )
    return school, dsl_id, cookie


async def in_the_room(server: LiveServer, school: School) -> tuple[str, Client, Client]:
    session_id = await schedule(server, school)
    teacher = await Client(server, session_id, school.teacher_cookie, "teacher").connect()
    assistant = await Client(server, session_id, school.assistant_cookie, "assistant").connect()
    assert (await teacher.send("join"))["type"] == "ok"
    assert (await assistant.send("join"))["type"] == "ok"
    return session_id, teacher, assistant


async def stored(server: LiveServer) -> list[Any]:
    async with server.services.engine.connect() as conn:
        return list((await conn.execute(select(Concern).order_by(Concern.raised_at))).all())


# covers: C16, CLA-07, STJ-08, WER-16, S04-21
async def test_a_concern_raised_in_the_room_is_recorded_with_its_event_and_reaches_the_dsl(
    db_url: str, tmp_path: Path, mail: MailSink
):
    server = await start(db_url, tmp_path, mail)
    try:
        school, _, _ = await with_dsl(server)
        session_id, teacher, assistant = await in_the_room(server, school)
        earlier = server.clock.now() - dt.timedelta(minutes=2)
        sent = time.monotonic()
        reply = await teacher.send(
            "concern",
            summary=ACCOUNT,
            pupils=[school.pupils["Amelia"], school.pupils["Oliver"]],
            category="Physical abuse",
            happened_at=earlier.isoformat(),
        )
        assert reply["type"] == "ok", reply
        (alert,) = await mail.wait_for(1)
        assert mail.arrived[0] - sent <= 1.0
        plain, rich = parts(alert)
        assert "By: Mrs Khan." in plain and "Category: Physical abuse." in plain
        assert "brother" not in plain + rich and "Amelia" not in plain + rich

        (concern,) = await stored(server)
        assert concern.session_id == session_id
        assert concern.summary == ACCOUNT and concern.category == "Physical abuse"
        assert concern.happened_at == earlier < concern.raised_at <= server.clock.now()
        assert concern.raised_by == school.teacher_id and concern.status == "open"
        # its place in the session's log: the ConcernRaised entry, by seq and hash
        entries = await EventLog(server.services.engine).read(session_id)
        raised = next(e for e in entries if e.type == "ConcernRaised")
        assert (concern.event_seq, concern.event_hash) == (raised.seq, raised.hash)
        assert raised.payload is not None and raised.payload["category"] == "Physical abuse"
        record = await concerns.load(server.services.engine, school.id, concern.id)
        assert record is not None
        assert {p.name for p in record.pupils} == {"Amelia Roberts", "Oliver Smith"}
        assert f"/staff/concerns/{concern.id}" in plain
        assert await concerns.verify(
            server.services.engine, server.services.concern_key, concern.id
        ) == []
        await teacher.close()
        await assistant.close()
    finally:
        await server.stop()
