"""Integration fixtures: a freshly migrated database per test, on SQLite and on PostgreSQL.

Every test that takes `db_url` runs twice: on a SQLite file in its own temporary folder, and on
a PostgreSQL database created for that test alone (from SAFECLASS_TEST_PG_URL, default the local
server's `test` database) and dropped afterwards.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from safeclass.adapters.store import connect, upgrade
from tests.integration.families import MailSink

PG_URL = os.environ.get("SAFECLASS_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _pg_admin(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def _pg(statement: str) -> None:
    conn = await asyncpg.connect(_pg_admin(PG_URL))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty, migrated database for this test alone."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'safeclass.db'}"
        upgrade(url)
        yield url
        return
    yield from _fresh_pg()


@pytest.fixture
async def mail() -> AsyncIterator[MailSink]:
    """A real SMTP server (aiosmtpd) on loopback that keeps every message it receives."""
    sink = MailSink().start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    eng = connect(db_url)
    try:
        yield eng
    finally:
        await eng.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test alone (what a cluster shares)."""
    yield from _fresh_pg()


@pytest.fixture(scope="module")
def pg_url_for_module() -> Iterator[str]:
    """`pg_url` for a module's tests together (a scenario run once, looked at by each test)."""
    yield from _fresh_pg()


def _fresh_pg() -> Iterator[str]:
    """A PostgreSQL database made and migrated for its caller, dropped afterwards."""
    name = f"safeclass_t_{uuid.uuid4().hex[:12]}"
    asyncio.run(_pg(f'CREATE DATABASE "{name}"'))
    base, _, _ = PG_URL.rpartition("/")
    url = f"{base}/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        asyncio.run(_pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
