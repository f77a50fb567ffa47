"""`safeclass db`: create or upgrade the database schema (Alembic migrations)."""

from __future__ import annotations

import typer
from rich.console import Console

from safeclass.adapters.store.db import upgrade
from safeclass.cli.options import DEFAULT_DATA_DIR, DatabaseUrlOption, DataDirOption, resolve_url

db_app = typer.Typer(help="The database: create it or bring it up to date.", no_args_is_help=True)
_err = Console(stderr=True)


@db_app.command("upgrade")
def upgrade_command(
    database_url: DatabaseUrlOption = None, data_dir: DataDirOption = DEFAULT_DATA_DIR
) -> None:
    """Apply every migration the database does not have yet (safe to run again)."""
    url = resolve_url(database_url, data_dir)
    try:
        upgrade(url)
    except Exception as exc:
        _err.print(f"[red]Cannot upgrade the database:[/red] {type(exc).__name__}: {exc}")
        raise typer.Exit(1) from None
    typer.echo(f"Database is up to date ({_safe(url)}).")


def _safe(url: str) -> str:
    """The URL without any password in it, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
