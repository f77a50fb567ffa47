"""The record of recordings on the database (`app.recordings.RecordingRows`): `recordings`.

Which files of a session are already on record, recording new ones, and listing and finding
them; the media themselves are files, made and deleted by others (adapters/media/recordings.py,
the retention job).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Row, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from safeclass.adapters.store.tables import Recording
from safeclass.app.recordings import RecordingRow


class StoreRecordings:
    """The recordings table, read and written through one engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def known_paths(self, session_id: str, paths: Sequence[str]) -> set[str]:
        async with self.engine.connect() as conn:
            found = await conn.execute(
                select(Recording.path).where(
                    Recording.session_id == session_id, Recording.path.in_(list(paths))
                )
            )
            return set(found.scalars())

    async def add(self, school_id: str, rows: Sequence[RecordingRow]) -> None:
        values = [
            {
                "id": r.id,
                "school_id": school_id,
                "session_id": r.session_id,
                "path": str(r.path),
                "participant_id": r.participant_id,
                "shown_name": r.shown_name,
                "kinds": " ".join(r.kinds),
                "size_bytes": r.size_bytes,
                "started_at": r.started_at,
                "ended_at": r.ended_at,
                "delete_after": r.delete_after,
                "deleted_at": r.deleted_at,
            }
            for r in rows
        ]
        async with self.engine.begin() as conn:
            await conn.execute(insert(Recording), values)

    async def list_recordings(
        self,
        school_id: str | None,
        *,
        session_id: str | None = None,
        include_deleted: bool = False,
    ) -> list[RecordingRow]:
        query = select(Recording)
        if school_id is not None:
            query = query.where(Recording.school_id == school_id)
        if session_id is not None:
            query = query.where(Recording.session_id == session_id)
        if not include_deleted:
            query = query.where(Recording.deleted_at.is_(None))
        async with self.engine.connect() as conn:
            found = (await conn.execute(query.order_by(Recording.started_at))).all()
        return [_row(r) for r in found]

    async def recording(self, school_id: str, recording_id: str) -> RecordingRow | None:
        async with self.engine.connect() as conn:
            found = (
                await conn.execute(
                    select(Recording).where(
                        Recording.id == recording_id,
                        Recording.school_id == school_id,
                        Recording.deleted_at.is_(None),
                    )
                )
            ).first()
        return None if found is None else _row(found)


def _row(r: Row[Any]) -> RecordingRow:
    m = r._mapping
    return RecordingRow(
        id=m["id"],
        session_id=m["session_id"],
        participant_id=m["participant_id"],
        shown_name=m["shown_name"] or "",
        kinds=tuple((m["kinds"] or "").split()),
        path=Path(m["path"]),
        started_at=m["started_at"],  # aware UTC on every database (tables.UTCDateTime)
        ended_at=m["ended_at"],
        size_bytes=int(m["size_bytes"] or 0),
        delete_after=m["delete_after"],
        deleted_at=m["deleted_at"],
    )
