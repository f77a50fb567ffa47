"""The DSL's page in a real browser (C16; issue 11): a teacher writes a concern after the lesson
on its page (the form's errors first); then, from the DSL's staff home to the concerns, the
open one first; open it, read the account, mark it read, add to it and record an action; then
the pupil's chronology, where a concern written later about an earlier day sits on that day.
Every page is checked by axe-core when it is installed, must not scroll sideways, and is saved
as a screenshot (SAFECLASS_E2E_SCREENS, else the test's own folder).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from safeclass.adapters.store import school_records
from safeclass.app import concerns
from tests.e2e.conftest import Site, screens_folder
from tests.e2e.test_schedule_pages import DESKTOP
from tests.integration.live import staff_cookie
from tests.support.axe import AXE, serious_problems
from tests.support.layout import assert_fits

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

TODAY = "Amelia said she had not eaten since yesterday lunchtime"
LAST_WEEK = "Amelia came in without a coat in the rain and said she was cold at home"


async def look(page: Page, name: str, folder: Path) -> None:
    """No sideways scrolling, 44 px targets, nothing serious for axe; then a screenshot."""
    await assert_fits(page, name, controls="button, input, select", in_text=True)
    if AXE.exists():
        assert await serious_problems(page) == [], name
    await page.screenshot(
        path=(screens_folder() or folder) / f"concerns-{name}.png", full_page=True
    )


async def raise_one(site: Site, account: str, happened: dt.datetime | None, at: dt.datetime) -> str:
    services = site.server.services
    return await concerns.raise_afterwards(
        services.concerns,
        services.concern_key,
        school_id=site.school.id,
        session_id=site.session_id,
        session_title="Year 2 Maths",
        timezone="Europe/London",
        pupils=[site.school.pupils["Amelia"]],
        category="Neglect",
        account=account,
        happened_at=happened,
        by=site.school.teacher_id,
        by_name="Mrs Khan",
        keep_to_age=25,
        now=at,
        alerts=services.alerts,
    )


# covers: C16, CLA-07, STJ-08
async def test_the_dsl_reads_a_concern_marks_it_read_adds_to_it_and_sees_the_chronology(
    browser: Browser, site: Site, tmp_path: Path
):
    services = site.server.services
    now = services.clock.now()
    async with services.engine.begin() as conn:
        dsl = await school_records.add_staff(
            conn, site.school.id, name="Ms Patel", email="dsl@claydon.test", role="dsl"
        )
    _, cookie = await staff_cookie(services, site.school.id, "dsl", "Ms Patel", staff_id=dsl.id)
    today = await raise_one(site, TODAY, None, now - dt.timedelta(minutes=20))
    # written just now about a morning last week: it must sit there in the chronology
    await raise_one(site, LAST_WEEK, now - dt.timedelta(days=6), now - dt.timedelta(minutes=5))

    # the teacher writes one after the lesson, from its page (a GOV.UK form; errors first)
    teacher = await browser.new_context(locale="en-GB", viewport=DESKTOP)
    name, _, value = site.school.teacher_cookie.partition("=")
    await teacher.add_cookies([{"name": name, "value": value, "url": site.url}])
    try:
        page = await teacher.new_page()
        await page.goto(f"{site.url}/staff/sessions/{site.session_id}")
        await page.get_by_role("link", name="Raise a safeguarding concern").click()
        await page.get_by_role("button", name="Send to the safeguarding lead").click()
        summary = page.get_by_role("alert")
        await expect(summary).to_contain_text("Choose at least one pupil")
        await expect(summary).to_contain_text("Choose what kind of concern it is")
        await expect(summary).to_contain_text("Write what you saw or heard")
        await look(page, "raise-errors", tmp_path)
        await page.get_by_label("Isla J.").check()
        await page.get_by_label("What kind of concern?").select_option(label="Online safety")
        await page.get_by_label("What did you see or hear?").fill(
            "Isla said an older boy online asked for her photo"
        )
        await page.get_by_role("button", name="Send to the safeguarding lead").click()
        await expect(page.get_by_role("status")).to_contain_text("Your concern is recorded.")
        # this server has no email: the page promises no alert, and says to tell the DSL now
        await expect(page.get_by_role("status")).to_contain_text("Tell them yourself now.")
        await expect(page.locator("blockquote.account")).to_contain_text("older boy online")
        await look(page, "raised", tmp_path)
    finally:
        await teacher.close()

    context = await browser.new_context(locale="en-GB", viewport=DESKTOP)
    name, _, value = cookie.partition("=")
    await context.add_cookies([{"name": name, "value": value, "url": site.url}])
    try:
        page = await context.new_page()
        await page.goto(f"{site.url}/staff")
        await page.get_by_role("link", name="Safeguarding concerns").click()
        await expect(page.get_by_role("heading", name="Safeguarding concerns")).to_be_visible()
        unread = page.locator("table").first
        await expect(unread.locator("tbody tr")).to_have_count(3)
        await expect(page.locator("main")).not_to_contain_text(TODAY)  # the list never shows it
        await look(page, "list", tmp_path)

        await page.goto(f"{site.url}/staff/concerns/{today}")
        await expect(page.locator("blockquote.account")).to_have_text(TODAY)
        await expect(page.locator("main")).to_contain_text("Not read yet")
        await look(page, "concern", tmp_path)

        await page.get_by_role("button", name="Mark as read").click()
        await expect(page.get_by_role("status")).to_contain_text("Marked as read.")
        await expect(page.locator("main")).to_contain_text("Read by Ms Patel")
        await expect(page.get_by_role("button", name="Mark as read")).to_have_count(0)

        await page.get_by_label("What else was seen or heard?").fill(
            "At lunch she asked for seconds twice"
        )
        await page.get_by_role("button", name="Add to this concern").click()
        await expect(page.get_by_role("status")).to_contain_text("Your addition is recorded.")
        await page.get_by_label("What was done, and by whom?").fill(
            "Ms Patel rang mum at 15:10; referral to early help"
        )
        await page.get_by_role("button", name="Record the action").click()
        await expect(page.get_by_role("status")).to_contain_text("The action is recorded.")
        entries = page.locator("ol.entries > li")
        await expect(entries).to_have_count(3)
        await expect(entries.nth(0)).to_contain_text("Marked as read")
        await expect(entries.nth(1)).to_contain_text("seconds twice")
        await expect(entries.nth(2)).to_contain_text("early help")
        await expect(page.locator("blockquote.account")).to_have_text(TODAY)  # unchanged
        await look(page, "concern-added-to", tmp_path)

        await page.get_by_role("link", name="Amelia Roberts").click()
        await expect(page.get_by_role("heading", name="Chronology: Amelia Roberts")).to_be_visible()
        lines = page.locator("ol.chronology > li")
        await expect(lines).to_have_count(5)  # 2 accounts, read, an addition, an action
        await expect(lines.nth(0)).to_contain_text("without a coat")
        await expect(lines.nth(1)).to_contain_text("not eaten")
        await look(page, "chronology", tmp_path)

        await page.goto(f"{site.url}/staff/concerns")
        await expect(page.locator("table").first.locator("tbody tr")).to_have_count(2)
        await expect(page.locator("table").nth(1).locator("tbody tr")).to_have_count(1)
        await look(page, "list-after", tmp_path)
    finally:
        await context.close()
