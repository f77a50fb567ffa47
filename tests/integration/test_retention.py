"""Retention: each kind of record goes when the session's policy says; each deletion is logged."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from safeclass.adapters.store import EventLog, connect
from safeclass.adapters.store.retention import StoreRetention
from safeclass.adapters.store.sessions import load_session
from safeclass.adapters.store.tables import Concern, Invitation, PupilPass, Recording
from safeclass.app.retention import run_retention
from safeclass.app.room_log import entries_for
from safeclass.cli.main import app
from safeclass.core import commands as c
from safeclass.core import new_room
from tests.integration.seed import seed_session
from tests.support.keys import chain_key_for
from tests.support.rooms import START, Driver

DAY = dt.timedelta(days=1)


async def _session_with_records(engine: AsyncEngine, tmp_path: Path) -> tuple[str, str, Path]:
    session_id = await seed_session(engine, "claydon", pupils=3)
    stored = await load_session(engine, session_id)
    driver = Driver(new_room(stored.plan, stored.policy))
    driver.class_in(["p1", "p2"])
    driver.ok(c.SetChat("t1", True))
    driver.ok(c.PostChat("p1", "My cat is called Biscuit"))
    driver.ok(c.PostChat("p2", "I live at 4 Elm Road"))
    driver.ok(c.EndSession("t1"))
    log = EventLog(engine, chain_key_for(tmp_path))
    await log.append(session_id, entries_for(driver.log))
    recording = tmp_path / "rec.webm"
    recording.write_bytes(b"not really video")
    now = dt.datetime.now(dt.UTC)
    invitation_id = str(uuid.uuid4())
    async with engine.begin() as conn:
        await conn.execute(
            insert(Invitation).values(
                id=invitation_id,
                school_id=stored.school_id,
                session_id=session_id,
                pupil_id="p1",
                token_hash="a" * 64,
                expires_at=START + DAY,
                created_at=now,
            )
        )
        await conn.execute(
            insert(Recording).values(
                id="rec1",
                school_id=stored.school_id,
                session_id=session_id,
                path=str(recording),
                started_at=START,
                delete_after=START + 30 * DAY,
            )
        )
        await conn.execute(
            insert(Concern).values(
                id="con1",
                school_id=stored.school_id,
                session_id=session_id,
                pupil_id="p2",
                raised_at=START,
                summary="Said something worrying about home",
                keep_until=(START + 365 * 18 * DAY).date(),
            )
        )
        # a device that opened the link holds a pass pointing at the invitation
        await conn.execute(
            insert(PupilPass).values(
                id=str(uuid.uuid4()),
                token_hash="b" * 64,
                invitation_id=invitation_id,
                session_id=session_id,
                pupil_id="p1",
                school_id=stored.school_id,
                created_at=now,
                expires_at=START + DAY,
            )
        )
    return session_id, stored.school_id, recording


async def _count(engine: AsyncEngine, table: type) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


# covers: CLA-14, C13, C16, C17
async def test_each_record_goes_when_the_policy_says_and_nothing_earlier(
    engine: AsyncEngine, tmp_path: Path
):
    session_id, school_id, recording = await _session_with_records(engine, tmp_path)
    log = EventLog(engine, chain_key_for(tmp_path))

    # Claydon: chat text goes as soon as the session is over (chat_messages_days = 0)
    report = await run_retention(StoreRetention(engine), START + dt.timedelta(hours=1), log)
    assert report.chat_messages_blanked == 2
    assert report.invitations_deleted == 0
    entries = await log.read(session_id)
    chat = [e for e in entries if e.type == "ChatPosted"]
    assert [e.payload["text"] for e in chat if e.payload] == ["", ""]
    assert all(e.redacted for e in chat)
    assert "Biscuit" not in str([e.payload for e in entries])
    assert entries[-1].type == "Redacted"
    assert (await log.verify(session_id)).ok

    # a second run the same day changes nothing
    again = await run_retention(StoreRetention(engine), START + dt.timedelta(hours=2), log)
    assert again.total == 0

    # invitations after 7 days; the recording after 30; the concern is still kept
    report = await run_retention(StoreRetention(engine), START + 8 * DAY, log)
    assert report.invitations_deleted == 1
    assert await _count(engine, Invitation) == 0
    assert recording.exists()
    report = await run_retention(StoreRetention(engine), START + 31 * DAY, log)
    assert report.recordings_deleted == 1
    assert not recording.exists()
    assert await _count(engine, Concern) == 1

    # the whole session log after 400 days; the school journal says so without the content
    report = await run_retention(StoreRetention(engine), START + 401 * DAY, log)
    assert report.session_logs_deleted == 1
    assert await log.read(session_id) == []
    journal = await log.read(school_id)
    assert [e.payload["deleted"] for e in journal if e.payload] == ["recording", "session log"]
    assert (await log.verify(school_id)).ok
    assert await _count(engine, Concern) == 1  # safeguarding concerns outlive the session log

    # the concern goes only after its keep-until date (the pupil's 25th birthday by default)
    report = await run_retention(StoreRetention(engine), START + 365 * 19 * DAY, log)
    assert report.concerns_deleted == 1
    journal = await log.read(school_id)
    assert journal[-1].payload == {"deleted": "concern", "concern": "con1"}
    assert "worrying" not in str([e.payload for e in journal])


# covers: C17
def test_the_retention_command_reports_what_it_deleted(db_url: str, tmp_path: Path):
    async def seed() -> None:
        engine = connect(db_url)
        try:
            await _session_with_records(engine, tmp_path)
        finally:
            await engine.dispose()

    asyncio.run(seed())
    result = CliRunner().invoke(
        app,
        [
            "retention",
            "run",
            "--as-of",
            (START + 40 * DAY).isoformat(),
            "--database-url",
            db_url,
            "--data-dir",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Chat messages (text blanked)" in result.output
    assert "Recordings" in result.output
    bad = CliRunner().invoke(app, ["retention", "run", "--as-of", "next tuesday"])
    assert bad.exit_code == 2
    assert "is not an ISO date-time" in bad.output
