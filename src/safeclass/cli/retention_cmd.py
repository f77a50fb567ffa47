"""`safeclass retention run`: delete what each session's policy says to delete, now."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from safeclass.adapters.store import EventLog, connect
from safeclass.adapters.store.event_log import CHAIN_KEY
from safeclass.adapters.store.retention import StoreRetention
from safeclass.app.retention import RetentionReport, run_retention
from safeclass.cli.options import (
    DatabaseUrlOption,
    DataDirOption,
    data_dir_for,
    run,
)
from safeclass.cli.store_access import open_with_secret

retention_app = typer.Typer(
    help="Delete records when the policy says they must go.", no_args_is_help=True
)
_out = Console()


@retention_app.command("run")
def run_command(
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Apply the rules as of this ISO date-time (default: now)."),
    ] = None,
    database_url: DatabaseUrlOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Apply every session's retention periods. Each deletion is recorded, never its content."""
    now = _parse(as_of) if as_of else dt.datetime.now(dt.UTC)
    url, secret = open_with_secret(database_url, data_dir, existing=True)
    folder = data_dir_for(data_dir, database_url)
    report = run(_run(url, now, secret.derive(CHAIN_KEY), folder))
    table = Table(title=f"Retention as of {now:%Y-%m-%d %H:%M} UTC")
    table.add_column("What")
    table.add_column("Deleted", justify="right")
    table.add_row("Chat messages (text blanked)", str(report.chat_messages_blanked))
    table.add_row("Invitation links", str(report.invitations_deleted))
    table.add_row("Recordings", str(report.recordings_deleted))
    table.add_row("Whole session logs", str(report.session_logs_deleted))
    table.add_row("Safeguarding concerns past their keep-until date", str(report.concerns_deleted))
    _out.print(table)
    for problem in report.problems:
        _out.print(f"[red]Problem:[/red] {problem}")
    if report.problems:
        raise typer.Exit(1)


def _parse(text: str) -> dt.datetime:
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f"{text!r} is not an ISO date-time such as 2027-01-31T18:00"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


async def _run(url: str, now: dt.datetime, chain_key: bytes, folder: Path) -> RetentionReport:
    engine = connect(url)
    try:
        return await run_retention(StoreRetention(engine), now, EventLog(engine, chain_key), folder)
    finally:
        await engine.dispose()
