"""The session log in a real browser (C15, CRO-09, CRO-10): a teacher adds a file for the lesson
on its page, the pupil's page shows the agenda and the file before joining, and in the console
the teacher gives a pupil a reward with the keyboard and sees it confirmed. The assistant and the
pupil in the room are Python WebSocket clients against the same server.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import update

from safeclass.adapters.store.tables import Session
from tests.e2e.conftest import screens_folder, year_2_maths
from tests.e2e.test_pupil_page import DESKTOP, PHONE
from tests.integration.live import Client, pupil_cookie
from tests.support.axe import AXE, serious_problems
from tests.support.page_watch import Watch

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

AGENDA = "Counting in fives, then a story."
PDF = b"%PDF-1.4\n% counting in fives\n%%EOF\n"


async def shot(page: Page, folder: Path, name: str) -> None:
    """Kept in the test's folder, and in SAFECLASS_E2E_SCREENS when it names one; and no serious
    accessibility problem (axe-core) on the page as it is, where axe is installed."""
    for where in (folder, screens_folder()):
        if where is not None:
            await page.screenshot(path=where / f"session-log-{name}.png", full_page=True)
    if AXE.exists():
        assert await serious_problems(page) == [], name


# covers: C15, CLA-17, CRO-09, CRO-10
async def test_a_teacher_adds_a_file_the_pupil_sees_it_and_a_reward_is_confirmed_in_the_console(
    browser: Browser, tmp_path: Path
):
    async with year_2_maths(tmp_path) as (server, school, session_id, clients):
        async with server.services.engine.begin() as conn:  # as the schedule form would set it
            await conn.execute(
                update(Session).where(Session.id == session_id).values(agenda=AGENDA)
            )
        sheet = tmp_path / "counting sheet.pdf"
        sheet.write_bytes(PDF)

        # the lesson's page: add the file
        teacher = await browser.new_context(locale="en-GB", viewport=DESKTOP)
        name, _, value = school.teacher_cookie.partition("=")
        await teacher.add_cookies([{"name": name, "value": value, "url": server.url}])
        page = await teacher.new_page()
        watch = Watch(page)
        await page.goto(f"{server.url}/staff/sessions/{session_id}")
        await expect(page.get_by_text(AGENDA)).to_be_visible()
        await page.get_by_text("Add a link or a file for families").click()  # a closed part
        form = page.locator("form.resource-form").filter(has_text="Add a file")
        await form.get_by_label("What it is (optional)").fill("Counting sheet")
        await form.get_by_label("File").set_input_files(sheet)
        await form.get_by_role("button", name="Add the file").click()
        await expect(page.get_by_role("status")).to_contain_text("Added. Families can open it")
        await expect(page.get_by_role("link", name="Counting sheet")).to_be_visible()
        await shot(page, tmp_path, "lesson-page")

        # the pupil's page, before joining: the agenda and the file
        family = await browser.new_context(locale="en-GB", viewport=PHONE)
        amelia = school.pupils["Amelia"]
        cookie = await pupil_cookie(server.services, school.id, session_id, amelia)
        name, _, value = cookie.partition("=")
        await family.add_cookies([{"name": name, "value": value, "url": server.url}])
        child = await family.new_page()
        await child.goto(f"{server.url}/room/{session_id}")
        before = child.locator("#screen-before")
        await expect(before).to_be_visible()
        await expect(before.get_by_text("What the lesson is about")).to_be_visible()
        await expect(before.get_by_text(AGENDA)).to_be_visible()
        link = before.get_by_role("link", name="Counting sheet")
        await expect(link).to_be_visible()
        async with child.expect_download() as waiting:
            await link.click()
        download = await waiting.value
        assert download.suggested_filename == "counting sheet.pdf"
        assert Path(await download.path()).read_bytes() == PDF
        await shot(child, tmp_path, "pupil-before")
        await family.close()

        # the console: Amelia in the room, a reward for her with the keyboard
        await page.goto(f"{server.url}/room/{session_id}")
        await expect(page.locator("#console-agenda")).to_have_text(f"Agenda: {AGENDA}")
        await page.get_by_role("button", name="Join the room").click()
        await expect(page.locator("#staffing")).to_have_text("Staff present: 1 of 2")
        assistant = await Client(server, session_id, school.assistant_cookie, "assistant").connect()
        clients.append(assistant)
        assert (await assistant.send("join"))["type"] == "ok"
        pupil = await Client(server, session_id, cookie, "amelia").connect()
        clients.append(pupil)
        assert (await pupil.send("join", acknowledged_expectations=True))["type"] == "ok"
        assert (await assistant.send("admit", pupils=[amelia]))["type"] == "ok"
        in_room = page.get_by_role("region", name="In the room")
        row = in_room.get_by_role("listitem").filter(has_text="Amelia R.")
        await row.get_by_role("button", name="Note or reward").click()
        text = page.get_by_label("What for, or what went on?")
        await expect(text).to_be_focused()  # Amelia is chosen already: straight to the words
        await expect(page.get_by_label("Which pupil is it for?")).to_have_value(amelia)
        await expect(page.get_by_label("A reward")).to_be_checked()
        await page.keyboard.type("Counted to 50 in fives")
        await shot(page, tmp_path, "console-reward-form")
        await page.keyboard.press("Tab")  # to "Save in the session log"
        await page.keyboard.press("Enter")
        saved = page.locator("#note-saved")
        await expect(saved).to_have_text("Reward for Amelia R. saved in the session log.")
        await expect(saved).to_be_focused()
        await shot(page, tmp_path, "console-reward-saved")
        assert watch.problems == []
        said = repr(pupil.messages)
        assert "Counted to 50" not in said  # pupils never see notes
        await teacher.close()
