"""Opening the database for a school command, and failing with a message instead of a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console
from rich.text import Text
from sqlalchemy.engine import make_url

from safeclass.adapters.server_secret import SecretFileError, ServerSecret, secret_path
from safeclass.adapters.store.db import upgrade
from safeclass.adapters.store.event_log import CHAIN_KEY
from safeclass.cli.options import resolve_url


def open_database(database_url: str | None, data_dir: Path) -> str:
    """The database URL, migrated to the latest schema so a new install works; exit 1 if not."""
    return open_with_secret(database_url, data_dir)[0]


def open_with_secret(
    database_url: str | None, data_dir: Path, *, must_exist: bool = False
) -> tuple[str, ServerSecret]:
    """`open_database`, and the server's secret (made now if there is none, unless
    `must_exist`: a command that checks records must use the server's, never a new one)."""
    url = resolve_url(database_url, data_dir)
    path = secret_path(data_dir)
    try:
        secret = ServerSecret.load(path) if must_exist else ServerSecret.load_or_create(path)
    except (SecretFileError, OSError) as exc:
        fail(str(exc))
    try:
        upgrade(url, chain_key=secret.derive(CHAIN_KEY))
    except Exception as exc:  # any driver's error: its message is what the admin needs
        fail(f"cannot open the database {safe_url(url)}: {type(exc).__name__}: {exc}")
    return url, secret


def safe_url(url: str) -> str:
    """The URL without any password in it, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str) -> NoReturn:
    """Print `Error: message` to stderr and exit with status 1."""
    stderr().print(Text(f"Error: {message}", "bold red"))
    raise typer.Exit(1)
