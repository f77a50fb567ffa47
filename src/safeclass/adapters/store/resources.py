"""The lessons' resources on the database (`app.resources.ResourceRows`): `session_resources`.

Adding a link or a kept file, marking one removed (the row stays, for the register), and
reading a lesson's resources with the names of the staff who added and removed them; the files
themselves are app/resources.py's, under the server's data folder.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from safeclass.adapters.store.tables import SessionResource, Staff
from safeclass.app.resources import NewResource, NoSuchResourceError, Resource


class StoreResources:
    """The session_resources table, read and written through one engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def add(self, resource: NewResource) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(insert(SessionResource).values(**dataclasses.asdict(resource)))

    async def remove(
        self, session_id: str, resource_id: str, staff_id: str, now: dt.datetime
    ) -> str | None:
        async with self.engine.begin() as conn:
            row = (
                await conn.execute(
                    select(SessionResource.stored_name).where(
                        SessionResource.id == resource_id,
                        SessionResource.session_id == session_id,
                        SessionResource.removed_at.is_(None),
                    )
                )
            ).one_or_none()
            if row is None:
                raise NoSuchResourceError(resource_id)
            await conn.execute(
                update(SessionResource)
                .where(SessionResource.id == resource_id)
                .values(removed_by=staff_id, removed_at=now)
            )
        stored_name: str | None = row.stored_name
        return stored_name

    async def resources_of(
        self, conn: AsyncConnection, session_id: str, *, with_removed: bool = False
    ) -> list[Resource]:
        adder, remover = Staff.__table__.alias("adder"), Staff.__table__.alias("remover")
        query = (
            select(
                SessionResource.__table__,
                adder.c.name.label("adder_name"),
                remover.c.name.label("remover_name"),
            )
            .join(adder, adder.c.id == SessionResource.added_by)
            .outerjoin(remover, remover.c.id == SessionResource.removed_by)
            .where(SessionResource.session_id == session_id)
            .order_by(SessionResource.added_at, SessionResource.id)
        )
        if not with_removed:
            query = query.where(SessionResource.removed_at.is_(None))
        rows = (await conn.execute(query)).all()
        return [
            Resource(
                id=r.id,
                title=r.title,
                url=r.url,
                filename=r.filename,
                content_type=r.content_type,
                size_bytes=r.size_bytes,
                added_by=r.adder_name,
                added_at=r.added_at,
                removed_by=r.remover_name,
                removed_at=r.removed_at,
                stored_name=r.stored_name,
            )
            for r in rows
        ]

    async def resource(self, session_id: str, resource_id: str) -> Resource | None:
        async with self.engine.connect() as conn:
            found = [r for r in await self.resources_of(conn, session_id) if r.id == resource_id]
        return found[0] if found else None
