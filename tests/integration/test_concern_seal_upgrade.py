"""Migration 0015: the concerns a school already holds are sealed as they are, with the server's
concern key, so a record written before sealed heads verifies after the upgrade, and one whose
newest entry is deleted afterwards is found like any other."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from safeclass.adapters.store import connect, upgrade
from safeclass.adapters.store.concerns import StoreConcerns
from safeclass.adapters.store.tables import Concern, ConcernEntry, School
from safeclass.app import concerns
from tests.support.keys import server_secret

AT = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)
ACCOUNT = "Said she was hungry"


async def _concern_as_before(engine: AsyncEngine, key: bytes, concern_id: str) -> None:
    """A concern with its account and one addition, chained as the server chained them before
    migration 0015 (the row has no head then)."""
    record = concerns.record_digest(
        concern_id=concern_id,
        school_id="school",
        session_id=None,
        pupils=[],
        category="",
        happened_at=None,
        raised_at=AT,
        raised_by=None,
        summary=ACCOUNT,
        event_seq=None,
        event_hash=None,
    )
    first = concerns.NewEntry(1, concerns.ACCOUNT, AT, None, None, "Mr Jones", ACCOUNT)
    second = concerns.NewEntry(2, "addition", AT, None, None, "Ms Patel", "Rang mum")
    hash1 = concerns.entry_hash(key, concerns.GENESIS, concern_id, first, record)
    hash2 = concerns.entry_hash(key, hash1, concern_id, second)
    async with engine.begin() as conn:
        await conn.execute(insert(School).values(id="school", key="s", name="S", created_at=AT))
        await conn.execute(  # only the columns a concern had then
            insert(Concern).values(
                id=concern_id, school_id="school", raised_at=AT, summary=ACCOUNT, status="open"
            )
        )
        for entry, prev, digest in ((first, concerns.GENESIS, hash1), (second, hash1, hash2)):
            await StoreConcerns(engine).add_entry(conn, concern_id, entry, prev, digest)


def _at_0014_with_a_concern(path: Path, key: bytes) -> str:
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url, "0014")  # a school's database before sealed concern heads

    async def write() -> None:
        engine = connect(url)
        try:
            await _concern_as_before(engine, key, "c1")
        finally:
            await engine.dispose()

    asyncio.run(write())
    return url


# covers: C16
def test_concerns_written_before_sealed_heads_are_sealed_as_they_are(tmp_path: Path) -> None:
    secret = server_secret(tmp_path)
    key = secret.derive(concerns.CONCERN_KEY)
    url = _at_0014_with_a_concern(tmp_path / "old.db", key)
    upgrade(url, secret=secret)

    async def check() -> None:
        engine = connect(url)
        rows = StoreConcerns(engine)
        try:
            assert await concerns.verify(rows, key, "c1") == []
            async with engine.begin() as conn:
                await conn.execute(
                    ConcernEntry.__table__.delete().where(
                        ConcernEntry.concern_id == "c1", ConcernEntry.seq == 2
                    )
                )
            assert await concerns.verify(rows, key, "c1") == [
                "the entries after entry 1 are missing"
            ]
        finally:
            await engine.dispose()

    asyncio.run(check())


# covers: C16
def test_upgrading_a_database_with_concerns_needs_the_servers_secret(tmp_path: Path) -> None:
    url = _at_0014_with_a_concern(
        tmp_path / "old.db", server_secret(tmp_path).derive(concerns.CONCERN_KEY)
    )
    with pytest.raises(RuntimeError, match="needs the server's secret"):
        upgrade(url)
