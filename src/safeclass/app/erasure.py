"""Erasing one pupil's records where the law allows it (UK GDPR art. 17), and saying what stays.

What goes: the school record's content (unless a safeguarding record still needs it: the row
stays as "Erased pupil", with no date of birth or MIS number, so the lessons' logs and class
lists still point at something), guardians, consent, class and group membership, their name on
the class lists of past lessons (their place on those to come), invitation links and the
devices they opened, the parents' reports, the notices sent to the guardians about the pupil,
the recordings that show them (the file, then the row marked deleted, as retention does),
concerns whose retention date has passed, and in every session log the pupil's words and
name: their chat lines and the name they waited under, notes about them and the reason for a
removal, their refused attempts' messages. The log is hash-chained, so entries are not deleted
but blanked with the log's own redaction (`EventStore.redact`: the digest stays, a `Redacted`
entry records which entries and why), and `safeclass audit verify` still passes.

What stays: a safeguarding concern about the pupil whose `keep_until` has not passed (or that
has none set) is never erased (Keeping Children Safe in Education; the policy's
`retention`), nor its entries in the session log; while one stays, so does the part of the
school record that says whom it is about (name, date of birth, MIS number), taken off every
class list. What remains of the logs names the pupil only by an id that nothing else links to
once the school record is emptied.

Each erasure is written in the school's journal (the keyed log the retention job uses): who,
when, and how many records of each kind went or stayed, never what they said. The records are
counted and erased through `ErasureRecords` (on the database: `safeclass.adapters.store.erasure`,
`Services.erasure`); the pupil, their concerns and the notices about them are found as their
subject access file finds them (`pupil_files.PupilFileRecords`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from safeclass.app.event_store import EventStore, NewEntry
from safeclass.app.pupil_files import PupilFileRecords
from safeclass.app.subject_access import notification_ids

PUPIL_ERASED = "PupilErased"  # the school's journal
ERASED_FORENAME, ERASED_SURNAME = "Erased", "pupil"  # what the emptied school record says
ERASED_NAME = "Erased pupil"  # their name on the class lists of lessons that happened
HELD = ("live", "ended")  # a lesson whose room opened: its class list is part of its record
REASON = "erasure request (UK GDPR art. 17)"
# Which payload fields of an entry naming the pupil hold their words or name.
_BLANK: dict[str, tuple[str, str, tuple[str, ...]]] = {
    # type: (the field that must be the pupil, kind of record, fields to blank)
    "ChatPosted": ("by", "chat messages", ("name", "text")),
    "PupilWaiting": ("pupil", "names in the waiting room", ("name",)),
    "PupilRemoved": ("pupil", "reasons for a removal", ("reason",)),
    "LogNoteAdded": ("pupil", "notes", ("text",)),
    "AttemptRefused": ("actor", "refused attempts' messages", ("message",)),
    "ConcernRaised": ("pupil", "concerns in the log", ("summary",)),
    "DslAlerted": ("pupil", "notes to the DSL", ("note",)),
}
_SAFEGUARDING = frozenset({"ConcernRaised", "DslAlerted"})


@dataclass(frozen=True, slots=True)
class PupilRecording:
    """A recording that shows the pupil and has not been deleted."""

    id: str
    path: str
    session_id: str
    delete_after: dt.datetime


@dataclass(frozen=True, slots=True)
class PupilRows:
    """How many rows of each kind name the pupil."""

    guardians: int
    consent: int
    consent_history: int
    attendance: int  # the head's attendance rows
    groups: int  # the groups they are a member of (their class is on their record)
    named_on_lists: int  # their name on lessons' class lists, not yet replaced
    invitations: int
    passes: int  # devices let in by a link
    reports: int  # parents' reports


@dataclass(frozen=True, slots=True)
class NamingEntry:
    """A log entry of one of the pupil's sessions whose payload has the pupil's id in it."""

    session_id: str
    seq: int
    type: str
    payload: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class PupilErasure:
    """What to erase of one pupil, in one transaction."""

    pupil_id: str
    notifications: tuple[int, ...]  # the notices to their guardians about them
    concerns_due: tuple[str, ...]  # their concerns past their retention date
    keep_record: bool  # a kept concern needs the school record: taken off every class list
    at: dt.datetime


class ErasureRecords(Protocol):
    """What erasure counts and erases of a pupil's records (the log's entries are blanked
    through the event store); the reads that take a connection run in the caller's snapshot."""

    async def pupil_sessions(self, conn: AsyncConnection, pupil_id: str) -> list[str]:
        """The sessions the pupil is on the class list of or was invited to, by id."""

    async def pupil_rows(self, conn: AsyncConnection, pupil_id: str) -> PupilRows:
        """How many rows of each kind name the pupil."""

    async def pupil_recordings(
        self, conn: AsyncConnection, school_id: str, pupil_id: str
    ) -> list[PupilRecording]:
        """The school's recordings of the pupil not yet deleted."""

    async def naming_entries(
        self, conn: AsyncConnection, session_ids: Sequence[str], types: Sequence[str], pupil_id: str
    ) -> list[NamingEntry]:
        """The entries of these types in these sessions' logs whose payload has the pupil's id
        in it, by session and seq."""

    async def live_lessons(self, pupil_id: str) -> int:
        """How many of the pupil's lessons are live now."""

    async def recording_deleted(self, recording_id: str, at: dt.datetime) -> None:
        """Mark a recording deleted (its file is gone)."""

    async def erase(self, erasure: PupilErasure) -> None:
        """In one transaction: delete the notices, the pupil's passes, parents' reports and
        invitations, their place on lessons to come (their name replaced, `ERASED_NAME`, on
        those held), their groups, guardians, consent and its history and the head's attendance
        rows (a behaviour note stays, no longer theirs), the concerns due with their entries and
        pupils; then take the school record off its class, and, unless it is kept, empty it
        (`ERASED_FORENAME`, `ERASED_SURNAME`, no MIS number or date of birth)."""


class LessonLiveError(RuntimeError):
    """One of the pupil's lessons is live now: its room writes to the log the erasure blanks,
    and its class list is in use. Erase once it has ended."""


@dataclass(frozen=True, slots=True)
class Kept:
    """A kind of record that is not erased, how many, until when, and why."""

    kind: str
    count: int
    until: dt.date | None
    why: str


@dataclass(slots=True)
class ErasurePlan:
    """What erasing this pupil would do, worked out before anything is touched."""

    pupil_id: str
    school_id: str
    name: str
    erase: dict[str, int] = field(default_factory=dict)  # kind -> how many
    kept: list[Kept] = field(default_factory=list)
    keep_record: bool = False  # the school record stays (a concern needs it)
    concern_ids_due: list[str] = field(default_factory=list)
    kept_sessions: set[str] = field(default_factory=set)  # a kept concern's session
    redactions: dict[str, dict[tuple[str, ...], list[int]]] = field(default_factory=dict)
    recordings: list[tuple[str, str]] = field(default_factory=list)  # (id, path)
    notifications: list[int] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.erase.values())


async def plan_erasure(
    engine: AsyncEngine,
    pupil_id: str,
    school_id: str | None,
    today: dt.date,
    *,
    files: PupilFileRecords,
    records: ErasureRecords,
) -> ErasurePlan:
    """What would be erased and what kept (and why), without changing anything; the pupil,
    their concerns and the notices about them are found as their subject access file finds
    them (`files`), the rest is counted through `records`, in one snapshot of `engine`'s."""
    async with engine.connect() as conn:
        pupil = await files.find_pupil(conn, pupil_id, school_id)
        school_id, pupil_id = pupil.school_id, pupil.id
        plan = ErasurePlan(pupil_id, school_id, f"{pupil.forename} {pupil.surname}")
        concerns = [
            (c.id, c.session_id, c.keep_until)
            for c in await files.concerns(conn, school_id, pupil_id)
        ]
        kept = [(cid, sid, keep) for cid, sid, keep in concerns if keep is None or keep >= today]
        plan.concern_ids_due = [
            cid for cid, _, keep in concerns if keep is not None and keep < today
        ]
        plan.keep_record = bool(kept)
        plan.kept_sessions = {sid for _, sid, _ in kept if sid}
        sessions = await records.pupil_sessions(conn, pupil_id)
        rows = await records.pupil_rows(conn, pupil_id)
        erase = plan.erase
        erase["guardians"] = rows.guardians
        erase["consent"] = rows.consent
        erase["consent history"] = rows.consent_history
        erase["the head's attendance rows"] = rows.attendance
        erase["class and group places"] = (1 if pupil.class_id else 0) + rows.groups
        erase["names on lessons' class lists"] = rows.named_on_lists
        erase["invitation links"] = rows.invitations
        erase["devices let in by a link"] = rows.passes
        erase["parents' reports"] = rows.reports
        recordings = [
            (r.id, r.path, r.session_id, r.delete_after)
            for r in await records.pupil_recordings(conn, school_id, pupil_id)
        ]
        held = [r for r in recordings if r[2] in plan.kept_sessions]
        plan.recordings = [
            (rid, path) for rid, path, sid, _ in recordings if sid not in plan.kept_sessions
        ]
        erase["recordings"] = len(plan.recordings)
        erase["concerns past their retention date"] = len(plan.concern_ids_due)
        entries = (
            await records.naming_entries(conn, sessions, list(_BLANK), pupil_id) if sessions else []
        )
    kept_log = 0
    for entry in entries:
        sid, seq, kind = entry.session_id, entry.seq, entry.type
        who, what, fields = _BLANK[kind]
        data = entry.payload or {}
        if data.get(who) != pupil_id or not any(data.get(f) for f in fields):
            continue
        if kind in _SAFEGUARDING and plan.keep_record:
            kept_log += 1
            continue
        plan.redactions.setdefault(sid, {}).setdefault(fields, []).append(seq)
        erase[f"log: {what}"] = erase.get(f"log: {what}", 0) + 1
    plan.notifications = await notification_ids(engine, files, school_id, pupil_id)
    erase["notices to parents"] = len(plan.notifications)
    emptied = (pupil.forename, pupil.surname) == (ERASED_FORENAME, ERASED_SURNAME)
    erase["school record"] = 0 if plan.keep_record or emptied else 1
    plan.erase = {k: v for k, v in erase.items() if v}
    if kept:
        dates = [keep for _, _, keep in kept if keep is not None]
        until = max(dates) if dates and len(dates) == len(kept) else None
        why = (
            "a safeguarding record is kept until its retention date (the policy's retention, "
            "Keeping Children Safe in Education), whatever is asked"
        )
        plan.kept.append(Kept("safeguarding concerns", len(kept), until, why))
        if kept_log:
            plan.kept.append(Kept("concerns and alerts in the lessons' logs", kept_log, until, why))
        plan.kept.append(
            Kept(
                "name, date of birth and MIS number",
                1,
                until,
                "the concerns kept must say which child they are about",
            )
        )
        if held:
            last = max(after for *_, after in held).date()
            plan.kept.append(
                Kept(
                    "recordings of a lesson with a concern",
                    len(held),
                    last,
                    "evidence for a safeguarding concern; deleted on their own day",
                )
            )
    return plan


@dataclass(frozen=True, slots=True)
class ErasureResult:
    plan: ErasurePlan
    at: dt.datetime
    problems: tuple[str, ...] = ()


async def erase_pupil(
    engine: AsyncEngine,
    log: EventStore,
    pupil_id: str,
    school_id: str | None,
    by: str,
    now: dt.datetime,
    *,
    files: PupilFileRecords,
    records: ErasureRecords,
) -> ErasureResult:
    """Erase what `plan_erasure` says may go, journal it (`by`: the staff id), and return it.

    `log` must carry the server's key (the redactions and the journal are written in it)."""
    plan = await plan_erasure(engine, pupil_id, school_id, now.date(), files=files, records=records)
    if await records.live_lessons(plan.pupil_id):
        raise LessonLiveError(plan.name)
    problems: list[str] = []
    # the logs first: they are found through the class lists erased below
    for sid, groups in plan.redactions.items():
        for fields, seqs in groups.items():
            await log.redact(
                sid, seqs, reason=REASON, at=now.isoformat(), blank_fields=list(fields)
            )
    for rid, path in plan.recordings:
        try:
            Path(path).unlink(missing_ok=True)
        except OSError as exc:
            problems.append(f"recording {rid}: cannot delete its file: {exc}")
            continue
        await records.recording_deleted(rid, now)
    await records.erase(
        PupilErasure(
            plan.pupil_id,
            tuple(plan.notifications),
            tuple(plan.concern_ids_due),
            plan.keep_record,
            now,
        )
    )
    await journal_erasure(log, plan, by, now)
    return ErasureResult(plan, now, tuple(problems))


async def journal_erasure(log: EventStore, plan: ErasurePlan, by: str, now: dt.datetime) -> None:
    """The school's journal says who erased, when, what kinds of record and how many, and what
    was kept until when: never what any record said, nor the pupil's name."""
    entry = {
        "by": by,
        "erased": dict(plan.erase),
        "kept": {
            k.kind: {"count": k.count, "until": k.until.isoformat() if k.until else None}
            for k in plan.kept
        },
    }
    await log.append(plan.school_id, [NewEntry(PUPIL_ERASED, now.isoformat(), entry)])
