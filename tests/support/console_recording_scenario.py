"""The recording control in the browser, with a real Janus (C13, STJ-09): the teacher's console
offers "Record this session" only where the room would record, everyone is told first, the
pupil's page says so before and while it runs, and "Stop recording" ends it.

Run as root under `unshare -n` (tests/e2e/test_recording_pages.py does it), like
recording_scenario: a real server with media on (its own Janus on the veth's 127.0.0.2), the
teacher's console and one pupil's page in Debian's Chromium (on the server's loopback address:
the pages themselves need no video here), the assistant and a second pupil as Python clients,
the second pupil publishing synthetic audio and video so there is something to record. Prints
one JSON line for the test to assert on; with SAFECLASS_E2E_SCREENS it saves screenshots.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from playwright.async_api import Page, async_playwright, expect

from tests.e2e.conftest import screens_folder
from tests.integration.live import pupil_cookie, staff_cookie
from tests.support.chromium import launch
from tests.support.live_media_scenario import TEACHER, Lesson, MediaClient, _ok, main

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}


async def _shot(page: Page, name: str) -> None:
    folder = screens_folder()
    if folder is not None:
        await page.screenshot(path=folder / f"recording-{name}.png", full_page=True)


async def _text(page: Page, selector: str) -> str:
    locator = page.locator(selector)
    return "" if await locator.is_hidden() else (await locator.inner_text()).strip()


class RecordingPages(Lesson):
    preset, pupils = "st-josephs", 2  # STJ-09: recorded once everyone has been told

    async def steps(self) -> None:
        self.assistant = await self.staff("assistant", "Mr Lee")
        self.p2: MediaClient = await self.pupil("p2")
        _, teacher = await staff_cookie(
            self.server.services, self.school, "teacher", TEACHER, on_session=self.session
        )
        pupil = await pupil_cookie(self.server.services, self.school, self.session, "p1")
        async with async_playwright() as playwright:
            browser = await launch(playwright)
            try:
                console = await self._page(browser, teacher, DESKTOP)
                child = await self._page(browser, pupil, PHONE)
                await self._through_a_recording(console, child)
            finally:
                await browser.close()

    async def _page(self, browser: Any, cookie: str, viewport: dict[str, int]) -> Page:
        context = await browser.new_context(locale="en-GB", viewport=viewport)
        name, _, value = cookie.partition("=")
        await context.add_cookies([{"name": name, "value": value, "url": self.server.url}])
        page: Page = await context.new_page()
        page.on("console", lambda m: self._problem(m.type, m.text))
        await page.goto(f"{self.server.url}/room/{self.session}")
        return page

    def _problem(self, kind: str, text: str) -> None:
        if kind == "error" and not text.startswith("Failed to load resource"):
            self.results.setdefault("console_errors", []).append(text)

    async def _through_a_recording(self, console: Page, child: Page) -> None:
        results = self.results
        await console.get_by_role("button", name="Join the room").click()
        await child.get_by_label("We have read these and we agree").check()
        await child.get_by_role("button", name="Join the class").click()
        await console.get_by_role("button", name="Admit everyone expected").click()
        await expect(child.get_by_role("heading", name="You are in the class")).to_be_visible()
        _ok(await self.p2.publish())  # something to record

        part = console.get_by_role("region", name="Recording")
        start = part.get_by_role("button", name="Record this session")
        await expect(start).to_be_visible()
        results["before"] = {
            "state": await _text(console, "#recording-state"),
            "how": await _text(console, "#recording-how"),
            "buttons": await part.get_by_role("button").all_inner_texts(),
            "pupil_notice": await _text(child, "#recording-notice"),
        }
        await _shot(console, "offered-en-desktop")

        await start.click()
        await expect(console.locator("#recording-notice")).to_have_text(
            "Everyone has been told this session will be recorded."
        )
        await expect(child.locator("#recording-notice")).to_be_visible()
        results["notice"] = {
            "console_status": await _text(console, "#recording-notice"),
            "state": await _text(console, "#recording-state"),
            "indicator": await _text(console, "#recording-on"),
            "buttons": await part.get_by_role("button").all_inner_texts(),
            "pupil_notice": await _text(child, "#recording-notice"),
            "pupil_status_role": await child.locator("#notices").get_attribute("role"),
        }
        await _shot(console, "notice-en-desktop")
        await _shot(child, "notice-en-phone")

        self.server.clock.advance(dt.timedelta(seconds=11))  # St Joseph's notice: 10 s
        await expect(console.locator("#recording-on")).to_be_visible()
        await expect(child.locator("#recording-notice")).to_have_text(
            "This class is being recorded."
        )
        results["on"] = {
            "console_status": await _text(console, "#recording-notice"),
            "state": await _text(console, "#recording-state"),
            "indicator": await _text(console, "#recording-on"),
            "buttons": await part.get_by_role("button").all_inner_texts(),
            "pupil_notice": await _text(child, "#recording-notice"),
            "pupil_notice_red": await child.locator("#recording-notice").evaluate(
                "e => e.classList.contains('recording-now')"
            ),
        }
        await _shot(console, "on-en-desktop")
        await _shot(child, "on-en-phone")

        await part.get_by_role("button", name="Stop recording").click()
        await expect(console.locator("#recording-on")).to_be_hidden()
        await expect(child.locator("#latest-notice")).to_have_text("The recording has stopped.")
        results["stopped"] = {
            "state": await _text(console, "#recording-state"),
            "console_status": await _text(console, "#latest-notice"),
            "buttons": await part.get_by_role("button").all_inner_texts(),
            "pupil_notice": await _text(child, "#recording-notice"),
            "pupil_latest": await _text(child, "#latest-notice"),
        }
        await _shot(console, "stopped-en-desktop")
        await _shot(child, "stopped-en-phone")
        teacher_views = self.assistant.ws.view()["session"]
        results["room"] = {"recording": teacher_views["recording"]}


if __name__ == "__main__":
    main(RecordingPages, timeout=180)
