"""A pupil in a real browser, from the family's link to the end of the class (issue 10, point 3;
JOURNEYS.md "One class session"): the expectations and the tick, the waiting screen, the class
with its names, the hand and the chat, the notices, English and Welsh, a phone and a desktop,
and nothing from another host. Staff act from Python WebSocket clients against the same server.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, expect

from tests.e2e.conftest import screens_folder, year_2_maths
from tests.integration.families import School, family_token, make_school, schedule
from tests.integration.live import Client, LiveServer
from tests.support.layout import assert_fits
from tests.support.page_watch import Watch
from tests.support.rooms import START

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}


@dataclass
class Lesson:
    server: LiveServer
    school: School
    session_id: str
    staff: list[Client]

    async def link(self, forename: str) -> str:
        """A family's link for `forename`, as the school's message would carry it."""
        token = await family_token(self.server, self.school, self.session_id, forename)
        return f"{self.server.url}/join/{token}"

    async def join_staff(self, cookie: str, who: str) -> Client:
        client = await Client(self.server, self.session_id, cookie, who).connect()
        self.staff.append(client)
        assert (await client.send("join"))["type"] == "ok"
        return client


@pytest_asyncio.fixture(loop_scope="module")
async def lesson(tmp_path: Path) -> AsyncIterator[Lesson]:
    """Claydon's Year 2 Maths (two adults required) three minutes before it starts."""
    async with year_2_maths(tmp_path) as (server, school, session_id, clients):
        yield Lesson(server, school, session_id, clients)


async def shot(page: Page, name: str) -> None:
    """Save a screenshot when SAFECLASS_E2E_SCREENS names a folder; the page must not scroll
    sideways whatever the size (WCAG 1.4.10)."""
    await assert_fits(page, name)
    folder = screens_folder()
    if folder is not None:
        await page.screenshot(path=folder / f"pupil-{name}.png", full_page=True)


async def admit(lesson: Lesson, teacher: Client, forename: str) -> None:
    pupil = lesson.school.pupils[forename]
    await teacher.wait_for(lambda m: m["type"] == "state" and pupil in m["view"]["waiting"])
    assert (await teacher.send("admit", pupils=[pupil]))["type"] == "ok"


# covers: C18, C2, C4, C5, C7, CLA-02, CLA-04, CLA-05
async def test_a_pupil_agrees_waits_is_let_in_puts_a_hand_up_chats_and_sees_the_end(
    browser: Browser, lesson: Lesson
):
    context = await browser.new_context(locale="en-GB", viewport=PHONE)
    page = await context.new_page()
    watch = Watch(page)
    await page.goto(await lesson.link("Amelia"))
    await expect(page).to_have_url(f"{lesson.server.url}/room/{lesson.session_id}")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Amelia R.!")
    await expect(page.get_by_role("heading", name="Before you join")).to_be_visible()
    await expect(page.get_by_role("heading", name="For you", exact=True)).to_be_visible()
    await shot(page, "expectations-en-phone")

    join = page.get_by_role("button", name="Join the class")
    await join.click()  # without the tick: told why, and the box takes focus
    agree = page.get_by_label("We have read these and we agree")
    await expect(agree).to_be_focused()
    await expect(page.get_by_text("Please tick the box to say you agree.")).to_be_visible()
    await agree.check()
    await join.click()
    waiting = page.get_by_role("heading", name="Your teacher will let you in soon.")
    await expect(waiting).to_be_focused()
    await shot(page, "waiting-en-phone")

    teacher = await lesson.join_staff(lesson.school.teacher_cookie, "teacher")
    assistant = await lesson.join_staff(lesson.school.assistant_cookie, "assistant")
    await admit(lesson, teacher, "Amelia")
    await expect(page.get_by_role("heading", name="You are in the class")).to_be_visible()
    people = page.get_by_role("list", name="Who is here")
    await expect(people).to_contain_text("Amelia R. (You)")
    await expect(people).to_contain_text("Mrs Khan (Teacher)")  # who the teacher is, by name
    await expect(people).to_contain_text("Mr Lee (Teaching assistant)")
    await expect(page.get_by_role("heading", name="Chat")).to_be_hidden()  # chat is off

    await page.get_by_role("button", name="Put my hand up").click()
    await expect(page.get_by_text("Your hand is up.")).to_be_visible()
    await expect(page.get_by_role("button", name="Put my hand up")).to_be_hidden()
    amelia = lesson.school.pupils["Amelia"]
    await teacher.wait_for(lambda m: m["type"] == "state" and m["view"]["hands"] == [amelia])
    assert (await teacher.send("call_on", pupil=amelia))["type"] == "ok"
    status = page.get_by_role("status")
    await expect(status).to_contain_text("You may speak now.")
    await expect(page.get_by_text("Your hand is up.")).to_be_hidden()
    # called on, she may speak: her page offers her own microphone, and it reaches the room
    await page.get_by_role("button", name="Turn my microphone on").click()
    await teacher.wait_for(
        lambda m: (
            m["type"] == "state"
            and any(p["id"] == amelia and p["mic_on"] for p in m["view"]["people"])
        )
    )
    off = page.get_by_role("button", name="Turn my microphone off")
    await expect(off).to_be_focused()  # the pressed button's other half keeps the keyboard
    await expect(status).not_to_contain_text("Your teacher has turned")  # she did it herself
    await shot(page, "speaking-en-phone")
    await off.click()
    await teacher.wait_for(
        lambda m: (
            m["type"] == "state"
            and any(p["id"] == amelia and not p["mic_on"] for p in m["view"]["people"])
        )
    )
    await expect(page.get_by_role("button", name="Turn my microphone on")).to_be_visible()
    assert (await teacher.send("unmute", target=amelia))["type"] == "ok"
    await expect(status).to_contain_text("Your teacher has turned your microphone on.")
    assert (await teacher.send("mute", target=amelia))["type"] == "ok"
    await expect(status).to_contain_text("Your teacher has turned your microphone off.")

    assert (await teacher.send("chat_on"))["type"] == "ok"
    await expect(status).to_contain_text("The chat is on.")
    chat = page.get_by_role("region", name="Chat")
    await expect(chat).to_be_visible()
    await chat.get_by_label("Your message").fill("I can see 3 triangles")
    await chat.get_by_role("button", name="Send").click()
    await expect(chat.get_by_role("listitem").last).to_have_text("Amelia R.: I can see 3 triangles")
    await teacher.wait_for(
        lambda m: any(
            e.get("type") == "ChatPosted" and e.get("text") == "I can see 3 triangles"
            for e in m.get("events", [])
        )
    )
    await shot(page, "class-en-phone")

    await assistant.close()  # the assistant's connection drops: pupils are held (CLA-02)
    held = page.get_by_role("heading", name="Waiting for another adult to join.")
    await expect(held).to_be_focused()  # the whole screen: a screen reader starts there
    await expect(page.get_by_role("button", name="Put my hand up")).to_be_hidden()
    await expect(page.get_by_role("region", name="Chat")).to_be_hidden()
    await expect(page.get_by_role("list", name="Who is here")).to_be_hidden()
    await expect(page.get_by_role("button")).to_have_count(0)  # nothing to press while held
    await expect(page.get_by_text("The chat is on.")).to_be_hidden()  # no chat to speak of
    await shot(page, "held-en-phone")
    await lesson.join_staff(lesson.school.assistant_cookie, "assistant")  # back again
    await expect(page.get_by_role("heading", name="You are in the class")).to_be_focused()
    await expect(page.get_by_role("region", name="Chat")).to_contain_text("I can see 3 triangles")

    assert (await teacher.send("end"))["type"] == "ok"
    await expect(page.get_by_role("heading", name="The class has ended.")).to_be_visible()
    await shot(page, "ended-en-phone")

    assert [url for url in watch.requested if not url.startswith(f"{lesson.server.url}/")] == []
    assert any("/static/pupil.js" in url for url in watch.requested)
    assert watch.problems == []  # no policy broken, nothing refused, no script error
    response = await page.request.get(f"{lesson.server.url}/room/{lesson.session_id}")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe" not in policy
    await context.close()


# covers: C18, C4, C5, C11, CLA-06
async def test_a_welsh_pupil_sees_every_step_in_welsh_with_the_time_warning(
    browser: Browser, lesson: Lesson
):
    context = await browser.new_context(locale="cy-GB", viewport=DESKTOP)
    page = await context.new_page()
    watch = Watch(page)
    await page.goto(await lesson.link("Oliver"))
    await expect(page.locator("html")).to_have_attribute("lang", "cy")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Helo, Oliver S.!")
    await expect(page.get_by_role("heading", name="Cyn i ti ymuno")).to_be_visible()
    await shot(page, "expectations-cy-desktop")
    await page.get_by_label("Rydyn ni wedi darllen y rhain ac rydyn ni'n cytuno").check()
    await page.get_by_role("button", name="Ymuno â'r dosbarth").click()
    await expect(page.get_by_role("heading", name="Bydd dy athro yn gadael")).to_be_visible()
    await shot(page, "waiting-cy-desktop")

    teacher = await lesson.join_staff(lesson.school.teacher_cookie, "teacher")
    assistant = await lesson.join_staff(lesson.school.assistant_cookie, "assistant")
    await admit(lesson, teacher, "Oliver")
    await expect(page.get_by_role("heading", name="Rwyt ti yn y dosbarth")).to_be_visible()
    await expect(page.get_by_role("button", name="Codi fy llaw")).to_be_visible()
    lesson.server.clock.set(START + dt.timedelta(minutes=25))  # the policy's first warning
    await expect(page.get_by_role("status")).to_contain_text("5 munud ar ôl")
    assert (await teacher.send("chat_on"))["type"] == "ok"
    assert (await teacher.send("chat", text="Bore da!"))["type"] == "ok"
    await expect(page.get_by_role("region", name="Sgwrs")).to_contain_text("Mrs Khan: Bore da!")
    await shot(page, "class-cy-desktop")

    again = await context.new_page()  # the same device opens the class in a second tab
    await again.goto(f"{lesson.server.url}/room/{lesson.session_id}")
    await expect(page.get_by_role("heading", name="Mae'r dosbarth hwn ar agor")).to_be_visible()
    await shot(page, "opened-elsewhere-cy-desktop")
    await expect(again.get_by_role("heading", name="Rwyt ti yn y dosbarth")).to_be_visible()
    await page.get_by_role("button", name="Defnyddio'r dudalen hon yn lle").click()  # back here
    await expect(page.get_by_role("heading", name="Rwyt ti yn y dosbarth")).to_be_visible()
    await expect(again.get_by_role("heading", name="Mae'r dosbarth hwn ar agor")).to_be_visible()
    # the page came back after the warning was given: it still shows it
    await expect(page.locator("#time-notice")).to_have_text("5 munud ar ôl")

    await assistant.close()  # held: the whole screen, in Welsh
    held = page.get_by_role("heading", name="Yn aros i oedolyn arall ymuno.")
    await expect(held).to_be_focused()
    await expect(page.get_by_role("button", name="Codi fy llaw")).to_be_hidden()
    await shot(page, "held-cy-desktop")

    assert (await teacher.send("end"))["type"] == "ok"
    await expect(page.get_by_role("heading", name="Mae'r dosbarth wedi dod i ben")).to_be_visible()
    await shot(page, "ended-cy-desktop")
    assert watch.problems == []
    await context.close()


# covers: C4, C9, C10, STJ-06
async def test_a_pupil_joins_with_the_keyboard_alone_and_is_told_plainly_when_removed(
    browser: Browser, lesson: Lesson
):
    context = await browser.new_context(locale="en-GB", viewport=PHONE)
    page = await context.new_page()
    await page.goto(await lesson.link("Isla"))
    agree = page.get_by_label("We have read these and we agree")
    await expect(agree).to_be_visible()
    for _ in range(8):  # past the skip link and the language switch
        await page.keyboard.press("Tab")
        if await agree.evaluate("box => box === document.activeElement"):
            break
    await expect(agree).to_be_focused()
    await page.keyboard.press("Space")
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("button", name="Join the class")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(
        page.get_by_role("heading", name="Your teacher will let you in soon.")
    ).to_be_focused()

    teacher = await lesson.join_staff(lesson.school.teacher_cookie, "teacher")
    await lesson.join_staff(lesson.school.assistant_cookie, "assistant")
    await admit(lesson, teacher, "Isla")
    hand = page.get_by_role("button", name="Put my hand up")
    await expect(hand).to_be_visible()
    await hand.focus()
    await page.keyboard.press("Enter")  # the keyboard keeps its place on the other half
    await expect(page.get_by_role("button", name="Put my hand down")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(hand).to_be_focused()

    isla = lesson.school.pupils["Isla"]
    assert (await teacher.send("remove", pupil=isla, reason="behaviour"))["type"] == "ok"
    removed = page.get_by_role("heading", name="Your teacher has taken you out of this class.")
    await expect(removed).to_be_focused()
    shown = page.locator("main")  # said once, in the page's words
    await expect(shown).not_to_contain_text("removed from this session", use_inner_text=True)
    await expect(shown).to_contain_text(  # what happens next, for the parent beside the child
        "The school will tell your grown-up what happened. If you have a question, please "
        "contact the school."
    )
    await shot(page, "removed-en-phone")
    await context.close()


# covers: C6, C18, S04-07, S04-09
async def test_in_a_one_to_one_the_parent_says_they_are_in_the_room_before_the_child_is_let_in(
    browser: Browser, lesson: Lesson
):
    school = await make_school(lesson.server.services, "s04")  # 1-to-1s with a parent (S04-07)
    session_id = await schedule(
        lesson.server,
        school,
        kind="one_to_one",
        pupil_ids=[school.pupils["Amelia"]],
        title="Reading with Amelia",
    )
    reading = Lesson(lesson.server, school, session_id, lesson.staff)
    context = await browser.new_context(locale="en-GB", viewport=PHONE)
    page = await context.new_page()
    await page.goto(await reading.link("Amelia"))
    parent = page.get_by_label("I am the parent or carer, and I am in the room")
    await expect(parent).to_be_visible()
    await expect(parent).not_to_be_checked()
    await shot(page, "one-to-one-en-phone")
    await page.get_by_label("We have read these and we agree").check()
    await page.get_by_role("button", name="Join the class").click()  # the parent is not here yet
    await expect(
        page.get_by_role("heading", name="Your teacher will let you in soon.")
    ).to_be_visible()

    teacher = await reading.join_staff(school.teacher_cookie, "teacher")
    await reading.join_staff(school.assistant_cookie, "assistant")
    amelia = school.pupils["Amelia"]
    waiting = await teacher.wait_for(
        lambda m: (
            m["type"] == "state"
            and amelia in m["view"]["waiting"]
            and m["view"]["staffing"]["staff_present"] == 2
        )
    )
    assert "admit" not in waiting["view"]["can_for"].get(
        amelia, []
    )  # not before the parent says so
    await page.get_by_role("button", name="I am the parent or carer, and I am in the room").click()
    await teacher.wait_for(
        lambda m: m["type"] == "state" and "admit" in m["view"]["can_for"].get(amelia, [])
    )
    await expect(page.get_by_role("button", name="I am the parent")).to_be_hidden()
    assert (await teacher.send("admit", pupils=[amelia]))["type"] == "ok"
    await expect(page.get_by_role("heading", name="You are in the class")).to_be_visible()

    # the parent steps out (staff record it): the child is held, and the parent's button is the
    # one thing on the screen
    assert (await teacher.send("parent_present", pupil=amelia, present=False))["type"] == "ok"
    held = page.get_by_role(
        "heading", name="Waiting for your grown-up to say they are in the room."
    )
    await expect(held).to_be_focused()
    await expect(page.get_by_role("button")).to_have_count(1)
    await shot(page, "held-for-parent-en-phone")
    await page.get_by_role("button", name="I am the parent or carer, and I am in the room").click()
    await expect(page.get_by_role("heading", name="You are in the class")).to_be_focused()
    await context.close()
