"""`safeclass audit verify`: check the hash chain of one session's event log, or of all of them."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from safeclass.adapters.store import EventLog, VerifyReport, connect
from safeclass.cli.options import (
    DEFAULT_DATA_DIR,
    DatabaseUrlOption,
    DataDirOption,
    run,
)
from safeclass.cli.store_access import open_database

audit_app = typer.Typer(help="Check that the records have not been altered.", no_args_is_help=True)
_out = Console()


@audit_app.command("verify")
def verify_command(
    session: Annotated[
        str | None, typer.Argument(help="A session id; every session when left out.")
    ] = None,
    database_url: DatabaseUrlOption = None,
    data_dir: DataDirOption = DEFAULT_DATA_DIR,
) -> None:
    """Find any changed, deleted, inserted or reordered event. Exit 1 if any is found."""
    url = open_database(database_url, data_dir)
    reports = run(_verify(url, session))
    if session is not None and reports[0].entries == 0 and reports[0].ok:
        _out.print(f"[red]No event log for session {session}[/red]")
        raise typer.Exit(1)
    bad = [r for r in reports if not r.ok]
    for report in reports:
        if report.ok:
            _out.print(
                f"[green]OK[/green] {report.session_id}: {report.entries} events, chain intact"
            )
        else:
            _out.print(f"[red]ALTERED[/red] {report.session_id}: {report.entries} events")
            for problem in report.problems:
                _out.print(f"  - {problem}")
    if not reports:
        _out.print("No session logs yet.")
    if bad:
        raise typer.Exit(1)


async def _verify(url: str, session: str | None) -> list[VerifyReport]:
    engine = connect(url)
    try:
        log = EventLog(engine)
        ids = [session] if session is not None else await log.sessions()
        return [await log.verify(sid) for sid in ids]
    finally:
        await engine.dispose()
