"""The camera and microphone check on the pupil's page when they cannot be used (issue 10, point
3): a device with no camera, and a family who says no to the browser's question. Either way the
page says so plainly, in English or Welsh, and the child still joins the class. No video server
is needed (this server has none, and the class says so once the child is in).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.e2e.conftest import year_2_maths
from tests.e2e.test_pupil_page import DESKTOP, PHONE, Lesson, shot
from tests.support.chromium import FLAGS, launch
from tests.support.page_watch import Watch

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(loop_scope="module")
async def lesson(tmp_path: Path) -> AsyncIterator[Lesson]:
    """Claydon's Year 2 Maths three minutes before it starts, on a server without video."""
    async with year_2_maths(tmp_path) as (server, school, session_id, clients):
        yield Lesson(server, school, session_id, clients)


@pytest_asyncio.fixture(loop_scope="module")
async def refusing_browser() -> AsyncIterator[Browser]:
    """Chromium with a (fake) camera whose question about it is answered no."""
    async with async_playwright() as playwright:
        chromium = await launch(playwright, [*FLAGS, "--use-fake-device-for-media-stream"])
        try:
            yield chromium
        finally:
            await chromium.close()


async def check_camera(page: Page, lesson: Lesson, forename: str, button: str) -> None:
    await page.goto(await lesson.link(forename))
    await page.get_by_role("button", name=button).click()


async def join_and_enter(page: Page, lesson: Lesson, forename: str, tick: str, join: str) -> None:
    await page.get_by_label(tick).check()
    await page.get_by_role("button", name=join).click()
    if not lesson.staff:
        await lesson.join_staff(lesson.school.teacher_cookie, "teacher")
        await lesson.join_staff(lesson.school.assistant_cookie, "assistant")
    teacher = lesson.staff[0]
    pupil = lesson.school.pupils[forename]
    await teacher.wait_for(lambda m: m["type"] == "state" and pupil in m["view"]["waiting"])
    assert (await teacher.send("admit", pupils=[pupil]))["type"] == "ok"


# covers: C22
async def test_a_device_without_a_camera_is_told_plainly_and_still_joins(
    browser: Browser, lesson: Lesson
):
    context = await browser.new_context(locale="en-GB", viewport=PHONE)
    page = await context.new_page()
    watch = Watch(page)
    await check_camera(page, lesson, "Amelia", "Check my camera and microphone")
    problem = page.locator("#camera-problem")
    await expect(problem).to_have_text(
        "We could not find a camera or microphone. You can still join, and see and hear your class."
    )
    await expect(page.locator("#camera-preview")).to_be_hidden()
    await expect(page.get_by_role("button", name="Check my camera and microphone")).to_be_visible()
    await shot(page, "camera-missing-en-phone")
    await join_and_enter(
        page, lesson, "Amelia", "We have read these and we agree", "Join the class"
    )
    await expect(page.get_by_role("heading", name="You are in the class")).to_be_visible()
    await expect(page.locator("#video-notice")).to_have_text(
        "There is no video in this class today."
    )
    await expect(page.get_by_role("region", name="Video")).to_be_hidden()  # nothing to show
    await expect(page.get_by_role("list", name="Who is here")).to_contain_text("Mrs Khan")
    await shot(page, "class-without-video-en-phone")
    assert watch.problems == []
    await context.close()


# covers: C22
async def test_a_family_that_says_no_to_the_camera_is_told_in_welsh_and_the_child_still_joins(
    refusing_browser: Browser, lesson: Lesson
):
    context = await refusing_browser.new_context(locale="cy-GB", viewport=DESKTOP)
    page = await context.new_page()
    watch = Watch(page)
    await check_camera(page, lesson, "Oliver", "Gwirio fy nghamera a'm meicroffon")
    await expect(page.locator("#camera-problem")).to_contain_text(
        "Dydy dy gamera a dy feicroffon ddim wedi'u caniatáu ar y ddyfais hon."
    )
    await expect(page.locator("#camera-preview")).to_be_hidden()
    await shot(page, "camera-refused-cy-desktop")
    await join_and_enter(
        page,
        lesson,
        "Oliver",
        "Rydyn ni wedi darllen y rhain ac rydyn ni'n cytuno",
        "Ymuno â'r dosbarth",
    )
    await expect(page.get_by_role("heading", name="Rwyt ti yn y dosbarth")).to_be_visible()
    await expect(page.locator("#video-notice")).to_have_text(
        "Does dim fideo yn y dosbarth hwn heddiw."
    )
    await shot(page, "class-without-video-cy-desktop")
    assert watch.problems == []
    await context.close()
