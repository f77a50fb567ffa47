"""The port a subject access request reads one pupil's records through, and the rows it reads.

`app/subject_access.py` gathers everything held about one pupil into their file; what it reads
of the records, row by row, is named here (`PupilFileRecords`), and the store implements it
(`safeclass.adapters.store.pupil_files.StorePupilFiles`, `Services.pupil_files`). The reads of
one file take the caller's connection, so they are of one moment. Erasure (`app/erasure.py`)
finds the pupil, their concerns and the notices about them through the same port.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from safeclass.app.event_store import LogEntry
from safeclass.app.school_records import GuardianRecord, StoredSession
from safeclass.policy import Policy


class PupilNotFoundError(LookupError):
    """No such pupil (in this school): the same error whether it exists elsewhere or not."""


@dataclass(frozen=True, slots=True)
class FoundPupil:
    """The pupil's school record as it is now."""

    id: str
    school_id: str
    class_id: str | None
    mis_id: str | None
    forename: str
    surname: str
    date_of_birth: dt.date | None
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class ConsentRow:
    """One record of the pupil's consent: a change kept in its history, or the one in force."""

    basis: str
    recorded_at: dt.datetime
    changed_at: dt.datetime  # when it took this value (the one in force: when recorded)
    source: str
    current: bool  # the record in force now (else a change in the history)


@dataclass(frozen=True, slots=True)
class PupilSessionRow:
    """A session the pupil was expected in or invited to."""

    session_id: str
    title: str
    starts_at: dt.datetime
    minutes: int
    status: str


@dataclass(frozen=True, slots=True)
class Classmate:
    """Another pupil of one of those sessions, with the names they could appear under."""

    pupil_id: str
    shown_name: str
    forename: str
    surname: str


@dataclass(frozen=True, slots=True)
class InvitationRow:
    """One invitation link: when it was made, sent, first opened and stopped (never a token)."""

    session_id: str
    created_at: dt.datetime
    sent_at: dt.datetime | None
    first_opened_at: dt.datetime | None  # the first device it let in
    expires_at: dt.datetime
    revoked_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class ConcernRow:
    """A concern about the pupil: its account as written, and its retention date."""

    id: str
    session_id: str | None
    raised_at: dt.datetime
    happened_at: dt.datetime | None
    category: str
    summary: str
    status: str
    keep_until: dt.date | None
    raised_by: str | None  # the staff member's name


@dataclass(frozen=True, slots=True)
class ConcernEntryRow:
    """What was added to a concern after its account (an addition, an action taken, "read")."""

    concern_id: str
    kind: str
    at: dt.datetime
    happened_at: dt.datetime | None
    by_name: str
    text: str


@dataclass(frozen=True, slots=True)
class ParentReportRow:
    session_id: str
    reason: str
    message: str
    emailed: bool
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class RecordingRow:
    """A recording that shows the pupil (listed, never copied)."""

    id: str
    session_id: str
    kinds: str | None
    size_bytes: int | None
    started_at: dt.datetime
    ended_at: dt.datetime | None
    delete_after: dt.datetime
    deleted_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class NoticeRow:
    """A notice to a family (every kind of outbox row sent to parents, by any channel)."""

    id: int
    session_id: str | None
    kind: str
    recipient: str
    subject: str
    body: str
    status: str
    created_at: dt.datetime
    sent_at: dt.datetime | None
    pupil_id: str | None  # who it is about (None: older rows, written without)


class PupilFileRecords(Protocol):
    """One pupil's records as a subject access request and an erasure read them."""

    async def find_pupil(
        self, conn: AsyncConnection, ident: str, school_id: str | None = None
    ) -> FoundPupil:
        """The pupil by safeclass id, or by MIS id within `school_id`; else
        PupilNotFoundError (also for another school's pupil)."""

    async def current_policy(self, conn: AsyncConnection, school_id: str) -> Policy:
        """The school's policy in force."""

    async def class_name(self, conn: AsyncConnection, class_id: str) -> str | None:
        """The name of a class."""

    async def group_names(self, conn: AsyncConnection, pupil_id: str) -> list[str]:
        """The groups the pupil is in, by name."""

    async def guardians(
        self, conn: AsyncConnection, school_id: str, pupil_id: str
    ) -> list[GuardianRecord]:
        """The pupil's guardians, in the order they were added."""

    async def consents(
        self, conn: AsyncConnection, school_id: str, pupil_id: str
    ) -> list[ConsentRow]:
        """Every change kept in the pupil's consent history (oldest first), then the record
        in force now."""

    async def sessions_of(
        self, conn: AsyncConnection, school_id: str, pupil_id: str
    ) -> list[PupilSessionRow]:
        """The sessions the pupil was expected in or invited to, oldest first."""

    async def classmates(
        self, conn: AsyncConnection, session_ids: Sequence[str], pupil_id: str
    ) -> list[Classmate]:
        """Every other pupil expected in these sessions (once a session)."""

    async def invitations(
        self, conn: AsyncConnection, school_id: str, pupil_id: str
    ) -> list[InvitationRow]:
        """The pupil's invitation links, the oldest first."""

    async def staff_names(self, conn: AsyncConnection, school_id: str) -> dict[str, str]:
        """The name of every member of the school's staff, by id."""

    async def concerns(
        self, conn: AsyncConnection, school_id: str, pupil_id: str
    ) -> list[ConcernRow]:
        """The concerns about the pupil (naming them among their pupils, or first), the
        oldest first."""

    async def concern_entries(
        self, conn: AsyncConnection, concern_ids: Sequence[str]
    ) -> list[ConcernEntryRow]:
        """What was added to these concerns after their accounts, by concern, in the order
        written."""

    async def parent_reports(
        self, conn: AsyncConnection, school_id: str, pupil_id: str
    ) -> list[ParentReportRow]:
        """What the pupil's parents told the school, the oldest first."""

    async def recordings(
        self, conn: AsyncConnection, school_id: str, pupil_id: str
    ) -> list[RecordingRow]:
        """The recordings that show the pupil, the oldest first."""

    async def notices(
        self, conn: AsyncConnection, school_id: str, pupil_id: str, emails: Sequence[str]
    ) -> list[NoticeRow]:
        """The notices to families about the pupil, or (older rows, written without a pupil)
        to one of these addresses, in the order written."""

    async def entries_naming(
        self,
        conn: AsyncConnection,
        session_ids: Sequence[str],
        pupil_id: str,
        also: Sequence[str],
    ) -> dict[str, list[LogEntry]]:
        """The log entries of these sessions whose payload's text holds the pupil's id (the
        caller checks it is a value, not part of one), and those of the types `also`, by
        session (every session given has a list), in order."""

    async def load_session(self, session_id: str) -> StoredSession:
        """The session's plan and governing policy (else SessionNotFoundError)."""
