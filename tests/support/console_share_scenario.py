"""The console's "Share my screen" in Debian's Chromium, through a real Janus, in a namespace (C21).

Run as root under `unshare -n` (tests/e2e/test_console_screen_share.py does it), like
screen_share_scenario: a real server with media on. The teacher is the staff console in
Chromium (fake devices: its "screen" is Chromium's fake capture); the assistant and a pupil are
aiortc clients speaking the room's protocol. The teacher presses "Share my screen": the page
captures the screen (static/screen-share.js), sends it on a third connection, and the pupil
decodes its frames as the stream marked `"source": "screen"`; the button then says "Stop sharing
my screen", and pressing it stops the frames. Screenshots go to SAFECLASS_E2E_SCREENS if set.
Prints one JSON line.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from playwright.async_api import async_playwright, expect

from tests.integration.live import staff_cookie
from tests.support.chromium import MEDIA_FLAGS, launch
from tests.support.janus_scenario import wait_for
from tests.support.live_media_scenario import TEACHER, _ok, main
from tests.support.screen_share_scenario import SCREEN, ScreenShareLesson


class ConsoleShareLesson(ScreenShareLesson):
    async def steps(self) -> None:
        services = self.server.services
        _, cookie = await staff_cookie(
            services, self.school, "teacher", TEACHER, on_session=self.session
        )
        self.assistant = await self.staff("assistant", "Mr Lee")
        self.p1 = await self.pupil("p1")
        async with async_playwright() as playwright:
            browser = await launch(playwright, MEDIA_FLAGS)  # the screen picker answers itself
            try:
                await self.at_the_console(browser, cookie)
            finally:
                await browser.close()

    async def at_the_console(self, browser: Any, cookie: str) -> None:
        name, _, value = cookie.partition("=")
        context = await browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
        await context.add_cookies([{"name": name, "value": value, "url": self.server.url}])
        page = await context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on(  # a script error or a broken policy (not the browser's own favicon request)
            "console",
            lambda m: (
                problems.append(m.text)
                if m.type == "error" and not m.location.get("url", "").endswith("/favicon.ico")
                else None
            ),
        )
        page.on(
            "response",
            lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )
        elsewhere: list[str] = []
        page.on(
            "request",
            lambda r: None if r.url.startswith(self.server.url) else elsewhere.append(r.url),
        )
        await page.goto(f"{self.server.url}/room/{self.session}")
        await page.get_by_role("button", name="Join the room").click()
        await expect(page.locator("#staffing")).to_have_text("Staff present: 2 of 2")
        _ok(await self.assistant.ws.send("admit", pupils=["p1"]))
        await self.p1.ws.wait_for(
            lambda m: m["type"] == "state" and (m["view"]["me"] or {}).get("status") == "admitted"
        )
        _ok(await self.p1.publish())
        _ok(await self.p1.subscribe())
        share = page.get_by_role("button", name="Share my screen")
        await expect(share).to_be_visible()
        await self.shot(page, "share-offered")
        t_share = time.monotonic()
        await share.click()
        stop = page.get_by_role("button", name="Stop sharing my screen")
        await expect(stop).to_be_visible()
        first = await wait_for(
            lambda: self.p1.count(SCREEN, "video", t_share) > 5, 15, "the console's screen at p1"
        )
        streams = [s for s in self.p1.streams() if s.get("source") == "screen"]
        await self.shot(page, "sharing")
        t_stop = time.monotonic()
        await stop.click()
        await expect(share).to_be_visible()
        await self.p1.ws.wait_for(
            lambda m: m["type"] == "state" and m["view"]["session"]["screen"] is None, 10
        )
        await page.wait_for_timeout(1500)
        self.results["console"] = {
            "share_to_frames_at_pupil_s": first,
            "screen_streams_at_p1": [
                {k: s.get(k) for k in ("kind", "name", "source")} for s in streams
            ],
            "frames_after_stop_0_5s": self.p1.count(SCREEN, "video", t_stop + 0.5),
            "pupil_view_screen_after": self.p1.ws.view()["session"]["screen"],
            "page_problems": problems,
            "requests_elsewhere": elsewhere,
        }
        await context.close()
        self.results["welsh_phone"] = await self.in_welsh_on_a_phone(browser, cookie)

    async def in_welsh_on_a_phone(self, browser: Any, cookie: str) -> dict[str, Any]:
        """The console on a narrow screen in Welsh: the button in Welsh, big enough."""
        name, _, value = cookie.partition("=")
        context = await browser.new_context(locale="cy-GB", viewport={"width": 360, "height": 740})
        await context.add_cookies([{"name": name, "value": value, "url": self.server.url}])
        page = await context.new_page()
        await page.goto(f"{self.server.url}/room/{self.session}")
        # the page opened again within the reload grace: she is still in the room, no joining
        button = page.get_by_role("button", name="Rhannu fy sgrin")
        await expect(button).to_be_visible()
        box = await button.bounding_box()
        wide = await page.evaluate("document.documentElement.scrollWidth > window.innerWidth")
        await self.shot(page, "cy-phone")
        await context.close()
        return {"height": box["height"] if box else 0, "scrolls_sideways": wide}

    async def shot(self, page: Any, name: str) -> None:
        folder = os.environ.get("SAFECLASS_E2E_SCREENS")
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=Path(folder) / f"console-screen-{name}.png", full_page=True)


if __name__ == "__main__":
    main(ConsoleShareLesson, timeout=120)
