"""A parent stops their child joining live lessons from their link, in a real browser (C17,
C23; issue 11, point 6): on a phone the family's page offers it, the next page says exactly what
will happen and asks, the answer says it is done and that only the school can undo it; then the
teacher's lesson page shows it beside the child, with when and by whom. In English and in Welsh.
And in a live lesson: the child leaves the room and the teacher's console says why at once.
Screenshots go to SAFECLASS_E2E_SCREENS when it is set.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, expect

from tests.e2e.conftest import Site, year_2_maths
from tests.e2e.family_pages import parent_on_a_phone, teacher_at_a_desk
from tests.e2e.test_console_page import Lesson
from tests.e2e.test_console_page import shot as console_shot
from tests.e2e.test_schedule_pages import DESKTOP, shot
from tests.integration.families import family_token

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]


# covers: C17, C23, CRO-16, C18
@pytest.mark.parametrize(
    ("locale", "forename", "words"),
    [
        (
            "en-GB",
            "Isla",
            {
                "offer": "Stop my child joining live lessons",
                "ask": "Stop Isla J. joining live lessons?",
                "what": "Isla J. cannot join this or any live lesson until the school hears from "
                "you again.",
                "now": "If Isla J. is in a lesson now, they leave it at once.",
                "yes": "Yes, stop Isla J. joining live lessons",
                "done": "Isla J. will not join live lessons",
                "again": "Only the school can let Isla J. join live lessons again.",
                "told": "Has withdrawn consent",
                "beside": "Does not take part: the parent withdrew consent through the link",
            },
        ),
        (
            "cy-GB",
            "Oliver",
            {
                "offer": "Atal fy mhlentyn rhag ymuno â gwersi byw",
                "ask": "Atal Oliver S. rhag ymuno â gwersi byw?",
                "what": "Ni all Oliver S. ymuno â'r wers fyw hon nac unrhyw wers fyw arall",
                "now": "Os yw Oliver S. mewn gwers nawr, bydd yn ei gadael ar unwaith.",
                "yes": "Ie, atal Oliver S. rhag ymuno â gwersi byw",
                "done": "Fydd Oliver S. ddim yn ymuno â gwersi byw",
                "again": "Dim ond yr ysgol all adael i Oliver S. ymuno â gwersi byw eto.",
                "told": "Wedi tynnu caniatâd yn ôl",
                "beside": "Ddim yn cymryd rhan: tynnodd y rhiant ganiatâd yn ôl drwy'r ddolen",
            },
        ),
    ],
)
async def test_a_parent_stops_their_child_joining_and_the_teacher_sees_it(
    browser: Browser, site: Site, locale: str, forename: str, words: dict[str, str]
):
    language = locale[:2]
    async with parent_on_a_phone(browser, site, locale, forename) as parent:
        offer = parent.get_by_role("link", name=words["offer"])
        await expect(offer).to_be_visible()
        await offer.scroll_into_view_if_needed()
        await shot(parent, f"family-withdraw-offer-{language}")
        await offer.click()
        await expect(parent.get_by_role("heading", level=1)).to_have_text(words["ask"])
        main = parent.locator("main")
        await expect(main).to_contain_text(words["what"])
        await expect(main).to_contain_text(words["now"])
        await expect(main).to_contain_text(words["again"])
        await shot(parent, f"family-withdraw-ask-{language}")
        await parent.get_by_role("button", name=words["yes"]).click()
        await expect(parent.get_by_role("heading", level=1)).to_have_text(words["done"])
        await expect(main).to_contain_text(words["again"])
        await shot(parent, f"family-withdraw-done-{language}")

    async with teacher_at_a_desk(browser, site, locale) as teacher:
        await teacher.goto(f"{site.url}/staff/sessions/{site.session_id}")
        section = teacher.locator("section.told")
        await expect(section).to_contain_text(forename)
        await expect(section).to_contain_text(words["told"])
        line = teacher.locator(".pupil-line", has_text=forename)
        await expect(line).to_contain_text(words["beside"])
        await line.scroll_into_view_if_needed()
        await shot(teacher, f"lesson-withdrawn-{language}")


# covers: C17, C23, CRO-16
async def test_the_console_says_at_once_when_a_parent_withdraws_during_the_lesson(
    browser: Browser, tmp_path: Path
):
    async with year_2_maths(tmp_path) as (server, school, session_id, clients):
        lesson = Lesson(server, school, session_id, clients)
        token = await family_token(server, school, session_id, "Isla")
        isla = await lesson.pupil("Isla")
        await lesson.pupil("Amelia")
        await lesson.staff(school.assistant_cookie, "assistant")
        context = await lesson.console(browser, "en-GB", DESKTOP)
        try:
            page = await context.new_page()
            await page.goto(f"{server.url}/room/{session_id}")
            await page.get_by_role("button", name="Join the room").click()
            waiting = page.get_by_role("region", name="Waiting room")
            await waiting.get_by_role("button", name="Admit everyone expected").click()
            in_room = page.get_by_role("region", name="In the room")
            await expect(in_room).to_contain_text("Isla J.")

            async with httpx.AsyncClient(base_url=server.url, timeout=15) as family:
                assert (await family.post(f"/join/{token}/withdraw")).status_code == 200
            await expect(page.locator("#latest-notice")).to_have_text(
                "Isla J.'s parent has withdrawn consent through their link: Isla J. cannot "
                "join, and has left the lesson if they were in it.",
                timeout=3000,
            )
            await expect(in_room).not_to_contain_text("Isla J.")
            await expect(in_room).to_contain_text("Amelia R.")
            await expect(page.locator("#class-list")).to_contain_text("opted out: cannot join")
            assert isla.closed.is_set() and isla.close_code == 4004
            await console_shot(page, "withdrawn-by-family-en-desktop")
        finally:
            await context.close()
