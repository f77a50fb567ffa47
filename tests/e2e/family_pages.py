"""A family's link opened on a phone, and the lesson's teacher signed in at a desk, in a given
language: the two sides of the family pages' browser tests (tell the school, withdraw)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from playwright.async_api import Browser, Page

from tests.e2e.conftest import Site
from tests.e2e.test_schedule_pages import DESKTOP, PHONE, sign_in
from tests.integration.families import family_token


@asynccontextmanager
async def parent_on_a_phone(
    browser: Browser, site: Site, locale: str, forename: str
) -> AsyncIterator[Page]:
    """The "tell the school" page of the child's link, on a phone."""
    token = await family_token(site.server, site.school, site.session_id, forename)
    family = await browser.new_context(locale=locale, viewport=PHONE)
    try:
        parent = await family.new_page()
        await parent.goto(f"{site.url}/join/{token}/absence")
        yield parent
    finally:
        await family.close()


@asynccontextmanager
async def teacher_at_a_desk(browser: Browser, site: Site, locale: str) -> AsyncIterator[Page]:
    """The lesson's teacher, signed in on a desktop screen."""
    staff = await browser.new_context(locale=locale, viewport=DESKTOP)
    try:
        teacher = await staff.new_page()
        await sign_in(teacher, site)
        yield teacher
    finally:
        await staff.close()
