"""`safeclass report register|timeline` on a session whose events are in the database (C14, C15)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner, Result

from safeclass.adapters.store import EventLog
from safeclass.adapters.store.sessions import load_session
from safeclass.app.register import build_register
from safeclass.app.room_log import entries_for, room_events
from safeclass.cli.main import app
from safeclass.core import Role, new_room
from safeclass.core import commands as c
from tests.integration.seed import seed_session
from tests.support.keys import TEST_CHAIN_KEY
from tests.support.rooms import Driver

# Rich decides colour and wrapping from the environment; tests see plain, unwrapped text.
runner = CliRunner(env={"FORCE_COLOR": None, "TTY_COMPATIBLE": None, "COLUMNS": "200"})


async def cli(*args: str) -> Result:
    """Run the command in a thread: it starts its own event loop, as it does from a shell."""
    result = await asyncio.to_thread(runner.invoke, app, list(args))
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception), result.exception
    return result


async def recorded_lesson(engine: AsyncEngine) -> tuple[str, Driver]:
    """A seeded Claydon session, driven through a lesson and written to its event log."""
    session_id = await seed_session(engine, "claydon", pupils=6, refused=("p6",))
    stored = await load_session(engine, session_id)
    d = Driver(new_room(stored.plan, stored.policy))
    d.at(-3).ok(c.RequestToJoin("t1", Role.TEACHER, "dev-t1", staff_name="Mrs Khan"))
    d.ok(c.RequestToJoin("t2", Role.ASSISTANT, "dev-t2", staff_name="Mr Lee"))
    for pid in ("p1", "p2", "p3"):
        d.pupil_join(pid)
    d.at(1).ok(c.AdmitAllExpected("t1"))
    d.at(4).pupil_join("p4")
    d.at(4, 30).ok(c.Admit("t2", ("p4",)))
    d.at(10).ok(c.ConnectionLost("t2", "dev-t2"))  # held: 1 of 2 staff
    d.at(10, 40).ok(c.RequestToJoin("t2", Role.ASSISTANT, "dev-t2", staff_name="Mr Lee"))
    d.at(12).ok(c.Remove("t1", "p2", "=shouting over others"))
    d.at(30).ok(c.Tick())
    await EventLog(engine, TEST_CHAIN_KEY).append(session_id, entries_for(d.log))
    return session_id, d


# covers: C14, CLA-17, S04-03, CRO-02, STJ-11
async def test_register_from_the_stored_log_equals_the_register_from_the_live_room(
    engine: AsyncEngine,
):
    session_id, d = await recorded_lesson(engine)
    stored = await load_session(engine, session_id)
    events = room_events(await EventLog(engine).read(session_id))
    from_log = build_register(stored.plan, events, "Europe/London", policy=stored.policy)
    live = build_register(d.state.plan, d.log, "Europe/London", policy=d.state.policy)
    assert from_log == live


# covers: C14, CLA-17, S04-03, CRO-02, STJ-11
async def test_report_register_writes_the_csv_for_the_schools_spreadsheet(
    engine: AsyncEngine, db_url: str
):
    session_id, _ = await recorded_lesson(engine)
    result = await cli(
        "report", "register", session_id, "--format", "csv", "--database-url", db_url
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()  # (Click's runner shows the CSV's CRLF as LF)
    assert lines[0].startswith("Date,Session,Pupil,Status,Joined waiting room,Admitted,Left,")
    assert lines[1:] == [
        "2026-11-24,Year 2 Maths,Amelia R.,attended,09:57,10:01,10:30,29,,no,0,,,0,0,0",
        "2026-11-24,Year 2 Maths,Ava E.,absent,,,,0,,,0,,,0,0,0",
        "2026-11-24,Year 2 Maths,Isla J.,attended,09:57,10:01,10:30,29,,no,0,,,0,0,0",
        "2026-11-24,Year 2 Maths,Leo K.,opted out,,,,0,,,0,,,0,0,0",
        # Noah joined 4 minutes after the start: not late under Claydon's 5
        "2026-11-24,Year 2 Maths,Noah O.,attended,10:04,10:04,10:30,25.5,,no,0,,,0,0,0",
        "2026-11-24,Year 2 Maths,Oliver S.,removed,09:57,10:01,10:12,11,,no,0,Mrs Khan,"
        "'=shouting over others,0,0,0",
    ]


# covers: C14, CLA-17, S04-03, C5
async def test_report_register_writes_pdf_and_csv_files(
    engine: AsyncEngine, db_url: str, tmp_path: Path
):
    session_id, _ = await recorded_lesson(engine)
    pdf = tmp_path / "register.pdf"
    result = await cli(
        "report", "register", session_id, "-f", "pdf", "-o", str(pdf), "--database-url", db_url
    )
    assert result.exit_code == 0, result.output
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert f"written to {pdf}" in result.stderr
    sheet = tmp_path / "register.csv"
    result = await cli(
        "report", "register", session_id, "-f", "csv", "-o", str(sheet), "--database-url", db_url
    )
    assert result.exit_code == 0, result.output
    data = sheet.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfDate,Session,Pupil,")  # a BOM, so Excel reads UTF-8
    assert "Noah O.,attended,10:04" in data.decode("utf-8-sig")


# covers: C14, CLA-17
async def test_report_register_prints_a_table_by_default(engine: AsyncEngine, db_url: str):
    session_id, _ = await recorded_lesson(engine)
    result = await cli("report", "register", session_id, "--database-url", db_url)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Claydon Primary School" in out
    assert "Attendance register: Year 2 Maths, Tuesday 24 November 2026 10:00" in out
    assert "Pupils: 6 expected, 4 attended, 1 absent, 0 late, 0 left early, 1 removed" in out
    assert "Room held 1 time, 40 s in all" in out
    assert "Oliver S. was removed by Mrs Khan: =shouting over others" in out
    for name in ("Amelia R.", "Noah O.", "Mr Lee"):
        assert name in out


# covers: C15, CLA-17, C5
async def test_report_timeline_prints_one_plain_line_per_event(engine: AsyncEngine, db_url: str):
    session_id, d = await recorded_lesson(engine)
    result = await cli("report", "timeline", session_id, "--database-url", db_url)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == len(d.log)
    assert "10:01 Amelia R. admitted by Mrs Khan" in lines
    assert "10:10 Room held: 1 of 2 required staff present" in lines
    assert "10:10 Room released (held for 40 s)" in lines
    assert "10:30 Session ended (time limit) — 5 disconnected (3 pupils, 2 staff)" in lines


# covers: C14
async def test_an_unknown_session_is_one_line_and_exit_code_1(engine: AsyncEngine, db_url: str):
    await seed_session(engine, "claydon", pupils=1)
    for command in ("register", "timeline"):
        result = await cli("report", command, "no-such-session", "--database-url", db_url)
        assert result.exit_code == 1
        assert result.stderr.strip() == "Error: No session no-such-session"


# covers: C14
def test_a_missing_database_is_named_rather_than_created(tmp_path: Path):
    result = runner.invoke(app, ["report", "register", "s1", "--data-dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "No safeclass data here" in result.stderr and "Traceback" not in result.output
    assert str(tmp_path / "safeclass.db") in result.stderr
    assert not (tmp_path / "safeclass.db").exists()


# covers: C14
def test_a_pdf_without_an_output_file_is_a_usage_error(tmp_path: Path):
    result = runner.invoke(app, ["report", "register", "s1", "-f", "pdf"])
    assert result.exit_code == 2
    assert "--output" in result.output and "Traceback" not in result.output
