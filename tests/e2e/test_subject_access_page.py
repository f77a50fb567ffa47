"""The DSL answers a subject access request and an erasure request in a real browser (UK GDPR):
from the class list to the pupil's records, the archive downloaded, then erasure with its
confirm step and the page that says what went and what stays. axe-core finds nothing serious
on any of the pages; screenshots go to SAFECLASS_E2E_SCREENS when it is set.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import func, select, update

from safeclass.adapters.auth.passwords import hash_password
from safeclass.adapters.store.tables import Concern, Guardian, Staff
from tests.e2e.conftest import Site
from tests.e2e.test_every_page import check
from tests.e2e.test_schedule_pages import DESKTOP, shot
from tests.integration.live import staff_cookie
from tests.support.rooms import START

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="module")]
PASSWORD = "the lead's own long password"  # noqa: S105 (a test account's)


async def _dsl_signs_in(page: Page, site: Site) -> None:
    services = site.server.services
    staff_id, _ = await staff_cookie(services, site.school.id, "dsl", "Ms Patel")
    async with services.engine.begin() as conn:
        await conn.execute(
            update(Staff).where(Staff.id == staff_id).values(password_hash=hash_password(PASSWORD))
        )
    await page.goto(f"{site.url}/sign-in")
    await page.locator("#email").fill(f"{staff_id[:8]}@school.test")
    await page.locator("#school").fill(site.school.key)
    await page.locator("#password").fill(PASSWORD)
    async with page.expect_navigation():
        await page.locator("form button[type=submit]").click()
    await expect(page).to_have_url(f"{site.url}/staff")


# covers: C17, C16, C18
async def test_the_dsl_downloads_a_pupils_records_then_erases_them_keeping_a_concern(
    browser: Browser, site: Site
):
    services = site.server.services
    isla = site.school.pupils["Isla"]
    async with services.engine.begin() as conn:
        await conn.execute(
            Concern.__table__.insert().values(  # type: ignore[attr-defined]
                id="concern-isla",
                school_id=site.school.id,
                session_id=site.session_id,
                pupil_id=isla,
                raised_at=START,
                summary="Isla said she is often hungry at school",
                keep_until=START.date().replace(year=2045),
            )
        )
    context = await browser.new_context(locale="en-GB", viewport=DESKTOP, accept_downloads=True)
    try:
        page = await context.new_page()
        await _dsl_signs_in(page, site)
        await page.goto(f"{site.url}/staff/classes/{site.school.class_id}")
        line = page.locator(".pupil-line", has_text="Isla")
        await line.get_by_role("link", name="Records held").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text(
            "Records held about Isla Jones"
        )
        await expect(page.locator("main table")).to_contain_text("Safeguarding concerns")
        await check(page, "pupil-records", "en")
        await shot(page, "pupil-records")

        async with page.expect_download() as waiting:
            await page.get_by_role("link", name="Download the records").click()
        download = await waiting.value
        assert download.suggested_filename.startswith("subject-access-Isla-Jones-")
        with zipfile.ZipFile(io.BytesIO((await download.path()).read_bytes())) as z:
            summary = z.read("summary.html").decode()
        assert "Isla said she is often hungry at school" in summary
        assert "Amelia" not in summary and "Oliver" not in summary

        await page.get_by_role("link", name="Erase these records…").click()
        main = page.locator("main")
        await expect(main).to_contain_text("Nothing has been erased yet.")
        await expect(main).to_contain_text(
            "Safeguarding concerns (1): kept until 24 November 2045."
        )
        await check(page, "pupil-erase-confirm", "en")
        await shot(page, "pupil-erase-confirm")
        async with services.engine.connect() as conn:
            assert (
                await conn.scalar(
                    select(func.count()).select_from(Guardian).where(Guardian.pupil_id == isla)
                )
                == 1
            )

        await page.get_by_role("button", name="Yes, erase them now").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text(
            "Records of Isla Jones erased"
        )
        await expect(page.locator(".notice[role=status]")).to_be_focused()
        await expect(main).to_contain_text("Parents and carers")
        await expect(main).to_contain_text("kept until 24 November 2045")
        await check(page, "pupil-erased", "en")
        await shot(page, "pupil-erased")
        async with services.engine.connect() as conn:
            assert (
                await conn.scalar(
                    select(func.count()).select_from(Guardian).where(Guardian.pupil_id == isla)
                )
                == 0
            )

        # the class list no longer has her; her record stays for the concern only
        await page.goto(f"{site.url}/staff/classes/{site.school.class_id}")
        await expect(page.locator(".pupil-line", has_text="Isla")).to_have_count(0)
        await page.goto(f"{site.url}/staff/pupils/{isla}/records?lang=cy")
        await expect(page.get_by_role("heading", level=1)).to_have_text(
            "Cofnodion a gedwir am Isla Jones"
        )
        await check(page, "pupil-records-after-erasure", "cy")
        await shot(page, "pupil-records-after-erasure-cy")
    finally:
        await context.close()
