"""The school-records port: what app and web read of a school's records, and the values read.

The app owns this interface and these values; the store implements them on SQLAlchemy
(`safeclass.adapters.store.records.StoreRecords`, over `school_records`, `pupil_records` and
`sessions`) and the composition root hands it to the web layer as `Services.records`, so no
page runs SQL or names an adapter. Reads that a page makes together take the caller's
connection (`async with services.engine.connect() as conn`), so they share one snapshot as
before. Everything a school owns is reached through its `school_id`: another school's pupil,
class or session is "not found", with the same error as one that does not exist.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from safeclass.core import Consent
from safeclass.core.state import SessionPlan
from safeclass.policy import Policy, loads


class StaffRole(StrEnum):
    """What a member of staff may do in safeclass (C21: CLA-16, CRO-03, STJ-02)."""

    TEACHER = "teacher"
    ASSISTANT = "assistant"  # teaching assistant: the second adult
    DSL = "dsl"  # designated safeguarding lead
    HEAD = "head"
    ADMIN = "admin"  # school office / IT: rosters and accounts, not sessions


class RecordsError(ValueError):
    """A school-records request that cannot be carried out; the message says why."""


class SchoolNotFoundError(RecordsError):
    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"no school with key '{key}'")


class SchoolExistsError(RecordsError):
    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"a school with key '{key}' already exists")


class NotInSchoolError(RecordsError):
    """A pupil, class, guardian or policy version that this school does not have.

    The same error whether it does not exist or belongs to another school.
    """

    def __init__(self, kind: str, ident: object) -> None:
        self.kind = kind
        super().__init__(f"no {kind} '{ident}' in this school")


@dataclass(frozen=True, slots=True)
class SchoolRecord:
    id: str
    key: str
    name: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class PolicyRecord:
    """One version of a school's policy: the TOML exactly as adopted (C20: STJ-01, CRO-17)."""

    id: int
    school_id: str
    version: int
    toml: str = field(repr=False)
    adopted: dt.date
    review: dt.date
    created_at: dt.datetime

    def load(self) -> Policy:
        return loads(self.toml, source=f"policy version {self.version}")


@dataclass(frozen=True, slots=True)
class StaffRecord:
    id: str
    school_id: str
    name: str
    email: str
    role: StaffRole
    active: bool
    created_at: dt.datetime
    password_hash: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class ClassRecord:
    id: str
    school_id: str
    name: str
    is_group: bool


class SessionNotFoundError(LookupError):
    """No such session in this school (the same error whether it exists elsewhere or not)."""


@dataclass(frozen=True, slots=True)
class StoredSession:
    plan: SessionPlan
    policy: Policy
    school_id: str
    policy_version: int
    status: str
    agenda: str
    staff_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class GuardianRecord:
    id: int
    pupil_id: str
    name: str | None
    email: str | None
    phone: str | None


@dataclass(frozen=True, slots=True)
class ConsentState:
    """A pupil's consent (C17): implied, given or refused; when, and where it came from."""

    basis: Consent
    recorded_at: dt.datetime
    source: str


@dataclass(frozen=True, slots=True)
class PupilRecord:
    id: str
    school_id: str
    class_id: str | None
    class_name: str | None
    mis_id: str | None
    forename: str
    surname: str
    date_of_birth: dt.date | None
    created_at: dt.datetime
    updated_at: dt.datetime
    guardians: tuple[GuardianRecord, ...] = ()
    consent: ConsentState | None = None

    @property
    def consent_basis(self) -> Consent:
        """Implied when nothing is on record (CLA-14, WER-13, S04-18)."""
        return self.consent.basis if self.consent else Consent.IMPLIED


@dataclass(frozen=True, slots=True)
class NewPupil:
    """A pupil to add, with their first guardian and consent when known."""

    forename: str
    surname: str
    class_id: str | None = None
    mis_id: str | None = None
    date_of_birth: dt.date | None = None
    guardian_name: str | None = None
    guardian_email: str | None = None
    guardian_phone: str | None = None
    consent: Consent | None = None
    consent_at: dt.datetime | None = None  # default: now
    consent_source: str = ""

    @property
    def has_guardian(self) -> bool:
        return any((self.guardian_name, self.guardian_email, self.guardian_phone))


@dataclass(frozen=True, slots=True)
class RecordedConsent:
    """What the records say of the consent of a pupil expected at a session."""

    session_id: str
    pupil_id: str
    consent: Consent  # implied when nothing is on record
    source: str  # where the record came from ("" when none)


@dataclass(frozen=True, slots=True)
class ConsentMark:
    """A fingerprint of the consent history (`consent_changes`, appended on every change) of a
    session's expected pupils: how many changes, and the largest and the sum of their ids. A
    change or an erasure anywhere in it changes the mark, so a watch that keeps the last mark it
    saw reads a room's consents again only when one of them changed."""

    changes: int
    last: int
    total: int


@dataclass(frozen=True, slots=True)
class SessionStatus:
    """Where a session stands: scheduled, live, ended or cancelled, and when it starts."""

    session_id: str
    status: str
    starts_at: dt.datetime


class SchoolRecords(Protocol):
    """The school's records as the pages read them."""

    async def load_session(self, session_id: str, school_id: str | None = None) -> StoredSession:
        """The session's plan and governing policy; `school_id`, when given, must own it
        (else SessionNotFoundError, as for no such session)."""

    async def current_policy(self, conn: AsyncConnection, school_id: str) -> Policy:
        """The school's policy in force."""

    async def current_policy_version(self, conn: AsyncConnection, school_id: str) -> PolicyRecord:
        """The school's policy in force, as adopted (its TOML, version and dates)."""

    async def list_classes(self, conn: AsyncConnection, school_id: str) -> list[ClassRecord]:
        """The school's classes and groups, by name."""

    async def class_in_school(
        self, conn: AsyncConnection, school_id: str, class_id: str
    ) -> ClassRecord:
        """One class or group of the school, or NotInSchoolError."""

    async def staff_by_role(
        self, conn: AsyncConnection, school_id: str, role: StaffRole | str | None = None
    ) -> list[StaffRecord]:
        """Active staff of the school, by name; only those with `role` when given."""

    async def list_pupils(
        self, conn: AsyncConnection, school_id: str, class_id: str | None = None
    ) -> list[PupilRecord]:
        """The school's pupils (of one class or group when given), by surname and forename."""

    async def set_session_status(self, session_id: str, status: str) -> None:
        """Where a session is in its life as the lists show it (scheduled, live, ended)."""

    async def on_session_staff(self, session_id: str, staff_id: str) -> bool:
        """Whether this member of staff is one of the session's staff."""

    async def with_guardian_email(self, school_id: str, pupil_ids: Sequence[str]) -> set[str]:
        """Which of these pupils have a parent's email address on record (not the address)."""

    async def recorded_consents(self, session_ids: Sequence[str]) -> list[RecordedConsent]:
        """The consent on record of every pupil expected at these sessions."""

    async def consent_marks(self, session_ids: Sequence[str]) -> dict[str, ConsentMark]:
        """A mark of the consent history of each session's expected pupils, which changes
        whenever any of their consents is changed or erased (one row a session, not a pupil)."""

    async def live_sessions(self) -> list[str]:
        """The sessions of every school that the records say are live."""

    async def session_statuses(self) -> list[SessionStatus]:
        """Every session of every school, by start and id."""

    async def school_ids(self) -> set[str]:
        """The id of every school (each has a journal in the event log)."""
