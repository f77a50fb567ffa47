"""`safeclass roster import FILE.csv --school KEY`: pupils, guardians and consent from the MIS.

Every row is checked before anything is written. A file with bad rows is refused with one line
per problem (line number, column, what is wrong) and exit code 1, unless `--skip-bad`. Bad input
never produces a traceback. The columns are described in docs/roster.md.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError

from safeclass.adapters.store import connect
from safeclass.adapters.store.roster_import import StoreRoster
from safeclass.adapters.store.school_records import (
    RecordsError,
    SchoolNotFoundError,
    list_schools,
)
from safeclass.app.roster import Roster, RosterFileError, read_roster
from safeclass.app.roster_import import ImportSummary, import_roster
from safeclass.cli.options import DatabaseUrlOption, DataDirOption, run
from safeclass.cli.store_access import fail, open_database, stderr

roster_app = typer.Typer(
    help="Pupils, guardians and consent, imported from the school's MIS export.",
    no_args_is_help=True,
)
SHOWN_CHANGES = 20


@roster_app.command("import")
def import_command(
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE.csv", help="The MIS export (CSV; see docs/roster.md).", show_default=False
        ),
    ],
    school: Annotated[
        str,
        typer.Option(
            "--school", help="The school's key (see `safeclass school list`).", show_default=False
        ),
    ],
    skip_bad: Annotated[
        bool,
        typer.Option(
            "--skip-bad", help="Import the good rows and list the bad ones instead of refusing."
        ),
    ] = False,
    database_url: DatabaseUrlOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Import a roster: check every row, then create or update pupils in one transaction."""
    out, err = Console(highlight=False, soft_wrap=True), stderr()
    try:
        roster = read_roster(file, today=dt.datetime.now(dt.UTC).date())
    except RosterFileError as exc:
        fail(f"{exc.source}: {exc.message}")
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror or exc}")
    for note in roster.notes:
        out.print(Text(f"Note: {note}"))
    if roster.problems and not skip_bad:
        rows = len(roster.bad_lines)
        err.print(
            Text(
                f"Error: {roster.source}: {rows} row{'s' if rows != 1 else ''} cannot be "
                "imported; nothing was written:",
                "bold red",
            )
        )
        for problem in roster.problems:
            err.print(Text(f"  {problem}"))
        err.print(Text("Fix these rows and import again, or use --skip-bad to import the others."))
        raise typer.Exit(1)
    url = open_database(database_url, data_dir, existing=True)
    try:
        summary = run(_import(url, school, roster, skip_bad, err))
    except SchoolNotFoundError as exc:
        known = run(_school_keys(url))
        hint = (
            f"schools: {', '.join(known)}"
            if known
            else "add one first: safeclass school add --preset NAME"
        )
        fail(f"{exc}; {hint}")
    except RecordsError as exc:
        fail(f"{roster.source}: {exc}; nothing was written")
    except (SQLAlchemyError, OSError) as exc:
        fail(f"cannot use the database: {type(exc).__name__}: {exc}; nothing was written")
    _print_summary(out, summary)


async def _import(
    url: str, school: str, roster: Roster, skip_bad: bool, console: Console
) -> ImportSummary:
    engine = connect(url)
    progress = Progress(
        TextColumn("Importing pupils"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not console.is_terminal,
        transient=True,
    )
    try:
        with progress:
            task = progress.add_task("import", total=len(roster.rows))
            return await import_roster(
                StoreRoster(engine),
                school,
                roster,
                skip_bad=skip_bad,
                progress=lambda n: progress.advance(task, n),
            )
    finally:
        await engine.dispose()


async def _school_keys(url: str) -> list[str]:
    engine = connect(url)
    try:
        async with engine.connect() as conn:
            return [s.key for s in await list_schools(conn)]
    finally:
        await engine.dispose()


def _print_summary(out: Console, summary: ImportSummary) -> None:
    table = Table(title=Text(f"Roster {summary.source} → school '{summary.school_key}'"))
    table.add_column("Pupils")
    table.add_column("Rows", justify="right")
    table.add_row("Created", str(summary.created))
    table.add_row("Updated", str(summary.updated))
    table.add_row("Unchanged", str(summary.unchanged))
    table.add_row("Skipped (bad rows)", str(summary.skipped_rows))
    out.print(table)
    if summary.classes_created:
        out.print(Text("New classes: " + ", ".join(summary.classes_created)))
    updated = [c for c in summary.changes if c.changed]
    if updated:
        out.print(Text("Updated:"))
        for change in updated[:SHOWN_CHANGES]:
            out.print(Text(f"  line {change.line}: {change.name} ({', '.join(change.changed)})"))
        if len(updated) > SHOWN_CHANGES:
            out.print(Text(f"  … and {len(updated) - SHOWN_CHANGES} more"))
    for note in summary.consent_kept:
        out.print(Text(f"Consent kept: {note}"))
    if summary.skipped:
        out.print(Text("Skipped rows (not imported):", "bold yellow"))
        for problem in summary.skipped:
            out.print(Text(f"  {problem}"))
