"""A family's "tell the school" reaches the lesson's staff, with no email set up (C23, CRO-16;
issue 11, point 6): the family sends the form from their link, the thank-you page names who
will see it, the teacher's home says a family has told the school something with a link to the
lesson, and the lesson's page shows what they said, their note and when, at the top and beside
the pupil; in English and in Welsh. A family sending the same thing again is shown once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from safeclass.app.clock import AdjustableClock
from tests.integration.families import School, family_token, make_school, schedule
from tests.integration.family_pages import WELSH, browser, main_text
from tests.integration.live import LiveServer, running
from tests.support.rooms import START


@pytest.fixture
async def server(db_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    # no SMTP server: the report must still reach the staff, on their pages
    async with running(
        LiveServer(db_url, tmp_path, AdjustableClock(START - dt.timedelta(minutes=30)))
    ) as live:
        yield live


@pytest.fixture
async def school(server: LiveServer) -> School:
    return await make_school(server.services, "claydon")


# covers: C23, CRO-16
async def test_a_familys_report_reaches_the_teacher_on_the_lessons_page(
    server: LiveServer, school: School
):
    session_id = await schedule(server, school, starts_at=START)
    token = await family_token(server, school, session_id, "Isla")
    async with browser(server, school.teacher_cookie) as teacher:
        home = main_text((await teacher.get("/staff")).text)
        assert "told the school" not in home
        lesson = main_text((await teacher.get(f"/staff/sessions/{session_id}")).text)
        assert "Told by families" not in lesson
    async with browser(server) as family:
        told = await family.post(
            f"/join/{token}/absence", data={"reason": "absent", "message": "She has a cold."}
        )
        assert told.status_code == 200
        thanks = main_text(told.text)
        assert "We have told the school." not in thanks  # nothing was emailed: no SMTP here
        assert (
            "Mrs Khan (teacher) and Mr Lee (teaching assistant) will see this on the lesson's "
            "page before it starts." in thanks
        ), thanks
        again = await family.post(
            f"/join/{token}/absence", data={"reason": "absent", "message": "She has a cold."}
        )
        assert "already has this message" in main_text(again.text)
    async with browser(server, school.teacher_cookie) as teacher:
        page = await teacher.get("/staff")
        home = main_text(page.text)
        assert "1 family has told the school something about today's lessons." in home, home
        assert f'href="/staff/sessions/{session_id}#told"' in page.text
        lesson_page = await teacher.get(f"/staff/sessions/{session_id}")
        lesson = main_text(lesson_page.text)
        told_at = lesson.index("Told by families")
        assert told_at < lesson.index("Class list")  # at the top, before the class list
        top = lesson[told_at : lesson.index("Class list")]
        assert "Isla" in top
        assert "Will not be there (absent or unwell)" in top
        assert "“She has a cold.”" in top
        assert "09:30" in top  # when the family said it, in the school's time
        assert top.count("She has a cold.") == 1  # sent twice, shown once
        beside = lesson[lesson.index("Class list") :]
        isla = beside[beside.index("Isla") :]
        assert isla.index("Their family says: Will not be there (absent or unwell)") < 200
    async with browser(server, school.assistant_cookie) as assistant:
        assert "Told by families" in main_text(
            (await assistant.get(f"/staff/sessions/{session_id}")).text
        )
    other = await make_school(server.services, "crofton")
    async with browser(server, other.teacher_cookie) as stranger:
        assert (await stranger.get(f"/staff/sessions/{session_id}")).status_code == 404
        assert "told the school" not in main_text((await stranger.get("/staff")).text)


# covers: C18, C23
async def test_a_welsh_familys_report_is_shown_to_welsh_staff_in_welsh(
    server: LiveServer, school: School
):
    session_id = await schedule(server, school, starts_at=START)
    token = await family_token(server, school, session_id, "Amelia")
    async with browser(server, headers=WELSH) as family:
        told = await family.post(f"/join/{token}/absence", data={"reason": "cannot_get_in"})
        thanks = main_text(told.text)
        assert "Mrs Khan (athro) a Mr Lee (cynorthwyydd addysgu)" in thanks, thanks
        assert "yn gweld hyn ar dudalen y wers cyn iddi ddechrau." in thanks
    async with browser(server, school.teacher_cookie, WELSH) as teacher:
        home = main_text((await teacher.get("/staff")).text)
        assert "Mae 1 teulu wedi dweud rhywbeth wrth yr ysgol am wersi heddiw." in home, home
        lesson = main_text((await teacher.get(f"/staff/sessions/{session_id}")).text)
        assert "Yr hyn mae teuluoedd wedi'i ddweud" in lesson, lesson
        assert "Methu mynd i mewn" in lesson
        assert "Ni adawodd y teulu nodyn." in lesson
