"""A pupil's page in a real browser loses its connection and picks up where it was (issue 12).

The page's socket goes through the browser's own WebSocket, routed by the test (Playwright's
`route_web_socket`) so the test can cut the page off the way a phone changing networks is: the
page sees its socket close, while the server has not noticed yet. The room goes on without it
(the teacher writes in the chat and lets the pupil speak); the page reconnects by itself,
saying where it was (`?since=`), and shows that line and that notice, once each, as it would
have live (docs/protocol.md, "Resuming"). Staff act from Python WebSocket clients.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, WebSocketRoute, expect

from safeclass.adapters.store import upgrade
from safeclass.app.clock import AdjustableClock
from tests.e2e.conftest import screens_folder
from tests.integration.families import School, family_token, make_school, schedule
from tests.integration.live import Client, LiveServer
from tests.support.page_watch import Watch
from tests.support.rooms import START

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]


@dataclass
class Lesson:
    server: LiveServer
    school: School
    session_id: str
    staff: list[Client] = field(default_factory=list)

    async def join_staff(self, cookie: str, who: str) -> Client:
        client = await Client(self.server, self.session_id, cookie, who).connect()
        self.staff.append(client)
        assert (await client.send("join"))["type"] == "ok"
        return client


@pytest_asyncio.fixture(loop_scope="module")
async def lesson(tmp_path: Path) -> AsyncIterator[Lesson]:
    """Claydon's Year 2 Maths three minutes before it starts, with the server's heartbeat as a
    school's (5 s): a page cut off for a second is still in the room when it is back."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'safeclass.db'}"
    upgrade(url)
    server = LiveServer(url, tmp_path, AdjustableClock(START - dt.timedelta(minutes=3)), 5.0)
    await server.start()
    lesson: Lesson | None = None
    try:
        school = await make_school(server.services)
        session_id = await schedule(server, school, starts_at=START, title="Year 2 Maths")
        lesson = Lesson(server, school, session_id)
        yield lesson
    finally:
        for client in lesson.staff if lesson else []:
            await client.close()
        await server.stop()


class Sockets:
    """The page's room sockets, each passed through to the server, until the test cuts one
    off; a socket opened while `held` reaches the server only once `let_through`."""

    def __init__(self) -> None:
        self.routes: list[WebSocketRoute] = []
        self.opened = asyncio.Event()
        self.gate = asyncio.Event()
        self.gate.set()

    async def route(self, ws: WebSocketRoute) -> None:
        self.routes.append(ws)
        self.opened.set()
        await self.gate.wait()
        server = ws.connect_to_server()
        # a close on either side stays on that side: the test decides what each one sees
        ws.on_close(lambda code, reason: None)
        server.on_close(lambda code, reason: None)

    async def cut_off(self) -> None:
        """The page's socket closes; the server's stays open, as if the network had gone."""
        self.gate.clear()
        self.opened.clear()
        await self.routes[-1].close(code=1012, reason="")


# covers: C8
async def test_a_pupils_page_cut_off_reconnects_by_itself_and_shows_what_it_missed_once(
    browser: Browser, lesson: Lesson
):
    context = await browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    watch = Watch(page)
    sockets = Sockets()
    await page.route_web_socket(re.compile(r"/ws/sessions/"), sockets.route)
    token = await family_token(lesson.server, lesson.school, lesson.session_id, "Amelia")
    await page.goto(f"{lesson.server.url}/join/{token}")
    await page.get_by_label("We have read these and we agree").check()
    await page.get_by_role("button", name="Join the class").click()
    await expect(
        page.get_by_role("heading", name="Your teacher will let you in soon.")
    ).to_be_visible()
    teacher = await lesson.join_staff(lesson.school.teacher_cookie, "teacher")
    await lesson.join_staff(lesson.school.assistant_cookie, "assistant")
    amelia = lesson.school.pupils["Amelia"]
    await teacher.wait_for(lambda m: m["type"] == "state" and amelia in m["view"]["waiting"])
    assert (await teacher.send("admit", pupils=[amelia]))["type"] == "ok"
    assert (await teacher.send("chat_on"))["type"] == "ok"
    assert (await teacher.send("chat", text="Good morning, everyone"))["type"] == "ok"
    chat = page.get_by_role("region", name="Chat")
    await expect(chat.get_by_role("listitem")).to_have_text(["Mrs Khan: Good morning, everyone"])
    assert len(sockets.routes) == 1 and "since=" not in sockets.routes[0].url  # a page that loads

    await sockets.cut_off()
    status = page.get_by_role("status")
    await expect(status).to_contain_text("Trying to connect again. Please wait…")
    await asyncio.wait_for(sockets.opened.wait(), 10)  # the page tries again by itself...
    # ...and while it is away, the room goes on
    assert (await teacher.send("chat", text="Open your books at page 12"))["type"] == "ok"
    assert (await teacher.send("allow_to_speak", pupil=amelia))["type"] == "ok"
    sockets.gate.set()

    await expect(chat.get_by_role("listitem")).to_have_text(
        ["Mrs Khan: Good morning, everyone", "Mrs Khan: Open your books at page 12"]
    )
    await expect(status).to_contain_text("You may speak now.")
    await expect(page.get_by_role("heading", name="You are in the class")).to_be_visible()
    assert len(sockets.routes) == 2
    assert re.search(r"[?&]since=\d+$", sockets.routes[1].url), sockets.routes[1].url
    # it is in the room on the same device, as before: the room's next line comes once too
    assert (await teacher.send("chat", text="Well done"))["type"] == "ok"
    await expect(chat.get_by_role("listitem")).to_have_count(3)
    await expect(chat.get_by_role("listitem").last).to_have_text("Mrs Khan: Well done")
    await asyncio.sleep(0.3)  # anything sent twice would have arrived by now
    await expect(chat.get_by_role("listitem")).to_have_count(3)
    folder = screens_folder()
    if folder is not None:
        await page.screenshot(path=folder / "pupil-reconnected-en-desktop.png", full_page=True)
    assert watch.problems == []
    await context.close()
