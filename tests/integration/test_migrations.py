"""The migrations make exactly the schema the code declares, on SQLite and PostgreSQL.

A column or index added to `tables.py` without its migration (or the other way round) would
work in tests that build the schema one way and fail on a school's upgraded database.
"""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import AsyncEngine

from safeclass.adapters.store.db import upgrade
from safeclass.adapters.store.tables import Base


async def test_the_migrated_database_is_the_schema_the_code_declares(
    engine: AsyncEngine, db_url: str
) -> None:
    await asyncio.to_thread(upgrade, db_url)  # as `safeclass db upgrade` and the server do
    async with engine.connect() as conn:
        differences = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
        )
    assert differences == []
