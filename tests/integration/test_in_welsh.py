"""A Welsh family and a Welsh school's staff, over real HTTP and real WebSockets: the link pages
in Welsh on the site's own pages (and still without a Referer), the switch that sticks, and the
room's refusals, reasons and closes in the language each connection asked for (issue 10,
point 4; St Joseph's is a Welsh school).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import websockets

from safeclass.adapters.auth.tokens import new_token
from safeclass.app.clock import AdjustableClock
from safeclass.observability import scrub
from tests.integration.families import School, family_token, make_school, schedule
from tests.integration.live import Client, LiveServer, pupil_cookie, running
from tests.support.rooms import START

WELSH = {"Accept-Language": "cy-GB,cy;q=0.9,en;q=0.5"}


@pytest.fixture
async def server(db_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    async with running(
        LiveServer(db_url, tmp_path, AdjustableClock(START - dt.timedelta(minutes=3)))
    ) as live:
        yield live


@pytest.fixture
async def school(server: LiveServer) -> School:
    return await make_school(server.services, "claydon")


def browser(server: LiveServer, headers: dict[str, str] | None = None) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=server.url, headers=headers or {}, follow_redirects=False)


# covers: C2
async def test_a_link_that_does_not_work_says_so_in_welsh_on_the_sites_own_page(
    server: LiveServer,
):
    async with browser(server, WELSH) as family:
        page = await family.get("/join/not-a-real-link")
    assert page.status_code == 404
    assert '<html lang="cy">' in page.text
    assert "Dydy&#39;r ddolen hon ddim yn gweithio" in page.text
    assert "This link does not work" not in page.text
    assert '<a href="?lang=en" hreflang="en" lang="en" data-lang="en">English</a>' in page.text
    assert "/static/site.css?v=" in page.text  # the site's style sheet, not a page's own
    assert page.headers["referrer-policy"] == "no-referrer"  # the address holds a token
    policy = page.headers["content-security-policy"]
    assert "unsafe-inline" not in policy and "style-src 'self'" in policy
    assert page.headers["cache-control"] == "no-store"


async def test_the_switch_on_a_link_page_sticks(server: LiveServer):
    async with browser(server, WELSH) as family:
        english = await family.get("/join/not-a-real-link?lang=en")
        assert "This link does not work" in english.text
        assert english.headers["referrer-policy"] == "no-referrer"
        assert family.cookies.get("sc_lang") == "en"
        again = await family.get("/join/another-link")  # no ?lang: the cookie decides
        assert '<html lang="en">' in again.text
        assert (await family.get("/?lang=cy")).status_code == 200
        welsh = await family.get("/join/another-link")
        assert '<html lang="cy">' in welsh.text


# covers: C23, CRO-16
async def test_a_welsh_parent_tells_the_school_in_welsh(server: LiveServer, school: School):
    session_id = await schedule(server, school, starts_at=START)
    token = await family_token(server, school, session_id, "Isla")
    async with browser(server, WELSH) as family:
        form = await family.get(f"/join/{token}/absence")
        assert form.status_code == 200
        assert form.headers["referrer-policy"] == "no-referrer"
        assert "Dweud wrth yr ysgol" in form.text
        assert "Fydd fy mhlentyn ddim yno (yn absennol neu'n sâl)" in form.text
        assert "Dydd Mawrth 24 Tachwedd, 10:00–10:30" in form.text  # the date in Welsh
        assert token not in form.text  # the form posts back to its own address
        unanswered = await family.post(f"/join/{token}/absence", data={"message": ""})
        assert unanswered.status_code == 400
        assert "Dewiswch un o'r atebion isod." in unanswered.text
        assert 'class="error-summary"' in unanswered.text
        told = await family.post(f"/join/{token}/absence", data={"reason": "absent"})
        assert told.status_code == 200
        assert "yn gweld hyn ar dudalen y wers" in told.text


async def test_the_link_pages_never_log_a_token(
    server: LiveServer, school: School, caplog: pytest.LogCaptureFixture
):
    session_id = await schedule(server, school, starts_at=START)
    token = await family_token(server, school, session_id, "Amelia")
    guesses = [new_token() for _ in range(12)]
    caplog.set_level(logging.DEBUG)
    async with browser(server, WELSH) as family:
        assert (await family.get(f"/join/{token}")).status_code == 303
        await family.get(f"/join/{token}/absence")
        statuses = [(await family.get(f"/join/{guess}")).status_code for guess in guesses]
    assert 429 in statuses  # the guesser was slowed, and that was logged
    assert any("slowed" in r.getMessage() for r in caplog.records)
    for record in caplog.records:
        line = record.getMessage()
        if record.name.startswith("safeclass"):
            assert token not in line and not any(g in line for g in guesses), line
        assert token not in scrub(line)  # what the server's log handler writes


# -- the room --------------------------------------------------------------------------------


async def welsh_client(server: LiveServer, session_id: str, cookie: str, who: str) -> Client:
    """A browser whose switch chose Welsh (the `sc_lang` cookie)."""
    return await Client(server, session_id, f"{cookie}; sc_lang=cy", who).connect()


# covers: C18, CLA-02
async def test_a_welsh_pupil_and_welsh_staff_are_refused_in_welsh_with_the_facts(
    server: LiveServer, school: School
):
    session_id = await schedule(server, school, starts_at=START)
    isla = await pupil_cookie(server.services, school.id, session_id, school.pupils["Isla"])
    amelia = await pupil_cookie(server.services, school.id, session_id, school.pupils["Amelia"])
    pupil = await welsh_client(server, session_id, isla, "isla")
    english = await Client(server, session_id, amelia, "amelia").connect()
    teacher = await welsh_client(server, session_id, school.teacher_cookie, "teacher")
    try:
        untick = await pupil.send("join", acknowledged_expectations=False)
        assert untick["type"] == "refused"
        assert untick["message"] == "Darllena'r disgwyliadau a thicia'r blwch yn gyntaf"
        assert untick["clause"] == "CLA-18"  # the clause is the school's, in any language
        # the expectations the pupil ticks, from Claydon's policy, in Welsh
        rules = pupil.view()["expectations"]["pupil"]
        assert "Gwisga ddillad addas (nid pyjamas)." in rules
        same = await english.send("join", acknowledged_expectations=False)
        assert same["message"] == "Please read and tick the expectations first"
        assert "Wear suitable clothes (not pyjamas)." in english.view()["expectations"]["pupil"]

        assert (await pupil.send("join", acknowledged_expectations=True))["type"] == "ok"
        assert (await teacher.send("join"))["type"] == "ok"
        refused = await teacher.send("admit_all")
        assert refused["message"] == (
            "Does dim modd gadael Isla J. i mewn: 1 o 2 aelod o staff sydd eu hangen yn bresennol"
        )
        why = teacher.view()["cannot"]["admit_all"]["message"]
        assert why.startswith("Does dim modd gadael") and "1 o 2" in why
    finally:
        for client in (pupil, english, teacher):
            await client.close()


# covers: CLA-12
async def test_a_removed_welsh_pupil_is_told_why_in_welsh(server: LiveServer, school: School):
    session_id = await schedule(server, school, starts_at=START)
    isla = await pupil_cookie(server.services, school.id, session_id, school.pupils["Isla"])
    pupil = await welsh_client(server, session_id, isla, "isla")
    teacher = await Client(server, session_id, school.teacher_cookie, "teacher").connect()
    assistant = await Client(server, session_id, school.assistant_cookie, "assistant").connect()
    try:
        assert (await pupil.send("join", acknowledged_expectations=True))["type"] == "ok"
        for adult in (teacher, assistant):
            assert (await adult.send("join"))["type"] == "ok"
        assert (await teacher.send("admit_all"))["type"] == "ok"
        removed = await teacher.send("remove", pupil=school.pupils["Isla"], reason="unkind words")
        assert removed["type"] == "ok"  # the teacher's own reply: English, as their browser is
        await asyncio.wait_for(pupil.closed.wait(), 5)
        assert pupil.close_code == 4003
        assert pupil.close_reason == "Rwyt ti wedi cael dy dynnu allan o'r sesiwn hon"
    finally:
        for client in (pupil, teacher, assistant):
            await client.close()


async def test_a_welsh_browser_without_the_switch_gets_welsh_from_its_language(
    server: LiveServer, school: School
):
    session_id = await schedule(server, school, starts_at=START)
    isla = await pupil_cookie(server.services, school.id, session_id, school.pupils["Isla"])
    async with websockets.connect(
        f"ws://127.0.0.1:{server.port}/ws/sessions/{session_id}",
        additional_headers={"Cookie": isla, **WELSH},
        origin=server.settings.origin,  # type: ignore[arg-type]
    ) as socket:
        await socket.send('{"type": "join", "id": "j1"}')
        while (reply := json.loads(await socket.recv())).get("id") != "j1":
            pass
    assert reply["message"] == "Darllena'r disgwyliadau a thicia'r blwch yn gyntaf"
