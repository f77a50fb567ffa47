"""Browser tests: Debian's Chromium (/usr/bin/chromium, installed by `scripts/install --dev`,
never a test tool's own download) driven by Playwright, against a real server on loopback.

One server (SQLite) and one browser per test module, each test in a fresh browser context (its
own cookies, language and storage). Chromium runs headless with the flags that keep it off the
network (no background services, no outside lookups), from an empty profile of its own.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, async_playwright
from sqlalchemy import update

from safeclass.adapters.auth.passwords import hash_password
from safeclass.adapters.store import upgrade
from safeclass.adapters.store.tables import Staff
from safeclass.app.clock import AdjustableClock
from tests.integration.families import School, make_school, schedule
from tests.integration.live import Client, LiveServer
from tests.support.chromium import CHROMIUM, launch
from tests.support.rooms import START

PASSWORD = "the owl and the pussycat went to sea"  # noqa: S105 (a test account's)

if not os.access(CHROMIUM, os.X_OK):
    pytest.skip(
        f"Debian's chromium is not installed at {CHROMIUM}: run scripts/install --dev as root "
        "(or apt-get install chromium)",
        allow_module_level=True,
    )


@dataclass
class Site:
    """The running server, its school, and the teacher who signs in."""

    server: LiveServer
    school: School
    email: str
    session_id: str

    @property
    def url(self) -> str:
        return self.server.url


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Site]:
    """A school on Tuesday 09:10 in London, with Year 2 Maths at 10:00 for its teacher."""
    folder = tmp_path_factory.mktemp("site")
    url = f"sqlite+aiosqlite:///{folder / 'safeclass.db'}"
    upgrade(url)
    server = LiveServer(url, folder, AdjustableClock(START - dt.timedelta(minutes=50)))
    await server.start()
    try:
        school = await make_school(server.services)
        email = f"{school.teacher_id[:8]}@school.test"
        async with server.services.engine.begin() as conn:
            await conn.execute(
                update(Staff)
                .where(Staff.id == school.teacher_id)
                .values(password_hash=hash_password(PASSWORD))
            )
        session_id = await schedule(server, school, starts_at=START, title="Year 2 Maths")
        yield Site(server, school, email, session_id)
    finally:
        await server.stop()


@asynccontextmanager
async def year_2_maths(folder: Path) -> AsyncIterator[tuple[LiveServer, School, str, list[Client]]]:
    """Claydon's Year 2 Maths (two adults required, no video) three minutes before it starts, on
    a server of its own in `folder`: the server, the school, the session and a list for the
    WebSocket clients a test opens (closed at the end, before the server stops)."""
    url = f"sqlite+aiosqlite:///{folder / 'safeclass.db'}"
    upgrade(url)
    server = LiveServer(url, folder, AdjustableClock(START - dt.timedelta(minutes=3)))
    await server.start()
    clients: list[Client] = []
    try:
        school = await make_school(server.services)
        session_id = await schedule(server, school, starts_at=START, title="Year 2 Maths")
        yield server, school, session_id, clients
    finally:
        for client in clients:
            await client.close()
        await server.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await launch(playwright)
        try:
            yield chromium
        finally:
            await chromium.close()


def screens_folder() -> Path | None:
    """Where to save screenshots, if SAFECLASS_E2E_SCREENS names a folder."""
    folder = os.environ.get("SAFECLASS_E2E_SCREENS")
    if not folder:
        return None
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    return path
