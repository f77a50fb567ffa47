"""Alembic's environment: runs the migrations on an async engine, SQLite or PostgreSQL."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from safeclass.adapters.store.db import connect
from safeclass.adapters.store.tables import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _main() -> None:
    engine = connect(config.attributes["url"])
    try:
        async with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                # Workers of a cluster start together: one migrates, the others wait for it
                # (a session lock, released when this connection closes).
                await connection.exec_driver_sql("SELECT pg_advisory_lock(7305846312)")
                await connection.commit()
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("safeclass runs migrations online only: use `safeclass db upgrade`")
asyncio.run(_main())
