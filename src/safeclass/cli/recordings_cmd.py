"""`safeclass recordings list`: what is in the restricted store and when each file goes."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from safeclass.adapters.store import connect
from safeclass.adapters.store.recordings import StoreRecordings
from safeclass.app.recordings import RecordingRow
from safeclass.cli.options import DatabaseUrlOption, DataDirOption, run
from safeclass.cli.store_access import open_database

recordings_app = typer.Typer(
    help="The session recordings kept (only where the policy allows recording).",
    no_args_is_help=True,
)


@recordings_app.command("list")
def list_command(
    session: Annotated[
        str | None, typer.Option("--session", help="Only this session's recordings.")
    ] = None,
    deleted: Annotated[
        bool, typer.Option("--deleted", help="Also those the retention job has deleted.")
    ] = False,
    database_url: DatabaseUrlOption = None,
    data_dir: DataDirOption = None,
) -> None:
    """Every recording with whom it shows, how long it is, and the day it will be deleted."""
    url = open_database(database_url, data_dir, existing=True)
    rows = run(_rows(url, session, deleted))
    if not rows:
        Console().print(
            "No recordings." if session is None else f"No recordings of session {session}."
        )
        return
    table = Table(title="Recordings (restricted: only the DSL and the head may open them)")
    for column in ("Session", "Who", "Started (UTC)", "Length", "Media", "Size", "Deleted on"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            r.session_id[:8],
            r.shown_name or "?",
            f"{r.started_at:%Y-%m-%d %H:%M}",
            f"{int(r.seconds) // 60}:{int(r.seconds) % 60:02d}",
            " + ".join(r.kinds),
            f"{r.size_bytes / 1e6:.1f} MB",
            f"{(r.deleted_at or r.delete_after):%Y-%m-%d}" + (" (deleted)" if r.deleted_at else ""),
        )
    Console().print(table)  # made now: the terminal's width as it is when run


async def _rows(url: str, session: str | None, deleted: bool) -> list[RecordingRow]:
    engine = connect(url)
    try:
        return await StoreRecordings(engine).list_recordings(
            None, session_id=session, include_deleted=deleted
        )
    finally:
        await engine.dispose()
