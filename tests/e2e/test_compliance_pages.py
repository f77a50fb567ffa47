"""The compliance pages in a real browser (issue 11): a lesson in which the assistant dropped out
for 40 seconds, run through the real server; the teacher opens its compliance report from the
lesson's page and reads that one rule not held, with the times; the head reads the school-wide
summary; both in English and Welsh, on a desktop and a phone, with axe-core's serious problems
none. Screenshots go to SAFECLASS_E2E_SCREENS when it is set.
"""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import Site, screens_folder
from tests.integration.compliance_lessons import run_lesson
from tests.integration.live import staff_cookie
from tests.support.axe import AXE, serious_problems
from tests.support.layout import assert_fits
from tests.support.rooms import START

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
_LESSON: dict[str, str] = {}


async def dropped_lesson(site: Site) -> str:
    """The lesson with the 40-second drop, run once for this module."""
    if "id" not in _LESSON:
        site.server.clock.set(START - dt.timedelta(minutes=3))
        _LESSON["id"] = await run_lesson(site.server, site.school, drop_seconds=40)
    return _LESSON["id"]


async def signed_in(
    browser: Browser, site: Site, cookie: str, locale: str, size: dict[str, int]
) -> BrowserContext:
    context = await browser.new_context(locale=locale, viewport=size)  # type: ignore[arg-type]
    name, _, value = cookie.partition("=")
    await context.add_cookies([{"name": name, "value": value, "url": site.url}])
    return context


async def look(page: Page, name: str) -> None:
    """Saved as a screenshot (when SAFECLASS_E2E_SCREENS names a folder), then checked: no
    sideways scrolling, 44 px targets, no serious axe-core problem."""
    folder = screens_folder()
    if folder is not None:
        await page.screenshot(path=folder / f"compliance-{name}.png", full_page=True)
    await assert_fits(page, name, controls="button, input, .downloads a", in_text=True)
    if AXE.exists():
        assert await serious_problems(page) == [], name


# covers: CLA-02, CLA-17, C5, C15
@pytest.mark.parametrize(
    ("locale", "words"),
    [
        (
            "en-GB",
            {
                "link": "Did every rule of the policy hold? See the compliance report",
                "verdict": "1 rule not held",
                "rule": "Not held Enough adults present throughout (CLA-02)",
                "held": "(40 seconds) for lack of staff.",
            },
        ),
        (
            "cy-GB",
            {
                "link": "Gafodd pob rheol yn y polisi ei dilyn? Gweld yr adroddiad cydymffurfio",
                "verdict": "1 rheol heb ei dilyn",
                "rule": "Heb ei dilyn Digon o oedolion yn bresennol drwy'r amser (CLA-02)",
                "held": "(40 eiliad) am nad oedd digon o staff.",
            },
        ),
    ],
)
async def test_the_teacher_reads_the_one_rule_not_held_from_the_lessons_page(
    browser: Browser, site: Site, locale: str, words: dict[str, str]
):
    session_id = await dropped_lesson(site)
    language = locale[:2]
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        context = await signed_in(browser, site, site.school.teacher_cookie, locale, size)
        try:
            page = await context.new_page()
            await page.goto(f"{site.url}/staff/sessions/{session_id}")
            async with page.expect_navigation():
                await page.get_by_role("link", name=words["link"]).click()
            await expect(page).to_have_url(f"{site.url}/staff/sessions/{session_id}/compliance")
            await expect(page.locator(".verdict")).to_contain_text(words["verdict"])
            staff = page.locator(".compliance-rule.rule-not_held")
            await expect(staff).to_have_count(1)
            await expect(staff.get_by_role("heading")).to_have_text(words["rule"])
            await expect(staff).to_contain_text(words["held"])
            await expect(page.locator(".compliance-rule.rule-held")).to_have_count(11)
            await look(page, f"session-{language}-{label}")
        finally:
            await context.close()


# covers: CRO-02, C15
async def test_the_head_sees_the_breach_across_the_schools_lessons(browser: Browser, site: Site):
    session_id = await dropped_lesson(site)
    _, cookie = await staff_cookie(site.server.services, site.school.id, "head", "Mrs Head")
    day = START.date().isoformat()
    for locale, label, size in (("en-GB", "desktop", DESKTOP), ("cy-GB", "phone", PHONE)):
        context = await signed_in(browser, site, cookie, locale, size)
        try:
            page = await context.new_page()
            await page.goto(f"{site.url}/staff")
            async with page.expect_navigation():
                await page.locator("a[href='/staff/compliance']").click()
            await page.locator("#from").fill(day)
            await page.locator("#to").fill(day)
            async with page.expect_navigation():
                await page.locator("form.date-range button").click()
            row = page.locator(".compliance-table tbody tr").filter(
                has=page.locator(f"a[href='/staff/sessions/{session_id}/compliance']")
            )
            await expect(row).to_have_count(1)
            await expect(row.locator("td.c-not-held")).to_have_count(1)
            await expect(page.locator(".totals")).to_contain_text(
                "1 breach" if locale == "en-GB" else "1 achos o dorri rheol"
            )
            await look(page, f"school-{locale[:2]}-{label}")
        finally:
            await context.close()
