"""A database fault of one table alone, for the tests of what is written together or not at all:
a trigger that refuses every new row of that table, on SQLite and on PostgreSQL, and its removal."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine


async def refuse_rows(
    engine: AsyncEngine, table: str, trigger: str, why: str, refuse: bool
) -> None:
    """With `refuse`, `table` takes no new row (the trigger `trigger` raises `why`); without, the
    trigger is dropped and the table takes rows again."""
    async with engine.begin() as conn:
        postgres = conn.dialect.name == "postgresql"
        if refuse and postgres:
            await conn.execute(
                text(
                    f"CREATE FUNCTION {trigger}() RETURNS trigger AS "
                    f"$$ BEGIN RAISE EXCEPTION '{why}'; END $$ LANGUAGE plpgsql"
                )
            )
            await conn.execute(
                text(
                    f"CREATE TRIGGER {trigger} BEFORE INSERT ON {table} "
                    f"FOR EACH ROW EXECUTE FUNCTION {trigger}()"
                )
            )
        elif refuse:
            await conn.execute(
                text(
                    f"CREATE TRIGGER {trigger} BEFORE INSERT ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{why}'); END"
                )
            )
        else:
            drop = f"DROP TRIGGER {trigger}"
            await conn.execute(text(f"{drop} ON {table}" if postgres else drop))
