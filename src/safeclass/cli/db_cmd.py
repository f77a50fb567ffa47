"""`safeclass db`: create or upgrade the database schema (Alembic migrations)."""

from __future__ import annotations

import typer

from safeclass.cli.options import DatabaseUrlOption, DataDirOption
from safeclass.cli.store_access import open_database, safe_url

db_app = typer.Typer(help="The database: create it or bring it up to date.", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade_command(database_url: DatabaseUrlOption = None, data_dir: DataDirOption = None) -> None:
    """Apply every migration the database does not have yet (safe to run again)."""
    url = open_database(database_url, data_dir)
    typer.echo(f"Database is up to date ({safe_url(url)}).")
