"""The demo a newcomer can try twice, and links without email, through the real `safeclass` CLI.

Each command runs as its own process in a fresh working folder with no SAFECLASS_* settings, as
someone who has just cloned the repository would run it; links are opened on a real server.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from safeclass.adapters.server_secret import ServerSecret, secret_path
from safeclass.adapters.store import EventLog, connect, school_records
from safeclass.adapters.store.attendance import StoreAttendance
from safeclass.adapters.store.compliance_results import StoreComplianceResults
from safeclass.adapters.store.concerns import StoreConcerns
from safeclass.adapters.store.event_log import CHAIN_KEY
from safeclass.adapters.store.tables import (
    AttendanceStamp,
    Concern,
    Notification,
    SchoolClass,
    Session,
    SessionEvent,
    Staff,
)
from safeclass.app import concerns, oversight
from safeclass.app.clock import AdjustableClock
from safeclass.app.reports import compliance
from tests.integration.live import LiveServer

NO_DATA = "No safeclass data here: run ./scripts/demo, or pass --data-dir"
LINK = re.compile(r"http://127\.0\.0\.1:\d+/join/[A-Za-z0-9_-]+")


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAFECLASS_")}
    env["COLUMNS"] = "200"  # so that rich never folds a link
    return env


def safeclass(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "safeclass.cli.main", *args],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def safeclass_async(cwd: Path, *args: str) -> tuple[int, str, str]:
    """The CLI as a process, while this test's own server keeps running."""
    done = await asyncio.to_thread(safeclass, cwd, *args)
    return done.returncode, done.stdout, done.stderr


def pupil_links(stdout: str) -> dict[str, str]:
    """The demo's printed pupil links, by the name on the same line."""
    found = {}
    for line in stdout.splitlines():
        match = LINK.search(line)
        if match and "/join/" in line:
            name = line[: match.start()].strip(" :·-")
            found[name] = match.group(0)
    return found


def test_after_the_demo_school_list_finds_the_demo_school_without_flags(tmp_path: Path):
    made = safeclass(tmp_path, "demo", "--prepare-only")
    assert made.returncode == 0, made.stderr

    listed = safeclass(tmp_path, "school", "list")

    assert listed.returncode == 0, listed.stderr
    assert "Claydon Primary School (demo)" in listed.stdout
    assert "data/demo" in listed.stderr  # it says whose data it used
    assert not (tmp_path / "data" / "safeclass.db").exists()  # and made no empty one


@pytest.mark.parametrize(
    "command",
    [
        ("school", "list"),
        ("staff", "list", "--school", "demo"),
        ("recordings", "list"),
        ("report", "timeline", "0000"),
        ("audit", "verify"),
        ("session", "list"),
        ("session", "links", "0000"),
    ],
    ids=" ".join,
)
def test_a_command_that_only_reads_says_there_is_no_data_here_and_creates_nothing(
    tmp_path: Path, command: tuple[str, ...]
):
    done = safeclass(tmp_path, *command)

    assert done.returncode == 1
    assert NO_DATA in done.stderr
    assert "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
async def demo_server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    """A server on the demo's data (no email, no webhook), started after the first demo run."""
    data = tmp_path / "data" / "demo"
    live = LiveServer(f"sqlite+aiosqlite:///{data / 'safeclass.db'}", data, AdjustableClock())
    yield live
    await live.stop()


async def _opens(http: httpx.AsyncClient, link: str) -> bool:
    """The link opens the pupil's page: a pass, then the room's page."""
    reply = await http.get(link)
    if reply.status_code != 303:
        return False
    page = await http.get(reply.url.join(reply.headers["location"]))
    return page.status_code == 200


# covers: C2, WER-02
async def test_the_three_printed_links_open_the_pupils_page_after_each_of_two_demo_runs(
    tmp_path: Path, demo_server: LiveServer
):
    port = str(demo_server.port)
    code, first, err = await safeclass_async(tmp_path, "demo", "--prepare-only", "--port", port)
    assert code == 0, err
    await demo_server.start()
    base = demo_server.url
    assert f"{base}/sign-in" in first
    assert f"{base}/staff" in first
    links = pupil_links(first)
    assert len(links) == 3, first
    assert all(name and not name.startswith("http") for name in links)
    for link in links.values():
        async with httpx.AsyncClient() as http:  # a family's own browser
            assert await _opens(http, link), link

    code, second, err = await safeclass_async(tmp_path, "demo", "--prepare-only", "--port", port)
    assert code == 0, err
    again = pupil_links(second)
    assert again.keys() == links.keys()  # the same three pupils
    assert "no longer work" in second  # and it says the earlier links stopped
    for name, link in again.items():
        async with httpx.AsyncClient() as http:
            assert await _opens(http, link), link
            assert not await _opens(http, links[name])
    accounts = (tmp_path / "data" / "demo" / "DEMO-ACCOUNTS.txt").read_text("utf-8")
    teacher = next(line for line in accounts.splitlines() if line.startswith("teacher@"))
    assert " ".join(teacher.split()) in " ".join(second.split())  # the sign-in, again


# covers: C1, C2
async def test_a_session_scheduled_without_email_gets_letters_that_the_cli_shows(
    tmp_path: Path, demo_server: LiveServer
):
    port = str(demo_server.port)
    code, _, err = await safeclass_async(tmp_path, "demo", "--prepare-only", "--port", port)
    assert code == 0, err
    await demo_server.start()
    accounts = (tmp_path / "data" / "demo" / "DEMO-ACCOUNTS.txt").read_text("utf-8")
    password = next(
        line.split()[1] for line in accounts.splitlines() if line.startswith("teacher@")
    )
    async with demo_server.services.engine.connect() as conn:
        class_id = (
            await conn.execute(select(SchoolClass.id).where(SchoolClass.name == "2B"))
        ).scalar_one()
        assistant = (
            await conn.execute(select(Staff.id).where(Staff.role == "assistant"))
        ).scalar_one()
    # the demo school is open 00:00-23:59: a lesson that would run past midnight is refused,
    # so late in the evening the server's clock moves to tomorrow morning first
    clock = demo_server.clock
    local = clock.now().astimezone(ZoneInfo("Europe/London"))
    if (local + dt.timedelta(minutes=75)).date() != local.date():
        morning = (local + dt.timedelta(days=1)).replace(hour=9, minute=0, second=0)
        clock.set(morning.astimezone(dt.UTC))
    starts = clock.now() + dt.timedelta(minutes=40)

    async with httpx.AsyncClient(base_url=demo_server.url) as staff:
        signed = await staff.post(
            "/auth/login",
            json={"email": "teacher@demo.school", "school": "demo", "password": password},
        )
        assert signed.status_code == 200, signed.text
        headers = {"X-CSRF-Token": signed.json()["csrf_token"]}
        made = await staff.post(
            "/api/sessions",
            headers=headers,
            json={
                "kind": "class",
                "title": "Year 2 Phonics",
                "starts_at": starts.isoformat(),
                "minutes": 30,
                "class_id": class_id,
                "staff_ids": [assistant],
            },
        )
        assert made.status_code == 201, made.text
        session_id = made.json()["id"]
        sent = await staff.post(f"/api/sessions/{session_id}/invitations/send", headers=headers)
    assert sent.status_code == 200, sent.text
    assert sent.json()["sent"] == 29  # the 30th pupil's consent was refused
    assert {tuple(r["channels"]) for r in sent.json()["results"] if r["status"] == "sent"} == {
        ("letters",)
    }

    code, shown, err = await safeclass_async(tmp_path, "session", "links", session_id[:8])
    assert code == 0, err
    assert "Year 2 Phonics" in shown
    assert not LINK.search(shown)  # listing shows where the letters are, never a link
    amelia = next(line for line in shown.splitlines() if "Amelia R." in line)
    letter = tmp_path / amelia.split()[-1]
    assert letter.is_file()
    old_link = LINK.search(letter.read_text("utf-8"))
    assert old_link is not None
    assert "not taking part" in shown

    code, fresh, err = await safeclass_async(
        tmp_path,
        "session",
        "links",
        session_id,
        "--pupil",
        "Amelia R.",
        "--new",
        "--public-url",
        demo_server.url,
    )
    assert code == 0, err
    assert "stop" in fresh  # the warning that the old link stops
    new_link = LINK.search(fresh)
    assert new_link is not None
    async with httpx.AsyncClient() as http:
        assert await _opens(http, new_link.group(0))
        assert not await _opens(http, old_link.group(0))
    assert new_link.group(0) in letter.read_text("utf-8")  # the letter is the new one


async def _counts(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        return {
            table.__name__: (
                await conn.execute(select(func.count()).select_from(table))
            ).scalar_one()
            for table in (Session, SessionEvent, Concern, Notification, AttendanceStamp)
        }


# covers: C16, C19, C20
async def test_the_demo_school_has_a_fortnight_of_past_lessons_for_the_head_and_the_dsl_once(
    tmp_path: Path,
):
    made = safeclass(tmp_path, "demo", "--prepare-only")
    assert made.returncode == 0, made.stderr
    data = tmp_path / "data" / "demo"
    engine = connect(f"sqlite+aiosqlite:///{data / 'safeclass.db'}")
    log = EventLog(engine, ServerSecret.load_or_create(secret_path(data)).derive(CHAIN_KEY))
    now = dt.datetime.now(dt.UTC)
    try:
        async with engine.connect() as conn:
            school = await school_records.school_by_key(conn, "demo")
        assert school is not None
        zone = ZoneInfo("Europe/London")
        today = now.astimezone(zone).date()
        fortnight = today - dt.timedelta(days=15)

        # the head's view: the rows were kept as each lesson ended, so nothing is left to add up
        rows = StoreAttendance(engine)
        assert (await oversight.refresh(rows, log, school.id, now)).computed == 0
        seen = await oversight.overview(engine, rows, log, school.id, zone, fortnight, today, now)
        assert seen.sessions == 10
        assert seen.pending == 0
        assert seen.total.late > 0
        assert seen.total.absent > 0
        assert seen.total.on_time > seen.total.late + seen.total.absent
        assert seen.behaviour[oversight.Mark.REMOVAL] == 1
        assert seen.behaviour[oversight.Mark.REWARD] > 0
        assert seen.behaviour[oversight.Mark.BEHAVIOUR] > 0

        # the compliance summary: stored already; one lesson where the adults rule did not hold
        summary = await compliance.school_summary(
            engine,
            StoreComplianceResults(engine),
            log,
            school.id,
            fortnight,
            today,
            "Europe/London",
            now=now,
        )
        assert summary.computed == 0
        assert len(summary.sessions) == 10
        staff = [line.outcomes["staff"] for line in summary.sessions]
        assert staff.count(compliance.Outcome.NOT_HELD) == 1
        assert staff.count(compliance.Outcome.HELD) == 9
        assert summary.breaches == 1
        assert summary.clean == 9

        # the DSL's list: one concern, with its record and chain, not read yet
        found = await concerns.load_many(StoreConcerns(engine), school.id)
        assert len(found) == 1
        assert found[0].status == concerns.OPEN
        assert found[0].read_entry is None
        assert found[0].alerted_at is not None
        assert found[0].session_id is not None
        assert len(found[0].pupils) == 1
        key = ServerSecret.load_or_create(secret_path(data)).derive(concerns.CONCERN_KEY)
        assert await concerns.verify(StoreConcerns(engine), key, found[0].id) == []

        before = await _counts(engine)
    finally:
        await engine.dispose()

    audit = safeclass(tmp_path, "audit", "verify")
    assert audit.returncode == 0, audit.stdout + audit.stderr

    again = safeclass(tmp_path, "demo", "--prepare-only")
    assert again.returncode == 0, again.stderr
    engine = connect(f"sqlite+aiosqlite:///{data / 'safeclass.db'}")
    try:
        assert await _counts(engine) == before  # no second fortnight
    finally:
        await engine.dispose()
