"""A class with real video in Debian's Chromium, through safeclass's own server and Janus, in a
private network namespace.

Run as root under `unshare -n` (tests/e2e/test_video.py does it). Inside: `lo`, and a veth with
127.0.0.2 (Janus's ICE address) and 127.0.0.3, as in janus_scenario; a real `LiveServer`
(uvicorn on 127.0.0.1, SQLite, media on: it starts its own Janus) and one headless Chromium with
a fake camera and microphone (a moving test picture and a beep). The teacher and the assistant
sign in on the sign-in page and open the console; three pupils open their families' links,
check their camera, tick the expectations and wait; the teacher admits everyone expected.

What a person would notice is read from the pages: the tiles' names and words, and, from each
page's own `RTCPeerConnection`s (`getStats`, matched to a tile by its tracks), whether the
teacher's picture is being decoded and whose sound is arriving. Screenshots of every step go to
SAFECLASS_E2E_SCREENS (the test sets a folder). Prints one JSON line of results last.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect
from sqlalchemy import update

from safeclass.adapters.auth.passwords import hash_password
from safeclass.adapters.store import upgrade
from safeclass.adapters.store.tables import Staff
from safeclass.app.clock import AdjustableClock
from tests.integration.families import family_token, make_school, schedule
from tests.integration.live import LiveServer
from tests.support.chromium import MEDIA_FLAGS, launch
from tests.support.janus_scenario import JANUS_IP, setup_namespace
from tests.support.layout import assert_fits
from tests.support.page_watch import console_problems
from tests.support.rooms import START

PASSWORD = "the owl and the pussycat went to sea"  # noqa: S105 (a test account's)
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}
TEACHER, ASSISTANT = "Mrs Khan", "Mr Lee"
WORDS = {  # what a pupil reads and presses, in the page's language
    "en-GB": {
        "before": "Before you join",
        "tick": "We have read these and we agree",
        "join": "Join the class",
        "waiting": "Your teacher will let you in soon.",
        "in": "You are in the class",
        "removed": "Your teacher has taken you out of this class.",
    },
    "cy-GB": {
        "before": "Cyn i ti ymuno",
        "tick": "Rydyn ni wedi darllen y rhain ac rydyn ni'n cytuno",
        "join": "Ymuno â'r dosbarth",
        "waiting": "Bydd dy athro yn gadael i ti ddod i mewn cyn bo hir.",
        "in": "Rwyt ti yn y dosbarth",
        "removed": "Mae dy athro wedi dy dynnu allan o'r dosbarth hwn.",
    },
}

# Every RTCPeerConnection a page makes, kept where the test can read its stats (the page's own
# modules are unchanged: this is the test looking, as a browser's WebRTC internals would).
KEEP_CONNECTIONS = """
(() => {
  const Native = window.RTCPeerConnection;
  const all = [];
  Object.defineProperty(window, "__connections", { value: all });
  window.RTCPeerConnection = class extends Native {
    constructor(...args) { super(...args); all.push(this); }
  };
  const cameras = [];
  Object.defineProperty(window, "__cameras", { value: cameras });
  const devices = navigator.mediaDevices;
  const ask = devices.getUserMedia.bind(devices);
  devices.getUserMedia = async (constraints) => {
    const stream = await ask(constraints);
    cameras.push(stream);
    return stream;
  };
})();
"""

# What each tile of a page is receiving, by the name on the tile: decoded frames, packets.
RECEIVED = """
async () => {
  const names = new Map();
  for (const tile of document.querySelectorAll(".video-tile")) {
    const video = tile.querySelector("video");
    const name = tile.querySelector(".name").textContent;
    for (const track of (video && video.srcObject ? video.srcObject.getTracks() : [])) {
      names.set(track.id, name);
    }
  }
  const out = {};
  for (const pc of window.__connections) {
    if (pc.connectionState === "closed") continue;
    (await pc.getStats()).forEach((s) => {
      if (s.type !== "inbound-rtp" || !names.has(s.trackIdentifier)) return;
      const who = (out[names.get(s.trackIdentifier)] ||= { frames: 0, video: 0, audio: 0 });
      if (s.kind === "video") {
        who.frames += s.framesDecoded || 0;
        who.video += s.packetsReceived;
      } else {
        who.audio += s.packetsReceived;
      }
    });
  }
  return out;
}
"""


class Screens:
    """Screenshots, numbered in the order taken; the page must never scroll sideways."""

    def __init__(self) -> None:
        folder = os.environ.get("SAFECLASS_E2E_SCREENS")
        self.folder = Path(folder) if folder else None
        if self.folder is not None:
            self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0
        self.taken: list[str] = []

    async def shot(self, page: Page, name: str) -> None:
        await assert_fits(page, name)
        self.count += 1
        if self.folder is not None:
            path = self.folder / f"video-{self.count:02d}-{name}.png"
            await page.screenshot(path=path, full_page=True)
            self.taken.append(path.name)


async def received(page: Page) -> dict[str, dict[str, int]]:
    result: dict[str, dict[str, int]] = await page.evaluate(RECEIVED)
    return result


async def rising(page: Page, name: str, what: str, timeout: float = 15) -> tuple[int, int]:
    """Wait until `what` (frames, video, audio) from `name`'s tile grows; (before, after)."""
    deadline = time.monotonic() + timeout
    first = (await received(page)).get(name, {}).get(what, 0)
    while time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        now = (await received(page)).get(name, {}).get(what, 0)
        if now > first > 0 or (now > first and what != "frames"):
            return first, now
        first = first or now
    raise AssertionError(f"{what} from {name} did not rise: {await received(page)}")


async def growth(page: Page, seconds: float) -> dict[str, dict[str, int]]:
    """How much each tile's counts grow over `seconds`."""
    before = await received(page)
    await asyncio.sleep(seconds)
    after = await received(page)
    return {
        name: {k: v - before.get(name, {}).get(k, 0) for k, v in counts.items()}
        for name, counts in after.items()
    }


class Class:
    """The crofton school (two adults, pupils' cameras on at entry, microphones off)."""

    def __init__(self, folder: Path) -> None:
        url = f"sqlite+aiosqlite:///{folder / 'safeclass.db'}"
        upgrade(url)
        self.server = LiveServer(
            url,
            folder,
            AdjustableClock(START - dt.timedelta(minutes=3)),
            heartbeat=5.0,  # five browsers and two Janus on two shared cores: no false drops
            media=True,
            janus_interface=JANUS_IP,
            janus_ice_enforce_list="pv0",
            janus_ignore_mdns=True,
            janus_rtp_ports=(20000, 20999),
        )
        self.screens = Screens()
        self.results: dict[str, Any] = {}
        self.contexts: list[BrowserContext] = []
        self.problems: list[str] = []

    async def run(self) -> dict[str, Any]:
        t0 = time.monotonic()
        await self.server.start()
        try:
            self.school = await make_school(self.server.services, preset="crofton")
            for staff_id in (self.school.teacher_id, self.school.assistant_id):
                async with self.server.services.engine.begin() as conn:
                    await conn.execute(
                        update(Staff)
                        .where(Staff.id == staff_id)
                        .values(password_hash=hash_password(PASSWORD))
                    )
            self.session = await schedule(self.server, self.school, title="Year 2 Maths")
            async with async_playwright() as playwright:
                browser = await launch(playwright, MEDIA_FLAGS)
                try:
                    await self.steps(browser)
                finally:
                    for context in self.contexts:
                        with contextlib.suppress(Exception):
                            await context.close()
                    await browser.close()
        finally:
            await self.server.stop()
        self.results["screens"] = self.screens.taken
        self.results["page_problems"] = self.problems
        self.results["seconds"] = round(time.monotonic() - t0, 1)
        return self.results

    async def page(self, viewport: dict[str, int], locale: str = "en-GB") -> Page:
        context = await self.browser_context(viewport, locale)
        page = await context.new_page()
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("console", lambda m: self.problems.extend(console_problems(m.type, m.text)))
        return page

    async def browser_context(self, viewport: dict[str, int], locale: str) -> BrowserContext:
        context = await self._browser.new_context(locale=locale, viewport=viewport)  # type: ignore[arg-type]
        await context.add_init_script(KEEP_CONNECTIONS)
        self.contexts.append(context)
        return context

    async def link(self, forename: str) -> str:
        """A family's link, as the school's message would carry it."""
        token = await family_token(self.server, self.school, self.session, forename)
        return f"{self.server.url}/join/{token}"

    async def console(self, staff_id: str) -> Page:
        """A member of staff signs in on the sign-in page and joins the room from the console."""
        page = await self.page(DESKTOP)
        await page.goto(f"{self.server.url}/sign-in")
        await page.get_by_label("Email address").fill(f"{staff_id[:8]}@school.test")
        await page.get_by_label("School key").fill(self.school.key)
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Sign in").click()
        await page.get_by_role("link", name="Join Year 2 Maths").click()
        await page.get_by_role("button", name="Join the room").click()
        await expect(page.get_by_role("heading", name="Video")).to_be_visible()
        return page

    async def pupil(
        self, forename: str, viewport: dict[str, int], check: bool, locale: str = "en-GB"
    ) -> Page:
        """A pupil opens the family's link, checks the camera (or not), ticks and joins."""
        words = WORDS[locale]
        page = await self.page(viewport, locale)
        await page.goto(await self.link(forename))
        await expect(page.get_by_role("heading", name=words["before"])).to_be_visible()
        if check:
            await page.get_by_role("button", name="Check my camera and microphone").click()
            working = page.get_by_text("Your camera and microphone are working.")
            await expect(working).to_be_visible()
            await self.preview_plays(page)
            await self.screens.shot(page, f"pupil-{forename}-camera-check")
        await page.get_by_label(words["tick"]).check()
        await page.get_by_role("button", name=words["join"]).click()
        waiting = page.get_by_role("heading", name=words["waiting"])
        await expect(waiting).to_be_visible()
        return page

    async def preview_plays(self, page: Page) -> None:
        await page.wait_for_function(
            """() => { const v = document.getElementById("camera-video");
                       return v && !v.hidden && v.videoWidth > 0 && v.currentTime > 0.2; }""",
            timeout=10000,
        )
        self.results["preview_level_seen"] = await page.evaluate(
            """() => new Promise((done) => {
                 let best = 0; const meter = document.getElementById("mic-level");
                 const t = setInterval(() => { best = Math.max(best, meter.value); }, 50);
                 setTimeout(() => { clearInterval(t); done(best); }, 1500); })"""
        )

    async def steps(self, browser: Browser) -> None:
        self._browser = browser
        t = time.monotonic()
        teacher = await self.console(self.school.teacher_id)
        assistant = await self.console(self.school.assistant_id)
        self.results["staff_in_s"] = round(time.monotonic() - t, 1)
        await rising(teacher, ASSISTANT, "frames")
        await self.screens.shot(teacher, "console-staff-only")

        amelia = await self.pupil("Amelia", PHONE, check=True)
        oliver = await self.pupil("Oliver", DESKTOP, check=False)
        isla = await self.pupil("Isla", PHONE, check=False, locale="cy-GB")
        await self.screens.shot(amelia, "pupil-Amelia-waiting")
        waiting = teacher.get_by_role("region", name="Waiting room")
        await expect(waiting.get_by_role("listitem")).to_have_count(3)
        await self.screens.shot(teacher, "console-three-waiting")

        t_admit = time.monotonic()
        await teacher.get_by_role("button", name="Admit everyone expected").click()
        pupils = {"Amelia": amelia, "Oliver": oliver, "Isla": isla}
        first_frames: dict[str, float] = {}
        for forename, page in pupils.items():
            words = WORDS["cy-GB" if forename == "Isla" else "en-GB"]
            await expect(page.get_by_role("heading", name=words["in"])).to_be_visible()
            await rising(page, TEACHER, "frames")
            first_frames[forename] = round(time.monotonic() - t_admit, 2)
        self.results["admit_to_teacher_frames_s"] = first_frames
        # each pupil decodes the teacher: frames keep rising over a second
        self.results["teacher_frames_per_s_at_pupils"] = {
            forename: (await growth(page, 1.0)).get(TEACHER, {}).get("frames", 0)
            for forename, page in pupils.items()
        }
        names = {f: f"{f} {s[0]}." for f, s in (("Amelia", "R"), ("Oliver", "S"), ("Isla", "J"))}
        await rising(teacher, names["Oliver"], "frames")  # crofton: cameras on at entry
        self.results["tiles_at_amelia"] = await amelia.locator(".video-label").all_inner_texts()
        self.results["tiles_at_teacher"] = await teacher.locator(".video-label").all_inner_texts()
        self.results["staff_tiles_at_oliver"] = await oliver.locator(
            "#video-staff .video-label"
        ).all_inner_texts()
        await self.screens.shot(amelia, "pupil-Amelia-class-phone")
        await self.screens.shot(oliver, "pupil-Oliver-class-desktop")
        self.results["staff_tiles_at_isla_cy"] = await isla.locator(
            "#video-staff .video-label"
        ).all_inner_texts()
        await self.screens.shot(isla, "pupil-Isla-class-cy-phone")
        await self.screens.shot(teacher, "console-class")

        await self.mute(teacher, oliver, names["Amelia"])
        await self.a_connection_drops(oliver)
        await self.video_server_restarts(teacher, oliver)
        await self.remove(teacher, isla, names["Isla"])
        await self.end(teacher, [assistant, amelia, oliver])

    async def a_connection_drops(self, pupil: Page) -> None:
        """The pupil's receiving connection closes (as a network drop would): the server says
        so (`hangup`), the page subscribes again, and the teacher's picture comes back."""
        closed = await pupil.evaluate(
            """() => { const receiving = window.__connections.filter(pc =>
                         pc.connectionState !== "closed" &&
                         pc.getTransceivers().some(t => t.receiver.track.kind === "video"
                                                        && t.currentDirection === "recvonly"));
                       receiving.forEach(pc => pc.close());
                       return receiving.length; }"""
        )
        t_drop = time.monotonic()
        await rising(pupil, TEACHER, "frames")
        self.results["dropped"] = {
            "closed": closed,
            "drop_to_teacher_frames_s": round(time.monotonic() - t_drop, 2),
            "connections": await pupil.evaluate("window.__connections.length"),
        }

    async def video_server_restarts(self, teacher: Page, pupil: Page) -> None:
        """Janus dies: the pages say "Video reconnecting…", then the teacher is back."""
        for page in (teacher, pupil):
            await page.evaluate(
                """() => { const notice = document.getElementById("video-notice");
                   window.__videoNotices = [];
                   new MutationObserver(() => window.__videoNotices.push(
                     notice.hidden ? "" : notice.textContent)).observe(
                     notice, { attributes: true, childList: true, characterData: true,
                               subtree: true }); }"""
            )
        media = self.server.services.media
        assert media is not None and media.process is not None
        t_kill = time.monotonic()
        os.kill(media.process.pid, signal.SIGKILL)
        await expect(pupil.locator("#video-notice")).to_have_text("Video reconnecting…")
        await self.screens.shot(pupil, "pupil-Oliver-video-reconnecting")
        await expect(pupil.locator("#video-notice")).to_be_hidden(timeout=15000)
        await rising(pupil, TEACHER, "frames")
        self.results["restart"] = {
            "kill_to_teacher_frames_at_pupil_s": round(time.monotonic() - t_kill, 2),
            "pupil_notices": await pupil.evaluate("window.__videoNotices"),
            "teacher_notices": await teacher.evaluate("window.__videoNotices"),
        }
        await rising(teacher, "Oliver S.", "frames")
        await self.screens.shot(teacher, "console-after-video-restart")

    async def end(self, teacher: Page, others: list[Page]) -> None:
        """The teacher ends the class: every page says so, and every camera goes off."""
        await teacher.get_by_role("button", name="End for everyone").click()
        await expect(teacher.get_by_role("heading", name="The session has ended.")).to_be_visible()
        for page in others:
            await expect(page.get_by_role("heading", name="ended.")).to_be_visible()
        await asyncio.sleep(0.5)
        self.results["end"] = {
            "open_connections": [
                await page.evaluate(
                    "window.__connections.filter(pc => pc.connectionState !== 'closed').length"
                )
                for page in [teacher, *others]
            ],
            "live_camera_tracks": [
                await page.evaluate(
                    """window.__cameras.flatMap(s => s.getTracks())
                         .filter(t => t.readyState === "live").length"""
                )
                for page in [teacher, *others]
            ],
        }
        await self.screens.shot(teacher, "console-ended")
        await self.screens.shot(others[1], "pupil-Amelia-ended")

    async def mute(self, teacher: Page, other: Page, who: str) -> None:
        """Amelia is let speak, then muted: her sound stops at Oliver's, the teacher's goes on."""
        room = teacher.get_by_role("region", name="In the room")
        line = room.get_by_role("listitem").filter(has_text=who)
        await line.get_by_role("button", name="Unmute").click()
        await rising(other, who, "audio")
        speaking = await growth(other, 1.0)
        await expect(teacher.locator(".video-tile", has_text=who)).to_contain_text("microphone on")
        await self.screens.shot(teacher, "console-amelia-speaking")
        await line.get_by_role("button", name="Mute").click()
        await expect(teacher.locator(".video-tile", has_text=who)).to_contain_text("microphone off")
        await asyncio.sleep(0.5)  # the SFU drops it within milliseconds; give it room
        muted = await growth(other, 1.5)
        self.results["mute"] = {
            "audio_from_pupil_while_speaking_1s": speaking.get(who, {}).get("audio", 0),
            "audio_from_pupil_after_mute_1_5s": muted.get(who, {}).get("audio", 0),
            "audio_from_teacher_after_mute_1_5s": muted.get(TEACHER, {}).get("audio", 0),
            "frames_from_pupil_after_mute_1_5s": muted.get(who, {}).get("frames", 0),
        }
        await self.screens.shot(teacher, "console-amelia-muted")
        await self.screens.shot(other, "pupil-Oliver-after-mute")

    async def remove(self, teacher: Page, removed: Page, who: str) -> None:
        """Isla is removed: her page says so, her connections close, her camera stops, and
        nobody sees her tile any more."""
        before = await growth(removed, 0.5)
        room = teacher.get_by_role("region", name="In the room")
        await (
            room.get_by_role("listitem")
            .filter(has_text=who)
            .get_by_role("button", name="Remove")
            .click()
        )
        await teacher.get_by_label("Why? (kept in the session's record)").fill("Testing removal")
        await teacher.locator("#remove-form").get_by_role("button", name="Remove").click()
        await expect(removed.get_by_role("heading", name=WORDS["cy-GB"]["removed"])).to_be_visible()
        await expect(teacher.locator(".video-tile", has_text=who)).to_have_count(0)
        await asyncio.sleep(1.0)
        self.results["removal"] = {
            "teacher_frames_before_0_5s": before.get(TEACHER, {}).get("frames", 0),
            "connections_open_after": await removed.evaluate(
                "window.__connections.filter(pc => pc.connectionState !== 'closed').length"
            ),
            "tiles_after": await removed.locator(".video-tile").count(),
            "cameras_asked": await removed.evaluate("window.__cameras.length"),
            "camera_tracks_live_after": await removed.evaluate(
                """window.__cameras.flatMap(s => s.getTracks())
                     .filter(t => t.readyState === "live").length"""
            ),
        }
        await self.screens.shot(removed, "pupil-Isla-removed-cy")
        await self.screens.shot(teacher, "console-after-removal")


def main(scenario: type[Class] = Class, timeout: float = 150) -> None:
    """Run `scenario` in this (already private) network namespace; its results as the last line."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    setup_namespace()
    with tempfile.TemporaryDirectory() as folder:
        results = asyncio.run(asyncio.wait_for(scenario(Path(folder)).run(), timeout))
    print(json.dumps(results, default=str))


if __name__ == "__main__":
    main()
