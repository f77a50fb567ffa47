"""The record of each recording: whose media a file holds, and when it must be deleted (C13).

The media adapter makes the files (one WebM per participant, in a folder only the server's user
can read); this module keeps their rows, each with `delete_after` fixed from the session's policy
(`retention.recordings_days`) when it is made, which the retention job honours. Opening one is
for the people the school names (the DSL and the head: `Capability.VIEW_RECORDINGS`), and every
opening is written to the school's journal, so the record says who watched what and when.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from safeclass.adapters.store.tables import Recording
from safeclass.app.event_store import EventStore, NewEntry
from safeclass.app.live.media_calls import sharer_of
from safeclass.app.media_port import RecordedFile

RECORDING_OPENED = "RecordingOpened"


@dataclass(frozen=True, slots=True)
class RecordingRow:
    id: str
    session_id: str
    participant_id: str | None
    shown_name: str
    kinds: tuple[str, ...]
    path: Path
    started_at: dt.datetime
    ended_at: dt.datetime | None
    size_bytes: int
    delete_after: dt.datetime
    deleted_at: dt.datetime | None

    @property
    def seconds(self) -> float:
        return (self.ended_at - self.started_at).total_seconds() if self.ended_at else 0.0


async def keep(
    engine: AsyncEngine,
    *,
    school_id: str,
    session_id: str,
    files: Sequence[RecordedFile],
    names: Mapping[str, str],
    now: dt.datetime,
    keep_days: int,
) -> list[str]:
    """Record the stored files of a session; the ids of the new rows. A file already on record
    (the same path: its stretch was finished again after a crash) is not recorded twice."""
    delete_after = now + dt.timedelta(days=keep_days)
    if files:
        async with engine.connect() as conn:
            known = set(
                (
                    await conn.execute(
                        select(Recording.path).where(
                            Recording.session_id == session_id,
                            Recording.path.in_([str(f.path) for f in files]),
                        )
                    )
                ).scalars()
            )
        files = [f for f in files if str(f.path) not in known]
    rows = [
        {
            "id": str(uuid.uuid4()),
            "school_id": school_id,
            "session_id": session_id,
            "path": str(f.path),
            "participant_id": _whose(f.participant_id),
            "shown_name": _shown(f.participant_id, names),
            "kinds": " ".join(f.kinds),
            "size_bytes": f.size_bytes,
            "started_at": f.started_at,
            "ended_at": f.ended_at,
            "delete_after": delete_after,
            "deleted_at": None,
        }
        for f in files
    ]
    if rows:
        async with engine.begin() as conn:
            await conn.execute(insert(Recording), rows)
    return [str(r["id"]) for r in rows]


def _whose(feed: str) -> str:
    """The participant a recorded feed is of (a shared screen is its sharer's)."""
    sharer = sharer_of(feed)
    return sharer if sharer is not None else feed


def _shown(feed: str, names: Mapping[str, str]) -> str:
    name = names.get(_whose(feed), "")
    return f"{name} (screen)" if sharer_of(feed) is not None and name else name


async def list_recordings(
    engine: AsyncEngine,
    school_id: str | None,
    *,
    session_id: str | None = None,
    include_deleted: bool = False,
) -> list[RecordingRow]:
    """A school's recordings (None: every school's, for the CLI), or one session's, oldest
    first."""
    query = select(Recording)
    if school_id is not None:
        query = query.where(Recording.school_id == school_id)
    if session_id is not None:
        query = query.where(Recording.session_id == session_id)
    if not include_deleted:
        query = query.where(Recording.deleted_at.is_(None))
    async with engine.connect() as conn:
        found = (await conn.execute(query.order_by(Recording.started_at))).all()
    return [_row(r) for r in found]


async def opened(
    engine: AsyncEngine,
    event_log: EventStore,
    *,
    school_id: str,
    recording_id: str,
    staff_id: str,
    now: dt.datetime,
) -> RecordingRow | None:
    """A recording about to be opened by a member of staff (None: no such recording here, or
    deleted); the opening is journalled first."""
    async with engine.connect() as conn:
        found = (
            await conn.execute(
                select(Recording).where(
                    Recording.id == recording_id,
                    Recording.school_id == school_id,
                    Recording.deleted_at.is_(None),
                )
            )
        ).first()
    if found is None:
        return None
    row = _row(found)
    entry = {"recording": row.id, "session": row.session_id, "by": staff_id}
    await event_log.append(school_id, [NewEntry(RECORDING_OPENED, now.isoformat(), entry)])
    return row


def _row(r: object) -> RecordingRow:
    m = r._mapping  # type: ignore[attr-defined]
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
