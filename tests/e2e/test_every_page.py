"""Every page a family, a pupil or a teacher sees, in English and in Welsh, checked in Chromium:
no serious or critical accessibility problem found by axe-core (run inside the page), the
language switch on every page (the link pages and the room's pages too) that sticks, the room's
own words in the page's language, and the pupil's page's weight (issue 10, points 4 and 5).

axe-core comes from npm (`tests/e2e/npm`, installed by `scripts/install --dev`) and is put into
the page with `page.evaluate` of its text: the page's policy stays as strict as it is, and the
server never serves it. With SAFECLASS_E2E_SCREENS set, each page is saved as a screenshot.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, Response, expect

from safeclass.adapters.auth.tokens import new_token
from tests.e2e.conftest import screens_folder, year_2_maths
from tests.e2e.test_pupil_page import DESKTOP, PHONE
from tests.integration.families import School, family_token
from tests.integration.live import Client, LiveServer, pupil_cookie
from tests.support.axe import AXE
from tests.support.axe import serious_problems as axe_problems
from tests.support.page_watch import Watch

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

FIRST_LOAD_LIMIT_BYTES = 150_000  # issue 10: "≤ 150 KB of our JS and CSS"

# What each page says in each language, to know the page is in it.
WORDS = {
    "en": {
        "switch_to": "Cymraeg",
        "agree": "We have read these and we agree",
        "join_class": "Join the class",
        "waiting": "Your teacher will let you in soon.",
        "in_class": "You are in the class",
        "join_room": "Join the room",
        "admit_alone": "Cannot admit Amelia R.: 1 of 2 required staff present",
        "denied": "Your teacher could not let you in this time",
        "sign_in": "Sign in",
        "tell": "Tell the school",
    },
    "cy": {
        "switch_to": "English",
        "agree": "Rydyn ni wedi darllen y rhain ac rydyn ni'n cytuno",
        "join_class": "Ymuno â'r dosbarth",
        "waiting": "Bydd dy athro yn gadael i ti ddod i mewn cyn bo hir.",
        "in_class": "Rwyt ti yn y dosbarth",
        "join_room": "Ymuno â'r ystafell",
        "admit_alone": (
            "Does dim modd gadael Amelia R. i mewn: 1 o 2 aelod o staff sydd eu hangen yn bresennol"
        ),
        "denied": "Doedd dy athro ddim yn gallu gadael i ti ddod i mewn y tro hwn",
        "sign_in": "Mewngofnodi",
        "tell": "Dweud wrth yr ysgol",
    },
}
LOCALES = {"en": "en-GB", "cy": "cy-GB"}


@dataclass
class Lesson:
    server: LiveServer
    school: School
    session_id: str
    clients: list[Client]

    @property
    def url(self) -> str:
        return self.server.url

    async def token(self, forename: str) -> str:
        """A family's link token for `forename`, as the school's message would carry it."""
        return await family_token(self.server, self.school, self.session_id, forename)

    async def assistant(self) -> Client:
        client = await Client(
            self.server, self.session_id, self.school.assistant_cookie, "assistant"
        ).connect()
        self.clients.append(client)
        assert (await client.send("join"))["type"] == "ok"
        return client

    async def context(
        self, browser: Browser, language: str, viewport: dict[str, int], staff: bool = False
    ) -> BrowserContext:
        context = await browser.new_context(locale=LOCALES[language], viewport=viewport)  # type: ignore[arg-type]
        if staff:
            name, _, value = self.school.teacher_cookie.partition("=")
            await context.add_cookies([{"name": name, "value": value, "url": self.url}])
        return context


@pytest_asyncio.fixture(loop_scope="module")
async def lesson(tmp_path: Path) -> AsyncIterator[Lesson]:
    """Claydon's Year 2 Maths (two adults required), its waiting room open."""
    async with year_2_maths(tmp_path) as (server, school, session_id, clients):
        yield Lesson(server, school, session_id, clients)


async def serious_problems(page: Page) -> list[str]:
    if not AXE.exists():
        pytest.skip(f"axe-core is not installed at {AXE}: run scripts/install --dev (needs npm)")
    return await axe_problems(page)


async def check(page: Page, name: str, language: str) -> None:
    """The page is in `language`, axe finds nothing serious, and (if asked) a screenshot."""
    await expect(page.locator("html")).to_have_attribute("lang", language)
    problems = await serious_problems(page)
    assert problems == [], f"{name} ({language}): {problems}"
    folder = screens_folder()
    if folder is not None:
        await page.screenshot(path=folder / f"every-{name}-{language}.png", full_page=True)


# covers: C18, C2, C23
@pytest.mark.parametrize("language", ["en", "cy"])
async def test_every_page_has_no_serious_accessibility_problem(
    browser: Browser, lesson: Lesson, language: str
):
    words = WORDS[language]
    family = await lesson.context(browser, language, PHONE)
    staff = await lesson.context(browser, language, DESKTOP, staff=True)
    page, console = await family.new_page(), await staff.new_page()
    watch, console_watch = Watch(page), Watch(console)
    url = lesson.url

    await page.goto(f"{url}/")
    await check(page, "landing", language)
    await page.goto(f"{url}/sign-in")
    await check(page, "sign-in", language)
    await page.get_by_role("button", name=words["sign_in"]).click()  # nothing filled in
    await expect(page.locator(".error-summary")).to_be_focused()
    await check(page, "sign-in-errors", language)
    await console.goto(f"{url}/staff")
    await check(console, "staff-home", language)

    await page.goto(f"{url}/join/{new_token()}")  # a link that matches nothing
    await check(page, "link-does-not-work", language)
    token = await lesson.token("Isla")
    await page.goto(f"{url}/join/{token}/absence")
    await check(page, "tell-the-school", language)
    await page.get_by_role("button", name=words["tell"]).click()  # no answer chosen
    await expect(page.locator(".error-summary")).to_be_focused()
    await check(page, "tell-the-school-errors", language)
    await page.goto(f"{url}/join/{token}/withdraw")  # asked, not done
    await check(page, "stop-joining-live-lessons", language)

    forename = "Amelia" if language == "en" else "Oliver"
    await page.goto(f"{url}/join/{await lesson.token(forename)}")
    await expect(page).to_have_url(f"{url}/room/{lesson.session_id}")
    await expect(page.get_by_role("button", name=words["join_class"])).to_be_enabled()
    await check(page, "pupil-before-joining", language)
    await page.get_by_label(words["agree"]).check()
    await page.get_by_role("button", name=words["join_class"]).click()
    await expect(page.get_by_role("heading", name=words["waiting"])).to_be_visible()
    await check(page, "pupil-waiting", language)

    await console.goto(f"{url}/room/{lesson.session_id}")
    await console.get_by_role("button", name=words["join_room"]).click()
    await expect(console.locator("#waiting")).to_contain_text(f"{forename} ")
    await check(console, "console-with-a-waiting-pupil", language)

    helper = await lesson.assistant()
    pupil_id = lesson.school.pupils[forename]
    await helper.wait_for(lambda m: m["type"] == "state" and pupil_id in m["view"]["waiting"])
    assert (await helper.send("admit", pupils=[pupil_id]))["type"] == "ok"
    await expect(page.get_by_role("heading", name=words["in_class"])).to_be_visible()
    await check(page, "pupil-in-the-class", language)
    await check(console, "console-with-the-class", language)

    # no script error and no policy broken (the 400s and the 404 are the pages' own answers)
    expected = ("400 ", "404 ")
    assert [p for p in watch.problems + console_watch.problems if not p.startswith(expected)] == []
    await helper.close()
    await family.close()
    await staff.close()


# covers: CLA-02
@pytest.mark.parametrize("language", ["en", "cy"])
async def test_the_rooms_own_words_are_in_the_pages_language(
    browser: Browser, lesson: Lesson, language: str
):
    """The console shows the room's reason (written by the core, in English) in the page's
    language, and a pupil turned away reads why in theirs."""
    words = WORDS[language]
    staff = await lesson.context(browser, language, DESKTOP, staff=True)
    family = await lesson.context(browser, language, PHONE)
    console, page = await staff.new_page(), await family.new_page()
    await page.goto(f"{lesson.url}/join/{await lesson.token('Amelia')}")
    await page.get_by_label(words["agree"]).check()
    await page.get_by_role("button", name=words["join_class"]).click()
    await expect(page.get_by_role("heading", name=words["waiting"])).to_be_visible()

    await console.goto(f"{lesson.url}/room/{lesson.session_id}")
    await console.get_by_role("button", name=words["join_room"]).click()
    await expect(console.locator("#staffing-why")).to_have_text(
        f"{words['admit_alone']} (CLA-02)"  # the room's reason, with the clause it cites
    )
    await check(console, "console-alone", language)

    helper = await lesson.assistant()
    amelia = lesson.school.pupils["Amelia"]
    await helper.wait_for(lambda m: m["type"] == "state" and amelia in m["view"]["waiting"])
    assert (await helper.send("deny", pupil=amelia))["type"] == "ok"
    await expect(page.get_by_text(words["denied"])).to_be_visible()
    await check(page, "pupil-turned-away", language)
    await helper.close()
    await staff.close()
    await family.close()


async def switch(page: Page, to: str) -> None:
    """Use the page's language switch (a link, as a keyboard user would)."""
    async with page.expect_navigation():
        await (
            page.get_by_role("navigation", name="Language" if to == "cy" else "Iaith")
            .get_by_role("link", name=WORDS["en" if to == "cy" else "cy"]["switch_to"])
            .press("Enter")
        )
    await expect(page.locator("html")).to_have_attribute("lang", to)


async def test_the_language_switch_is_on_every_page_and_sticks(browser: Browser, lesson: Lesson):
    """An English browser switches to Welsh on any page, and every page after it (the link
    pages, the pupil's page and the console too) stays Welsh, until switched back."""
    family = await lesson.context(browser, "en", PHONE)
    page = await family.new_page()
    url = lesson.url
    token = await lesson.token("Isla")
    pupil_link = f"{url}/join/{await lesson.token('Amelia')}"
    pages = [
        f"{url}/",
        f"{url}/sign-in",
        f"{url}/join/{new_token()}",
        f"{url}/join/{token}/absence",
    ]
    for address in pages:
        await page.goto(address)
        await expect(page.locator("html")).to_have_attribute("lang", "en")
        await switch(page, "cy")
        for later in pages:  # sticks everywhere
            await page.goto(later)
            await expect(page.locator("html")).to_have_attribute("lang", "cy")
        await page.goto(pupil_link)
        await expect(page.get_by_role("button", name=WORDS["cy"]["join_class"])).to_be_visible()
        await switch(page, "en")  # on the room's page itself
        await expect(page.get_by_role("button", name=WORDS["en"]["join_class"])).to_be_visible()
    await family.close()

    oliver = lesson.school.pupils["Oliver"]  # waiting, so the console says why not yet
    cookie = await pupil_cookie(lesson.server.services, lesson.school.id, lesson.session_id, oliver)
    waiting = await Client(lesson.server, lesson.session_id, cookie, "oliver").connect()
    lesson.clients.append(waiting)
    assert (await waiting.send("join", acknowledged_expectations=True))["type"] == "ok"
    staff = await lesson.context(browser, "en", DESKTOP, staff=True)
    console = await staff.new_page()
    await console.goto(f"{url}/staff")
    await switch(console, "cy")
    await console.goto(f"{url}/room/{lesson.session_id}")
    await expect(console.locator("html")).to_have_attribute("lang", "cy")
    await console.get_by_role("button", name=WORDS["cy"]["join_room"]).click()
    # the room's socket speaks the switch's language too, not the browser's English
    await expect(console.locator("#staffing-why")).to_contain_text("Does dim modd")
    await switch(console, "en")  # a reload: still in the room, now in English
    await expect(console.locator("#staffing-why")).to_contain_text("Cannot admit")
    await staff.close()


async def test_the_pupils_page_first_load_is_at_most_150_kb_of_our_js_and_css(
    browser: Browser, lesson: Lesson
):
    """Counted from what Chromium fetched (every module the page imported, the style sheet),
    not from the files on disk."""
    family = await lesson.context(browser, "en", PHONE)
    page = await family.new_page()
    fetched: list[Response] = []
    page.on(
        "response",
        lambda r: (
            fetched.append(r) if r.request.resource_type in ("script", "stylesheet") else None
        ),
    )
    await page.goto(f"{lesson.url}/join/{await lesson.token('Amelia')}")
    await expect(page.get_by_role("button", name=WORDS["en"]["join_class"])).to_be_enabled()
    await page.wait_for_load_state("networkidle")
    sizes = {r.url.split("?")[0].rsplit("/", 1)[-1]: len(await r.body()) for r in fetched}
    assert {"site.css", "pages.js", "pupil.js", "room-client.js", "room-page.js"} <= set(sizes)
    assert all(r.url.startswith(f"{lesson.url}/static/") for r in fetched)
    # the browser's own count agrees (what it took off the wire, for each of ours)
    transferred = await page.evaluate(
        """() => performance.getEntriesByType("resource")
            .filter((e) => /\\/static\\/.*\\.(js|css)/.test(e.name))
            .reduce((sum, e) => sum + e.decodedBodySize, 0)"""
    )
    assert transferred == sum(sizes.values())
    assert sum(sizes.values()) <= FIRST_LOAD_LIMIT_BYTES, sizes
    await family.close()


async def test_the_accessibility_check_does_find_problems(browser: Browser, lesson: Lesson):
    """The check above can fail: a field without a label, put into a page, is reported."""
    family = await lesson.context(browser, "en", PHONE)
    page = await family.new_page()
    await page.goto(f"{lesson.url}/")
    await page.evaluate(
        """() => document.querySelector("main").append(
            Object.assign(document.createElement("input"), { type: "text" }))"""
    )
    problems = await serious_problems(page)
    assert any("label" in problem for problem in problems), problems
    await family.close()
