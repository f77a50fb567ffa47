"""The session log beyond attendance, over real HTTP and the room's socket, on SQLite and
PostgreSQL (C15, CLA-17, CRO-09, CRO-10): the agenda set when scheduling is on the lesson's and
the pupil's pages and goes on record as the room opens; a lesson's links and files reach only its
own families, as downloads, and what the allow-list refuses is never kept; behaviour notes,
rewards and incidents written in the console are in the register's CSV and PDF, never seen by a
pupil, and a pupil's forged `note` is refused.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from safeclass.adapters.auth.logins import csrf_token
from safeclass.adapters.store import EventLog
from safeclass.adapters.store.retention import StoreRetention
from safeclass.adapters.store.tables import SessionResource
from safeclass.app import resources
from safeclass.app.clock import AdjustableClock
from safeclass.app.retention import run_retention
from tests.integration.families import MailSink, family_token, make_school, schedule
from tests.integration.live import Client, LiveServer, pupil_cookie, running
from tests.integration.test_lesson_pages import csrf_of, page_client
from tests.integration.test_pages import main_text
from tests.unit.test_reports_pdf import pdf_text

START = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)  # a Tuesday, 10:00 in London
PDF = b"%PDF-1.4\n% a worksheet about counting in fives\n%%EOF\n"


@pytest.fixture
async def server(db_url: str, tmp_path: Path, mail: MailSink) -> AsyncIterator[LiveServer]:
    live = LiveServer(db_url, tmp_path, AdjustableClock(START - dt.timedelta(minutes=50)))
    async with running(live):
        yield live


def family(server: LiveServer, cookie: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.url, headers={"Cookie": cookie}, timeout=15)


async def kept(server: LiveServer) -> tuple[int, list[str]]:
    """How many resources are on record, and the files in the resources folder."""
    async with server.services.engine.connect() as conn:
        rows = int(await conn.scalar(select(func.count()).select_from(SessionResource)) or 0)
    folder = resources.folder_of(server.settings.data_dir)
    return rows, sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


# covers: C15, CLA-17
async def test_the_agenda_set_when_scheduling_is_on_the_pages_and_on_record_as_the_room_opens(
    server: LiveServer,
):
    school = await make_school(server.services)
    agenda = "Counting in fives.\nA story: The Very Hungry Caterpillar."
    async with page_client(server, school.teacher_cookie) as http:
        form = {
            "csrf_token": await csrf_of(http, "/staff/sessions/new"),
            "class_id": school.class_id,
            "title": "Year 2 Maths",
            "date": "2026-11-24",
            "time": "10:00",
            "minutes": "30",
            "staff_ids": school.assistant_id,
            "agenda": agenda,
        }
        too_long = await http.post("/staff/sessions/new", data={**form, "agenda": "x" * 2001})
        made = await http.post("/staff/sessions/new", data=form)
        assert made.status_code == 303
        lesson = await http.get(made.headers["location"])
    assert too_long.status_code == 422
    assert "The agenda can be at most 2000 characters" in main_text(too_long.text)
    session_id = made.headers["location"].rsplit("/", 1)[1]
    assert "Counting in fives. A story: The Very Hungry Caterpillar." in main_text(lesson.text)

    amelia = await pupil_cookie(server.services, school.id, session_id, school.pupils["Amelia"])
    async with family(server, amelia) as http:
        page = await http.get(f"/room/{session_id}")
    text = main_text(page.text)
    assert "What the lesson is about" in text
    assert "Counting in fives. A story: The Very Hungry Caterpillar." in text

    async with page_client(server, school.teacher_cookie) as http:
        console = await http.get(f"/room/{session_id}")
    assert "Agenda: Counting in fives. A story: The Very Hungry Caterpillar." in main_text(
        console.text
    )

    assert isinstance(server.services.clock, AdjustableClock)
    server.services.clock.set(START - dt.timedelta(minutes=4))  # the waiting room opens
    teacher = await Client(server, session_id, school.teacher_cookie, "teacher").connect()
    try:
        assert (await teacher.send("join"))["type"] == "ok"
    finally:
        await teacher.close()
    entries = await EventLog(server.services.engine).read(session_id)
    opened = [e.type for e in entries].index("WaitingRoomOpened")
    note = entries[opened + 1]
    assert note.type == "LogNoteAdded"
    assert note.payload == {"kind": "agenda", "by": "schedule", "text": agenda, "pupil": None}


# covers: C15, C21
async def test_a_file_for_the_lesson_reaches_its_own_families_as_a_download_and_no_one_else(
    server: LiveServer,
):
    school = await make_school(server.services)
    session_id = await schedule(server, school, starts_at=START)
    other_id = await schedule(server, school, starts_at=START, title="Year 2 Reading")
    page = f"/staff/sessions/{session_id}"
    async with page_client(server, school.teacher_cookie) as http:
        token = await csrf_of(http, page)
        added = await http.post(
            f"{page}/resources",
            data={"csrf_token": token, "kind": "file", "title": "Counting sheet"},
            files={"file": ("counting sheet.pdf", PDF, "application/pdf")},
        )
        linked = await http.post(
            f"{page}/resources",
            data={
                "csrf_token": token,
                "kind": "link",
                "title": "",
                "url": "https://www.bbc.co.uk/bitesize",
            },
        )
        assert added.status_code == linked.status_code == 303
        lesson = await http.get(added.headers["location"])
    assert "Added. Families can open it from their link." in main_text(lesson.text)
    found = re.search(rf'href="{page}/resources/([0-9a-f-]+)"', lesson.text)
    assert found is not None
    resource_id = found.group(1)

    amelia = await pupil_cookie(server.services, school.id, session_id, school.pupils["Amelia"])
    stranger = await pupil_cookie(server.services, school.id, other_id, school.pupils["Amelia"])
    async with family(server, amelia) as http:
        room = await http.get(f"/room/{session_id}")
        download = await http.get(f"/room/{session_id}/resources/{resource_id}")
    assert "Counting sheet" in main_text(room.text)
    assert 'href="https://www.bbc.co.uk/bitesize"' in room.text
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"].startswith(
        'attachment; filename="counting sheet.pdf"'
    )
    assert download.headers["x-content-type-options"] == "nosniff"
    assert "no-store" in download.headers["cache-control"]

    # another session's family: not through this session's address, nor through their own
    async with family(server, stranger) as http:
        here = await http.get(f"/room/{session_id}/resources/{resource_id}")
        theirs = await http.get(f"/room/{other_id}/resources/{resource_id}")
    assert (here.status_code, theirs.status_code) == (403, 404)
    async with httpx.AsyncClient(base_url=server.url, timeout=15) as anyone:
        assert (await anyone.get(f"/room/{session_id}/resources/{resource_id}")).status_code == 403

    # removed: no longer offered, no longer served, its file gone; the register keeps the line
    async with page_client(server, school.teacher_cookie) as http:
        removed = await http.post(
            f"{page}/resources/{resource_id}/remove", data={"csrf_token": token}
        )
    assert removed.status_code == 303
    async with family(server, amelia) as http:
        room = await http.get(f"/room/{session_id}")
        gone = await http.get(f"/room/{session_id}/resources/{resource_id}")
    assert "Counting sheet" not in main_text(room.text)
    assert gone.status_code == 404
    rows, files = await kept(server)
    assert (rows, files) == (2, [])


# covers: C15, C21
async def test_a_file_of_a_kind_not_allowed_or_too_large_is_refused_and_nothing_is_kept(
    server: LiveServer,
):
    school = await make_school(server.services)
    session_id = await schedule(server, school, starts_at=START)
    page = f"/staff/sessions/{session_id}"
    big = b"%PDF-1.4\n" + bytes(resources.MAX_BYTES)
    cases = {
        "a program": (("game.exe", b"MZ\x90\x00", "application/octet-stream"), "must be a PDF"),
        "a page dressed as a PDF": (
            ("sheet.pdf", b"<html><script>alert(1)</script>", "application/pdf"),
            "must be a PDF",
        ),
        "too large": (("big.pdf", big, "application/pdf"), "smaller than 10 MB"),
    }
    async with page_client(server, school.teacher_cookie) as http:
        token = await csrf_of(http, page)
        for name, (upload, words) in cases.items():
            answer = await http.post(
                f"{page}/resources",
                data={"csrf_token": token, "kind": "file", "title": ""},
                files={"file": upload},
            )
            assert answer.status_code == 422, name
            text = main_text(answer.text)
            assert "There is a problem" in text and words in text, name
            assert "Nothing has been saved yet." in text
        for url in ("javascript:alert(1)", "file:///etc/passwd", "www.example.org"):
            answer = await http.post(
                f"{page}/resources", data={"csrf_token": token, "kind": "link", "url": url}
            )
            assert answer.status_code == 422, url
            assert "starts with http:// or https://" in main_text(answer.text)
    async with page_client(server, school.assistant_cookie) as http:
        token = csrf_token(school.assistant_cookie.partition("=")[2])  # no form on their page
        refused = await http.post(
            f"{page}/resources",
            data={"csrf_token": token, "kind": "link", "url": "https://example.org"},
        )
    assert refused.status_code == 403  # only staff who may schedule add one
    assert await kept(server) == (0, [])


# covers: C15, CLA-17, CRO-09, CRO-10, C21
async def test_notes_and_rewards_from_the_console_are_in_the_register_and_never_seen_by_pupils(
    server: LiveServer, tmp_path: Path
):
    school = await make_school(server.services)
    session_id = await schedule(server, school, starts_at=START, agenda="Counting in fives")
    amelia_id = school.pupils["Amelia"]
    assert isinstance(server.services.clock, AdjustableClock)
    server.services.clock.set(START - dt.timedelta(minutes=4))
    teacher = await Client(server, session_id, school.teacher_cookie, "teacher").connect()
    assistant = await Client(server, session_id, school.assistant_cookie, "assistant").connect()
    cookie = await pupil_cookie(server.services, school.id, session_id, amelia_id)
    pupil = await Client(server, session_id, cookie, "amelia").connect()
    try:
        assert (await teacher.send("join"))["type"] == "ok"
        assert (await assistant.send("join"))["type"] == "ok"
        assert (await pupil.send("join", acknowledged_expectations=True))["type"] == "ok"
        assert (await teacher.send("admit", pupils=[amelia_id]))["type"] == "ok"
        assert "note" in teacher.view()["can"]
        reward = await teacher.send(
            "note", kind="reward", text="Star of the day: counted to 50", pupil=amelia_id
        )
        incident = await assistant.send("note", kind="incident", text="Sound dropped for all")
        assert (reward["type"], incident["type"]) == ("ok", "ok")
        # a pupil's page never offers it, and a modified one is refused
        assert "note" not in pupil.view()["can"]
        forged = await pupil.send("note", kind="reward", text="I am great", pupil=amelia_id)
        assert forged["type"] == "refused"
        assert (await teacher.send("end"))["type"] == "ok"
        await pupil.closed.wait()
    finally:
        for client in (teacher, assistant, pupil):
            await client.close()
    said = repr(pupil.messages)
    assert "Star of the day" not in said and "Sound dropped" not in said

    async with page_client(server, school.teacher_cookie) as http:
        table = await http.get(f"/staff/sessions/{session_id}/register.csv")
        printed = await http.get(f"/staff/sessions/{session_id}/register.pdf")
    assert table.status_code == printed.status_code == 200
    text = table.content.decode("utf-8-sig")
    pupils_part, _, log_part = text.partition("\r\n\r\n")
    header = next(csv.reader(io.StringIO(pupils_part)))
    assert header[:4] == ["Date", "Session", "Pupil", "Status"]  # the pupils' columns as before
    rows = list(csv.reader(io.StringIO(log_part)))
    assert rows[0] == ["Date", "Session", "Time", "Entry", "Pupil", "By", "Text"]
    entries = [row[3:] for row in rows[1:]]
    assert ["agenda", "", "as scheduled", "Counting in fives"] in entries
    assert ["reward", "Amelia R.", "Mrs Khan", "Star of the day: counted to 50"] in entries
    assert ["incident", "", "Mr Lee", "Sound dropped for all"] in entries
    assert not any("I am great" in cell for row in rows for cell in row)
    pdf = pdf_text(printed.content, tmp_path)
    assert "Session log: agenda, notes, rewards and resources" in pdf
    assert "Star of the day: counted to 50" in pdf
    assert "Sound dropped for all" in pdf


# covers: C15, C18
async def test_a_lessons_resources_go_with_its_log_when_the_policy_says(server: LiveServer):
    school = await make_school(server.services)
    session_id = await schedule(server, school, starts_at=START)
    engine, data_dir = server.services.engine, server.settings.data_dir
    await resources.add_file(
        server.services.resources,
        data_dir,
        school_id=school.id,
        session_id=session_id,
        staff_id=school.teacher_id,
        title="Counting sheet",
        filename="sheet.pdf",
        data=PDF,
        now=START - dt.timedelta(minutes=30),
    )
    assert (await kept(server))[0] == 1
    await run_retention(
        StoreRetention(engine), START + dt.timedelta(days=3650), server.services.event_log, data_dir
    )
    assert await kept(server) == (0, [])


# covers: C15, C2
async def test_a_link_opened_too_early_shows_the_agenda_and_what_is_coming(server: LiveServer):
    school = await make_school(server.services)
    later = START + dt.timedelta(hours=2)  # the link opens an hour before: not yet
    session_id = await schedule(server, school, starts_at=later, agenda="Counting in fives")
    await resources.add_link(
        server.services.resources,
        school_id=school.id,
        session_id=session_id,
        staff_id=school.teacher_id,
        title="Counting song",
        url="https://example.org/song",
        now=START - dt.timedelta(hours=3),
    )
    token = await family_token(server, school, session_id, "Amelia")
    async with httpx.AsyncClient(base_url=server.url, timeout=15) as parent:
        early = await parent.get(f"/join/{token}")
    assert early.status_code == 200
    text = main_text(early.text)
    assert "It is not time yet" in text
    assert "What the lesson is about: Counting in fives" in text
    assert "Your teacher has added things for the lesson (Counting song)." in text
    assert token not in early.text


# covers: C15, CLA-17
async def test_what_is_on_offer_for_the_lesson_is_on_record_as_the_room_opens_and_only_so(
    server: LiveServer,
):
    school = await make_school(server.services)
    session_id = await schedule(server, school, starts_at=START, agenda="Counting in fives")
    added = {
        title: await resources.add_link(
            server.services.resources,
            school_id=school.id,
            session_id=session_id,
            staff_id=school.teacher_id,
            title=title,
            url=url,
            now=START - dt.timedelta(hours=3),
        )
        for title, url in (("Counting song", "https://example.org/song"), ("Gone", "https://x.org"))
    }
    await resources.remove(  # taken off again before the lesson: not on offer
        server.services.resources,
        server.settings.data_dir,
        session_id=session_id,
        resource_id=added["Gone"],
        staff_id=school.teacher_id,
        now=START - dt.timedelta(hours=2),
    )
    assert isinstance(server.services.clock, AdjustableClock)
    server.services.clock.set(START - dt.timedelta(minutes=4))  # the waiting room opens
    teacher = await Client(server, session_id, school.teacher_cookie, "teacher").connect()
    try:
        assert (await teacher.send("join"))["type"] == "ok"
        # a member of staff cannot write one: the room's own record of what was on offer
        forged = await teacher.send("note", kind="resource", text="A link I never added")
        assert forged["type"] == "refused"
        assert "Things for the lesson are added on its page" in forged["message"]
    finally:
        await teacher.close()
    entries = await EventLog(server.services.engine).read(session_id)
    notes = [e.payload for e in entries if e.type == "LogNoteAdded"]
    assert notes == [
        {"kind": "agenda", "by": "schedule", "text": "Counting in fives", "pupil": None},
        {
            "kind": "resource",
            "by": "schedule",
            "text": "Counting song (https://example.org/song)",
            "pupil": None,
        },
    ]
