"""Safeguarding concerns' records on the database (`app.concerns.ConcernRows`).

The `concerns` rows with their pupils (`concern_pupils`) and chained entries
(`concern_entries`), the pupils' names and dates of birth, the delivered DSL alerts that link
to a concern, and a session's `ConcernRaised` entries read in the log's own transaction. The
app module chains and verifies the entries and decides what is written; these are its
statements, each in the caller's transaction or snapshot where it takes a connection.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from safeclass.adapters.store.db import OnEngine
from safeclass.adapters.store.tables import (
    Concern,
    ConcernEntry,
    ConcernPupil,
    Notification,
    Pupil,
    Session,
    SessionEvent,
    Staff,
)
from safeclass.app.concerns import ChainedEntry, NewConcern, NewEntry, PupilRef, StoredConcern
from safeclass.core import events as ev


class StoreConcerns(OnEngine):
    """Concerns, their pupils and entries, through one engine."""

    async def concerns(
        self, conn: AsyncConnection, school_id: str, concern_ids: Sequence[str] | None
    ) -> list[StoredConcern]:
        query = (
            select(
                Concern.__table__,
                Session.title.label("session_title"),
                Staff.name.label("staff_name"),
            )
            .outerjoin(Session, Session.id == Concern.session_id)
            .outerjoin(Staff, Staff.id == Concern.raised_by)
            .where(Concern.school_id == school_id)
            .order_by(Concern.raised_at.desc(), Concern.id)
        )
        if concern_ids is not None:
            query = query.where(Concern.id.in_(list(concern_ids)))
        rows = (await conn.execute(query)).all()
        return [_stored(r._mapping, r.session_title, r.staff_name) for r in rows]

    async def concern(self, conn: AsyncConnection, concern_id: str) -> StoredConcern | None:
        row = (await conn.execute(select(Concern).where(Concern.id == concern_id))).first()
        return None if row is None else _stored(row._mapping)

    async def pupils_of(
        self, conn: AsyncConnection, concern_ids: Sequence[str]
    ) -> dict[str, list[PupilRef]]:
        pupils: dict[str, list[PupilRef]] = {}
        for concern_id, pupil_id, forename, surname, mis_id in await conn.execute(
            select(ConcernPupil.concern_id, Pupil.id, Pupil.forename, Pupil.surname, Pupil.mis_id)
            .join(Pupil, Pupil.id == ConcernPupil.pupil_id)
            .where(ConcernPupil.concern_id.in_(list(concern_ids)))
            .order_by(Pupil.surname, Pupil.forename, Pupil.id)
        ):
            pupils.setdefault(concern_id, []).append(
                PupilRef(pupil_id, f"{forename} {surname}", mis_id or "")
            )
        return pupils

    async def pupil_ids(self, conn: AsyncConnection, concern_id: str) -> list[str]:
        found = await conn.execute(
            select(ConcernPupil.pupil_id).where(ConcernPupil.concern_id == concern_id)
        )
        return list(found.scalars())

    async def entries_of(
        self, conn: AsyncConnection, concern_ids: Sequence[str]
    ) -> dict[str, list[ChainedEntry]]:
        entries: dict[str, list[ChainedEntry]] = {}
        for e in (
            await conn.execute(
                select(ConcernEntry)
                .where(ConcernEntry.concern_id.in_(list(concern_ids)))
                .order_by(ConcernEntry.concern_id, ConcernEntry.seq)
            )
        ).all():
            entries.setdefault(e.concern_id, []).append(
                ChainedEntry(
                    e.seq,
                    e.kind,
                    e.at,
                    e.happened_at,
                    e.by_staff,
                    e.by_name,
                    e.text,
                    e.hash,
                    e.prev_hash,
                )
            )
        return entries

    async def entry_count(self, conn: AsyncConnection, concern_id: str) -> int:
        found = await conn.scalar(select(func.count()).where(ConcernEntry.concern_id == concern_id))
        return int(found or 0)

    async def alerts_sent(
        self, conn: AsyncConnection, school_id: str, kind: str
    ) -> list[tuple[str, dt.datetime]]:
        rows = await conn.execute(
            select(Notification.body, Notification.sent_at).where(
                Notification.school_id == school_id,
                Notification.kind == kind,
                Notification.sent_at.is_not(None),
            )
        )
        return [(body, sent_at) for body, sent_at in rows if sent_at is not None]

    async def concerns_about(self, school_id: str, pupil_id: str) -> list[str]:
        async with self.engine.connect() as conn:
            found = await conn.execute(
                select(ConcernPupil.concern_id)
                .join(Concern, Concern.id == ConcernPupil.concern_id)
                .where(ConcernPupil.pupil_id == pupil_id, Concern.school_id == school_id)
            )
            return list(found.scalars())

    async def pupil(self, school_id: str, pupil_id: str) -> PupilRef | None:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(Pupil.id, Pupil.forename, Pupil.surname, Pupil.mis_id).where(
                        Pupil.id == pupil_id, Pupil.school_id == school_id
                    )
                )
            ).first()
        return None if row is None else PupilRef(row[0], f"{row[1]} {row[2]}", row[3] or "")

    async def births(
        self, conn: AsyncConnection, school_id: str, pupil_ids: Sequence[str]
    ) -> dict[str, dt.date | None]:
        found = await conn.execute(
            select(Pupil.id, Pupil.date_of_birth).where(
                Pupil.school_id == school_id, Pupil.id.in_(list(pupil_ids))
            )
        )
        return {pupil_id: born for pupil_id, born in found}

    async def add_concern(
        self,
        conn: AsyncConnection,
        new: NewConcern,
        status: str,
        event_seq: int | None,
        event_hash: str | None,
    ) -> None:
        await conn.execute(
            insert(Concern).values(
                id=new.concern_id,
                school_id=new.school_id,
                session_id=new.session_id,
                pupil_id=new.pupils[0] if new.pupils else None,
                raised_by=new.raised_by,
                raised_at=new.raised_at,
                summary=new.summary,
                status=status,
                keep_until=new.keep_until,
                category=new.category,
                happened_at=new.happened_at,
                event_seq=event_seq,
                event_hash=event_hash,
            )
        )
        if new.pupils:
            await conn.execute(
                insert(ConcernPupil),
                [{"concern_id": new.concern_id, "pupil_id": p} for p in new.pupils],
            )

    async def add_entry(
        self, conn: AsyncConnection, concern_id: str, entry: NewEntry, prev_hash: str, digest: str
    ) -> None:
        await conn.execute(
            insert(ConcernEntry).values(
                concern_id=concern_id,
                **dataclasses.asdict(entry),
                prev_hash=prev_hash,
                hash=digest,
            )
        )

    async def seal_head(self, conn: AsyncConnection, concern_id: str, seq: int, seal: str) -> None:
        await conn.execute(
            update(Concern).where(Concern.id == concern_id).values(head_seq=seq, head_seal=seal)
        )

    async def hold(self, conn: AsyncConnection, school_id: str, concern_id: str) -> bool:
        owner = (
            await conn.execute(
                select(Concern.id).where(Concern.id == concern_id, Concern.school_id == school_id)
            )
        ).scalar_one_or_none()
        if owner is None:
            return False
        if conn.dialect.name == "postgresql":  # SQLite's writer holds the whole database already
            await conn.execute(select(Concern.id).where(Concern.id == concern_id).with_for_update())
        return True

    async def last_entry(self, conn: AsyncConnection, concern_id: str) -> tuple[int, str] | None:
        last = (
            await conn.execute(
                select(ConcernEntry.seq, ConcernEntry.hash)
                .where(ConcernEntry.concern_id == concern_id)
                .order_by(ConcernEntry.seq.desc())
                .limit(1)
            )
        ).first()
        return None if last is None else (int(last[0]), str(last[1]))

    async def set_status(self, conn: AsyncConnection, concern_id: str, status: str) -> None:
        await conn.execute(update(Concern).where(Concern.id == concern_id).values(status=status))

    async def raised_entries(
        self, conn: AsyncConnection, session_id: str, limit: int
    ) -> list[tuple[int, str, dict[str, Any] | None]]:
        found = await conn.execute(
            select(SessionEvent.seq, SessionEvent.hash, SessionEvent.payload)
            .where(
                SessionEvent.session_id == session_id,
                SessionEvent.type == ev.ConcernRaised.__name__,
            )
            .order_by(SessionEvent.seq.desc())
            .limit(limit)
        )
        return [
            (seq, digest, json.loads(payload) if payload is not None else None)
            for seq, digest, payload in found
        ]


def _stored(
    row: Any, session_title: str | None = None, staff_name: str | None = None
) -> StoredConcern:
    """A concern's row (its mapping) as the app reads it."""
    return StoredConcern(
        id=row["id"],
        school_id=row["school_id"],
        session_id=row["session_id"],
        category=row["category"],
        happened_at=row["happened_at"],
        raised_at=row["raised_at"],
        raised_by=row["raised_by"],
        summary=row["summary"],
        status=row["status"],
        event_seq=row["event_seq"],
        event_hash=row["event_hash"],
        keep_until=row["keep_until"],
        session_title=session_title,
        staff_name=staff_name,
        head_seq=row["head_seq"],
        head_seal=row["head_seal"],
    )
