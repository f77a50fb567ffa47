"""Options shared by every command that opens the database, which data they mean, and running
async work from Typer.

Where the data is (README, "Where the CLI finds the data"):
`--data-dir`, else SAFECLASS_DATA_DIR, else `./data`; but when none of those nor a database
URL is given, `./data` holds no database and `./data/demo` holds the demo's, the demo's is
used, and the command says so on stderr. So after `./scripts/demo`, `safeclass school list`
shows the demo school, and a real install (`./data`, or a folder named in the settings) always
wins over the demo.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from safeclass.adapters.store.db import ENV_DATA, ENV_URL, database_url

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
    Path | None,
    typer.Option(
        "--data-dir",
        envvar="SAFECLASS_DATA_DIR",
        help=(
            "Where safeclass keeps its SQLite database and files "
            "(default: ./data, or the demo's ./data/demo when only the demo has run here)."
        ),
        show_default=False,
    ),
]
DEFAULT_DATA_DIR = Path("data")
DEMO_DATA_DIR = DEFAULT_DATA_DIR / "demo"
DATABASE_FILE = "safeclass.db"


def data_dir_for(data_dir: Path | None, url: str | None = None) -> Path:
    """The data directory a command means (the rule in this module's docstring)."""
    if data_dir is not None:
        return data_dir
    if os.environ.get(ENV_DATA):
        return Path(os.environ[ENV_DATA])
    if url or os.environ.get(ENV_URL):
        return DEFAULT_DATA_DIR
    if (
        not (DEFAULT_DATA_DIR / DATABASE_FILE).exists()
        and (DEMO_DATA_DIR / DATABASE_FILE).is_file()
    ):
        typer.echo(
            f"Using the demo's data in {DEMO_DATA_DIR}/ "
            f"({DEFAULT_DATA_DIR}/ has no database; --data-dir chooses another).",
            err=True,
        )
        return DEMO_DATA_DIR
    return DEFAULT_DATA_DIR


def resolve_url(url: str | None, data_dir: Path, *, make_folder: bool = True) -> str:
    return database_url(data_dir=data_dir, url=url, make_folder=make_folder)


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)
