"""Opening the database: which URL, the engine settings that keep records safe, and migrations.

SQLite (the default, one file in the data directory) runs in WAL mode with full fsync, so an
acknowledged event survives a crash; writers take the lock up front (`BEGIN IMMEDIATE`) so
concurrent writers queue instead of failing, and readers never wait for them. PostgreSQL is
used when SAFECLASS_DATABASE_URL names one.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from safeclass.adapters.server_secret import ServerSecret
from safeclass.adapters.store.event_log import CHAIN_KEY
from safeclass.app.concerns import CONCERN_KEY

ENV_URL = "SAFECLASS_DATABASE_URL"
ENV_DATA = "SAFECLASS_DATA_DIR"
MIGRATIONS = Path(__file__).with_name("migrations")


def database_url(
    data_dir: str | Path | None = None, url: str | None = None, *, make_folder: bool = True
) -> str:
    """The database URL: given, else SAFECLASS_DATABASE_URL, else SQLite in the data dir (the
    folder made now unless `make_folder` is false: a command that only reads makes nothing)."""
    chosen = url or os.environ.get(ENV_URL)
    if chosen:
        return _async_driver(chosen)
    folder = Path(data_dir or os.environ.get(ENV_DATA) or "data")
    if make_folder:
        folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite+aiosqlite:///{folder.resolve() / 'safeclass.db'}"


def _async_driver(url: str) -> str:
    for plain, driver in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("sqlite:///", "sqlite+aiosqlite:///"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


class _SqliteEngine(AsyncEngine):
    """An async engine whose `begin()` transactions take SQLite's write lock up front.

    Code writes inside `engine.begin()` and reads with `engine.connect()`. Writers start with
    `BEGIN IMMEDIATE`, so a transaction that reads and then writes (the event log's head, then
    the new entries) queues for the lock instead of failing on a stale snapshot; readers start a
    plain `BEGIN` and, in WAL mode, never wait for a writer's fsync.
    """

    _writer: asyncio.Lock | None = None

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        # Writers of this process queue here, in order, rather than in SQLite's busy handler,
        # which sleeps in growing steps (up to 100 ms) and so turns contention into long tails.
        if self._writer is None:
            self._writer = asyncio.Lock()
        async with self._writer, self.connect() as conn:
            await conn.execution_options(safeclass_writes=True)
            async with conn.begin():
                yield conn


def connect(url: str, **kwargs: Any) -> AsyncEngine:
    """An engine for `url` with the settings safeclass relies on."""
    url = _async_driver(url)
    if is_sqlite(url):
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return _SqliteEngine(engine.sync_engine)
    kwargs.setdefault("pool_size", 10)
    return create_async_engine(url, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, decide when transactions begin (see _sqlite_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    writes = conn.get_execution_options().get("safeclass_writes", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


def upgrade(url: str, revision: str = "head", secret: ServerSecret | None = None) -> None:
    """Apply the Alembic migrations up to `revision` (idempotent).

    `secret` (the server's) is needed only by the migrations that seal records already written
    with keys derived from it: 0004 the event logs' heads (the log-chain key), 0015 the
    concerns' heads (the concern key). A database with none of those records needs no secret.
    Alembic's environment runs its own event loop, so from inside a running loop (a test, the
    server) the work is done in a worker thread.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        _upgrade(url, revision, secret)
        return
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(_upgrade, url, revision, secret).result()


def _upgrade(url: str, revision: str, secret: ServerSecret | None) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = _async_driver(url)
    config.attributes["chain_key"] = secret.derive(CHAIN_KEY) if secret else None
    config.attributes["concern_key"] = secret.derive(CONCERN_KEY) if secret else None
    command.upgrade(config, revision)


async def upgrade_async(
    url: str, revision: str = "head", secret: ServerSecret | None = None
) -> None:
    """`upgrade` from async code (Alembic's env runs its own event loop in a worker thread)."""
    await asyncio.to_thread(upgrade, url, revision, secret)


def asyncpg_dsn(url: str) -> str:
    """The PostgreSQL URL as asyncpg itself takes it (for a connection of its own, outside the
    engine's pool: the cluster's bus and its lead)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(_async_driver(url))
    if not parsed.drivername.startswith("postgresql"):
        raise ValueError("only PostgreSQL has LISTEN/NOTIFY and advisory locks")
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


class OnEngine:
    """The transactions of one engine (`app.transactions.Transactions`): the base of the ports
    whose use cases write several things at once."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    def begin(self) -> contextlib.AbstractAsyncContextManager[AsyncConnection]:
        return self.engine.begin()

    def connect(self) -> contextlib.AbstractAsyncContextManager[AsyncConnection]:
        return self.engine.connect()
