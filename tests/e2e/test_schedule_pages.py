"""A teacher's lesson in a real browser, from scheduling it to its register (issue 10, point 1):
schedule a lesson for the class with the assistant, its page with the class list and consent,
a family's link copied (it opens the pupil's page in another browser) and its letter printed,
a link stopped, the class list, bad input refused with nothing saved, and the register as CSV
and PDF once the lesson has ended. English and Welsh, a phone and a desktop; screenshots go to
SAFECLASS_E2E_SCREENS when it is set.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, expect
from sqlalchemy import func, select

from safeclass.adapters.store.tables import Session, SessionStaff
from tests.e2e.conftest import PASSWORD, Site, screens_folder
from tests.integration.families import make_school
from tests.integration.live import Client, pupil_cookie
from tests.support.layout import assert_fits
from tests.support.rooms import START

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
DAY = START.date().isoformat()  # Tuesday 24 November 2026; the site's clock is at 09:10


@pytest_asyncio.fixture(loop_scope="module")
async def teacher(browser: Browser, site: Site) -> AsyncIterator[Page]:
    context = await browser.new_context(locale="en-GB", viewport=DESKTOP)
    try:
        page = await context.new_page()
        await sign_in(page, site)
        yield page
    finally:
        await context.close()


async def sign_in(page: Page, site: Site) -> None:
    await page.goto(f"{site.url}/sign-in")
    await page.locator("#email").fill(site.email)
    await page.locator("#school").fill(site.school.key)
    await page.locator("#password").fill(PASSWORD)
    async with page.expect_navigation():
        await page.locator("form button[type=submit]").click()
    await expect(page).to_have_url(f"{site.url}/staff")


async def shot(page: Page, name: str) -> None:
    """The page must not scroll sideways (WCAG 1.4.10) and its controls must be 44 px targets;
    saved as a screenshot when SAFECLASS_E2E_SCREENS names a folder."""
    await assert_fits(page, name, controls="button, input, select", in_text=True)
    folder = screens_folder()
    if folder is not None:
        await page.screenshot(path=folder / f"staff-{name}.png", full_page=True)


async def fill_lesson(
    page: Page,
    *,
    title: str = "Year 2 Science",
    class_name: str | None = "2B",
    time: str = "09:45",  # within the hour before it, so its links open the page
    minutes: str = "30",
    assistant: bool = True,
) -> None:
    if class_name is not None:
        await page.get_by_label("Class").select_option(label=class_name)
    await page.get_by_label("Title").fill(title)
    await page.get_by_label("Date").fill(DAY)
    await page.get_by_label("Starts at").fill(time)
    await page.get_by_label("Length in minutes").fill(minutes)
    if assistant:
        await page.get_by_label("Mr Lee (teaching assistant)").check()


async def sessions_saved(site: Site) -> int:
    async with site.server.services.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(Session)) or 0)


# covers: C1, CLA-01, CLA-02, CLA-03, CLA-06, C17
async def test_a_teacher_schedules_a_lesson_with_the_assistant_and_sees_its_page(
    site: Site, teacher: Page
):
    page = teacher
    await page.get_by_role("link", name="Schedule a lesson").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Schedule a lesson")
    # the policy's limits, said before anything is typed
    await expect(page.get_by_text("The school's policy allows at most 30 minutes.")).to_be_visible()
    await expect(
        page.get_by_text(
            "The school's policy needs at least 2 adults in the room before pupils are let in."
        )
    ).to_be_visible()
    await shot(page, "schedule-en-desktop")
    await fill_lesson(page)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Schedule the lesson").click()
    await expect(page).to_have_url(re.compile(rf"{site.url}/staff/sessions/[0-9a-f-]+$"))
    session_id = page.url.rsplit("/", 1)[1]

    await expect(page.get_by_role("heading", level=1)).to_have_text("Year 2 Science")
    await expect(page.locator(".lead")).to_have_text("Tuesday 24 November 2026, 09:45 to 10:15")
    adults = page.locator(".people")
    await expect(adults).to_contain_text("Mrs Khan (teacher)")
    await expect(adults).to_contain_text("Mr Lee (teaching assistant)")
    await expect(page.get_by_text("Not enough adults yet.")).to_be_hidden()
    pupils = page.get_by_role("list", name="Class list")
    amelia = pupils.get_by_role("listitem").filter(has_text="Amelia R.")
    await expect(amelia).to_contain_text("Takes part: the parents have not said no")
    await expect(amelia).to_contain_text("No link sent yet")
    noah = pupils.get_by_role("listitem").filter(has_text="Noah O.")
    await expect(noah).to_contain_text("Does not take part: the parents said no")
    await expect(noah.get_by_role("button")).to_have_count(0)  # no link for him (C17)
    await expect(page.get_by_text("Email is not set up on this server")).to_be_visible()
    await expect(page.get_by_text("once the lesson has ended")).to_be_visible()
    await shot(page, "session-en-desktop")

    async with site.server.services.engine.connect() as conn:
        staff = set(
            (
                await conn.execute(
                    select(SessionStaff.staff_id).where(SessionStaff.session_id == session_id)
                )
            ).scalars()
        )
    assert staff == {site.school.teacher_id, site.school.assistant_id}

    # the class list, from the lesson's page and from the staff home
    await page.get_by_role("link", name="The whole class with consent").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Class 2B")
    await expect(page.locator(".lead")).to_contain_text("3 pupils take part in live lessons")
    isla = page.locator(".pupil-line").filter(has_text="Isla J.")
    await expect(isla).to_contain_text("Takes part: the parents have not said no")
    await expect(isla).to_contain_text("Parent's email on record")
    await expect(page.get_by_text("@")).to_have_count(0)  # never a parent's address
    await shot(page, "class-en-desktop")
    await page.get_by_role("link", name="Schedule a lesson").click()  # for this class
    await expect(page.get_by_label("Class")).to_have_value(site.school.class_id)
    await page.goto(f"{site.url}/staff")
    await page.get_by_role("link", name="Class 2B").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Class 2B")
    await page.goto(f"{site.url}/staff")
    await expect(page.get_by_role("link", name="Year 2 Science", exact=True)).to_have_attribute(
        "href", f"/staff/sessions/{session_id}"
    )
    await shot(page, "home-en-desktop")


BAD = {
    # name: (what the form gets, the error it shows, the field that error leads to)
    "no class": ({"class_name": None}, "Choose the class", "class_id"),
    "too long": ({"minutes": "45"}, "A lesson can be at most 30 minutes long", "minutes"),
    "in the past": ({"time": "09:00"}, "The lesson must start in the future", "date"),
    "after school": ({"time": "15:15"}, "The lesson must be inside the school day", "time"),
    "no title": ({"title": ""}, "Enter a title for the lesson", "title"),
}


# covers: C1, CLA-06, CRO-05
@pytest.mark.parametrize("case", sorted(BAD))
async def test_bad_input_is_refused_with_a_clear_error_and_nothing_saved(
    site: Site, teacher: Page, case: str
):
    fields, message, field = BAD[case]
    page = teacher
    before = await sessions_saved(site)
    await page.goto(f"{site.url}/staff/sessions/new")
    await fill_lesson(page, **fields)  # type: ignore[arg-type]
    async with page.expect_navigation():
        await page.get_by_role("button", name="Schedule the lesson").click()
    summary = page.locator(".error-summary")
    await expect(summary).to_be_focused()
    await expect(summary).to_contain_text("Nothing has been saved yet.")
    await expect(summary).to_contain_text(message)
    await expect(page).to_have_title(re.compile(r"^Error: Schedule a lesson"))
    await expect(page.locator(f"#{field}")).to_have_attribute("aria-invalid", "true")
    await summary.get_by_role("link", name=re.compile(re.escape(message))).click()
    await expect(page.locator(f"#{field}")).to_be_focused()
    if fields.get("title", "x"):  # what was typed is kept
        await expect(page.get_by_label("Title")).to_have_value(
            str(fields.get("title", "Year 2 Science"))
        )
    await expect(page.get_by_label("Mr Lee (teaching assistant)")).to_be_checked()
    assert await sessions_saved(site) == before
    if case == "too long":
        await shot(page, "schedule-error-en-desktop")


# covers: C1, C21, CLA-03
async def test_a_member_of_staff_of_another_school_cannot_be_added_by_a_forged_form(
    site: Site, teacher: Page
):
    other = await make_school(site.server.services)
    page = teacher
    before = await sessions_saved(site)
    await page.goto(f"{site.url}/staff/sessions/new")
    await fill_lesson(page)
    await page.evaluate(  # what a forged form would post: another school's teacher
        """id => { const box = document.createElement('input');
            box.type = 'checkbox'; box.name = 'staff_ids'; box.value = id; box.checked = true;
            document.querySelector('form.schedule').append(box); }""",
        other.teacher_id,
    )
    async with page.expect_navigation():
        await page.get_by_role("button", name="Schedule the lesson").click()
    await expect(page.locator(".error-summary")).to_contain_text("Choose staff from the list")
    assert await sessions_saved(site) == before
    # and a class of another school, the same way
    await page.goto(f"{site.url}/staff/sessions/new")
    await fill_lesson(page)
    await page.evaluate(
        """id => { const option = document.createElement('option'); option.value = id;
            option.textContent = 'Forged'; const select = document.getElementById('class_id');
            select.append(option); select.value = id; }""",
        other.class_id,
    )
    async with page.expect_navigation():
        await page.get_by_role("button", name="Schedule the lesson").click()
    await expect(page.locator(".error-summary")).to_contain_text("Choose a class from the list")
    assert await sessions_saved(site) == before


async def open_science(page: Page, site: Site) -> str:
    """The Year 2 Science lesson's page (scheduled by the first test); its id."""
    await page.goto(f"{site.url}/staff")
    await page.get_by_role("link", name="Year 2 Science", exact=True).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Year 2 Science")
    return page.url.rsplit("/", 1)[1]


# covers: C2, S04-02, WER-02
async def test_a_family_link_is_copied_opens_the_pupils_page_and_its_letter_prints(
    site: Site, teacher: Page, browser: Browser
):
    page = teacher
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    session_id = await open_science(page, site)
    async with page.expect_navigation():
        await page.get_by_role("button", name="Link to copy or print for Amelia R.").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Link for Amelia R.")
    await expect(page.get_by_text("Give this link only to Amelia R.'s family.")).to_be_visible()
    field = page.get_by_label("The family's link")
    link = await field.input_value()
    assert re.fullmatch(rf"{re.escape(site.url)}/join/[A-Za-z0-9_-]{{40,}}", link), link
    await page.get_by_role("button", name="Copy link").click()
    await expect(page.get_by_role("status")).to_have_text(
        "Link copied. Paste it into a message to the family."
    )
    assert await page.evaluate("navigator.clipboard.readText()") == link
    letter = page.locator(".letter")
    await expect(letter).to_contain_text(link)
    await expect(letter).to_contain_text("Amelia R.")
    await shot(page, "family-link-en-desktop")

    # Print: the browser's print, showing the letter alone
    await page.evaluate("() => { window.printed = 0; window.print = () => { window.printed++; }; }")
    await page.get_by_role("button", name="Print the letter").click()
    assert await page.evaluate("window.printed") == 1
    await page.emulate_media(media="print")
    await expect(letter).to_be_visible()
    await expect(page.get_by_role("button", name="Copy link")).to_be_hidden()
    await expect(page.locator(".header")).to_be_hidden()
    await expect(page.get_by_role("heading", level=1)).to_be_hidden()
    folder = screens_folder()
    if folder is not None:
        await page.screenshot(path=folder / "staff-letter-print.png", full_page=True)
    await page.emulate_media(media="screen")

    # the link, pasted into a fresh browser, opens Amelia's page
    family = await browser.new_context(locale="en-GB", viewport=PHONE)
    try:
        pupil = await family.new_page()
        await pupil.goto(link)
        await expect(pupil).to_have_url(f"{site.url}/room/{session_id}")
        await expect(pupil.get_by_role("heading", level=1)).to_have_text("Hello, Amelia R.!")
    finally:
        await family.close()

    # back on the lesson's page: her link is sent; stop it, and it opens nothing any more
    await page.get_by_role("link", name="Back to the lesson").click()
    amelia = page.locator(".pupil-line").filter(has_text="Amelia R.")
    await expect(amelia).to_contain_text("Link sent")
    async with page.expect_navigation():
        await amelia.get_by_role("button", name="Stop link for Amelia R.").click()
    await expect(page.get_by_role("status")).to_have_text(
        "The link for Amelia R. has stopped. Any device it opened has been signed out."
    )
    await expect(amelia).to_contain_text("Link stopped")
    await shot(page, "session-stopped-en-desktop")
    again = await browser.new_context(locale="en-GB")
    try:
        pupil = await again.new_page()
        await pupil.goto(link)
        await expect(pupil).not_to_have_url(f"{site.url}/room/{session_id}")
    finally:
        await again.close()


# covers: C2
async def test_the_link_page_is_never_kept_and_the_token_is_nowhere_else(site: Site, teacher: Page):
    page = teacher
    await open_science(page, site)
    async with page.expect_navigation() as shown:
        await page.get_by_role("button", name="Link to copy or print for Isla J.").click()
    response = await shown.value
    assert response is not None
    assert await response.header_value("cache-control") == "no-store"
    token = (await page.get_by_label("The family's link").input_value()).rsplit("/", 1)[1]
    await page.get_by_role("link", name="Back to the lesson").click()
    assert token not in await page.content()  # the lesson's page never shows it
    assert token not in page.url


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
async def test_the_pages_in_welsh_on_a_phone_and_a_desktop(
    site: Site, browser: Browser, viewport: str
):
    context = await browser.new_context(
        locale="cy-GB", viewport=PHONE if viewport == "phone" else DESKTOP
    )
    try:
        page = await context.new_page()
        await sign_in(page, site)
        await page.get_by_role("link", name="Trefnu gwers").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Trefnu gwers")
        await shot(page, f"schedule-cy-{viewport}")
        async with page.expect_navigation():
            await page.get_by_role("button", name="Trefnu'r wers").click()
        await expect(page.locator(".error-summary")).to_contain_text("Dewiswch y dosbarth")
        await shot(page, f"schedule-error-cy-{viewport}")
        await page.goto(f"{site.url}/staff")
        await page.get_by_role("link", name="Year 2 Science", exact=True).click()
        await expect(page.get_by_role("heading", name="Rhestr y dosbarth")).to_be_visible()
        await shot(page, f"session-cy-{viewport}")
        await page.get_by_role("link", name="Y dosbarth cyfan a'r caniatâd").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Dosbarth 2B")
        await shot(page, f"class-cy-{viewport}")
        await page.goto(f"{site.url}/staff")
        await page.get_by_role("link", name="Year 2 Science", exact=True).click()
        async with page.expect_navigation():
            await page.get_by_role(
                "button", name=re.compile("^Dolen i'w chopïo neu ei hargraffu")
            ).first.click()
        await expect(page.get_by_role("button", name="Copïo'r ddolen")).to_be_visible()
        letter = page.locator(".letter")  # a Welsh school prints its families' letters in Welsh
        await expect(letter).to_contain_text("Annwyl riant neu ofalwr,")
        await expect(letter).to_contain_text("Cyn y wers, os gwelwch yn dda:")
        await expect(letter).to_contain_text(await page.locator("#family-link").input_value())
        assert "Dear parent" not in await letter.inner_text()
        await shot(page, f"family-link-cy-{viewport}")
        if viewport == "phone":
            await page.goto(f"{site.url}/staff")
            await shot(page, "home-cy-phone")
    finally:
        await context.close()


async def test_an_assistant_sees_the_lesson_but_no_scheduling_and_no_new_links(
    site: Site, browser: Browser
):
    """What a role may not do is not offered (and the server refuses it: the matrix test)."""
    context = await browser.new_context(locale="en-GB")
    try:
        cookie = site.school.assistant_cookie
        name, _, value = cookie.partition("=")
        await context.add_cookies([{"name": name, "value": value, "url": site.url}])
        page = await context.new_page()
        await page.goto(f"{site.url}/staff")
        await expect(page.get_by_role("link", name="Schedule a lesson")).to_have_count(0)
        await page.get_by_role("link", name="Year 2 Science", exact=True).click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Year 2 Science")
        await expect(page.get_by_role("button", name=re.compile("^Link to copy"))).to_have_count(0)
        response = await page.goto(f"{site.url}/staff/sessions/new")
        assert response is not None and response.status == 403
        await expect(page.get_by_role("heading", level=1)).to_have_text(
            "Your account cannot do this"
        )
    finally:
        await context.close()


# covers: C14, S04-03, CLA-17
async def test_after_the_lesson_the_register_downloads_as_csv_and_pdf(site: Site, teacher: Page):
    """Year 2 Maths (10:00, the site's own lesson): Amelia comes, the teacher ends it, and its
    page offers the register. Last in this file: it moves the clock past 10:00."""
    services, school = site.server.services, site.school
    site.server.clock.set(START + dt.timedelta(minutes=1))
    staff = [
        await Client(site.server, site.session_id, cookie, who).connect()
        for cookie, who in ((school.teacher_cookie, "teacher"), (school.assistant_cookie, "ta"))
    ]
    cookie = await pupil_cookie(services, school.id, site.session_id, school.pupils["Amelia"])
    amelia = await Client(site.server, site.session_id, cookie, "amelia").connect()
    try:
        for client in staff:
            assert (await client.send("join"))["type"] == "ok"
        assert (await amelia.send("join", acknowledged_expectations=True))["type"] == "ok"
        pid = school.pupils["Amelia"]
        await staff[0].wait_for(lambda m: m["type"] == "state" and pid in m["view"]["waiting"])
        assert (await staff[0].send("admit", pupils=[pid]))["type"] == "ok"
        site.server.clock.set(START + dt.timedelta(minutes=12))
        assert (await staff[0].send("end"))["type"] == "ok"
    finally:
        for client in (*staff, amelia):
            await client.close()

    page = teacher
    await page.goto(f"{site.url}/staff/sessions/{site.session_id}")
    await expect(page.get_by_role("link", name="Join Year 2 Maths")).to_have_count(0)
    await expect(page.get_by_text("Finished")).to_be_visible()
    await shot(page, "session-ended-en-desktop")
    async with page.expect_download() as waiting:
        await page.get_by_role("link", name=re.compile(r"\(CSV\)")).click()
    download = await waiting.value
    assert download.suggested_filename == "register-2026-11-24-year-2-maths.csv"
    text = (await download.path()).read_text(encoding="utf-8")
    assert text.startswith("\ufeffDate,Session,")  # the mark that makes Excel read UTF-8
    row = next(line for line in text.splitlines() if "Amelia R." in line)
    assert "Year 2 Maths" in row and "10:01" in row, row
    assert "Oliver S." in text
    async with page.expect_download() as waiting:
        await page.get_by_role("link", name=re.compile(r"\(PDF\)")).click()
    download = await waiting.value
    assert download.suggested_filename.endswith(".pdf")
    assert (await download.path()).read_bytes().startswith(b"%PDF")


async def test_a_lesson_of_someone_else_is_not_found_as_a_page(
    site: Site, browser: Browser, teacher: Page
):
    other = await make_school(site.server.services)
    from tests.integration.families import schedule

    elsewhere = await schedule(site.server, other, starts_at=START + dt.timedelta(days=1))
    response = await teacher.goto(f"{site.url}/staff/sessions/{elsewhere}")
    assert response is not None and response.status == 404
    await expect(teacher.get_by_role("heading", level=1)).to_have_text("Not found")
    response = await teacher.goto(f"{site.url}/staff/classes/{other.class_id}")
    assert response is not None and response.status == 404
    context: BrowserContext = await browser.new_context(locale="en-GB")
    try:
        page = await context.new_page()
        response = await page.goto(f"{site.url}/staff/sessions/{site.session_id}")
        assert response is not None and response.status == 401
        await expect(page.get_by_role("heading", level=1)).to_have_text("Please sign in")
    finally:
        await context.close()
