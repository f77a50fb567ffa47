"""The head teacher's view in a real browser (C19): the charts drawn on the server, their tables
and CSV links, at a desktop's 1280 px and a phone's 360 px, with axe-core's checks and nothing
the page's strict policy blocks. Screenshots go to SAFECLASS_E2E_SCREENS, else the test's folder
(open them: the bars must read left to right, each with its figure, and the legend beside)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, expect

from safeclass.adapters.store import upgrade
from safeclass.app.clock import AdjustableClock
from safeclass.core import Role
from safeclass.core import commands as c
from tests.e2e.conftest import screens_folder
from tests.integration.families import make_school
from tests.integration.live import LiveServer, staff_cookie
from tests.integration.test_oversight import join, lesson
from tests.support.axe import AXE, serious_problems
from tests.support.layout import assert_fits
from tests.support.page_watch import console_problems
from tests.support.rooms import START

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 360, "height": 740}}
PERIOD = "from=2026-11-02&to=2026-11-27"


@dataclass
class Head:
    server: LiveServer
    cookie: str


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def head(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Head]:
    """Class 2B's lessons on nine days over three weeks: some pupils late, one absent now and
    then, a reward and an incident."""
    folder = tmp_path_factory.mktemp("oversight")
    url = f"sqlite+aiosqlite:///{folder / 'safeclass.db'}"
    upgrade(url)
    server = LiveServer(url, folder, AdjustableClock(START + dt.timedelta(days=3)))
    await server.start()
    try:
        school = await make_school(server.services)
        _, cookie = await staff_cookie(server.services, school.id, "head", "Mrs Head")
        p = school.pupils
        t1, t2 = school.teacher_id, school.assistant_id
        pupils = {
            "Amelia R.": p["Amelia"],
            "Oliver S.": p["Oliver"],
            "Isla J.": p["Isla"],
            "Noah O.": p["Noah"],
        }
        for n in range(9):
            day = START - dt.timedelta(days=22) + dt.timedelta(days=n * 2 + n // 3)
            late = [p["Oliver"]] if n % 3 == 0 else [p["Isla"]] if n % 4 == 1 else []
            on_time = [pid for pid in (p["Amelia"], p["Oliver"], p["Isla"]) if pid not in late]
            if n % 4 == 2:
                on_time.remove(p["Amelia"])  # absent
            script: list[tuple[float, c.Command]] = [
                (-4, c.RequestToJoin(t1, Role.TEACHER, "dev-t1", staff_name="Mrs Khan")),
                (-4, c.RequestToJoin(t2, Role.ASSISTANT, "dev-t2", staff_name="Mr Lee")),
                *((-2, join(pid)) for pid in on_time),
                (0.5, c.AdmitAllExpected(t1)),
                *((8, join(pid)) for pid in late),
                *((8.5, c.Admit(t1, (pid,))) for pid in late),
            ]
            if n == 4:
                script.append((12, c.AddLogNote(t1, c.NoteKind.REWARD, "Great answer", p["Isla"])))
            if n == 7:
                script.append(
                    (14, c.AddLogNote(t2, c.NoteKind.INCIDENT, "Shouted over others", p["Oliver"]))
                )
            await lesson(server, school.id, school.class_id, pupils, day, script)
        yield Head(server, cookie)
    finally:
        await server.stop()


@pytest.mark.parametrize("viewport", sorted(VIEWPORTS))
async def test_the_heads_view_shows_its_charts_and_tables_at_desktop_and_phone_widths(
    head: Head, browser: Browser, viewport: str, tmp_path: Path
):
    context = await browser.new_context(locale="en-GB", viewport=VIEWPORTS[viewport])
    name, _, value = head.cookie.partition("=")
    await context.add_cookies([{"name": name, "value": value, "url": head.server.url}])
    try:
        page = await context.new_page()
        problems: list[str] = []
        page.on(
            "console",
            lambda message: problems.extend(console_problems(message.type, message.text)),
        )
        await page.goto(f"{head.server.url}/staff/oversight?{PERIOD}")
        await expect(page.get_by_role("heading", level=1)).to_have_text(
            "Attendance, punctuality and behaviour"
        )
        weeks = page.get_by_role("img", name="Attendance by week")
        await expect(weeks).to_be_visible()
        await expect(page.get_by_role("img", name="Attendance by class")).to_be_visible()
        await expect(page.get_by_role("img", name="Behaviour")).to_be_visible()
        # the figures in words beside the bars, and the same in the table
        table = page.get_by_role("table", name="Attendance by week, in numbers")
        await expect(table.get_by_role("row")).to_have_count(4)  # a heading and three weeks
        await expect(page.get_by_text("Shouted over others")).to_be_visible()
        # the bars are drawn: patterned late bars as well as solid ones
        late = page.locator("#chart-weeks rect.bar.s-1")
        assert await late.count() >= 3
        box = await weeks.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 100
        await expect(
            page.get_by_role("link", name="Download attendance by week (CSV)")
        ).to_be_visible()
        await assert_fits(page, f"oversight-{viewport}", controls="button, input, select")
        if AXE.exists():
            assert await serious_problems(page) == []
        assert problems == []  # nothing blocked by the policy, no script errors
        folder = screens_folder() or tmp_path
        await page.screenshot(path=folder / f"oversight-{viewport}.png", full_page=True)
    finally:
        await context.close()


async def test_the_heads_view_in_welsh_fits_a_phone(head: Head, browser: Browser, tmp_path: Path):
    context = await browser.new_context(locale="cy-GB", viewport=VIEWPORTS["phone"])
    name, _, value = head.cookie.partition("=")
    await context.add_cookies([{"name": name, "value": value, "url": head.server.url}])
    try:
        page = await context.new_page()
        await page.goto(f"{head.server.url}/staff/oversight?{PERIOD}&lang=cy")
        await expect(page.get_by_role("heading", level=1)).to_have_text(
            "Presenoldeb, prydlondeb ac ymddygiad"
        )
        await expect(page.get_by_role("img", name="Presenoldeb fesul wythnos")).to_be_visible()
        await assert_fits(page, "oversight-cy-phone", controls="button, input, select")
        folder = screens_folder() or tmp_path
        await page.screenshot(path=folder / "oversight-cy-phone.png", full_page=True)
        await page.set_viewport_size(VIEWPORTS["desktop"])
        await page.screenshot(path=folder / "oversight-cy-desktop.png", full_page=True)
    finally:
        await context.close()
