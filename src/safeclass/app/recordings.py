"""The record of each recording: whose media a file holds, and when it must be deleted (C13).

The media adapter makes the files (one WebM per participant, in a folder only the server's user
can read); this module keeps their rows, each with `delete_after` fixed from the session's policy
(`retention.recordings_days`) when it is made, which the retention job honours. Opening one is
for the people the school names (the DSL and the head: `Capability.VIEW_RECORDINGS`), and every
opening is written to the school's journal, so the record says who watched what and when.
The rows are read and written through `RecordingRows` (on the database:
`safeclass.adapters.store.recordings`, `Services.recordings`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

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


class RecordingRows(Protocol):
    """The record of recordings, as this module reads and writes it."""

    async def known_paths(self, session_id: str, paths: Sequence[str]) -> set[str]:
        """Which of these files are already on record for the session."""

    async def add(self, school_id: str, rows: Sequence[RecordingRow]) -> None:
        """Record these files of the school's, in one transaction."""

    async def list_recordings(
        self,
        school_id: str | None,
        *,
        session_id: str | None = None,
        include_deleted: bool = False,
    ) -> list[RecordingRow]:
        """A school's recordings (None: every school's, for the CLI), or one session's, oldest
        first; the deleted ones only if asked."""

    async def recording(self, school_id: str, recording_id: str) -> RecordingRow | None:
        """One recording of the school's that has not been deleted; None otherwise."""


async def keep(
    rows: RecordingRows,
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
        known = await rows.known_paths(session_id, [str(f.path) for f in files])
        files = [f for f in files if str(f.path) not in known]
    new = [
        RecordingRow(
            id=str(uuid.uuid4()),
            session_id=session_id,
            participant_id=_whose(f.participant_id),
            shown_name=_shown(f.participant_id, names),
            kinds=tuple(f.kinds),
            path=f.path,
            started_at=f.started_at,
            ended_at=f.ended_at,
            size_bytes=f.size_bytes,
            delete_after=delete_after,
            deleted_at=None,
        )
        for f in files
    ]
    if new:
        await rows.add(school_id, new)
    return [r.id for r in new]


def _whose(feed: str) -> str:
    """The participant a recorded feed is of (a shared screen is its sharer's)."""
    sharer = sharer_of(feed)
    return sharer if sharer is not None else feed


def _shown(feed: str, names: Mapping[str, str]) -> str:
    name = names.get(_whose(feed), "")
    return f"{name} (screen)" if sharer_of(feed) is not None and name else name


async def opened(
    rows: RecordingRows,
    event_log: EventStore,
    *,
    school_id: str,
    recording_id: str,
    staff_id: str,
    now: dt.datetime,
) -> RecordingRow | None:
    """A recording about to be opened by a member of staff (None: no such recording here, or
    deleted); the opening is journalled first."""
    row = await rows.recording(school_id, recording_id)
    if row is None:
        return None
    entry = {"recording": row.id, "session": row.session_id, "by": staff_id}
    await event_log.append(school_id, [NewEntry(RECORDING_OPENED, now.isoformat(), entry)])
    return row
