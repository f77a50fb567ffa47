"""The staff's lesson pages over real HTTP, on SQLite and PostgreSQL: scheduling by the form
(and what it refuses), emailing the families their links from a lesson's page (with a real SMTP
server), a family's link shown once and never logged, and the CSRF token on every form (C1, C2,
C21; issue 10). The browser itself is tests/e2e/test_schedule_pages.py's.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select, update

from safeclass.adapters.store.tables import Guardian, Session
from safeclass.app.clock import AdjustableClock
from tests.integration.families import MailSink, make_school, schedule, token_in
from tests.integration.live import LiveServer, running
from tests.integration.test_pages import main_text

LONDON = ZoneInfo("Europe/London")
START = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)  # a Tuesday, 10:00 in London


@pytest.fixture
async def server(db_url: str, tmp_path: Path, mail: MailSink) -> AsyncIterator[LiveServer]:
    live = LiveServer(
        db_url,
        tmp_path,
        AdjustableClock(START - dt.timedelta(minutes=50)),
        smtp_host="127.0.0.1",
        smtp_port=mail.port,
    )
    async with running(live):
        yield live


def page_client(server: LiveServer, cookie: str) -> httpx.AsyncClient:
    """What a browser sends from our pages: the login cookie, a form, and no CSRF header."""
    return httpx.AsyncClient(
        base_url=server.url,
        headers={"Cookie": cookie, "Accept": "text/html", "Origin": server.url},
        timeout=15,
    )


async def csrf_of(http: httpx.AsyncClient, path: str) -> str:
    """The CSRF token a page's forms carry, read from the page as the browser has it."""
    page = await http.get(path)
    assert page.status_code == 200, page.text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


async def count_sessions(server: LiveServer) -> int:
    async with server.services.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(Session)) or 0)


# covers: C1, CLA-03, CLA-06, CRO-05
async def test_the_form_schedules_a_lesson_and_refuses_what_breaks_the_rules(
    server: LiveServer,
):
    school = await make_school(server.services)
    other = await make_school(server.services)
    async with page_client(server, school.teacher_cookie) as http:
        token = await csrf_of(http, "/staff/sessions/new")
        good = {
            "csrf_token": token,
            "class_id": school.class_id,
            "title": "  Year 2   Science ",
            "date": "24/11/2026",  # typed by hand, as a browser without a date field sends it
            "time": "11:00",
            "minutes": "30",
            "staff_ids": school.assistant_id,
        }
        bad = {
            "too long": ({"minutes": "31"}, "A lesson can be at most 30 minutes long"),
            "not a number": ({"minutes": "half an hour"}, "Enter the length as a number"),
            "in the past": ({"time": "09:00"}, "The lesson must start in the future"),
            "a Saturday": ({"date": "2026-11-28"}, "The lesson must be inside the school day"),
            "not a date": ({"date": "31/02/2026"}, "Enter a real date"),
            "another school's class": ({"class_id": other.class_id}, "Choose a class from"),
            "another school's teacher": ({"staff_ids": other.teacher_id}, "Choose staff from"),
        }
        before = await count_sessions(server)
        for name, (change, words) in bad.items():
            answer = await http.post("/staff/sessions/new", data={**good, **change})
            assert answer.status_code == 422, name
            assert words in main_text(answer.text), name
            assert "Nothing has been saved yet." in answer.text
            assert await count_sessions(server) == before, name
        made = await http.post("/staff/sessions/new", data=good)
    assert made.status_code == 303
    session_id = made.headers["location"].rsplit("/", 1)[1]
    async with server.services.engine.connect() as conn:
        row = (await conn.execute(select(Session).where(Session.id == session_id))).one()
    assert row.title == "Year 2 Science"
    assert row.starts_at.replace(tzinfo=dt.UTC) == dt.datetime(2026, 11, 24, 11, tzinfo=LONDON)
    assert row.minutes == 30


# covers: C21
async def test_every_form_needs_the_logins_csrf_token(server: LiveServer):
    school = await make_school(server.services)
    session_id = await schedule(server, school, starts_at=START)
    before = await count_sessions(server)
    async with page_client(server, school.teacher_cookie) as http:
        for path, form in (
            ("/staff/sessions/new", {"class_id": school.class_id, "title": "x"}),
            (f"/staff/sessions/{session_id}/links/send", {}),
            (f"/staff/sessions/{session_id}/links/{school.pupils['Amelia']}/new", {}),
        ):
            answer = await http.post(path, data={**form, "csrf_token": "forged"})
            assert answer.status_code == 403, path
            assert "This form has expired" in answer.text
    assert await count_sessions(server) == before


# covers: C2, WER-02, S04-02
async def test_a_lessons_page_emails_each_family_and_says_who_has_no_address(
    server: LiveServer, mail: MailSink
):
    school = await make_school(server.services)
    session_id = await schedule(server, school, starts_at=START)
    async with server.services.engine.begin() as conn:  # Oliver's family gave no address
        await conn.execute(
            update(Guardian).where(Guardian.pupil_id == school.pupils["Oliver"]).values(email=None)
        )
    page = f"/staff/sessions/{session_id}"
    async with page_client(server, school.teacher_cookie) as http:
        token = await csrf_of(http, page)
        sent = await http.post(f"{page}/links/send", data={"csrf_token": token})
        assert sent.status_code == 303
        after = await http.get(sent.headers["location"])
    await mail.wait_for(2)
    assert sorted(m["To"] for m in mail.received) == [
        "amelia.parent@family.test",
        "isla.parent@family.test",
    ]
    text = main_text(after.text)
    assert "2 families have been sent their link by email." in text
    assert "1 family has no email address on record" in text
    assert text.count("Link sent") == 2
    assert "@" not in text  # the page never shows a parent's address
    for message in mail.received:
        assert token_in(message) not in after.text


# covers: C2
async def test_a_familys_link_is_shown_once_and_never_logged(
    server: LiveServer, caplog: pytest.LogCaptureFixture, mail: MailSink
):
    school = await make_school(server.services)
    session_id = await schedule(server, school, starts_at=START)
    page = f"/staff/sessions/{session_id}"
    amelia = school.pupils["Amelia"]
    caplog.set_level(logging.DEBUG)
    async with page_client(server, school.teacher_cookie) as http:
        token = await csrf_of(http, page)
        shown = await http.post(f"{page}/links/{amelia}/new", data={"csrf_token": token})
        again = await http.get(page)
        noah = await http.post(
            f"{page}/links/{school.pupils['Noah']}/new", data={"csrf_token": token}
        )
    assert shown.status_code == 200
    assert shown.headers["cache-control"] == "no-store"
    found = re.search(r'value="(http://[^"]+/join/([A-Za-z0-9_-]+))"', shown.text)
    assert found is not None
    link, secret = found.groups()
    assert link.startswith(server.url)
    assert secret not in again.text
    assert secret not in caplog.text
    assert mail.received == []  # shown to copy or print, not emailed
    async with httpx.AsyncClient(base_url=server.url, timeout=15) as family:
        opened = await family.get(link)
    assert opened.status_code in (200, 303), opened.text
    assert noah.status_code == 409  # his parents opted him out: no link to make (C17)
    assert "does not take part in live lessons" in noah.text
