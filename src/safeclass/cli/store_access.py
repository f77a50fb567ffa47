"""Opening the database for a school command, and failing with a message instead of a traceback."""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console
from rich.text import Text
from sqlalchemy.engine import make_url

from safeclass.adapters.store.db import upgrade
from safeclass.cli.options import resolve_url


def open_database(database_url: str | None, data_dir: Path) -> str:
    """The database URL, migrated to the latest schema so a new install works; exit 1 if not."""
    url = resolve_url(database_url, data_dir)
    try:
        upgrade(url)
    except Exception as exc:  # any driver's error: its message is what the admin needs
        fail(f"cannot open the database {safe_url(url)}: {type(exc).__name__}: {exc}")
    return url


def safe_url(url: str) -> str:
    """The URL without any password in it, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def stderr() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str) -> NoReturn:
    """Print `Error: message` to stderr and exit with status 1."""
    stderr().print(Text(f"Error: {message}", "bold red"))
    raise typer.Exit(1)
