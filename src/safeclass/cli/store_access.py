"""Opening the database for a school command, and failing with a message instead of a traceback."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console
from rich.text import Text
from sqlalchemy.engine import make_url

from safeclass.adapters.server_secret import SecretFileError, ServerSecret, secret_path
from safeclass.adapters.store.db import is_sqlite, upgrade
from safeclass.cli.options import data_dir_for, resolve_url

NO_DATA = "No safeclass data here: run ./scripts/demo, or pass --data-dir"


@dataclass(frozen=True, slots=True)
class Store:
    """Where a command's data is: the database (migrated) and the data directory."""

    url: str
    data_dir: Path
    secret: ServerSecret


def open_database(
    database_url: str | None, data_dir: Path | None, *, existing: bool = False
) -> str:
    """The database URL, migrated to the latest schema so a new install works; exit 1 if not.

    `existing`: the command only reads (or needs records there already), so a missing database
    is an error in plain words, and nothing is made.
    """
    return open_store(database_url, data_dir, existing=existing).url


def open_with_secret(
    database_url: str | None,
    data_dir: Path | None,
    *,
    existing: bool = False,
    must_exist: bool = False,
) -> tuple[str, ServerSecret]:
    """`open_database`, and the server's secret (made now if there is none, unless
    `must_exist`: a command that checks records must use the server's, never a new one; the
    database must exist then too)."""
    store = open_store(
        database_url, data_dir, existing=existing or must_exist, secret_must_exist=must_exist
    )
    return store.url, store.secret


def existing_url(database_url: str | None, data_dir: Path | None) -> tuple[str, Path]:
    """The URL of a database that must be there already (exit 1, making nothing, if not)."""
    folder = data_dir_for(data_dir, database_url)
    try:
        url = resolve_url(database_url, folder, make_folder=False)
    except Exception as exc:  # a malformed URL: its message is what the admin needs
        fail(f"cannot use that database: {exc}")
    if is_sqlite(url):
        path = make_url(url).database
        if path and path != ":memory:" and not Path(path).is_file():
            fail(f"{NO_DATA} (there is no {path})")
    return url, folder


def open_store(
    database_url: str | None,
    data_dir: Path | None,
    *,
    existing: bool = False,
    secret_must_exist: bool = False,
) -> Store:
    """The database (migrated) and data directory a command means; exit 1 with a message if
    they cannot be used. See `open_database` and `open_with_secret`."""
    if existing:
        url, data_dir = existing_url(database_url, data_dir)
    else:
        data_dir = data_dir_for(data_dir, database_url)
        url = resolve_url(database_url, data_dir)
    path = secret_path(data_dir)
    try:
        secret = ServerSecret.load(path) if secret_must_exist else ServerSecret.load_or_create(path)
    except (SecretFileError, OSError) as exc:
        fail(str(exc))
    try:
        upgrade(url, secret=secret)
    except Exception as exc:  # any driver's error: its message is what the admin needs
        fail(f"cannot open the database {safe_url(url)}: {type(exc).__name__}: {exc}")
    return Store(url, data_dir, secret)


def safe_url(url: str) -> str:
    """The URL without any password in it, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str) -> NoReturn:
    """Print `Error: message` to stderr and exit with status 1."""
    stderr().print(Text(f"Error: {message}", "bold red"))
    raise typer.Exit(1)
