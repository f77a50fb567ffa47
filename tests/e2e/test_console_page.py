"""The staff console in a real browser (issue 10, point 2, without video): the staffing line that
turns red and says why, the time left, the waiting room whose Admit button appears only when the
room allows it, the room's pupils and hands, and the end; English on a desktop and Welsh on a
phone, under the strict policy with nothing from another host. The assistant and the pupil are
Python WebSocket clients against the same server.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import screens_folder, year_2_maths
from tests.e2e.test_pupil_page import DESKTOP, PHONE
from tests.integration.families import School, make_school, schedule
from tests.integration.live import Client, LiveServer, pupil_cookie
from tests.support.layout import assert_fits
from tests.support.page_watch import Watch
from tests.support.rooms import START

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]


@dataclass
class Lesson:
    server: LiveServer
    school: School
    session_id: str
    clients: list[Client]

    async def pupil(self, forename: str) -> Client:
        """`forename`'s device, joined and waiting."""
        pupil = self.school.pupils[forename]
        cookie = await pupil_cookie(self.server.services, self.school.id, self.session_id, pupil)
        client = await Client(self.server, self.session_id, cookie, forename).connect()
        self.clients.append(client)
        assert (await client.send("join", acknowledged_expectations=True))["type"] == "ok"
        return client

    async def device(self, forename: str) -> Client:
        """Another device with `forename`'s link open, not joined."""
        pupil = self.school.pupils[forename]
        cookie = await pupil_cookie(self.server.services, self.school.id, self.session_id, pupil)
        client = await Client(self.server, self.session_id, cookie, forename).connect()
        self.clients.append(client)
        return client

    async def staff(self, cookie: str, who: str) -> Client:
        client = await Client(self.server, self.session_id, cookie, who).connect()
        self.clients.append(client)
        assert (await client.send("join"))["type"] == "ok"
        return client

    async def console(
        self, browser: Browser, locale: str, viewport: dict[str, int]
    ) -> BrowserContext:
        """A browser signed in as the teacher."""
        context = await browser.new_context(locale=locale, viewport=viewport)  # type: ignore[arg-type]
        name, _, value = self.school.teacher_cookie.partition("=")
        await context.add_cookies([{"name": name, "value": value, "url": self.server.url}])
        return context


@pytest_asyncio.fixture(loop_scope="module")
async def lesson(tmp_path: Path) -> AsyncIterator[Lesson]:
    """Claydon's Year 2 Maths (two adults required) three minutes before it starts."""
    async with year_2_maths(tmp_path) as (server, school, session_id, clients):
        yield Lesson(server, school, session_id, clients)


async def shot(page: Page, name: str) -> None:
    """Save a screenshot when SAFECLASS_E2E_SCREENS names a folder; never sideways scrolling."""
    await assert_fits(page, name, controls="a, button, input, textarea")
    folder = screens_folder()
    if folder is not None:
        await page.screenshot(path=folder / f"console-{name}.png", full_page=True)


# covers: CLA-02, CLA-04, C2
async def test_a_teacher_joins_sees_why_she_cannot_admit_alone_then_admits_and_ends(
    browser: Browser, lesson: Lesson
):
    amelia = await lesson.pupil("Amelia")
    context = await lesson.console(browser, "en-GB", DESKTOP)
    page = await context.new_page()
    watch = Watch(page)
    await page.goto(f"{lesson.server.url}/room/{lesson.session_id}")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Year 2 Maths")
    await page.get_by_role("button", name="Join the room").click()

    staffing = page.locator("#staffing")
    await expect(staffing).to_have_text("Staff present: 1 of 2")
    await expect(staffing).to_have_class("staffing staffing-fails")
    await expect(page.locator("#staffing-why")).to_contain_text("1 of 2 required staff present")
    await expect(page.locator("#time-left")).to_contain_text("Starts in: ")
    waiting = page.get_by_role("region", name="Waiting room")
    await expect(waiting.get_by_role("listitem")).to_contain_text("Amelia R.")
    await expect(waiting).to_contain_text("1 of 2 required staff present")
    await expect(waiting.get_by_role("button", name="Admit", exact=True)).to_have_count(0)
    await expect(waiting.get_by_role("button", name="Admit everyone expected")).to_be_hidden()
    await expect(waiting.get_by_role("button", name="Turn away")).to_be_visible()
    await shot(page, "alone-en-desktop")

    await lesson.staff(lesson.school.assistant_cookie, "assistant")
    await expect(staffing).to_have_text("Staff present: 2 of 2")
    await expect(staffing).not_to_have_class("staffing staffing-fails")
    await expect(page.locator("#staffing-why")).to_be_hidden()
    await expect(waiting.get_by_role("button", name="Admit everyone expected")).to_be_visible()
    await waiting.get_by_role("button", name="Admit", exact=True).click()
    in_room = page.get_by_role("region", name="In the room")
    await expect(in_room).to_contain_text("Amelia R.")
    await expect(waiting).to_contain_text("Nobody is waiting.")
    await amelia.wait_for(
        lambda m: m["type"] == "state" and (m["view"]["me"] or {}).get("status") == "admitted"
    )

    lesson.server.clock.set(START + dt.timedelta(minutes=5))
    assert (await amelia.send("raise_hand"))["type"] == "ok"
    hands = page.get_by_role("list", name="Hands up")
    await expect(hands.get_by_role("listitem")).to_contain_text("Amelia R.")
    await shot(page, "class-en-desktop")
    await hands.get_by_role("button", name="Call on").click()
    await expect(page.get_by_text("No hands are up.")).to_be_visible()

    row = in_room.get_by_role("listitem").filter(has_text="Amelia R.")
    await row.get_by_role("button", name="Remove").click()
    await page.get_by_role("button", name="Remove", exact=True).last.click()  # no reason yet
    await expect(page.get_by_text("Please say why.")).to_be_visible()
    await page.get_by_label("Why?").fill("Shouting at others")
    await page.locator("#remove-form").get_by_role("button", name="Remove").click()
    await expect(page.locator("#in-room")).not_to_contain_text("Amelia R.")
    await expect(page.locator("#in-room")).to_contain_text("Mr Lee (teaching assistant)")

    await page.get_by_role("button", name="End for everyone").click()
    await expect(page.get_by_role("heading", name="The session has ended.")).to_be_visible()

    assert [url for url in watch.requested if not url.startswith(f"{lesson.server.url}/")] == []
    assert any("/static/console.js" in url for url in watch.requested)
    assert watch.problems == []  # no policy broken, nothing refused, no script error
    response = await page.request.get(f"{lesson.server.url}/room/{lesson.session_id}")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe" not in policy
    await context.close()


# covers: CLA-02
async def test_a_welsh_teacher_on_a_phone_sees_the_console_in_welsh(
    browser: Browser, lesson: Lesson
):
    await lesson.pupil("Oliver")
    context = await lesson.console(browser, "cy-GB", PHONE)
    page = await context.new_page()
    watch = Watch(page)
    await page.goto(f"{lesson.server.url}/room/{lesson.session_id}")
    await expect(page.locator("html")).to_have_attribute("lang", "cy")
    await page.get_by_role("button", name="Ymuno â'r ystafell").click()
    await expect(page.locator("#staffing")).to_have_text("Staff yn bresennol: 1 o 2")
    waiting = page.get_by_role("region", name="Ystafell aros")
    await expect(waiting.get_by_role("listitem")).to_contain_text("Oliver S.")
    await expect(waiting.get_by_role("button", name="Gwrthod")).to_be_visible()
    await lesson.staff(lesson.school.assistant_cookie, "assistant")
    await expect(waiting.get_by_role("button", name="Gadael i mewn", exact=True)).to_be_visible()
    await expect(page.locator("#time-left")).to_contain_text("Yn dechrau mewn: ")
    await shot(page, "waiting-cy-phone")
    await waiting.get_by_role("button", name="Gwrthod").click()  # turned away
    await expect(waiting.get_by_text("Does neb yn aros.")).to_be_visible()
    assert watch.problems == []
    await context.close()


# covers: C2
async def test_an_emergency_end_asks_first_then_ends_with_the_note(
    browser: Browser, lesson: Lesson
):
    await lesson.staff(lesson.school.assistant_cookie, "assistant")
    context = await lesson.console(browser, "en-GB", DESKTOP)
    page = await context.new_page()
    await page.goto(f"{lesson.server.url}/room/{lesson.session_id}")
    await page.get_by_role("button", name="Join the room").click()
    await expect(page.locator("#staffing")).to_have_text("Staff present: 2 of 2")
    await page.get_by_role("button", name="Emergency end").click()
    note = page.get_by_label("What happened?")
    await expect(note).to_be_focused()  # nothing has ended yet: a confirm step first
    await page.get_by_role("button", name="Cancel").click()
    await expect(note).to_be_hidden()
    await expect(page.get_by_role("button", name="Emergency end")).to_be_focused()
    await page.get_by_role("button", name="Emergency end").click()
    await note.fill("A stranger's voice in a pupil's room")
    await shot(page, "emergency-en-desktop")
    await page.get_by_role("button", name="Yes, end it now").click()
    await expect(page.get_by_role("heading", name="The session has ended.")).to_be_focused()
    await context.close()


async def joined_console(lesson: Lesson, browser: Browser, locale: str, viewport: dict[str, int]):
    """The teacher's console, joined, with the assistant there (two adults: the rule holds)."""
    context = await lesson.console(browser, locale, viewport)
    page = await context.new_page()
    await page.goto(f"{lesson.server.url}/room/{lesson.session_id}")
    await page.locator("#join").click()
    await expect(page.locator("#staffing")).to_contain_text("2")
    return context, page


# covers: C3, C4, C7, C17, STJ-11, CLA-04, CLA-05, CLA-11, CLA-14, CRO-11, CRO-14, WER-11
async def test_the_waiting_room_says_what_the_room_knows_and_each_pupil_has_controls_in_order(
    browser: Browser, lesson: Lesson
):
    amelia = await lesson.pupil("Amelia")
    await lesson.staff(lesson.school.assistant_cookie, "assistant")
    context, page = await joined_console(lesson, browser, "en-GB", DESKTOP)
    watch = Watch(page)
    waiting = page.get_by_role("list", name="Waiting room")
    await expect(waiting.get_by_role("listitem")).to_have_text(
        "Amelia R. (expected: on the class list, consent implied by attending)AdmitTurn away"
    )
    class_list = page.get_by_role("list", name="Class list")
    await expect(class_list.get_by_role("listitem").filter(has_text="Noah")).to_have_text(
        "Noah O. (opted out: cannot join)"
    )
    await expect(class_list.get_by_role("listitem").filter(has_text="Amelia")).to_have_text(
        "Amelia R. (waiting)"
    )
    await shot(page, "waiting-badges-en-desktop")
    forwarded = await lesson.device("Amelia")  # the link opened on a second device (STJ-11)
    await expect(waiting.get_by_role("listitem")).to_contain_text(
        "consent implied by attending, link also open on another device)"
    )
    await shot(page, "second-device-en-desktop")
    await forwarded.close()
    await expect(waiting.get_by_role("listitem")).not_to_contain_text("another device")
    await waiting.get_by_role("button", name="Admit", exact=True).click()

    row = page.get_by_role("region", name="In the room").get_by_role("listitem")
    row = row.filter(has_text="Amelia R.")
    await expect(row).to_contain_text("(microphone off, camera off)")
    buttons = row.get_by_role("button")
    await expect(buttons).to_have_text(
        ["Unmute", "Allow to speak", "Camera on", "Note or reward", "Remove"]
    )
    await expect(class_list.get_by_role("listitem").filter(has_text="Amelia")).to_have_text(
        "Amelia R. (in the room)"
    )

    # the keyboard alone: Tab runs along the row in that order; the pressed button's other
    # half takes its place, so the keyboard stays on the row
    await row.get_by_role("button", name="Allow to speak").focus()
    await page.keyboard.press("Enter")
    status = page.get_by_role("status")
    await expect(status).to_contain_text("Amelia R. may speak now.")
    await expect(row).to_contain_text("(microphone off, may speak, camera off)")
    await amelia.wait_for(
        lambda m: any(e.get("type") == "SpeakingAllowed" for e in m.get("events", []))
    )
    await expect(buttons).to_have_text(
        ["Take back permission to speak", "Unmute", "Camera on", "Note or reward", "Remove"]
    )
    await expect(row.get_by_role("button", name="Unmute")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(status).to_contain_text("Amelia R.'s microphone is on.")
    await expect(row.get_by_role("button", name="Mute")).to_be_focused()
    await page.keyboard.press("Tab")
    await expect(row.get_by_role("button", name="Camera on")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(status).to_contain_text("Amelia R.'s camera is on.")
    await expect(row.get_by_role("button", name="Camera off")).to_be_focused()
    await expect(buttons).to_have_text(["Mute", "Camera off", "Note or reward", "Remove"])
    await shot(page, "pupil-controls-en-desktop")
    await page.keyboard.press("Enter")
    await expect(status).to_contain_text("Amelia R.'s camera is off.")
    await row.get_by_role("button", name="Mute").click()
    await expect(status).to_contain_text("Amelia R.'s microphone is off.")
    await expect(buttons).to_have_text(
        ["Unmute", "Allow to speak", "Camera on", "Note or reward", "Remove"]
    )
    # each press reached the room and the pupil (the server enforces it: not the page)
    seen = [e["type"] for m in amelia.messages if m["type"] == "state" for e in m.get("events", [])]
    for kind in ("MicUnmuted", "CameraTurnedOn", "CameraTurnedOff", "MicMuted"):
        assert kind in seen, kind

    # the policy's warnings, as the pupils get them
    lesson.server.clock.set(START + dt.timedelta(minutes=25))
    await expect(page.locator("#time-notice")).to_have_text("5 minutes left")
    # admitted 3 minutes early, so the session ends at 27 minutes past (CLA-06)
    lesson.server.clock.set(START + dt.timedelta(minutes=26, seconds=10))
    await expect(page.locator("#time-notice")).to_have_text("1 minute left")
    assert watch.problems == []
    await context.close()


# covers: C8, CLA-13, CRO-12
async def test_the_chat_is_switched_on_a_message_reaches_the_pupils_and_a_reload_keeps_it(
    browser: Browser, lesson: Lesson
):
    amelia = await lesson.pupil("Amelia")
    await lesson.staff(lesson.school.assistant_cookie, "assistant")
    context, page = await joined_console(lesson, browser, "en-GB", DESKTOP)
    await page.get_by_role("button", name="Admit everyone expected").click()
    chat = page.get_by_role("region", name="Chat")
    await expect(chat).to_contain_text("The chat is off.")
    await expect(chat.get_by_label("Your message to everyone")).to_be_hidden()
    await chat.get_by_role("button", name="Switch the chat on").click()
    await expect(page.get_by_role("status")).to_contain_text("The chat is on: everyone")
    await expect(chat.get_by_role("button", name="Switch the chat off")).to_be_focused()
    box = chat.get_by_label("Your message to everyone")
    await box.fill("Good morning, Year 2!")
    await box.press("Enter")
    await expect(chat.get_by_role("list", name="Chat").get_by_role("listitem")).to_have_text(
        ["Mrs Khan: Good morning, Year 2!"]
    )
    await expect(box).to_have_value("")
    await expect(box).to_be_focused()
    await amelia.wait_for(
        lambda m: any(e.get("text") == "Good morning, Year 2!" for e in m.get("events", []))
    )
    assert (await amelia.send("chat", text="Hello Mrs Khan"))["type"] == "ok"
    lines = chat.get_by_role("list", name="Chat").get_by_role("listitem")
    await expect(lines).to_have_text(
        ["Mrs Khan: Good morning, Year 2!", "Amelia R.: Hello Mrs Khan"]
    )
    await shot(page, "chat-en-desktop")
    for n in range(1, 13):  # a busy chat scrolls to the newest message
        assert (await amelia.send("chat", text=f"Answer {n}"))["type"] == "ok"
    await expect(lines).to_have_count(14)
    await page.evaluate("document.getElementById('chat-lines').scrollIntoView()")  # the page
    await expect(lines.last).to_be_in_viewport()
    await expect(lines.first).not_to_be_in_viewport()

    await page.reload()  # a reconnect loses nothing, and a reload is not leaving the room
    await expect(page.get_by_role("button", name="Switch the chat off")).to_be_visible()
    assert await page.get_by_role("button", name="Join the room").count() == 0
    again = page.get_by_role("region", name="Chat").get_by_role("listitem")
    await expect(again).to_have_count(14)
    await expect(again.first).to_have_text("Mrs Khan: Good morning, Year 2!")
    await expect(again.last).to_have_text("Amelia R.: Answer 12")
    await page.get_by_role("button", name="Switch the chat off").click()
    await expect(page.get_by_role("region", name="Chat")).to_contain_text("The chat is off.")
    await amelia.wait_for(
        lambda m: m["type"] == "state" and m["view"]["session"]["chat_on"] is False
    )
    await context.close()


# covers: C16, CLA-07, STJ-08, WER-16, S04-21
async def test_a_concern_goes_to_the_dsl_with_the_pupil_and_the_page_says_what_happens_next(
    browser: Browser, lesson: Lesson
):
    await lesson.pupil("Oliver")
    await lesson.staff(lesson.school.assistant_cookie, "assistant")
    context, page = await joined_console(lesson, browser, "en-GB", DESKTOP)
    part = page.get_by_role("region", name="A safeguarding concern")
    await part.get_by_role("button", name="Tell the safeguarding lead").click()
    pupils = part.get_by_role("group", name="About which pupils?")
    await expect(pupils.get_by_role("checkbox").first).to_be_focused()
    await part.get_by_role("button", name="Send to the safeguarding lead").click()  # empty
    summary = part.get_by_label("What did you see or hear?")
    await expect(summary).to_be_focused()
    await expect(part.get_by_text("Please write what you saw or heard.")).to_be_visible()
    await pupils.get_by_label("Oliver S.").check()
    await part.get_by_label("What kind of concern?").select_option(label="Emotional abuse")
    await summary.fill("Oliver said an adult at home shouts at him every night.")
    await shot(page, "concern-form-en-desktop")
    await part.get_by_role("button", name="Send to the safeguarding lead").click()
    sent = part.locator("#concern-sent")
    await expect(sent).to_be_focused()
    await expect(sent).to_contain_text("Sent. Your concern is in this session's record.")
    await expect(sent).to_contain_text("The safeguarding lead will follow it up with you.")
    # this server has no email: the page promises none, and says to tell the DSL directly
    await expect(sent).to_contain_text("Email is not set up on this server")
    await expect(sent).not_to_contain_text("is emailed now")
    await expect(summary).to_be_hidden()
    await shot(page, "concern-sent-en-desktop")

    entries = await lesson.server.services.event_log.read(lesson.session_id)
    concern = [e.payload for e in entries if e.type == "ConcernRaised"]
    alert = [e.payload for e in entries if e.type == "DslAlerted"]
    oliver = lesson.school.pupils["Oliver"]
    assert [(c["summary"], c["pupils"], c["category"]) for c in concern if c] == [
        ("Oliver said an adult at home shouts at him every night.", [oliver], "Emotional abuse")
    ]
    assert [(a["reason"], a["pupil"]) for a in alert if a] == [("concern", oliver)]
    await context.close()


# covers: C13, CLA-09
async def test_the_recording_control_is_not_offered_where_the_policy_forbids_it_and_says_why(
    browser: Browser, lesson: Lesson
):
    await lesson.staff(lesson.school.assistant_cookie, "assistant")
    context, page = await joined_console(lesson, browser, "en-GB", DESKTOP)
    part = page.get_by_role("region", name="Recording")
    await expect(part).to_contain_text("This session is not being recorded.")
    await expect(part).to_contain_text("Recording is switched off in this school's policy (CLA-09)")
    await expect(part.get_by_role("button")).to_have_count(0)
    await expect(page.locator("#recording-on")).to_be_hidden()
    await context.close()


# covers: C3, C7, C8, C16
async def test_the_new_controls_in_welsh_on_a_phone(browser: Browser, lesson: Lesson):
    await lesson.pupil("Amelia")
    await lesson.staff(lesson.school.assistant_cookie, "assistant")
    context, page = await joined_console(lesson, browser, "cy-GB", PHONE)
    waiting = page.get_by_role("list", name="Ystafell aros")
    await expect(waiting).to_contain_text("disgwyl: ar restr y dosbarth")
    await shot(page, "waiting-badges-cy-phone")
    await page.get_by_role("button", name="Gadael i mewn bawb a ddisgwylir").click()
    row = page.locator("#in-room li").filter(has_text="Amelia R.")
    await expect(row.get_by_role("button")).to_have_text(
        [
            "Troi'r meicroffon ymlaen",
            "Caniatáu i siarad",
            "Camera ymlaen",
            "Nodyn neu wobr",
            "Tynnu allan",
        ]
    )
    await page.get_by_role("button", name="Troi'r sgwrs ymlaen").click()
    await expect(page.get_by_label("Eich neges i bawb")).to_be_visible()
    await page.get_by_role("button", name="Dweud wrth yr arweinydd diogelu").click()
    pupils = page.get_by_role("group", name="Am ba ddisgyblion?")
    await expect(pupils.get_by_role("checkbox").first).to_be_focused()
    await shot(page, "controls-cy-phone")
    await context.close()


# covers: CLA-02, C5, STJ-06
async def test_the_staffing_line_says_in_words_why_it_is_red_even_with_nobody_waiting(
    browser: Browser, lesson: Lesson
):
    context = await lesson.console(browser, "en-GB", DESKTOP)
    page = await context.new_page()
    await page.goto(f"{lesson.server.url}/room/{lesson.session_id}")
    await page.get_by_role("button", name="Join the room").click()
    staffing, why = page.locator("#staffing"), page.locator("#staffing-why")
    await expect(staffing).to_have_class("staffing staffing-fails")
    await expect(why).to_have_text(
        "Pupils cannot be let in until another adult joins: this school needs 2 adults in every "
        "session."
    )
    assistant = await lesson.staff(lesson.school.assistant_cookie, "assistant")
    await expect(staffing).to_have_text("Staff present: 2 of 2")
    await expect(staffing).not_to_have_class("staffing staffing-fails")
    await expect(why).to_be_hidden()
    await lesson.pupil("Amelia")
    await page.get_by_role("button", name="Admit everyone expected").click()
    await expect(page.locator("#in-room")).to_contain_text("Amelia R.")
    await assistant.close()  # the assistant drops: the pupils are held
    await expect(staffing).to_have_class("staffing staffing-fails")
    await expect(why).to_have_text(
        "Pupils are held until another adult joins: 1 of 2 required staff present. (CLA-02)"
    )
    await shot(page, "held-en-desktop")
    await context.close()


# covers: CRO-04, C5
async def test_one_adult_where_the_policy_allows_it_is_not_red_and_says_how_pupils_come_in(
    browser: Browser, lesson: Lesson
):
    crofton = await make_school(lesson.server.services, "crofton")
    session_id = await schedule(lesson.server, crofton, starts_at=START)
    one = Lesson(lesson.server, crofton, session_id, lesson.clients)
    await one.pupil("Amelia")
    context = await one.console(browser, "en-GB", DESKTOP)
    page = await context.new_page()
    await page.goto(f"{lesson.server.url}/room/{session_id}")
    await page.get_by_role("button", name="Join the room").click()
    await expect(page.locator("#staffing")).to_have_text("Staff present: 1 of 2")
    await expect(page.locator("#staffing")).not_to_have_class("staffing staffing-fails")
    await expect(page.locator("#staffing-why")).to_have_text(
        "One adult is here: pupils are let in two or more at a time, and the session ends for "
        "everyone together."
    )
    waiting = page.get_by_role("list", name="Waiting room")
    await expect(waiting).to_contain_text("pupils are admitted two or more at a time (CRO-04)")
    await one.pupil("Oliver")
    await expect(page.get_by_role("button", name="Admit everyone expected")).to_be_visible()
    await shot(page, "one-adult-en-desktop")
    await context.close()
