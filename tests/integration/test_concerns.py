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
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from safeclass.adapters.store import school_records
from safeclass.adapters.store.event_log import EventLog
from safeclass.adapters.store.retention import StoreRetention
from safeclass.adapters.store.tables import Concern, ConcernEntry, Notification, Pupil
from safeclass.app import concerns
from safeclass.app.clock import AdjustableClock
from safeclass.app.retention import run_retention
from tests.integration.families import MailSink, School, make_school, parts, schedule, staff_http
from tests.integration.faults import refuse_rows
from tests.integration.live import LiveServer, staff_cookie
from tests.integration.test_dsl_alerts import lesson as in_the_room
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


@pytest.fixture
async def server(db_url: str, tmp_path: Path, mail: MailSink) -> AsyncIterator[LiveServer]:
    live = await start(db_url, tmp_path, mail)
    try:
        yield live
    finally:
        await live.stop()


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


async def amelias_concern(server: LiveServer) -> tuple[School, str, str]:
    """A concern about Amelia written on her lesson's page by her teacher, in a school with a
    DSL: the school, the DSL's cookie and the concern's id."""
    school, _, dsl_cookie = await with_dsl(server)
    session_id = await schedule(server, school)
    answer = await raise_on_the_page(
        server, school.teacher_cookie, session_id, [school.pupils["Amelia"]]
    )
    return school, dsl_cookie, concern_id_of(answer)


async def stored(server: LiveServer) -> list[Any]:
    async with server.services.engine.connect() as conn:
        return list((await conn.execute(select(Concern).order_by(Concern.raised_at))).all())


# covers: C16, CLA-07, STJ-08, WER-16, S04-21
async def test_a_concern_raised_in_the_room_is_recorded_with_its_event_and_reaches_the_dsl(
    server: LiveServer, mail: MailSink
):
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
    record = await concerns.load(server.services.concerns, school.id, concern.id)
    assert record is not None
    assert {p.name for p in record.pupils} == {"Amelia Roberts", "Oliver Smith"}
    assert f"/staff/concerns/{concern.id}" in plain
    assert (
        await concerns.verify(server.services.concerns, server.services.concern_key, concern.id)
        == []
    )
    await teacher.close()
    await assistant.close()


async def raise_on_the_page(
    server: LiveServer,
    cookie: str,
    session_id: str,
    pupils: list[str],
    account: str = ACCOUNT,
    category: str = "Neglect",
    date: str = "",
    time_of_day: str = "",
) -> httpx.Response:
    async with staff_http(server, cookie) as http:
        return await http.post(
            f"/staff/sessions/{session_id}/concerns/new",
            data={
                "pupils": pupils,
                "category": category,
                "account": account,
                "date": date,
                "time": time_of_day,
            },
        )


def concern_id_of(response: httpx.Response) -> str:
    found = re.fullmatch(
        r"/staff/concerns/([0-9a-f-]{36})\?done=raised", response.headers["location"]
    )
    assert found, response.headers.get("location")
    return found.group(1)


# covers: C16, CLA-07, STJ-08
async def test_a_concern_written_after_the_lesson_reaches_the_dsl_and_the_writer_reads_it(
    server: LiveServer, mail: MailSink
):
    school, _, dsl_cookie = await with_dsl(server)
    session_id = await schedule(server, school)
    async with staff_http(server, school.teacher_cookie) as http:
        form = await http.get(f"/staff/sessions/{session_id}/concerns/new")
        assert form.status_code == 200 and "Amelia R." in form.text
        lesson = await http.get(f"/staff/sessions/{session_id}")
        assert f"/staff/sessions/{session_id}/concerns/new" in lesson.text
    # a form with nothing chosen is refused, and nothing is written
    empty = await raise_on_the_page(server, school.teacher_cookie, session_id, [], account="")
    assert empty.status_code == 400 and "Choose at least one pupil" in empty.text
    assert await stored(server) == []

    sent = time.monotonic()
    answer = await raise_on_the_page(
        server, school.teacher_cookie, session_id, [school.pupils["Amelia"]]
    )
    assert answer.status_code == 303
    concern_id = concern_id_of(answer)
    (alert,) = await mail.wait_for(1)
    assert mail.arrived[0] - sent <= 1.0
    plain, _ = parts(alert)
    assert "Category: Neglect." in plain and f"/staff/concerns/{concern_id}" in plain
    assert "brother" not in plain
    (row,) = await stored(server)
    assert row.event_seq is None and row.session_id == session_id
    async with staff_http(server, school.teacher_cookie) as http:
        page = await http.get(answer.headers["location"])
    assert page.status_code == 200 and ACCOUNT in page.text
    assert "The safeguarding lead has been alerted" in page.text
    # the DSL sees it in their list, and the time the alert was delivered on its page
    async with staff_http(server, dsl_cookie) as http:
        listed = await http.get("/staff/concerns")
        assert f"/staff/concerns/{concern_id}" in listed.text and "Not read yet" in listed.text
        assert ACCOUNT not in listed.text  # the list never shows the account
        home = await http.get("/staff")
        assert 'href="/staff/concerns"' in home.text


# covers: C16
async def test_a_concern_is_only_added_to_and_a_change_behind_the_servers_back_is_caught(
    server: LiveServer,
):
    engine, key = server.services.engine, server.services.concern_key
    school, dsl_cookie, concern_id = await amelias_concern(server)
    async with staff_http(server, dsl_cookie) as http:
        read = await http.post(f"/staff/concerns/{concern_id}/read")
        assert read.status_code == 303
        for kind, text in (("action", "Rang mum at 15:10"), ("addition", "She said it again")):
            added = await http.post(
                f"/staff/concerns/{concern_id}/entries", data={"kind": kind, "text": text}
            )
            assert added.status_code == 303
        page = (await http.get(f"/staff/concerns/{concern_id}")).text
        # no way to change what was written: no edit route answers
        for method in ("PUT", "PATCH", "DELETE"):
            tried = await http.request(method, f"/staff/concerns/{concern_id}")
            assert tried.status_code == 405
    assert page.index("Marked as read") < page.index("Rang mum") < page.index("She said it")
    assert "Read by Ms Patel" in page and "Mark as read</button>" not in page
    record = await concerns.load(server.services.concerns, school.id, concern_id)
    assert record is not None and record.summary == ACCOUNT and record.status == "read"
    assert [e.kind for e in record.entries] == ["account", "read", "action", "addition"]
    assert await concerns.verify(server.services.concerns, key, concern_id) == []

    # someone with the database's password rewrites the account: the chain says so
    async with engine.begin() as conn:
        await conn.execute(
            update(Concern).where(Concern.id == concern_id).values(summary="Nothing happened")
        )
        await conn.execute(
            update(ConcernEntry)
            .where(ConcernEntry.concern_id == concern_id, ConcernEntry.seq == 1)
            .values(text="Nothing happened")
        )
    problems = await concerns.verify(server.services.concerns, key, concern_id)
    assert problems and "changed" in problems[0]
    # and an action quietly deleted
    async with engine.begin() as conn:
        await conn.execute(
            ConcernEntry.__table__.delete().where(
                ConcernEntry.concern_id == concern_id, ConcernEntry.seq == 3
            )
        )
    assert "entry 3 is missing" in await concerns.verify(server.services.concerns, key, concern_id)


# covers: C16
async def test_the_newest_entries_of_a_concern_deleted_alone_are_found(server: LiveServer):
    """The chain shows an entry deleted from the middle; the concern's sealed head shows the
    newest ones deleted, which leave the chain whole up to there, and a head put back by hand."""
    services, key = server.services, server.services.concern_key
    _, dsl_cookie, concern_id = await amelias_concern(server)
    async with staff_http(server, dsl_cookie) as http:
        for text in ("Rang mum at 15:10", "She said it again"):
            added = await http.post(
                f"/staff/concerns/{concern_id}/entries", data={"kind": "addition", "text": text}
            )
            assert added.status_code == 303
    assert await concerns.verify(services.concerns, key, concern_id) == []
    engine = services.engine
    async with engine.begin() as conn:
        await conn.execute(
            ConcernEntry.__table__.delete().where(
                ConcernEntry.concern_id == concern_id, ConcernEntry.seq == 3
            )
        )
    assert await concerns.verify(services.concerns, key, concern_id) == [
        "the entries after entry 2 are missing"
    ]
    # the head moved back to match, by someone without the key
    async with engine.begin() as conn:
        await conn.execute(
            update(Concern).where(Concern.id == concern_id).values(head_seq=2, head_seal="f" * 64)
        )
    assert await concerns.verify(services.concerns, key, concern_id) == [
        "the record's seal does not match its last entry"
    ]
    async with engine.begin() as conn:
        await conn.execute(
            update(Concern).where(Concern.id == concern_id).values(head_seq=None, head_seal=None)
        )
    assert await concerns.verify(services.concerns, key, concern_id) == [
        "the record's seal is missing"
    ]


# covers: C16
async def test_a_backdated_concern_sits_where_it_happened_in_the_pupils_chronology(
    server: LiveServer,
):
    school, _, dsl_cookie = await with_dsl(server)
    session_id = await schedule(server, school)
    amelia = school.pupils["Amelia"]
    first = await raise_on_the_page(
        server, school.teacher_cookie, session_id, [amelia], account="Said she was hungry"
    )
    assert first.status_code == 303
    server.clock.advance(dt.timedelta(hours=1))
    # written now, about the morning before: it must come first
    day_before = (START - dt.timedelta(days=1)).astimezone(dt.UTC)
    backdated = await raise_on_the_page(
        server,
        school.teacher_cookie,
        session_id,
        [amelia],
        account="Came in without a coat in the rain",
        date=day_before.date().isoformat(),
        time_of_day="08:45",
    )
    assert backdated.status_code == 303
    future = await raise_on_the_page(
        server,
        school.teacher_cookie,
        session_id,
        [amelia],
        date=(START + dt.timedelta(days=3)).date().isoformat(),
        time_of_day="09:00",
    )
    assert future.status_code == 400 and "cannot be later than now" in future.text
    async with staff_http(server, dsl_cookie) as http:
        page = await http.get(f"/staff/pupils/{amelia}/concerns")
    assert page.status_code == 200
    assert page.text.index("without a coat") < page.text.index("hungry")
    lines = await concerns.chronology(server.services.concerns, school.id, amelia)
    assert [line.text for line in lines] == [
        "Came in without a coat in the rain",
        "Said she was hungry",
    ]


# covers: C16, C21
async def test_only_the_writer_and_the_dsl_read_a_concern(server: LiveServer):
    school, dsl_cookie, concern_id = await amelias_concern(server)
    _, other_teacher = await staff_cookie(server.services, school.id, "teacher", "Mr Hill")
    _, head = await staff_cookie(server.services, school.id, "head", "Mrs Evans")
    readers = {
        "the teacher who wrote it": (school.teacher_cookie, 200),
        "another teacher": (other_teacher, 404),
        "the head": (head, 404),
        "the DSL": (dsl_cookie, 200),
    }
    for who, (cookie, want) in readers.items():
        async with staff_http(server, cookie) as http:
            page = await http.get(f"/staff/concerns/{concern_id}")
            assert page.status_code == want, who
            assert (ACCOUNT in page.text) == (want == 200), who
            api = await http.get(f"/api/concerns/{concern_id}")
            assert api.status_code == want, who
            if want == 200:
                assert api.json()["account"] == ACCOUNT
                assert api.json()["hash"] == api.json()["entries"][-1]["hash"]
            added = await http.post(
                f"/staff/concerns/{concern_id}/entries", data={"kind": "addition", "text": "x"}
            )
            assert added.status_code == (303 if want == 200 else 404), who
    async with staff_http(server, head) as http:
        assert (await http.get("/staff/concerns")).status_code == 403
        assert (await http.get(f"/staff/concerns/{concern_id}/export.csv")).status_code == 403


# covers: C16
async def test_the_export_for_cpoms_carries_every_field_and_never_a_formula(
    server: LiveServer, mail: MailSink
):
    school, _, dsl_cookie = await with_dsl(server)
    async with server.services.engine.begin() as conn:
        await conn.execute(
            update(Pupil).where(Pupil.id == school.pupils["Amelia"]).values(mis_id="=HYPERLINK(1)")
        )
    _, teacher, assistant = await in_the_room(server, school)
    reply = await teacher.send(
        "concern",
        summary="=cmd|' /C calc'!A0 she said",
        pupils=[school.pupils["Amelia"]],
        category="Online safety",
    )
    assert reply["type"] == "ok", reply
    await mail.wait_for(1)
    (row,) = await stored(server)
    async with staff_http(server, dsl_cookie) as http:
        await http.post(
            f"/staff/concerns/{row.id}/entries",
            data={"kind": "action", "text": "@SUM(1) referred to MASH"},
        )
        one = await http.get(f"/staff/concerns/{row.id}/export.csv")
        day = server.clock.now().date().isoformat()
        ranged = await http.get(f"/staff/concerns/export.csv?from={day}&to={day}")
        pdf = await http.get(f"/staff/concerns/{row.id}/export.pdf")
        empty = await http.get("/staff/concerns/export.csv?from=2020-01-01&to=2020-01-02")
    assert one.status_code == ranged.status_code == 200
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert len(list(csv.reader(io.StringIO(empty.content.decode("utf-8-sig"))))) == 1
    for answer in (one, ranged):
        (heading, fields) = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
        got = dict(zip(heading, fields, strict=True))
        assert got["Pupil MIS id"] == "'=HYPERLINK(1)"
        assert got["Pupil"] == "Amelia Roberts"
        assert got["Account"] == "'=cmd|' /C calc'!A0 she said"
        assert got["Category"] == "Online safety"
        assert got["Recorded by"] == "Mrs Khan"
        assert "Mrs Khan" in got["People present"] and "Mr Lee" in got["People present"]
        assert "action taken" in got["Actions"] and "@SUM" in got["Actions"]
        assert not got["Actions"].startswith("@")
        assert got["DSL alerted at"] != "" and got["Time of the event"] != ""
        assert got["Session log entry"] == f"{row.event_seq} {row.event_hash}"
        record = await concerns.load(server.services.concerns, school.id, row.id)
        assert record is not None and got["Record hash"] == record.last_hash
        for cell in fields:
            assert not cell.lstrip(" ").startswith(("=", "+", "-", "@")), cell
    await teacher.close()
    await assistant.close()


async def refuse_concern_records(server: LiveServer, refuse: bool) -> None:
    """A database that will not take a concern's record (a fault of that table alone)."""
    await refuse_rows(
        server.services.engine, "concern_entries", "no_concerns", "concerns unavailable", refuse
    )


# covers: C16, CLA-07
async def test_a_concern_whose_record_cannot_be_written_is_not_in_the_log_nor_alerted(
    server: LiveServer, mail: MailSink
):
    """The record is written in the log's own transaction: both, or neither (and no alert)."""
    engine = server.services.engine
    school, _, _ = await with_dsl(server)
    session_id, teacher, assistant = await in_the_room(server, school)
    before = [e.type for e in await EventLog(engine).read(session_id)]
    await refuse_concern_records(server, True)
    reply = await teacher.send("concern", summary=ACCOUNT, pupils=[school.pupils["Amelia"]])
    assert reply["type"] == "error", reply
    assert [e.type for e in await EventLog(engine).read(session_id)] == before
    assert await stored(server) == []
    await refuse_concern_records(server, False)
    reply = await teacher.send("concern", summary=ACCOUNT, pupils=[school.pupils["Amelia"]])
    assert reply["type"] == "ok", reply
    await mail.wait_for(1)
    async with engine.connect() as conn:  # one alert: the refused try wrote none
        alerts = await conn.scalar(
            select(func.count()).where(Notification.kind == concerns.ALERT_KIND)
        )
    assert alerts == 1
    (row,) = await stored(server)
    assert row.event_seq is not None
    await teacher.close()
    await assistant.close()


# covers: C16
async def test_a_concern_is_kept_until_the_pupils_birthday_then_deleted_whole(server: LiveServer):
    engine = server.services.engine
    school, _, _ = await with_dsl(server)
    amelia = school.pupils["Amelia"]
    async with engine.begin() as conn:
        await conn.execute(
            update(Pupil).where(Pupil.id == amelia).values(date_of_birth=dt.date(2019, 2, 28))
        )
    session_id = await schedule(server, school)
    concern_id = concern_id_of(
        await raise_on_the_page(server, school.teacher_cookie, session_id, [amelia])
    )
    record = await concerns.load(server.services.concerns, school.id, concern_id)
    assert record is not None and record.keep_until == dt.date(2044, 2, 28)  # aged 25
    kept = await run_retention(
        StoreRetention(engine), server.clock.now(), server.services.event_log
    )
    assert kept.concerns_deleted == 0
    later = dt.datetime(2044, 3, 1, tzinfo=dt.UTC)
    report = await run_retention(StoreRetention(engine), later, server.services.event_log)
    assert report.concerns_deleted == 1
    assert await concerns.load(server.services.concerns, school.id, concern_id) is None
    async with engine.connect() as conn:
        left = await conn.scalar(select(func.count()).where(ConcernEntry.concern_id == concern_id))
    assert left == 0
