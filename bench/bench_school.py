"""What the benchmarks that build a whole school share: classes of named pupils with their two
adults, a signed-in member of staff's cookie, and a fresh PostgreSQL database to build it in.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import uuid
from collections.abc import Awaitable, Callable

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from safeclass.adapters.auth.identity import STAFF_COOKIE
from safeclass.adapters.auth.tokens import hash_token, new_token
from safeclass.adapters.store import school_records
from safeclass.adapters.store.pupil_records import NewPupil, add_pupils
from safeclass.adapters.store.tables import StaffLogin

PG_URL = os.environ.get("SAFECLASS_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def letters(n: int) -> str:
    """A name-safe spelling of a number (names have no digits): 0 → A, 27 → BB."""
    return chr(65 + n % 26) * (n // 26 + 1)


async def add_class(
    conn: AsyncConnection, school_id: str, name: str, k: int, size: int, now: dt.datetime
) -> tuple[str, list[str], list[str]]:
    """Class `name` of `size` pupils (PupilA ClassB…), with a teacher and an assistant of its own:
    the class's id, its pupils' ids and its two adults' ids (teacher first)."""
    klass, _ = await school_records.upsert_class(conn, school_id, name)
    pupils = [
        NewPupil(forename=f"Pupil{letters(i)}", surname=f"Class{letters(k)}", class_id=klass.id)
        for i in range(size)
    ]
    ids = await add_pupils(conn, school_id, pupils, now=now)
    adults = []
    for role in ("teacher", "assistant"):
        member = await school_records.add_staff(
            conn, school_id, name=f"{role} {k}", email=f"{role}{k}@bench.test", role=role, now=now
        )
        adults.append(member.id)
    return klass.id, ids, adults


async def staff_cookie(
    conn: AsyncConnection, school_id: str, staff_id: str, now: dt.datetime, hours: float
) -> str:
    """A sign-in for this member of staff, lasting `hours`, as the cookie a browser would send."""
    token = new_token()
    await conn.execute(
        insert(StaffLogin).values(
            id=str(uuid.uuid4()),
            token_hash=hash_token(token),
            staff_id=staff_id,
            school_id=school_id,
            created_at=now,
            expires_at=now + dt.timedelta(hours=hours),
        )
    )
    return f"{STAFF_COOKIE}={token}"


def fresh_pg_database(prefix: str) -> tuple[str, Callable[[], Awaitable[None]]]:
    """A new, empty database on the local PostgreSQL: its URL, and how to drop it afterwards."""
    import asyncpg

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"

    async def admin(statement: str) -> None:
        conn = await asyncpg.connect(PG_URL)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    async def drop() -> None:
        await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    return PG_URL.rsplit("/", 1)[0] + f"/{name}", drop
