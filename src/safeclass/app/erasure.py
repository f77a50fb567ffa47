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
when, and how many records of each kind went or stayed, never what they said.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from safeclass.adapters.store.tables import (
    AttendanceMark,
    BehaviourMark,
    Concern,
    ConcernEntry,
    ConcernPupil,
    ConsentChange,
    ConsentRecord,
    GroupMember,
    Guardian,
    Invitation,
    Notification,
    ParentReport,
    Pupil,
    PupilPass,
    Recording,
    Session,
    SessionEvent,
    SessionPupil,
)
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
) -> ErasurePlan:
    """What would be erased and what kept (and why), without changing anything; the pupil,
    their concerns and the notices about them are found as their subject access file finds
    them (`files`)."""
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

        async def count(table: type, *where: object) -> int:
            found = await conn.scalar(select(func.count()).select_from(table).where(*where))  # type: ignore[arg-type]
            return int(found or 0)

        sessions = list(
            (
                await conn.execute(
                    select(SessionPupil.session_id).where(SessionPupil.pupil_id == pupil_id)
                )
            ).scalars()
        )
        invited = list(
            (
                await conn.execute(
                    select(Invitation.session_id).where(Invitation.pupil_id == pupil_id)
                )
            ).scalars()
        )
        sessions = sorted(set(sessions) | set(invited))
        erase = plan.erase
        erase["guardians"] = await count(Guardian, Guardian.pupil_id == pupil_id)
        erase["consent"] = await count(ConsentRecord, ConsentRecord.pupil_id == pupil_id)
        erase["consent history"] = await count(ConsentChange, ConsentChange.pupil_id == pupil_id)
        erase["the head's attendance rows"] = await count(
            AttendanceMark, AttendanceMark.pupil_id == pupil_id
        )
        erase["class and group places"] = (1 if pupil.class_id else 0) + await count(
            GroupMember, GroupMember.pupil_id == pupil_id
        )
        erase["names on lessons' class lists"] = await count(
            SessionPupil, SessionPupil.pupil_id == pupil_id, SessionPupil.shown_name != ERASED_NAME
        )
        erase["invitation links"] = await count(Invitation, Invitation.pupil_id == pupil_id)
        erase["devices let in by a link"] = await count(PupilPass, PupilPass.pupil_id == pupil_id)
        erase["parents' reports"] = await count(ParentReport, ParentReport.pupil_id == pupil_id)
        recordings = (
            await conn.execute(
                select(
                    Recording.id, Recording.path, Recording.session_id, Recording.delete_after
                ).where(
                    Recording.school_id == school_id,
                    Recording.participant_id == pupil_id,
                    Recording.deleted_at.is_(None),
                )
            )
        ).all()
        held = [r for r in recordings if r[2] in plan.kept_sessions]
        plan.recordings = [
            (rid, path) for rid, path, sid, _ in recordings if sid not in plan.kept_sessions
        ]
        erase["recordings"] = len(plan.recordings)
        erase["concerns past their retention date"] = len(plan.concern_ids_due)
        pattern = f"%{pupil_id}%"
        entries = (
            (
                await conn.execute(
                    select(
                        SessionEvent.session_id,
                        SessionEvent.seq,
                        SessionEvent.type,
                        SessionEvent.payload,
                    )
                    .where(
                        SessionEvent.session_id.in_(sessions),
                        SessionEvent.type.in_(list(_BLANK)),
                        SessionEvent.payload.like(pattern),
                    )
                    .order_by(SessionEvent.session_id, SessionEvent.seq)
                )
            ).all()
            if sessions
            else []
        )
    kept_log = 0
    for sid, seq, kind, payload in entries:
        who, what, fields = _BLANK[kind]
        data = json.loads(payload) if payload else {}
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
) -> ErasureResult:
    """Erase what `plan_erasure` says may go, journal it (`by`: the staff id), and return it.

    `log` must carry the server's key (the redactions and the journal are written in it)."""
    plan = await plan_erasure(engine, pupil_id, school_id, now.date(), files=files)
    pid = plan.pupil_id
    async with engine.connect() as conn:
        live = await conn.scalar(
            select(func.count())
            .select_from(Session)
            .where(
                Session.status == "live",
                Session.id.in_(select(SessionPupil.session_id).where(SessionPupil.pupil_id == pid)),
            )
        )
    if live:
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
        async with engine.begin() as conn:
            await conn.execute(update(Recording).where(Recording.id == rid).values(deleted_at=now))
    async with engine.begin() as conn:
        if plan.notifications:
            await conn.execute(delete(Notification).where(Notification.id.in_(plan.notifications)))
        await conn.execute(delete(PupilPass).where(PupilPass.pupil_id == pid))
        await conn.execute(delete(ParentReport).where(ParentReport.pupil_id == pid))
        await conn.execute(delete(Invitation).where(Invitation.pupil_id == pid))
        # a lesson to come loses them; one that happened keeps its class list whole (its
        # register and compliance still add up) with the name replaced
        held = select(Session.id).where(Session.status.in_(HELD))
        await conn.execute(
            delete(SessionPupil).where(
                SessionPupil.pupil_id == pid, SessionPupil.session_id.not_in(held)
            )
        )
        await conn.execute(
            update(SessionPupil).where(SessionPupil.pupil_id == pid).values(shown_name=ERASED_NAME)
        )
        await conn.execute(delete(GroupMember).where(GroupMember.pupil_id == pid))
        await conn.execute(delete(Guardian).where(Guardian.pupil_id == pid))
        await conn.execute(delete(ConsentRecord).where(ConsentRecord.pupil_id == pid))
        await erase_newer_records(conn, pid, plan)
        if plan.concern_ids_due:  # past their date: the record, its entries and its pupils
            due = plan.concern_ids_due
            await conn.execute(delete(ConcernEntry).where(ConcernEntry.concern_id.in_(due)))
            await conn.execute(delete(ConcernPupil).where(ConcernPupil.concern_id.in_(due)))
            await conn.execute(delete(Concern).where(Concern.id.in_(due)))
        if plan.keep_record:
            await conn.execute(
                update(Pupil).where(Pupil.id == pid).values(class_id=None, updated_at=now)
            )
        else:
            # emptied rather than deleted: the lessons' logs and class lists still point at it
            await conn.execute(
                update(Pupil)
                .where(Pupil.id == pid)
                .values(
                    forename=ERASED_FORENAME,
                    surname=ERASED_SURNAME,
                    mis_id=None,
                    date_of_birth=None,
                    class_id=None,
                    updated_at=now,
                )
            )
    await journal_erasure(log, plan, by, now)
    return ErasureResult(plan, now, tuple(problems))


async def erase_newer_records(conn: AsyncConnection, pupil_id: str, plan: ErasurePlan) -> None:
    """Rows of tables newer than this module that name the pupil, erased in the same
    transaction before the school record goes (their foreign keys would refuse it otherwise):
    the consent history and the head's attendance rows. (A concern's additions and pupils go
    with the concern when it is past its date, in `erase`; a kept concern keeps them.)"""
    await conn.execute(delete(ConsentChange).where(ConsentChange.pupil_id == pupil_id))
    # the head's view's rows (app/oversight.py): the pupil's own go; a behaviour note stays
    # counted in its lesson, no longer linked to them
    await conn.execute(delete(AttendanceMark).where(AttendanceMark.pupil_id == pupil_id))
    await conn.execute(
        update(BehaviourMark).where(BehaviourMark.pupil_id == pupil_id).values(pupil_id=None)
    )


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
