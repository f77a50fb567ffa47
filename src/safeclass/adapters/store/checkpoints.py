"""What the daily log checkpoints need of the database (`app.checkpoints.CheckpointRecords`).

Each school's sessions (whose logs its checkpoint covers), the schools with the addresses of
their DSLs (who are sent it), and the letters queued in the `notifications` table for the
outbox to deliver.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from safeclass.adapters.store.tables import Notification, School, Session, Staff
from safeclass.app.checkpoints import SchoolDsls


class StoreCheckpoints:
    """Schools, their DSLs and sessions read, and letters queued, through one engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def school_sessions(self, school_id: str) -> set[str]:
        async with self.engine.connect() as conn:
            found = await conn.execute(select(Session.id).where(Session.school_id == school_id))
            return set(found.scalars().all())

    async def schools_with_dsls(self) -> list[SchoolDsls]:
        async with self.engine.connect() as conn:
            schools = (await conn.execute(select(School.id, School.name))).all()
            dsls = (
                await conn.execute(
                    select(Staff.school_id, Staff.email).where(
                        Staff.role == "dsl", Staff.active.is_(True)
                    )
                )
            ).all()
        return [
            SchoolDsls(school_id, name, [email for sid, email in dsls if sid == school_id])
            for school_id, name in schools
        ]

    async def queue(self, rows: Sequence[Mapping[str, object]]) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(insert(Notification), [dict(r) for r in rows])
