"""`safeclass report …`: a session's attendance register (C14) and timeline (C15) from its log,
and its compliance report.

`report register` prints a table, or writes CSV (for the school's spreadsheet) or PDF; `report
timeline` prints one line per event; `report compliance SESSION [--pdf FILE]` says, rule by
rule, whether the policy held, with the log's evidence (the log verified with the server's
secret; exit 1 when a rule did not hold or the log does not verify), and `report compliance
--school --from DATE --to DATE` gives that across the school's sessions. A missing session,
database or output folder is one line on stderr and exit code 1, never a traceback.
"""

from __future__ import annotations

import datetime as dt
import enum
import io
from pathlib import Path
from typing import Annotated, NoReturn
from zoneinfo import ZoneInfo

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from safeclass.adapters.store import school_records
from safeclass.adapters.store.compliance_results import StoreComplianceResults
from safeclass.adapters.store.db import connect
from safeclass.adapters.store.deliveries import StoreDeliveries
from safeclass.adapters.store.event_log import CHAIN_KEY, EventLog
from safeclass.adapters.store.records import StoreRecords
from safeclass.adapters.store.resources import StoreResources
from safeclass.adapters.store.sessions import SessionNotFoundError
from safeclass.app.register import Register
from safeclass.app.reports import compliance, register_csv, register_pdf
from safeclass.app.reports.cells import (
    LOG_HEADINGS,
    PUPIL_HEADINGS,
    duration,
    hhmm,
    hold_reason,
    number,
    pupil_cells,
    session_log_rows,
    summary,
)
from safeclass.app.reports.compliance_pdf import compliance_pdf
from safeclass.app.reports.loading import SessionReport, session_report
from safeclass.cli.options import DatabaseUrlOption, DataDirOption, run
from safeclass.cli.store_access import existing_url, open_with_secret
from safeclass.policy.loading import PolicyError

report_app = typer.Typer(
    help="Reports from a session's log: the attendance register, the timeline, compliance.",
    no_args_is_help=True,
)


class Format(enum.StrEnum):
    TEXT = "text"
    CSV = "csv"
    PDF = "pdf"


SessionId = Annotated[
    str, typer.Argument(metavar="SESSION_ID", help="The session's id.", show_default=False)
]


@report_app.command("register")
def register_command(
    session_id: SessionId,
    format_: Annotated[
        Format, typer.Option("--format", "-f", help="text (a table), csv or pdf.")
    ] = Format.TEXT,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write to this file (needed for pdf).", show_default=False
        ),
    ] = None,
    database_url: DatabaseUrlOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """The attendance register: who came, when, who was late, who left early, who was removed."""
    if format_ is Format.PDF and output is None:
        raise typer.BadParameter("a PDF needs a file to go to: add --output FILE.pdf")
    report = _load(session_id, database_url, data_dir)
    if format_ is Format.CSV:
        text = register_csv(report.register)
        if output is None:
            typer.echo(text, nl=False)
            return
        # With a byte-order mark, Excel reads the names' accents as UTF-8 (Siân, not SiÃ¢n).
        _write(output, text.encode("utf-8-sig"))
    elif output is None:
        _print_register(Console(highlight=False), report.register)
        return
    elif format_ is Format.PDF:
        _write(output, register_pdf(report.register, report.timeline))
    else:
        console = Console(highlight=False, record=True, width=120, file=io.StringIO())
        _print_register(console, report.register)
        _write(output, console.export_text().encode("utf-8"))
    typer.echo(f"Register of session {session_id} written to {output}", err=True)


@report_app.command("timeline")
def timeline_command(
    session_id: SessionId,
    database_url: DatabaseUrlOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """The session's timeline: one plain-English line per event, at the school's local time."""
    report = _load(session_id, database_url, data_dir)
    for line in report.timeline:
        typer.echo(str(line))


@report_app.command("compliance")
def compliance_command(
    session_id: Annotated[
        str | None,
        typer.Argument(
            metavar="[SESSION_ID]", help="The session's id (or --school).", show_default=False
        ),
    ] = None,
    pdf: Annotated[
        Path | None,
        typer.Option(
            "--pdf", help="Also write the report as a PDF to this file.", show_default=False
        ),
    ] = None,
    school: Annotated[
        bool, typer.Option("--school", help="Every ended session of the school, in short.")
    ] = False,
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            metavar="KEY",
            help="Which school (when there are several).",
            show_default=False,
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="YYYY-MM-DD",
            help="First day (default: 30 days ago).",
            show_default=False,
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            "--to", metavar="YYYY-MM-DD", help="Last day (default: today).", show_default=False
        ),
    ] = None,
    recheck: Annotated[
        bool,
        typer.Option("--recheck", help="Verify every session's log again, not the stored results."),
    ] = False,
    database_url: DatabaseUrlOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Whether each rule of the policy held in a session, with the evidence from its log.

    Exit 1 if a rule did not hold or the log does not verify."""
    if school == (session_id is not None):
        raise typer.BadParameter("name one SESSION_ID, or --school (not both)")
    url, secret = open_with_secret(database_url, data_dir, must_exist=True)
    key_bytes = secret.derive(CHAIN_KEY)
    if session_id is not None:
        report = _compliance_of(url, key_bytes, session_id)
        for line in compliance.text_lines(report):
            typer.echo(line)
        if pdf is not None:
            _write(pdf, compliance_pdf(report))
            typer.echo(f"Compliance report of session {session_id} written to {pdf}", err=True)
        if report.breaches or not report.verified:
            raise typer.Exit(1)
        return
    try:
        first = dt.date.fromisoformat(since) if since else None
        last = dt.date.fromisoformat(until) if until else None
    except ValueError:
        raise typer.BadParameter("dates are YYYY-MM-DD, e.g. --from 2026-09-01") from None
    summary = _school_summary(url, key_bytes, key, first, last, recheck)
    for line in compliance.summary_lines(summary):
        typer.echo(line)
    if summary.breaches or summary.unverified:
        raise typer.Exit(1)


def _compliance_of(url: str, key: bytes, session_id: str) -> compliance.ComplianceReport:
    async def go() -> compliance.ComplianceReport:
        engine = connect(url)
        try:
            return await compliance.session_compliance(
                engine, StoreComplianceResults(engine), EventLog(engine, key), session_id
            )
        finally:
            await engine.dispose()

    try:
        return run(go())
    except SessionNotFoundError:
        _fail(f"No session {session_id}")
    except PolicyError as err:
        _fail(f"The policy of session {session_id} cannot be read ({err.source})")
    except (SQLAlchemyError, OSError) as err:
        reason = str(getattr(err, "orig", None) or err).splitlines()[0]
        _fail(f"Cannot read the database {_describe(url)}: {reason}")


def _school_summary(
    url: str,
    key: bytes,
    school_key: str | None,
    first: dt.date | None,
    last: dt.date | None,
    recheck: bool,
) -> compliance.SchoolSummary:
    async def go() -> compliance.SchoolSummary:
        engine = connect(url)
        try:
            async with engine.connect() as conn:
                schools = await school_records.list_schools(conn)
                chosen = [s for s in schools if school_key in (None, s.key)]
                if len(chosen) != 1:
                    names = ", ".join(s.key for s in schools) or "none"
                    _fail(
                        f"No school {school_key}"
                        if school_key
                        else f"Choose a school with --key (schools: {names})"
                    )
                policy = await school_records.current_policy(conn, chosen[0].id)
            zone = ZoneInfo(policy.school.timezone)
            today = dt.datetime.now(dt.UTC).astimezone(zone).date()
            end = last or today
            start = first or end - dt.timedelta(days=29)
            return await compliance.school_summary(
                engine,
                StoreComplianceResults(engine),
                EventLog(engine, key),
                chosen[0].id,
                start,
                end,
                policy.school.timezone,
                recheck=recheck,
            )
        finally:
            await engine.dispose()

    try:
        return run(go())
    except (SQLAlchemyError, OSError) as err:
        reason = str(getattr(err, "orig", None) or err).splitlines()[0]
        _fail(f"Cannot read the database {_describe(url)}: {reason}")


# -- loading -------------------------------------------------------------------------------------


def _load(session_id: str, url: str | None, data_dir: Path | None) -> SessionReport:
    chosen, _ = existing_url(url, data_dir)  # reports only read: a missing database is named
    place = _describe(chosen)
    try:
        return run(_read(chosen, session_id))
    except SessionNotFoundError:
        _fail(f"No session {session_id}")
    except PolicyError as err:
        _fail(f"The policy of session {session_id} cannot be read ({err.source})")
    except ValueError as err:
        _fail(f"The log of session {session_id} cannot be read: {err}")
    except (SQLAlchemyError, OSError) as err:
        reason = str(getattr(err, "orig", None) or err).splitlines()[0]
        _fail(f"Cannot read the database {place}: {reason}")


async def _read(url: str, session_id: str) -> SessionReport:
    engine = connect(url)
    try:
        return await session_report(
            engine,
            StoreRecords(engine),
            EventLog(engine),
            session_id,
            resources=StoreResources(engine),
            deliveries=StoreDeliveries(engine),
        )
    finally:
        await engine.dispose()


def _describe(url: str) -> str:
    """The database's URL without its password, to name it in an error."""
    return make_url(url).render_as_string(hide_password=True)


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as err:
        _fail(f"Cannot write {path}: {err.strerror or err}")


def _fail(message: str) -> NoReturn:
    Console(stderr=True, highlight=False, soft_wrap=True).print(Text(f"Error: {message}", "red"))
    raise typer.Exit(1)


# -- the terminal table --------------------------------------------------------------------------


def _print_register(console: Console, register: Register) -> None:
    facts = register.facts
    start = facts.planned_start
    title = f"{facts.title or 'Session'}, {start:%A} {start.day} {start:%B %Y} {hhmm(start)}"
    if facts.school:
        console.print(Text(facts.school, "bold"))
    console.print(Text(f"Attendance register: {title} ({facts.timezone})", "bold"))
    for sentence in summary(register):
        console.print(Text(sentence))
    pupils = _table("Pupils")
    for heading, source in _TERMINAL_COLUMNS:
        wraps = source in _WRAPS
        pupils.add_column(heading, no_wrap=not wraps, min_width=10 if wraps else None)
    picks = [PUPIL_HEADINGS.index(source) for _, source in _TERMINAL_COLUMNS]
    for row in register.pupils:
        cells = pupil_cells(row)
        pupils.add_row(*(Text(cells[i]) for i in picks))
    console.print(pupils)
    console.print(
        Text(
            "Waited: first joined the waiting room. In: first admitted. Mins: minutes in the "
            "room. Late: minutes after the planned start. Early: left before the end."
        )
    )
    for row in register.pupils:
        if row.removed_by is not None:
            why = f": {row.removal_reason}" if row.removal_reason else ""
            console.print(Text(f"{row.name} was removed by {row.removed_by}{why}"))
    if register.staff:
        staff = _table("Staff")
        for heading in ("Name", "Role", "Joined", "Left", "Minutes present", "Reconnections"):
            staff.add_column(heading, overflow="fold")
        for s in register.staff:
            cells = (s.name, s.role.value, hhmm(s.joined_at), hhmm(s.left_at))
            extra = (number(s.minutes_present), str(s.reconnections))
            staff.add_row(*(Text(c) for c in (*cells, *extra)))
        console.print(staff)
    if facts.holds:
        holds = _table("Holds")
        for heading in ("Held at", "Released at", "For", "Why"):
            holds.add_column(heading, overflow="fold")
        for h in facts.holds:
            cells = (f"{h.started_at:%H:%M:%S}", f"{h.ended_at:%H:%M:%S}", duration(h.duration))
            holds.add_row(*(Text(c) for c in (*cells, hold_reason(h))))
        console.print(holds)
    if register.has_session_log:
        notes = _table("Session log: agenda, notes, rewards and resources")
        for heading in LOG_HEADINGS:
            notes.add_column(heading, overflow="fold")
        for entry in session_log_rows(register):
            notes.add_row(*(Text(c) for c in entry))
        console.print(notes)


# The terminal is narrow: short headings, and the removal reasons on lines of their own.
_TERMINAL_COLUMNS = (
    ("Pupil", "Pupil"),
    ("Status", "Status"),
    ("Waited", "Joined waiting room"),
    ("In", "Admitted"),
    ("Left", "Left"),
    ("Mins", "Minutes present"),
    ("Late", "Late by (minutes)"),
    ("Early", "Left early"),
    ("Rejoins", "Reconnections"),
    ("Cam off", "Cameras turned off by staff"),
    ("Hands", "Hands raised"),
)
_WRAPS = frozenset({"Pupil", "Status"})


def _table(title: str) -> Table:
    return Table(
        title=title,
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        padding=0,
    )
