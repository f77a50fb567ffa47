"""A teacher in a real browser: sign in, today's session with Join, errors, Welsh, the keyboard,
and nothing loaded from anywhere but this server (issue 10; STYLE.md "The pages people read")."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, Response, expect

from tests.e2e.conftest import PASSWORD, Site, screens_folder
from tests.support.layout import assert_fits
from tests.support.page_watch import console_problems, failed

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(loop_scope="module")
async def english(browser: Browser) -> AsyncIterator[BrowserContext]:
    context = await browser.new_context(locale="en-GB")
    try:
        yield context
    finally:
        await context.close()


@pytest_asyncio.fixture(loop_scope="module")
async def welsh(browser: Browser) -> AsyncIterator[BrowserContext]:
    context = await browser.new_context(locale="cy-GB")
    try:
        yield context
    finally:
        await context.close()


async def sign_in(page: Page, site: Site, password: str = PASSWORD) -> None:
    await page.goto(f"{site.url}/sign-in")
    await page.get_by_label("Email address").fill(site.email)
    await page.get_by_label("School key").fill(site.school.key)
    await page.get_by_label("Password").fill(password)
    async with page.expect_navigation():  # the answer's page is in before anything else happens
        await page.get_by_role("button", name="Sign in").click()


async def test_a_teacher_signs_in_and_sees_todays_session_with_join(
    site: Site, english: BrowserContext
):
    page = await english.new_page()
    await sign_in(page, site)
    await expect(page).to_have_url(f"{site.url}/staff")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Today's lessons")
    session = page.get_by_role("listitem").filter(has_text="Year 2 Maths")
    await expect(session).to_contain_text("10:00 to 10:30")
    await expect(session).to_contain_text("Starts in 50 minutes")
    join = session.get_by_role("link", name="Join Year 2 Maths")
    await expect(join).to_have_attribute("href", f"/room/{site.session_id}")
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()


async def test_a_wrong_password_shows_the_error_summary_and_focus_moves_to_it(
    site: Site, english: BrowserContext
):
    page = await english.new_page()
    await sign_in(page, site, password="not the password")  # noqa: S106
    summary = page.locator(".error-summary")
    await expect(summary).to_be_focused()
    await expect(summary).to_contain_text("There is a problem")
    await expect(page).to_have_title(re.compile(r"^Error: Sign in"))
    await summary.get_by_role("link").click()  # the summary's link takes focus to the field
    await expect(page.get_by_label("Email address")).to_be_focused()
    await expect(page.get_by_label("Email address")).to_have_value(site.email)
    await expect(page.get_by_label("Password")).to_have_value("")


async def test_a_welsh_browser_sees_welsh_and_the_switch_to_english_sticks(
    site: Site, welsh: BrowserContext
):
    page = await welsh.new_page()
    await page.goto(f"{site.url}/")
    await expect(page.locator("html")).to_have_attribute("lang", "cy")
    await expect(page.get_by_role("link", name="Mewngofnodi")).to_be_visible()
    await page.get_by_role("link", name="Mewngofnodi").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Mewngofnodi")
    await page.get_by_role("link", name="English").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    await page.get_by_role("link", name="safeclass").click()  # another page: still English
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Live lessons your school keeps safe"
    )
    await page.get_by_role("link", name="Cymraeg").click()  # and back to Welsh
    await expect(page.locator("html")).to_have_attribute("lang", "cy")


async def test_no_page_loads_anything_from_another_host_and_every_policy_is_strict(
    site: Site, english: BrowserContext
):
    page = await english.new_page()
    requested: list[str] = []
    documents: list[Response] = []
    problems: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on(
        "response",
        lambda response: (
            documents.append(response)
            if response.request.resource_type == "document" and not 300 <= response.status < 400
            else None
        ),
    )
    page.on(
        "console", lambda message: problems.extend(console_problems(message.type, message.text))
    )
    page.on("requestfailed", lambda request: problems.append(failed(request)))
    await page.goto(f"{site.url}/")
    async with page.expect_navigation():  # or the next page.goto would abort this one
        await page.get_by_role("link", name="Sign in").click()
    await sign_in(page, site, password="wrong")  # noqa: S106 (the page with the error summary)
    await sign_in(page, site)
    await expect(page).to_have_url(f"{site.url}/staff")
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("status")).to_have_text("You have signed out.")

    assert [url for url in requested if not url.startswith(f"{site.url}/")] == []
    assert any("/static/pages.js" in url for url in requested)
    assert any("/static/site.css" in url for url in requested)
    assert problems == []  # no policy violation, nothing refused
    assert len(documents) >= 5  # /, /sign-in, its error page, /staff, signed out
    for response in documents:
        policy = await response.header_value("content-security-policy") or ""
        assert "script-src 'self'" in policy, response.url
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy, response.url


async def test_a_teacher_can_sign_in_and_join_with_the_keyboard_alone(
    site: Site, english: BrowserContext
):
    page = await english.new_page()
    await page.goto(f"{site.url}/sign-in")
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    await page.keyboard.press("Enter")  # the skip link: past the header, into the page
    email = page.get_by_label("Email address")
    for _ in range(5):
        await page.keyboard.press("Tab")
        if await email.evaluate("field => field === document.activeElement"):
            break
    await expect(email).to_be_focused()
    await page.keyboard.type(site.email)
    await page.keyboard.press("Tab")
    await page.keyboard.type(site.school.key)
    await page.keyboard.press("Tab")
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(f"{site.url}/staff")
    join = page.get_by_role("link", name="Join Year 2 Maths")
    for _ in range(10):
        await page.keyboard.press("Tab")
        if await join.evaluate("link => link === document.activeElement"):
            break
    await expect(join).to_be_focused()
    outline = await join.evaluate("link => getComputedStyle(link).backgroundColor")
    assert outline == "rgb(255, 221, 0)"  # the focus is visible: the yellow of site.css
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(f"{site.url}/room/{site.session_id}")


VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 360, "height": 740}}


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
@pytest.mark.parametrize("language", ["en", "cy"])
async def test_every_page_fits_a_phone_and_a_desktop_in_both_languages(
    site: Site, browser: Browser, viewport: str, language: str
):
    """No page scrolls sideways (WCAG 1.4.10 reflow) and every target is at least 24 px
    (WCAG 2.5.8). With SAFECLASS_E2E_SCREENS set, each page's screenshot is saved there."""
    context = await browser.new_context(
        locale="cy-GB" if language == "cy" else "en-GB", viewport=VIEWPORTS[viewport]
    )
    folder = screens_folder()
    try:
        page = await context.new_page()
        shots = {
            "landing": f"{site.url}/",
            "sign-in": f"{site.url}/sign-in",
            "signed-out": f"{site.url}/staff",
        }
        for name, address in shots.items():
            await page.goto(address)
            await _check_layout(page, name)
            if folder is not None:
                shot = folder / f"{name}-{language}-{viewport}.png"
                await page.screenshot(path=shot, full_page=True)
        await sign_in_in(page, site, "Mewngofnodi" if language == "cy" else "Sign in", "wrong")
        await _check_layout(page, "sign-in error")
        if folder is not None:
            await page.screenshot(
                path=folder / f"sign-in-error-{language}-{viewport}.png", full_page=True
            )
        await sign_in_in(page, site, "Mewngofnodi" if language == "cy" else "Sign in", PASSWORD)
        await expect(page).to_have_url(f"{site.url}/staff")
        await _check_layout(page, "staff")
        if folder is not None:
            await page.screenshot(path=folder / f"staff-{language}-{viewport}.png", full_page=True)
    finally:
        await context.close()


async def sign_in_in(page: Page, site: Site, button: str, password: str) -> None:
    """Sign in by the fields' ids, whatever the page's language."""
    await page.goto(f"{site.url}/sign-in")
    await page.locator("#email").fill(site.email)
    await page.locator("#school").fill(site.school.key)
    await page.locator("#password").fill(password)
    async with page.expect_navigation():
        await page.get_by_role("button", name=button).click()


async def _check_layout(page: Page, name: str) -> None:
    await assert_fits(page, name, minimum=24)
