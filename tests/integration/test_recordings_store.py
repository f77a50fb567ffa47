"""The record of recordings on SQLite and PostgreSQL: kept with their retention date, listed by
`safeclass recordings list`, deleted by the retention job, a missing file reported (C13).

The files here are small stand-ins written by the test: making real ones needs Janus, which
tests/integration/test_recording.py does in a network namespace.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner, Result

from safeclass.adapters.store import EventLog
from safeclass.adapters.store.recordings import StoreRecordings
from safeclass.adapters.store.retention import StoreRetention
from safeclass.adapters.store.sessions import load_session
from safeclass.app import recordings
from safeclass.app.media_port import RecordedFile
from safeclass.app.retention import run_retention
from safeclass.cli.main import app
from tests.integration.seed import seed_session
from tests.support.keys import TEST_CHAIN_KEY

runner = CliRunner(env={"FORCE_COLOR": None, "TTY_COMPATIBLE": None, "COLUMNS": "200"})
NOW = dt.datetime(2026, 11, 24, 10, 30, tzinfo=dt.UTC)


async def cli(*args: str) -> Result:
    result = await asyncio.to_thread(runner.invoke, app, list(args))
    assert "Traceback" not in result.output
    return result


async def kept(engine: AsyncEngine, folder: Path) -> tuple[str, str, list[str]]:
    session_id = await seed_session(engine, "st-josephs", pupils=2)
    school_id = (await load_session(engine, session_id)).school_id
    files = []
    for who, seconds in (("p1", 95), ("t1", 125)):
        path = folder / f"{who}.webm"
        path.write_bytes(b"\x1aE\xdf\xa3" + bytes(2000))
        files.append(
            RecordedFile(
                participant_id=who,
                path=path,
                started_at=NOW,
                ended_at=NOW + dt.timedelta(seconds=seconds),
                size_bytes=path.stat().st_size,
                kinds=("audio", "video"),
            )
        )
    ids = await recordings.keep(
        StoreRecordings(engine),
        school_id=school_id,
        session_id=session_id,
        files=files,
        names={"p1": "Amelia R.", "t1": "Mrs Khan"},
        now=NOW,
        keep_days=30,
    )
    return school_id, session_id, ids


# covers: C13, WER-10
async def test_each_file_is_kept_with_whom_it_shows_and_the_day_it_goes(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    school_id, session_id, ids = await kept(engine, tmp_path)
    rows = await StoreRecordings(engine).list_recordings(school_id)
    assert [r.id for r in rows] == ids
    assert [(r.shown_name, r.seconds, r.kinds) for r in rows] == [
        ("Amelia R.", 95.0, ("audio", "video")),
        ("Mrs Khan", 125.0, ("audio", "video")),
    ]
    assert {r.delete_after for r in rows} == {NOW + dt.timedelta(days=30)}
    assert await StoreRecordings(engine).list_recordings("another-school") == []
    assert len(await StoreRecordings(engine).list_recordings(None, session_id=session_id)) == 2


# covers: C13
async def test_a_file_finished_again_after_a_crash_is_not_recorded_twice(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    school_id, session_id, ids = await kept(engine, tmp_path)
    again = RecordedFile(
        participant_id="p1",
        path=tmp_path / "p1.webm",
        started_at=NOW,
        ended_at=NOW + dt.timedelta(seconds=95),
        size_bytes=2004,
        kinds=("audio", "video"),
    )
    more = await recordings.keep(
        StoreRecordings(engine),
        school_id=school_id,
        session_id=session_id,
        files=[again],
        names={"p1": "Amelia R."},
        now=NOW,
        keep_days=30,
    )
    assert more == []
    assert len(await StoreRecordings(engine).list_recordings(school_id)) == len(ids) == 2


# covers: C13
async def test_recordings_list_shows_each_with_its_length_and_deletion_day(
    engine: AsyncEngine, db_url: str, tmp_path: Path
) -> None:
    empty = await cli("recordings", "list", "--database-url", db_url)
    assert empty.exit_code == 0 and "No recordings." in empty.stdout
    await kept(engine, tmp_path)
    result = await cli("recordings", "list", "--database-url", db_url)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "only the DSL and the head may open them" in out
    assert "Amelia R." in out and "1:35" in out and "audio + video" in out
    assert "Mrs Khan" in out and "2:05" in out
    assert "2026-12-24" in out  # 30 days after


# covers: C13
async def test_retention_deletes_the_files_and_journals_it_and_a_missing_one_is_no_error(
    engine: AsyncEngine, db_url: str, tmp_path: Path
) -> None:
    school_id, _, ids = await kept(engine, tmp_path)
    (tmp_path / "t1.webm").unlink()  # someone removed it by hand
    log = EventLog(engine, TEST_CHAIN_KEY)
    early = await run_retention(StoreRetention(engine), NOW + dt.timedelta(days=29), log)
    assert early.recordings_deleted == 0
    report = await run_retention(
        StoreRetention(engine), NOW + dt.timedelta(days=30, minutes=1), log
    )
    assert report.recordings_deleted == 2 and report.problems == []
    assert not (tmp_path / "p1.webm").exists()
    assert await StoreRecordings(engine).list_recordings(school_id) == []
    gone = await StoreRecordings(engine).list_recordings(school_id, include_deleted=True)
    assert all(r.deleted_at is not None for r in gone)
    journal = [e.payload for e in await EventLog(engine).read(school_id)]
    assert {j["recording"] for j in journal if j.get("deleted") == "recording"} == set(ids)
    listed = await cli("recordings", "list", "--deleted", "--database-url", db_url)
    assert listed.stdout.count("(deleted)") == 2


# covers: C13
async def test_opening_a_recording_is_journalled_and_a_deleted_one_cannot_be_opened(
    engine: AsyncEngine, tmp_path: Path
) -> None:
    school_id, session_id, ids = await kept(engine, tmp_path)
    log, rows = EventLog(engine, TEST_CHAIN_KEY), StoreRecordings(engine)
    row = await recordings.opened(
        rows, log, school_id=school_id, recording_id=ids[0], staff_id="dsl-1", now=NOW
    )
    assert row is not None and row.path == tmp_path / "p1.webm"
    nothing = await recordings.opened(
        rows, log, school_id="another-school", recording_id=ids[0], staff_id="x", now=NOW
    )
    assert nothing is None
    journal = [(e.type, e.payload) for e in await log.read(school_id)]
    assert journal == [
        ("RecordingOpened", {"recording": ids[0], "session": session_id, "by": "dsl-1"})
    ]
    await run_retention(StoreRetention(engine), NOW + dt.timedelta(days=31), log)
    after = await recordings.opened(
        rows, log, school_id=school_id, recording_id=ids[0], staff_id="dsl-1", now=NOW
    )
    assert after is None
