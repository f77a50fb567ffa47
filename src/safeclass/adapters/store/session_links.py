"""What the records hold of sessions and their links (`app.session_links.LinkRecords`).

The CLI's `safeclass session list | links` reads sessions across every school by id or start,
and each expected pupil's newest link (its hash and dates, never the link): these are its
queries, so the app module that shapes the answer runs no SQL.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from safeclass.adapters.store.sessions import load_session
from safeclass.adapters.store.tables import Invitation, School, Session
from safeclass.app.school_records import StoredSession
from safeclass.app.session_links import LinkRow, SessionLine


class StoreLinkRecords:
    """Sessions and their invitations, read through one engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def load_session(self, session_id: str) -> StoredSession:
        return await load_session(self.engine, session_id)

    async def ids_starting(self, given: str, limit: int) -> list[str]:
        async with self.engine.connect() as conn:
            found = await conn.execute(
                select(Session.id).where(Session.id.startswith(given, autoescape=True)).limit(limit)
            )
            return list(found.scalars())

    async def sessions_from(self, since: dt.datetime, school_key: str | None) -> list[SessionLine]:
        query = (
            select(
                Session.id,
                School.key,
                Session.title,
                Session.starts_at,
                Session.minutes,
                Session.status,
            )
            .join(School, School.id == Session.school_id)
            .where(Session.starts_at >= since)
            .order_by(Session.starts_at, Session.id)
        )
        if school_key is not None:
            query = query.where(School.key == school_key)
        async with self.engine.connect() as conn:
            return [SessionLine(*row) for row in (await conn.execute(query)).all()]

    async def links_of(self, session_id: str) -> dict[str, LinkRow]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(
                    Invitation.pupil_id,
                    Invitation.token_hash,
                    Invitation.sent_at,
                    Invitation.revoked_at,
                ).where(Invitation.session_id == session_id)
            )
            return {row.pupil_id: LinkRow(*row[1:]) for row in rows.all()}
