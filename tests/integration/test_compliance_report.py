"""The compliance report of a session, from a room driven through the real server (issue 11).

A lesson in which the assistant's laptop drops off the network for 40 seconds shows exactly
that one rule not held, with the times; a clean lesson shows every rule held; a changed event
row makes the report say the log does not verify (on the page and from the CLI) and no rule
then holds; the stored result is used while the log's head stays, and worked out again when it
moves. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from safeclass.adapters.store import school_records
from safeclass.adapters.store.tables import ComplianceResult, SessionEvent
from safeclass.app.clock import AdjustableClock
from safeclass.app.reports import compliance
from safeclass.app.reports.compliance import Outcome, say, text_lines
from safeclass.cli.main import app
from tests.integration.compliance_lessons import join, run_lesson
from tests.integration.families import (
    MailSink,
    School,
    eventually,
    make_school,
    schedule,
    staff_http,
)
from tests.integration.live import LiveServer, running
from tests.support.rooms import START

runner = CliRunner(env={"FORCE_COLOR": None, "TTY_COMPATIBLE": None, "COLUMNS": "200"})


@pytest.fixture
async def server(db_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    clock = AdjustableClock(START - dt.timedelta(minutes=3))
    async with running(LiveServer(db_url, tmp_path, clock)) as live:
        yield live


async def report_of(server: LiveServer, session_id: str) -> compliance.ComplianceReport:
    services = server.services
    return await compliance.session_compliance(
        services.engine, services.compliance_results, services.event_log, session_id
    )


async def summary_of(
    server: LiveServer, school_id: str, start: dt.date, end: dt.date, **options: Any
) -> compliance.SchoolSummary:
    """The school-wide summary as the page asks for it (`options`: a time budget)."""
    services = server.services
    return await compliance.school_summary(
        services.engine,
        services.compliance_results,
        services.event_log,
        school_id,
        start,
        end,
        "Europe/London",
        **options,
    )


def words(result: compliance.RuleResult) -> list[str]:
    return [say(s, compliance.English()) for s in result.evidence]


# covers: CLA-02, S04-11, C5, C15
async def test_an_assistant_dropping_out_for_40_seconds_is_the_one_rule_not_held(
    server: LiveServer,
):
    school = await make_school(server.services)
    session_id = await run_lesson(server, school, drop_seconds=40)
    report = await report_of(server, session_id)

    assert report.verified
    not_held = [r.key for r in report.rules if r.outcome is not Outcome.HELD]
    assert not_held == ["staff"]
    staff = report.rule("staff")
    assert staff.clause == "CLA-02"
    said = words(staff)
    # at 10:05 (London is on UTC in November) plus the moment the test's own steps took
    assert any(
        re.fullmatch(r"Mr Lee's connection dropped at 10:05:0\d: adults fell to 1 of 2\.", s)
        for s in said
    ), said
    held = next(s for s in said if s.startswith("Pupils held"))
    assert re.fullmatch(
        r"Pupils held from 10:05:(0\d) to 10:05:(4\d) \(40 seconds\) for lack of staff\.", held
    ), held
    assert "Times held for lack of staff: 1; 40 seconds in all." in said
    assert report.breaches == 1


# covers: CLA-02, CLA-04, CLA-05, CLA-06, CLA-08, CLA-09, CLA-13, CLA-15, CLA-14, CLA-17, C15
async def test_a_clean_session_holds_every_rule_with_its_evidence(
    server: LiveServer, db_url: str, tmp_path: Path
):
    school = await make_school(server.services)
    session_id = await run_lesson(server, school)
    report = await report_of(server, session_id)

    assert report.verified and report.ended
    assert {r.key: r.outcome for r in report.rules} == dict.fromkeys(
        ["log", "staff", "duration", "class_list", "consent", "waiting_room", "mute", "chat",
         "removal", "recording", "end", "concerns"],
        Outcome.HELD,
    )  # fmt: skip
    clauses = {r.key: r.clause for r in report.rules}
    assert clauses["staff"] == "CLA-02" and clauses["recording"] == "CLA-09"
    assert clauses["mute"] == "CLA-05" and clauses["duration"] == "CLA-06"
    assert "Never recorded." in words(report.rule("recording"))
    assert "Admitted from the waiting room by Mrs Khan: 2." in words(report.rule("waiting_room"))
    end = words(report.rule("end"))
    assert re.fullmatch(
        r"Everyone out at 10:15:0\d, disconnected at once: 4 \(pupils: 2, staff: 2\)\.", end[0]
    ), end
    assert any(
        re.fullmatch(r"Pupils in from 10:00:0\d to 10:15:0\d: 15 minutes( \d+ seconds?)?\.", s)
        for s in words(report.rule("duration"))
    ), words(report.rule("duration"))
    text = "\n".join(text_lines(report))
    assert "[Held] Enough adults present throughout (CLA-02)" in text
    assert "The log verifies" in text

    # the CLI says the same, writes the PDF, and sums the school's day up; exit 0 when all held
    where = ["--database-url", db_url, "--data-dir", str(tmp_path)]
    pdf = tmp_path / "compliance.pdf"
    one = await asyncio.to_thread(
        runner.invoke, app, ["report", "compliance", session_id, "--pdf", str(pdf), *where]
    )
    assert one.exit_code == 0, one.output
    assert "[Held] Everyone out at the end (CLA-10)" in one.output
    assert pdf.read_bytes().startswith(b"%PDF-")
    day = START.date().isoformat()
    school_wide = ["report", "compliance", "--school", "--from", day, "--to", day, *where]
    summary = await asyncio.to_thread(runner.invoke, app, school_wide)
    assert summary.exit_code == 0, summary.output
    assert "Sessions: 1; every rule held: 1; breaches: 0; logs that do not verify: 0" in (
        summary.output
    )
    assert f"Year 2 Maths [{session_id}]: every rule held" in summary.output


# covers: CLA-17, C15, C16
async def test_a_changed_event_row_makes_the_log_not_verify_and_no_rule_hold(
    server: LiveServer, db_url: str, tmp_path: Path
):
    school = await make_school(server.services)
    session_id = await run_lesson(server, school)
    assert (await report_of(server, session_id)).verified
    engine = server.services.engine
    async with engine.begin() as conn:  # someone with the database, not the key, rewrites a row
        row = (
            await conn.execute(
                select(SessionEvent.id, SessionEvent.payload).where(
                    SessionEvent.session_id == session_id, SessionEvent.type == "PupilAdmitted"
                )
            )
        ).first()
        assert row is not None
        payload = json.loads(row.payload)
        payload["mic_on"] = True
        await conn.execute(
            update(SessionEvent)
            .where(SessionEvent.id == row.id)
            .values(payload=json.dumps(payload, sort_keys=True, separators=(",", ":")))
        )

    report = await report_of(server, session_id)
    assert not report.verified
    assert report.rule("log").outcome is Outcome.NOT_HELD
    assert all(r.outcome is Outcome.UNPROVEN for r in report.rules if r.key != "log")
    assert not any(r.outcome is Outcome.HELD for r in report.rules)
    assert any("changed" in p for p in report.problems)

    # the page says so
    async with staff_http(server, school.teacher_cookie) as http:
        page = await http.get(f"/staff/sessions/{session_id}/compliance")
    assert page.status_code == 200
    assert "The log does not verify" in page.text
    assert "Cannot be shown" in page.text

    # and so does the CLI, with the server's own secret
    result = await asyncio.to_thread(
        runner.invoke,
        app,
        ["report", "compliance", session_id, "--database-url", db_url, "--data-dir", str(tmp_path)],
    )
    assert result.exit_code == 1, result.output
    assert "The log does not verify" in result.output
    assert "[Cannot be shown] Enough adults present throughout (CLA-02)" in result.output

    # the page's check corrected the stored result, so the school-wide summary says so too
    day = START.date()
    summary = await summary_of(server, school.id, day, day)
    assert summary.computed == 0 and summary.unverified == 1 and summary.clean == 0


def artifacts(tmp_path: Path) -> Path:
    """Where a test keeps what a person would look at: SAFECLASS_E2E_SCREENS, else its folder."""
    folder = Path(os.environ.get("SAFECLASS_E2E_SCREENS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def pdf_text_and_png(data: bytes, png: Path) -> str:
    """The PDF's first page: its text, and the page drawn to `png` (pypdfium2)."""
    document = pdfium.PdfDocument(data)
    page = document[0]
    page.render(scale=1.5).to_pil().save(png)
    return str(page.get_textpage().get_text_range())


# covers: CLA-17, C15
async def test_the_report_prints_as_a_pdf_in_english_and_welsh(server: LiveServer, tmp_path: Path):
    school = await make_school(server.services)
    session_id = await run_lesson(server, school, drop_seconds=40)
    folder = artifacts(tmp_path)
    async with staff_http(server, school.teacher_cookie) as http:
        english = await http.get(f"/staff/sessions/{session_id}/compliance.pdf")
        welsh = await http.get(f"/staff/sessions/{session_id}/compliance.pdf?lang=cy")
    for response in (english, welsh):
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/pdf"
        assert response.content.startswith(b"%PDF-")
        assert "compliance-2026-11-24-year-2-maths.pdf" in response.headers["content-disposition"]
    text = pdf_text_and_png(english.content, folder / "compliance-report.pdf.png")
    assert "Not held: Enough adults present throughout (CLA-02)" in " ".join(text.split())
    assert "(40 seconds) for lack of staff" in " ".join(text.split())
    cymraeg = pdf_text_and_png(welsh.content, folder / "compliance-report-cy.pdf.png")
    assert "Heb ei dilyn: Digon o oedolion yn bresennol" in " ".join(cymraeg.split())
    assert (folder / "compliance-report.pdf.png").stat().st_size > 10_000


# covers: CRO-02, C15
async def test_the_school_summary_uses_stored_results_until_the_log_moves(server: LiveServer):
    services = server.services
    school = await make_school(services)
    dropped = await run_lesson(server, school, drop_seconds=40)
    server.clock.set(START + dt.timedelta(hours=1) - dt.timedelta(minutes=3))
    clean = await _later_lesson(server, school)
    day = START.date()

    # each result was stored as its room ended: nothing to work out now
    async def both_stored() -> bool:
        async with services.engine.connect() as conn:
            found = await conn.execute(select(ComplianceResult.session_id))
            return set(found.scalars()) == {dropped, clean}

    await eventually(both_stored)
    summary = await summary_of(server, school.id, day, day)
    assert summary.computed == 0
    assert [s.session_id for s in summary.sessions] == [dropped, clean]
    assert summary.breaches_of("staff") == 1 and summary.breaches == 1
    assert summary.clean == 1 and summary.unverified == 0
    async with services.engine.connect() as conn:
        stored = await conn.execute(select(ComplianceResult.session_id, ComplianceResult.verified))
        heads = dict(stored.all())
    assert heads == {dropped: True, clean: True}

    # another entry moves the head: that one session is worked out again
    from safeclass.adapters.store.event_log import NewEntry

    await services.event_log.append(
        clean, [NewEntry("Redacted", START.isoformat(), {"seqs": [], "reason": "test"})]
    )
    again = await summary_of(server, school.id, day, day)
    assert again.computed == 1

    # a page has a time budget: past it, the lessons with no stored result are left to a task
    # and counted as still being checked, then read from what the task stored
    async with services.engine.begin() as conn:
        await conn.execute(delete(ComplianceResult))
    hurried = await summary_of(server, school.id, day, day, budget_s=0.0)
    assert hurried.pending >= 1 and hurried.computed + hurried.pending == 2
    assert len(hurried.sessions) == hurried.computed
    await eventually(both_stored)
    later = await summary_of(server, school.id, day, day, budget_s=0.0)
    assert (later.computed, later.pending, len(later.sessions)) == (0, 0, 2)
    assert later.breaches_of("staff") == 1

    # a day with no sessions
    later_days = (day + dt.timedelta(days=1), day + dt.timedelta(days=2))
    empty = await summary_of(server, school.id, *later_days)
    assert empty.sessions == ()


async def _ended_lesson(
    server: LiveServer, school: School, starts_at: dt.datetime, minutes: int, concern: str = ""
) -> str:
    """A lesson the teacher and the assistant join, that the teacher ends `minutes` later
    (raising `concern` about Amelia first, if any)."""
    session_id = await schedule(server, school, starts_at=starts_at)
    teacher = await join(server, session_id, school.teacher_cookie, "teacher")
    assistant = await join(server, session_id, school.assistant_cookie, "assistant")
    try:
        server.clock.advance(dt.timedelta(minutes=minutes))
        if concern:
            reply = await teacher.send("concern", summary=concern, pupil=school.pupils["Amelia"])
            assert reply["type"] == "ok", reply
        assert (await teacher.send("end"))["type"] == "ok"
        await asyncio.wait_for(teacher.closed.wait(), 5)
    finally:
        await teacher.close()
        await assistant.close()
    return session_id


async def _later_lesson(server: LiveServer, school: School) -> str:
    return await _ended_lesson(server, school, START + dt.timedelta(hours=1), 5)


async def concern_lesson(server: LiveServer, school: School) -> str:
    """A lesson in which the teacher raises a concern about Amelia, then ends it."""
    return await _ended_lesson(server, school, START, 4, concern="A bruise on Amelia's arm")


# covers: CLA-07, STJ-08, WER-16, S04-21, C16
async def test_a_concern_shows_when_the_dsl_was_told_and_never_its_text(
    db_url: str, tmp_path: Path, mail: MailSink
):
    clock = AdjustableClock(START - dt.timedelta(minutes=3))
    smtp = {"smtp_host": "127.0.0.1", "smtp_port": mail.port, "outbox_every_seconds": 0.2}
    async with running(LiveServer(db_url, tmp_path, clock, **smtp)) as server:
        school = await make_school(server.services)
        async with server.services.engine.begin() as conn:
            await school_records.add_staff(
                conn, school.id, name="Ms Patel", email="dsl@claydon.test", role="dsl"
            )
        session_id = await concern_lesson(server, school)
        await mail.wait_for(1)

        async def sent() -> bool:
            report = await report_of(server, session_id)
            return report.rule("concerns").outcome is Outcome.HELD

        await eventually(sent)
        report = await report_of(server, session_id)
        said = words(report.rule("concerns"))
        assert report.rule("concerns").clause == "CLA-07"
        assert re.fullmatch(r"Concern 1 raised at 10:01 by Mrs Khan\.", said[0]), said
        assert re.fullmatch(r"DSL alert written at 10:01:\d\d\.", said[1]), said
        assert re.fullmatch(r"Sent to the DSL at 10:01:\d\d\.", said[2]), said
        assert "bruise" not in "\n".join(text_lines(report))  # the account is for the DSL


# covers: CLA-07, C16
async def test_a_concern_whose_alert_never_went_is_not_held(server: LiveServer):
    school = await make_school(server.services)  # no email on this server, so it waits
    session_id = await concern_lesson(server, school)
    report = await report_of(server, session_id)
    concerns = report.rule("concerns")
    assert concerns.outcome is Outcome.NOT_HELD
    assert words(concerns)[-1] == "Not delivered to the DSL: tell them yourself."
    assert not report.settled  # worked out again once it goes


# covers: CLA-17, C15
async def test_a_log_deleted_by_retention_on_its_day_is_said_so_not_called_tampered(
    server: LiveServer,
):
    from safeclass.adapters.store.retention import StoreRetention
    from safeclass.app.retention import run_retention

    school = await make_school(server.services)
    session_id = await run_lesson(server, school)
    services = server.services
    report = await run_retention(
        StoreRetention(services.engine), START + dt.timedelta(days=500), services.event_log
    )
    assert report.session_logs_deleted == 1
    gone = await report_of(server, session_id)
    assert gone.log_deleted and not gone.verified
    assert {r.outcome for r in gone.rules} == {Outcome.UNPROVEN}
    assert words(gone.rule("log")) == [
        "The retention job deleted this log on its day, as the policy says."
    ]
    async with staff_http(server, school.teacher_cookie) as http:
        page = await http.get(f"/staff/sessions/{session_id}/compliance")
    assert "log has been deleted" in page.text, page.text[page.text.find("<main") :][:800]
    assert "The log does not verify" not in page.text
