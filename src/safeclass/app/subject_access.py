"""A subject access request (UK GDPR art. 15): everything safeclass holds about one pupil.

`gather` reads, for one pupil, the school record, guardians, consent, invitations (when each
link was made, sent, first opened and stopped: never a token, which is not kept anyway), the
attendance of every session they were expected in (the register, app/register.py, built from
the events that name them), every logged event naming them, the staff's notes about them, the
safeguarding concerns about them (table and log), what their parents told the school, the
recordings that show them (listed, never copied) and the notices sent to their guardians.
`export_pupil` puts it in one zip: a readable `summary.html` and JSON/CSV files.

Other pupils never appear. The log is read only where the pupil is: the sessions they were
expected in (session_pupils), and in those only the entries whose payload names their id
(plus each session's end, for the register), so one pupil's export does not replay the school.
In what is kept, every other participant's id becomes "another pupil", and the names of the
other pupils of those sessions are replaced with "[another pupil]" in free text (a note, a
concern's account, a parent's message); classmates' chat lines are never read at all.

A concern comes with everything added to it since (`concern_additions`), and consent with its
whole history (`consent_history`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo

from babel.support import NullTranslations
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from safeclass.adapters.store import pupil_records
from safeclass.adapters.store.school_records import current_policy
from safeclass.adapters.store.sessions import load_session
from safeclass.adapters.store.tables import (
    Concern,
    ConcernEntry,
    ConcernPupil,
    ConsentRecord,
    GroupMember,
    Guardian,
    Invitation,
    Notification,
    ParentReport,
    Pupil,
    PupilPass,
    Recording,
    SchoolClass,
    Session,
    SessionEvent,
    SessionPupil,
    Staff,
)
from safeclass.app.event_store import EventStore, LogEntry, NewEntry
from safeclass.app.register import PupilRow, build_register
from safeclass.app.room_log import refused_attempts, room_events
from safeclass.app.subject_access_words import held_words
from safeclass.app.timeline import build_timeline

ANOTHER_PUPIL = "another pupil"
ANOTHER_PUPIL_ID = "another-pupil"
REDACTED_NAME = "[another pupil]"
SUBJECT_ACCESS_EXPORTED = "SubjectAccessExported"  # the school's journal: who exported, when
# Events every session's register needs even when they do not name the pupil.
_SESSION_WIDE = ("SessionEnded", "WaitingRoomOpened", "SessionStarted")
# Parents' notices: every kind of outbox row sent to a family (never "parent_report", which
# goes to staff).
_TO_FAMILIES = "parent_%"
_NOT_TO_FAMILIES = "parent_report"


class PupilNotFoundError(LookupError):
    """No such pupil (in this school): the same error whether it exists elsewhere or not."""


@dataclass(frozen=True, slots=True)
class EventLine:
    """One logged event naming the pupil, as kept in the archive (others' ids replaced)."""

    session_id: str
    session_title: str
    seq: int
    type: str
    at: str  # ISO UTC, as logged
    local: str  # the school's local time, "2026-01-12 10:02"
    words: str  # the timeline's sentence
    fields: dict[str, Any]
    redacted: bool


@dataclass(frozen=True, slots=True)
class AttendanceLine:
    session_id: str
    title: str
    planned_start: str  # local
    status: str
    waiting_at: str
    admitted_at: str
    left_at: str
    minutes_present: float
    late_minutes: float | None
    left_early: bool
    removed_by: str
    removal_reason: str
    cameras_turned_off: int
    hands_raised: int


@dataclass(slots=True)
class PupilFile:
    """Everything held about one pupil, each kind of record a list of plain dicts."""

    pupil_id: str
    school_id: str
    school_name: str
    timezone: str
    made_at: dt.datetime
    record: dict[str, Any]
    guardians: list[dict[str, Any]] = field(default_factory=list)
    consent: list[dict[str, Any]] = field(default_factory=list)
    invitations: list[dict[str, Any]] = field(default_factory=list)
    attendance: list[AttendanceLine] = field(default_factory=list)
    events: list[EventLine] = field(default_factory=list)
    chat: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    concerns: list[dict[str, Any]] = field(default_factory=list)
    parent_reports: list[dict[str, Any]] = field(default_factory=list)
    recordings: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"{self.record['forename']} {self.record['surname']}"

    def counts(self) -> dict[str, int]:
        """How many records of each kind, in the summary's order."""
        return {
            "school record": 1,
            "guardians": len(self.guardians),
            "consent": len(self.consent),
            "invitations": len(self.invitations),
            "sessions (attendance)": len(self.attendance),
            "logged events": len(self.events),
            "chat messages": len(self.chat),
            "notes": len(self.notes),
            "concerns": len(self.concerns),
            "parents' reports": len(self.parent_reports),
            "recordings": len(self.recordings),
            "notices to parents": len(self.notifications),
        }


@dataclass(frozen=True, slots=True)
class Archive:
    filename: str
    data: bytes
    file: PupilFile


# -- finding the pupil ---------------------------------------------------------------------------


async def find_pupil(conn: AsyncConnection, ident: str, school_id: str | None = None) -> Any:
    """The pupil's row by safeclass id, or by MIS id within `school_id`; else PupilNotFoundError."""
    query = select(Pupil).where(Pupil.id == ident)
    if school_id is not None:
        query = query.where(Pupil.school_id == school_id)
    row = (await conn.execute(query)).first()
    if row is None and school_id is not None:
        row = (
            await conn.execute(
                select(Pupil).where(Pupil.school_id == school_id, Pupil.mis_id == ident)
            )
        ).first()
    if row is None:
        raise PupilNotFoundError(ident)
    return row


# -- the records the lead extends ----------------------------------------------------------------


async def consent_history(
    conn: AsyncConnection, school_id: str, pupil_id: str, zone: ZoneInfo
) -> list[dict[str, Any]]:
    """The pupil's consent as recorded: every change kept in the consent history (oldest
    first), then the record in force now (`consents`)."""
    changes = [
        {
            "basis": change.basis.value,
            "recorded_at": _iso(change.recorded_at),
            "local": _local(change.changed_at, zone),
            "source": change.source,
            "current": False,
        }
        for change in await pupil_records.consent_history(conn, school_id, pupil_id)
    ]
    rows = (
        await conn.execute(
            select(ConsentRecord.basis, ConsentRecord.recorded_at, ConsentRecord.source).where(
                ConsentRecord.school_id == school_id, ConsentRecord.pupil_id == pupil_id
            )
        )
    ).all()
    return changes + [
        {
            "basis": basis,
            "recorded_at": _iso(at),
            "local": _local(at, zone),
            "source": source,
            "current": True,
        }
        for basis, at, source in rows
    ]


def concerns_about(pupil_id: str) -> ColumnElement[bool]:
    """The concerns about the pupil: those naming them among their pupils (`concern_pupils`),
    or first (`concerns.pupil_id`, which older records alone have)."""
    return or_(
        Concern.pupil_id == pupil_id,
        Concern.id.in_(select(ConcernPupil.concern_id).where(ConcernPupil.pupil_id == pupil_id)),
    )


async def concern_additions(
    conn: AsyncConnection, school_id: str, concern_ids: Sequence[str], zone: ZoneInfo
) -> dict[str, list[dict[str, Any]]]:
    """What was added to each concern after its account (additions, actions taken, "read"), by
    concern id, in the order written (app/concerns.py keeps them, never edited)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for chunk in _chunks(list(concern_ids)):
        rows = await conn.execute(
            select(
                ConcernEntry.concern_id,
                ConcernEntry.kind,
                ConcernEntry.at,
                ConcernEntry.happened_at,
                ConcernEntry.by_name,
                ConcernEntry.text,
            )
            .where(ConcernEntry.concern_id.in_(chunk), ConcernEntry.kind != "account")
            .order_by(ConcernEntry.concern_id, ConcernEntry.seq)
        )
        for cid, kind, at, happened, by, text in rows:
            out.setdefault(cid, []).append(
                {
                    "kind": kind,
                    "at": _iso(at),
                    "local": _local(at, zone),
                    "happened_at": _iso(happened) if happened else None,
                    "by": by,
                    "text": text,
                }
            )
    return out


async def concern_records(
    conn: AsyncConnection, school_id: str, pupil_id: str
) -> list[dict[str, Any]]:
    """The concerns about the pupil (the account as written), with their retention date."""
    rows = (
        await conn.execute(
            select(
                Concern.id,
                Concern.session_id,
                Concern.raised_at,
                Concern.happened_at,
                Concern.category,
                Concern.summary,
                Concern.status,
                Concern.keep_until,
                Staff.name,
            )
            .outerjoin(Staff, Staff.id == Concern.raised_by)
            .where(Concern.school_id == school_id, concerns_about(pupil_id))
            .order_by(Concern.raised_at)
        )
    ).all()
    return [
        {
            "id": cid,
            "session_id": sid,
            "raised_at": _iso(at),
            "happened_at": _iso(happened) if happened else None,
            "category": category,
            "raised_by": by or "",
            "account": summary,
            "status": status,
            "keep_until": keep.isoformat() if keep else None,
        }
        for cid, sid, at, happened, category, summary, status, keep, by in rows
    ]


# -- gathering -----------------------------------------------------------------------------------


async def gather(
    engine: AsyncEngine, pupil_id: str, school_id: str | None = None, now: dt.datetime | None = None
) -> PupilFile:
    """Everything held about the pupil (by id, or MIS id with `school_id`)."""
    now = now or dt.datetime.now(dt.UTC)
    async with engine.connect() as conn:
        pupil = await find_pupil(conn, pupil_id, school_id)
        school_id, pupil_id = pupil.school_id, pupil.id
        policy = await current_policy(conn, school_id)
        zone = ZoneInfo(policy.school.timezone)
        class_name = None
        if pupil.class_id is not None:
            class_name = await conn.scalar(
                select(SchoolClass.name).where(SchoolClass.id == pupil.class_id)
            )
        groups = list(
            (
                await conn.execute(
                    select(SchoolClass.name)
                    .join(GroupMember, GroupMember.group_id == SchoolClass.id)
                    .where(GroupMember.pupil_id == pupil_id)
                    .order_by(SchoolClass.name)
                )
            ).scalars()
        )
        out = PupilFile(
            pupil_id=pupil_id,
            school_id=school_id,
            school_name=policy.school.name,
            timezone=policy.school.timezone,
            made_at=now,
            record={
                "id": pupil_id,
                "mis_id": pupil.mis_id,
                "forename": pupil.forename,
                "surname": pupil.surname,
                "date_of_birth": pupil.date_of_birth.isoformat() if pupil.date_of_birth else None,
                "class": class_name,
                "groups": groups,
                "created_at": _iso(pupil.created_at),
                "updated_at": _iso(pupil.updated_at),
            },
        )
        guardians = (
            await conn.execute(
                select(Guardian.name, Guardian.email, Guardian.phone)
                .where(Guardian.school_id == school_id, Guardian.pupil_id == pupil_id)
                .order_by(Guardian.id)
            )
        ).all()
        out.guardians = [{"name": n, "email": e, "phone": p} for n, e, p in guardians]
        out.consent = await consent_history(conn, school_id, pupil_id, zone)
        sessions = await _sessions_of(conn, school_id, pupil_id)
        others = await _other_pupils(conn, list(sessions), pupil_id)
        out.invitations = await _invitations(conn, school_id, pupil_id, sessions, zone)
        staff_names = {
            sid: name
            for sid, name in await conn.execute(
                select(Staff.id, Staff.name).where(Staff.school_id == school_id)
            )
        }
        scrub = _Scrubber(
            others, own={pupil.forename, pupil.surname, f"{pupil.forename} {pupil.surname}"}
        )
        concerns = await concern_records(conn, school_id, pupil_id)
        additions = await concern_additions(conn, school_id, [c["id"] for c in concerns], zone)
        for concern in concerns:
            concern["account"] = scrub.text(concern["account"])
            concern["session"] = sessions.get(concern["session_id"] or "", {}).get("title", "")
            concern["local"] = _local(dt.datetime.fromisoformat(concern["raised_at"]), zone)
            concern["additions"] = [
                {**added, "text": scrub.text(added["text"])}
                for added in additions.get(concern["id"], [])
            ]
        out.concerns = concerns
        out.parent_reports = await _parent_reports(conn, school_id, pupil_id, sessions, zone, scrub)
        out.recordings = await _recordings(conn, school_id, pupil_id, sessions, zone)
        out.notifications = await _notifications(
            conn, school_id, pupil, [g[1] for g in guardians if g[1]], sessions, zone
        )
        entries = await _entries(conn, list(sessions), pupil_id)
    await _read_log(out, sessions, entries, staff_names, scrub, zone, engine)
    return out


async def _sessions_of(
    conn: AsyncConnection, school_id: str, pupil_id: str
) -> dict[str, dict[str, Any]]:
    """The sessions the pupil was expected in or invited to, oldest first."""
    expected = select(SessionPupil.session_id).where(SessionPupil.pupil_id == pupil_id)
    invited = select(Invitation.session_id).where(Invitation.pupil_id == pupil_id)
    rows = (
        await conn.execute(
            select(Session.id, Session.title, Session.starts_at, Session.minutes, Session.status)
            .where(
                Session.school_id == school_id,
                or_(Session.id.in_(expected), Session.id.in_(invited)),
            )
            .order_by(Session.starts_at, Session.id)
        )
    ).all()
    return {
        sid: {"title": title, "starts_at": starts, "minutes": minutes, "status": status}
        for sid, title, starts, minutes, status in rows
    }


async def _other_pupils(
    conn: AsyncConnection, session_ids: list[str], pupil_id: str
) -> dict[str, set[str]]:
    """Every other pupil of those sessions: id -> the names they could appear under."""
    found: dict[str, set[str]] = {}
    for chunk in _chunks(session_ids):
        rows = await conn.execute(
            select(SessionPupil.pupil_id, SessionPupil.shown_name, Pupil.forename, Pupil.surname)
            .join(Pupil, Pupil.id == SessionPupil.pupil_id)
            .where(SessionPupil.session_id.in_(chunk), SessionPupil.pupil_id != pupil_id)
        )
        for pid, shown, forename, surname in rows:
            found.setdefault(pid, set()).update({shown, f"{forename} {surname}", forename, surname})
    return found


async def _invitations(
    conn: AsyncConnection,
    school_id: str,
    pupil_id: str,
    sessions: Mapping[str, Mapping[str, Any]],
    zone: ZoneInfo,
) -> list[dict[str, Any]]:
    rows = (
        await conn.execute(
            select(
                Invitation.id,
                Invitation.session_id,
                Invitation.created_at,
                Invitation.sent_at,
                Invitation.expires_at,
                Invitation.revoked_at,
            )
            .where(Invitation.school_id == school_id, Invitation.pupil_id == pupil_id)
            .order_by(Invitation.created_at)
        )
    ).all()
    opened: dict[str, dt.datetime] = {}
    for inv_id, first in (
        await conn.execute(
            select(PupilPass.invitation_id, PupilPass.created_at).where(
                PupilPass.pupil_id == pupil_id
            )
        )
    ).all():
        if inv_id not in opened or first < opened[inv_id]:
            opened[inv_id] = first
    return [
        {
            "session_id": sid,
            "session": sessions.get(sid, {}).get("title", ""),
            "made_at": _local(made, zone),
            "sent_at": _local(sent, zone),
            "first_opened_at": _local(opened.get(inv_id), zone),
            "expires_at": _local(expires, zone),
            "stopped_at": _local(revoked, zone),
        }
        for inv_id, sid, made, sent, expires, revoked in rows
    ]


async def _parent_reports(
    conn: AsyncConnection,
    school_id: str,
    pupil_id: str,
    sessions: Mapping[str, Mapping[str, Any]],
    zone: ZoneInfo,
    scrub: _Scrubber,
) -> list[dict[str, Any]]:
    rows = (
        await conn.execute(
            select(
                ParentReport.session_id,
                ParentReport.reason,
                ParentReport.message,
                ParentReport.emailed,
                ParentReport.created_at,
            )
            .where(ParentReport.school_id == school_id, ParentReport.pupil_id == pupil_id)
            .order_by(ParentReport.created_at)
        )
    ).all()
    return [
        {
            "session_id": sid,
            "session": sessions.get(sid, {}).get("title", ""),
            "reason": reason,
            "message": scrub.text(message),
            "staff_emailed": bool(emailed),
            "at": _local(at, zone),
        }
        for sid, reason, message, emailed, at in rows
    ]


async def _recordings(
    conn: AsyncConnection,
    school_id: str,
    pupil_id: str,
    sessions: Mapping[str, Mapping[str, Any]],
    zone: ZoneInfo,
) -> list[dict[str, Any]]:
    rows = (
        await conn.execute(
            select(
                Recording.id,
                Recording.session_id,
                Recording.kinds,
                Recording.size_bytes,
                Recording.started_at,
                Recording.ended_at,
                Recording.delete_after,
                Recording.deleted_at,
            )
            .where(Recording.school_id == school_id, Recording.participant_id == pupil_id)
            .order_by(Recording.started_at)
        )
    ).all()
    return [
        {
            "id": rid,
            "session_id": sid,
            "session": sessions.get(sid, {}).get("title", ""),
            "media": kinds or "",
            "size_bytes": int(size or 0),
            "started_at": _local(start, zone),
            "ended_at": _local(end, zone),
            "to_be_deleted_on": _local(after, zone),
            "deleted_at": _local(deleted, zone),
        }
        for rid, sid, kinds, size, start, end, after, deleted in rows
    ]


async def _notifications(
    conn: AsyncConnection,
    school_id: str,
    pupil: Any,
    emails: list[str],
    sessions: Mapping[str, Mapping[str, Any]],
    zone: ZoneInfo,
) -> list[dict[str, Any]]:
    """Notices sent to the pupil's guardians about the pupil, by email and by the school's
    webhook. A notice written with its pupil's id is theirs; an older one (no id) to the same
    address may be about a brother or sister, so only those naming this pupil are kept."""
    rows = (
        await conn.execute(
            select(
                Notification.id,
                Notification.session_id,
                Notification.kind,
                Notification.recipient,
                Notification.subject,
                Notification.body,
                Notification.status,
                Notification.created_at,
                Notification.sent_at,
                Notification.pupil_id,
            )
            .where(
                Notification.school_id == school_id,
                or_(
                    Notification.pupil_id == pupil.id,
                    and_(Notification.pupil_id.is_(None), Notification.recipient.in_(emails)),
                ),
                Notification.kind.like(_TO_FAMILIES),
                Notification.kind != _NOT_TO_FAMILIES,
            )
            .order_by(Notification.id)
        )
    ).all()
    named = re.compile(rf"\b{re.escape(pupil.forename)}\b")
    return [
        {
            "id": nid,
            "session": sessions.get(sid or "", {}).get("title", ""),
            "kind": kind,
            "to": to,
            "subject": subject,
            "body": body,
            "status": status,
            "written_at": _local(made, zone),
            "sent_at": _local(sent, zone),
        }
        for nid, sid, kind, to, subject, body, status, made, sent, about in rows
        if (sid is None or sid in sessions)
        and (about == pupil.id or named.search(f"{subject}\n{body}"))
    ]


async def notification_ids(engine: AsyncEngine, school_id: str, pupil_id: str) -> list[int]:
    """The ids of the notices to the pupil's guardians about them (what erasure deletes)."""
    async with engine.connect() as conn:
        pupil = await find_pupil(conn, pupil_id, school_id)
        emails = [
            email
            for email in (
                await conn.execute(select(Guardian.email).where(Guardian.pupil_id == pupil_id))
            ).scalars()
            if email
        ]
        sessions = await _sessions_of(conn, school_id, pupil_id)
        zone = ZoneInfo("UTC")
        found = await _notifications(conn, school_id, pupil, emails, sessions, zone)
    return [int(n["id"]) for n in found]


async def _entries(
    conn: AsyncConnection, session_ids: list[str], pupil_id: str
) -> dict[str, list[LogEntry]]:
    """The log entries that name the pupil (their id in the payload), and each session's start
    and end, by session: an indexed read of the pupil's own sessions, not a replay of all."""
    out: dict[str, list[LogEntry]] = {sid: [] for sid in session_ids}
    pattern = f"%{pupil_id}%"
    for chunk in _chunks(session_ids):
        rows = await conn.execute(
            select(
                SessionEvent.session_id,
                SessionEvent.seq,
                SessionEvent.type,
                SessionEvent.at,
                SessionEvent.payload,
                SessionEvent.hash,
                SessionEvent.redacted,
            )
            .where(
                SessionEvent.session_id.in_(chunk),
                or_(SessionEvent.payload.like(pattern), SessionEvent.type.in_(_SESSION_WIDE)),
            )
            .order_by(SessionEvent.session_id, SessionEvent.seq)
        )
        for sid, seq, kind, at, payload, digest, redacted in rows:
            data = json.loads(payload) if payload is not None else None
            out[sid].append(LogEntry(sid, seq, kind, at, data, digest, bool(redacted)))
    return out


def _names_pupil(entry: LogEntry, pupil_id: str) -> bool:
    return entry.payload is not None and pupil_id in _strings(entry.payload)


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


class _Scrubber:
    """Replaces other pupils: their ids with "another-pupil", their names in text.

    Names match as written (capitalised, whole words), so a classmate called Will does not
    blank "will"; a name the pupil shares (a twin's surname) stays, while the twin's full name
    and first name still go."""

    def __init__(self, others: Mapping[str, set[str]], own: set[str]) -> None:
        self.ids = set(others)
        names = sorted(
            {n for ns in others.values() for n in ns if n and len(n) > 1 and n not in own},
            key=len,
        )
        names.reverse()  # the longest first: "Ben Smith" before "Ben"
        self.pattern = (
            re.compile(r"(?<!\w)(" + "|".join(re.escape(n) for n in names) + r")(?!\w)")
            if names
            else None
        )

    def text(self, value: str) -> str:
        return self.pattern.sub(REDACTED_NAME, value) if self.pattern and value else value

    def payload(self, value: Any, pupil_id: str) -> Any:
        if isinstance(value, str):
            return ANOTHER_PUPIL_ID if value in self.ids else self.text(value)
        if isinstance(value, Mapping):
            return {k: self.payload(v, pupil_id) for k, v in value.items()}
        if isinstance(value, list | tuple):
            # a list of participants (those disconnected at the end): the pupil's own id only
            if any(isinstance(v, str) and v in self.ids for v in value):
                return [v for v in value if v == pupil_id or v not in self.ids]
            return [self.payload(v, pupil_id) for v in value]
        return value


async def _read_log(
    out: PupilFile,
    sessions: Mapping[str, Mapping[str, Any]],
    entries: Mapping[str, list[LogEntry]],
    staff_names: Mapping[str, str],
    scrub: _Scrubber,
    zone: ZoneInfo,
    engine: AsyncEngine,
) -> None:
    pid = out.pupil_id
    for sid, info in sessions.items():
        found = entries.get(sid, [])
        mine = [e for e in found if _names_pupil(e, pid)]
        if found:
            line = await _attendance(engine, sid, info, found, pid, zone)
            # the register names staff by the name they joined with, which these entries lack
            out.attendance.append(
                replace(line, removed_by=staff_names.get(line.removed_by, line.removed_by))
            )
        clean = [
            LogEntry(
                e.session_id, e.seq, e.type, e.at, scrub.payload(e.payload, pid), e.hash, e.redacted
            )
            for e in mine
        ]
        names = {**staff_names, pid: out.name, ANOTHER_PUPIL_ID: ANOTHER_PUPIL}
        for entry in clean:
            when = dt.datetime.fromisoformat(entry.at)
            said = build_timeline(
                room_events([entry]), out.timezone, names, refused_attempts([entry])
            )
            text = said[0].text if said else entry.type
            out.events.append(
                EventLine(
                    sid,
                    str(info["title"]),
                    entry.seq,
                    entry.type,
                    entry.at,
                    _local(when, zone),
                    text,
                    entry.payload or {},
                    entry.redacted,
                )
            )
            p = entry.payload or {}
            if entry.type == "ChatPosted" and p.get("by") == pid:
                out.chat.append(
                    {
                        "session": info["title"],
                        "at": _local(when, zone),
                        "number": p.get("number"),
                        "text": p.get("text", ""),
                        "blanked": entry.redacted,
                    }
                )
            elif entry.type == "LogNoteAdded" and p.get("pupil") == pid:
                out.notes.append(
                    {
                        "session": info["title"],
                        "at": _local(when, zone),
                        "kind": p.get("kind"),
                        "by": staff_names.get(str(p.get("by")), ""),
                        "text": p.get("text", ""),
                    }
                )
            elif (
                entry.type == "ConcernRaised"
                and p.get("pupil") == pid
                and not any(
                    c["session_id"] == sid and c["account"] == p.get("summary")
                    for c in out.concerns
                )
            ):
                out.concerns.append(
                    {
                        "id": f"log:{sid}:{entry.seq}",
                        "session_id": sid,
                        "session": info["title"],
                        "raised_at": entry.at,
                        "local": _local(when, zone),
                        "raised_by": staff_names.get(str(p.get("by")), ""),
                        "account": p.get("summary", ""),
                        "status": "in the session's log",
                        "keep_until": None,
                        "additions": [],
                    }
                )


async def _attendance(
    engine: AsyncEngine,
    session_id: str,
    info: Mapping[str, Any],
    entries: list[LogEntry],
    pupil_id: str,
    zone: ZoneInfo,
) -> AttendanceLine:
    stored = await load_session(engine, session_id)
    plan = stored.plan
    mine = {pupil_id: plan.expected[pupil_id]} if pupil_id in plan.expected else {}
    plan = replace(plan, expected=mine)
    register = build_register(
        plan,
        room_events(entries),
        str(zone),
        policy=stored.policy,
        attempts=refused_attempts(entries),
    )
    row = next((r for r in register.pupils if r.pupil_id == pupil_id), None)
    start = _local(info["starts_at"], zone)
    if row is None:
        return AttendanceLine(
            session_id, info["title"], start, "absent", "", "", "", 0.0, None, False, "", "", 0, 0
        )
    return _line(session_id, info["title"], start, row)


def _line(session_id: str, title: str, start: str, row: PupilRow) -> AttendanceLine:
    def hm(when: dt.datetime | None) -> str:
        return when.strftime("%H:%M:%S") if when else ""

    return AttendanceLine(
        session_id=session_id,
        title=title,
        planned_start=start,
        status=row.status.value,
        waiting_at=hm(row.waiting_at),
        admitted_at=hm(row.admitted_at),
        left_at=hm(row.left_at),
        minutes_present=row.minutes_present,
        late_minutes=row.late_minutes,
        left_early=row.left_early,
        removed_by=row.removed_by or "",
        removal_reason=row.removal_reason,
        cameras_turned_off=row.cameras_turned_off,
        hands_raised=row.hands_raised,
    )


# -- the archive ---------------------------------------------------------------------------------


async def export_pupil(
    engine: AsyncEngine,
    pupil_id: str,
    school_id: str | None = None,
    now: dt.datetime | None = None,
    translations: NullTranslations | None = None,
    language: str = "en",
) -> Archive:
    """One pupil's subject access archive: `summary.html` (in `language`, with its
    `translations`: the pages' catalogue) and the records as JSON and CSV."""
    found = await gather(engine, pupil_id, school_id, now)
    return Archive(archive_name(found), build_zip(found, translations, language), found)


def archive_name(found: PupilFile) -> str:
    safe = re.sub(r"[^A-Za-z0-9]+", "-", found.name).strip("-") or "pupil"
    return f"subject-access-{safe}-{found.made_at:%Y-%m-%d}.zip"


def build_zip(
    found: PupilFile, translations: NullTranslations | None = None, language: str = "en"
) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("summary.html", summary_html(found, translations, language))
        z.writestr("pupil.json", _json(found.record))
        z.writestr("guardians.json", _json(found.guardians))
        z.writestr("consent.json", _json(found.consent))
        z.writestr("invitations.csv", _csv(found.invitations))
        z.writestr("attendance.csv", _csv([asdict(a) for a in found.attendance]))
        z.writestr("events.json", _json([asdict(e) for e in found.events]))
        z.writestr("chat.csv", _csv(found.chat))
        z.writestr("notes.json", _json(found.notes))
        z.writestr("concerns.json", _json(found.concerns))
        z.writestr("parent_reports.json", _json(found.parent_reports))
        z.writestr("recordings.csv", _csv(found.recordings))
        z.writestr("notices_to_parents.json", _json(found.notifications))
    return buffer.getvalue()


def summary_html(
    found: PupilFile, translations: NullTranslations | None = None, language: str = "en"
) -> str:
    """The readable summary: a plain page with no script or style from anywhere. Its words
    are in the pages' catalogue (scripts/translations extracts this template too)."""
    env = Environment(
        loader=PackageLoader("safeclass.app", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations or NullTranslations(), newstyle=True)  # type: ignore[attr-defined]
    kinds = held_words(translations or NullTranslations())
    template = env.get_template("summary.html")
    return template.render(f=found, counts=found.counts(), kinds=kinds, lang=language)


async def journal_export(
    log: EventStore,
    school_id: str,
    pupil_id: str,
    by: str,
    now: dt.datetime,
    counts: Mapping[str, int],
) -> None:
    """Note in the school's journal that an export was made, by whom, and how many records of
    each kind it held (never the records themselves)."""
    entry = {"pupil": pupil_id, "by": by, "records": dict(counts)}
    await log.append(school_id, [NewEntry(SUBJECT_ACCESS_EXPORTED, now.isoformat(), entry)])


# -- helpers -------------------------------------------------------------------------------------


def _iso(when: dt.datetime | None) -> str | None:
    return when.isoformat() if when is not None else None


def _local(when: dt.datetime | None, zone: ZoneInfo) -> str:
    if when is None:
        return ""
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n"


def _csv(rows: Sequence[Mapping[str, Any]]) -> str:
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _cell(v) for k, v in row.items()})
    return "\ufeff" + out.getvalue()


def _cell(value: Any) -> Any:
    text = "" if value is None else str(value)
    # a spreadsheet must not run a cell as a formula (CSV injection)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _chunks(ids: Sequence[str], size: int = 500) -> Iterable[Sequence[str]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]
