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

The records are read through `PupilFileRecords` (app/pupil_files.py; on the database:
`safeclass.adapters.store.pupil_files`, `Services.pupil_files`), on one connection of the
engine given, so the file is of one moment.
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
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from safeclass.app.event_store import EventStore, LogEntry, NewEntry
from safeclass.app.pupil_files import FoundPupil, PupilFileRecords
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


# -- the records the lead extends ----------------------------------------------------------------


async def consent_history(
    records: PupilFileRecords,
    conn: AsyncConnection,
    school_id: str,
    pupil_id: str,
    zone: ZoneInfo,
) -> list[dict[str, Any]]:
    """The pupil's consent as recorded: every change kept in the consent history (oldest
    first), then the record in force now (`consents`)."""
    return [
        {
            "basis": row.basis,
            "recorded_at": _iso(row.recorded_at),
            "local": _local(row.changed_at, zone),
            "source": row.source,
            "current": row.current,
        }
        for row in await records.consents(conn, school_id, pupil_id)
    ]


async def concern_additions(
    records: PupilFileRecords,
    conn: AsyncConnection,
    school_id: str,
    concern_ids: Sequence[str],
    zone: ZoneInfo,
) -> dict[str, list[dict[str, Any]]]:
    """What was added to each concern after its account (additions, actions taken, "read"), by
    concern id, in the order written (app/concerns.py keeps them, never edited)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for entry in await records.concern_entries(conn, list(concern_ids)):
        out.setdefault(entry.concern_id, []).append(
            {
                "kind": entry.kind,
                "at": _iso(entry.at),
                "local": _local(entry.at, zone),
                "happened_at": _iso(entry.happened_at) if entry.happened_at else None,
                "by": entry.by_name,
                "text": entry.text,
            }
        )
    return out


async def concern_records(
    records: PupilFileRecords, conn: AsyncConnection, school_id: str, pupil_id: str
) -> list[dict[str, Any]]:
    """The concerns about the pupil (the account as written), with their retention date."""
    return [
        {
            "id": c.id,
            "session_id": c.session_id,
            "raised_at": _iso(c.raised_at),
            "happened_at": _iso(c.happened_at) if c.happened_at else None,
            "category": c.category,
            "raised_by": c.raised_by or "",
            "account": c.summary,
            "status": c.status,
            "keep_until": c.keep_until.isoformat() if c.keep_until else None,
        }
        for c in await records.concerns(conn, school_id, pupil_id)
    ]


# -- gathering -----------------------------------------------------------------------------------


async def gather(
    engine: AsyncEngine,
    records: PupilFileRecords,
    pupil_id: str,
    school_id: str | None = None,
    now: dt.datetime | None = None,
) -> PupilFile:
    """Everything held about the pupil (by id, or MIS id with `school_id`), read on one of
    `engine`'s connections."""
    now = now or dt.datetime.now(dt.UTC)
    async with engine.connect() as conn:
        pupil = await records.find_pupil(conn, pupil_id, school_id)
        school_id, pupil_id = pupil.school_id, pupil.id
        policy = await records.current_policy(conn, school_id)
        zone = ZoneInfo(policy.school.timezone)
        class_name = None
        if pupil.class_id is not None:
            class_name = await records.class_name(conn, pupil.class_id)
        groups = await records.group_names(conn, pupil_id)
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
        guardians = await records.guardians(conn, school_id, pupil_id)
        out.guardians = [{"name": g.name, "email": g.email, "phone": g.phone} for g in guardians]
        out.consent = await consent_history(records, conn, school_id, pupil_id, zone)
        sessions = await _sessions_of(records, conn, school_id, pupil_id)
        others = await _other_pupils(records, conn, list(sessions), pupil_id)
        out.invitations = await _invitations(records, conn, school_id, pupil_id, sessions, zone)
        staff_names = await records.staff_names(conn, school_id)
        scrub = _Scrubber(
            others, own={pupil.forename, pupil.surname, f"{pupil.forename} {pupil.surname}"}
        )
        concerns = await concern_records(records, conn, school_id, pupil_id)
        additions = await concern_additions(
            records, conn, school_id, [c["id"] for c in concerns], zone
        )
        for concern in concerns:
            concern["account"] = scrub.text(concern["account"])
            concern["session"] = sessions.get(concern["session_id"] or "", {}).get("title", "")
            concern["local"] = _local(dt.datetime.fromisoformat(concern["raised_at"]), zone)
            concern["additions"] = [
                {**added, "text": scrub.text(added["text"])}
                for added in additions.get(concern["id"], [])
            ]
        out.concerns = concerns
        out.parent_reports = await _parent_reports(
            records, conn, school_id, pupil_id, sessions, zone, scrub
        )
        out.recordings = await _recordings(records, conn, school_id, pupil_id, sessions, zone)
        out.notifications = await _notifications(
            records, conn, school_id, pupil, [g.email for g in guardians if g.email], sessions, zone
        )
        entries = await records.entries_naming(conn, list(sessions), pupil_id, _SESSION_WIDE)
    await _read_log(out, sessions, entries, staff_names, scrub, zone, records)
    return out


async def _sessions_of(
    records: PupilFileRecords, conn: AsyncConnection, school_id: str, pupil_id: str
) -> dict[str, dict[str, Any]]:
    """The sessions the pupil was expected in or invited to, oldest first."""
    return {
        s.session_id: {
            "title": s.title,
            "starts_at": s.starts_at,
            "minutes": s.minutes,
            "status": s.status,
        }
        for s in await records.sessions_of(conn, school_id, pupil_id)
    }


async def _other_pupils(
    records: PupilFileRecords, conn: AsyncConnection, session_ids: list[str], pupil_id: str
) -> dict[str, set[str]]:
    """Every other pupil of those sessions: id -> the names they could appear under."""
    found: dict[str, set[str]] = {}
    for other in await records.classmates(conn, session_ids, pupil_id):
        fore, sur = other.forename, other.surname
        found.setdefault(other.pupil_id, set()).update(
            {other.shown_name, f"{fore} {sur}", fore, sur}
        )
    return found


async def _invitations(
    records: PupilFileRecords,
    conn: AsyncConnection,
    school_id: str,
    pupil_id: str,
    sessions: Mapping[str, Mapping[str, Any]],
    zone: ZoneInfo,
) -> list[dict[str, Any]]:
    return [
        {
            "session_id": inv.session_id,
            "session": sessions.get(inv.session_id, {}).get("title", ""),
            "made_at": _local(inv.created_at, zone),
            "sent_at": _local(inv.sent_at, zone),
            "first_opened_at": _local(inv.first_opened_at, zone),
            "expires_at": _local(inv.expires_at, zone),
            "stopped_at": _local(inv.revoked_at, zone),
        }
        for inv in await records.invitations(conn, school_id, pupil_id)
    ]


async def _parent_reports(
    records: PupilFileRecords,
    conn: AsyncConnection,
    school_id: str,
    pupil_id: str,
    sessions: Mapping[str, Mapping[str, Any]],
    zone: ZoneInfo,
    scrub: _Scrubber,
) -> list[dict[str, Any]]:
    return [
        {
            "session_id": r.session_id,
            "session": sessions.get(r.session_id, {}).get("title", ""),
            "reason": r.reason,
            "message": scrub.text(r.message),
            "staff_emailed": r.emailed,
            "at": _local(r.created_at, zone),
        }
        for r in await records.parent_reports(conn, school_id, pupil_id)
    ]


async def _recordings(
    records: PupilFileRecords,
    conn: AsyncConnection,
    school_id: str,
    pupil_id: str,
    sessions: Mapping[str, Mapping[str, Any]],
    zone: ZoneInfo,
) -> list[dict[str, Any]]:
    return [
        {
            "id": r.id,
            "session_id": r.session_id,
            "session": sessions.get(r.session_id, {}).get("title", ""),
            "media": r.kinds or "",
            "size_bytes": int(r.size_bytes or 0),
            "started_at": _local(r.started_at, zone),
            "ended_at": _local(r.ended_at, zone),
            "to_be_deleted_on": _local(r.delete_after, zone),
            "deleted_at": _local(r.deleted_at, zone),
        }
        for r in await records.recordings(conn, school_id, pupil_id)
    ]


async def _notifications(
    records: PupilFileRecords,
    conn: AsyncConnection,
    school_id: str,
    pupil: FoundPupil,
    emails: list[str],
    sessions: Mapping[str, Mapping[str, Any]],
    zone: ZoneInfo,
) -> list[dict[str, Any]]:
    """Notices sent to the pupil's guardians about the pupil, by email and by the school's
    webhook. A notice written with its pupil's id is theirs; an older one (no id) to the same
    address may be about a brother or sister, so only those naming this pupil are kept."""
    named = re.compile(rf"\b{re.escape(pupil.forename)}\b")
    return [
        {
            "id": n.id,
            "session": sessions.get(n.session_id or "", {}).get("title", ""),
            "kind": n.kind,
            "to": n.recipient,
            "subject": n.subject,
            "body": n.body,
            "status": n.status,
            "written_at": _local(n.created_at, zone),
            "sent_at": _local(n.sent_at, zone),
        }
        for n in await records.notices(conn, school_id, pupil.id, emails)
        if (n.session_id is None or n.session_id in sessions)
        and (n.pupil_id == pupil.id or named.search(f"{n.subject}\n{n.body}"))
    ]


async def notification_ids(
    engine: AsyncEngine, records: PupilFileRecords, school_id: str, pupil_id: str
) -> list[int]:
    """The ids of the notices to the pupil's guardians about them (what erasure deletes)."""
    async with engine.connect() as conn:
        pupil = await records.find_pupil(conn, pupil_id, school_id)
        guardians = await records.guardians(conn, pupil.school_id, pupil.id)
        emails = [g.email for g in guardians if g.email]
        sessions = await _sessions_of(records, conn, school_id, pupil_id)
        zone = ZoneInfo("UTC")
        found = await _notifications(records, conn, school_id, pupil, emails, sessions, zone)
    return [int(n["id"]) for n in found]


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
    records: PupilFileRecords,
) -> None:
    pid = out.pupil_id
    for sid, info in sessions.items():
        found = entries.get(sid, [])
        mine = [e for e in found if _names_pupil(e, pid)]
        if found:
            line = await _attendance(records, sid, info, found, pid, zone)
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
    records: PupilFileRecords,
    session_id: str,
    info: Mapping[str, Any],
    entries: list[LogEntry],
    pupil_id: str,
    zone: ZoneInfo,
) -> AttendanceLine:
    stored = await records.load_session(session_id)
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
    records: PupilFileRecords,
    pupil_id: str,
    school_id: str | None = None,
    now: dt.datetime | None = None,
    translations: NullTranslations | None = None,
    language: str = "en",
) -> Archive:
    """One pupil's subject access archive: `summary.html` (in `language`, with its
    `translations`: the pages' catalogue) and the records as JSON and CSV."""
    found = await gather(engine, records, pupil_id, school_id, now)
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
