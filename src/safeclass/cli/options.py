"""Options shared by every command that opens the database, and running async work from Typer."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from safeclass.adapters.store.db import database_url

T = TypeVar("T")

DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="SAFECLASS_DATABASE_URL",
        help="SQLAlchemy URL of the database (default: SQLite in the data directory).",
        show_default=False,
    ),
]
DataDirOption = Annotated[
    Path,
    typer.Option(
        "--data-dir",
        envvar="SAFECLASS_DATA_DIR",
        help="Where safeclass keeps its SQLite database and files.",
    ),
]
DEFAULT_DATA_DIR = Path("data")


def resolve_url(url: str | None, data_dir: Path) -> str:
    return database_url(data_dir=data_dir, url=url)


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)
