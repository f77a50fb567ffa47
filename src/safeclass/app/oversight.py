"""The head teacher's view across sessions (C19: CRO-02, CRO-09, CRO-17): attendance and
punctuality by class, pupil and week; behaviour notes, incidents and removals; the policy's
review date.

Replaying a term of logs on every request would take seconds (840 sessions for a school of 400
pupils over 60 days), so each ended session's register is kept as rows (`AttendanceMark`, one
per pupil; `BehaviourMark`, one per note, removal, camera turned off or concern) stamped with
the log entry they were computed from (`AttendanceStamp`). `refresh` computes the rows of every
ended session in a period whose stamp is missing or behind its log's head (once per session,
or again after the log grew, e.g. a redaction) and drops the rows of logs that retention
deleted; the figures are then SQL sums over the rows. The rows come from `build_register`, the
same projection as the register's CSV and PDF, so the two can never disagree (a test checks).

No free text is copied: a behaviour note's words and a removal's reason are read from the log
entry when listed, and a concern is only ever counted here; its text is the DSL's
(`staff_roles.may_read_concern`).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from safeclass.adapters.store.event_log import EventLog
from safeclass.adapters.store.sessions import SessionNotFoundError, load_session
from safeclass.adapters.store.tables import (
    AttendanceMark,
    AttendanceStamp,
    BehaviourMark,
    Pupil,
    SchoolClass,
    Session,
    SessionEvent,
    SessionLogHead,
    Staff,
)
from safeclass.app.event_store import LogEntry
from safeclass.app.leftovers import Leftovers
from safeclass.app.register import Attendance, build_register
from safeclass.app.room_log import refused_attempts, room_events
from safeclass.core.state import SessionPlan
from safeclass.policy import Policy

log = logging.getLogger(__name__)

# The version of the rules the stored rows were computed by: a change to how the register
# counts (e.g. the late threshold) bumps it, and every stamp behind it is computed again.
RULES = 1
REVIEW_WARNING_DAYS = 30  # the policy's review date is warned of this many days ahead
CAME = (Attendance.ATTENDED.value, Attendance.REMOVED.value)
_NOTE_KINDS = ("incident", "behaviour", "reward", "note")


class Mark(StrEnum):
    """What a behaviour mark records."""

    INCIDENT = "incident"
    BEHAVIOUR = "behaviour"
    REWARD = "reward"
    NOTE = "note"
    REMOVAL = "removal"
    CAMERA_OFF = "camera_off"  # a pupil's camera turned off by staff
    CONCERN = "concern"  # counted only: the text is the DSL's


MARK_ORDER = tuple(Mark)


# -- keeping the rows ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Refreshed:
    computed: int  # sessions whose rows were (re)computed
    dropped: int  # sessions whose log is gone, and their rows with it
    pending: int = 0  # left to a task of their own when the time budget ran out


def _aware(when: dt.datetime) -> dt.datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


async def refresh(
    engine: AsyncEngine,
    school_id: str,
    now: dt.datetime,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    budget_s: float | None = None,
) -> Refreshed:
    """Compute the rows of each ended session of the school (planned start in [since, until))
    whose stamp is missing or behind its log; drop the rows of sessions whose log was deleted.

    With `budget_s`, stop computing after that many seconds and leave the rest to a task of
    their own (one a school at a time), so a page asked for just after an upgrade answers at
    once, saying the figures are still being added up."""
    async with engine.connect() as conn:
        query = (
            select(
                Session.id,
                Session.starts_at,
                Session.minutes,
                Session.status,
                SessionLogHead.last_seq,
                AttendanceStamp.log_seq,
                AttendanceStamp.rules,
            )
            .join(SessionLogHead, SessionLogHead.session_id == Session.id)
            .outerjoin(AttendanceStamp, AttendanceStamp.session_id == Session.id)
            .where(
                Session.school_id == school_id,
                Session.status != "cancelled",
                or_(
                    AttendanceStamp.session_id.is_(None),
                    AttendanceStamp.log_seq != SessionLogHead.last_seq,
                    AttendanceStamp.rules != RULES,
                ),
            )
        )
        if since is not None:
            query = query.where(Session.starts_at >= since)
        if until is not None:
            query = query.where(Session.starts_at < until)
        candidates = (await conn.execute(query)).all()
        orphans = (
            await conn.execute(
                select(AttendanceStamp.session_id)
                .outerjoin(SessionLogHead, SessionLogHead.session_id == AttendanceStamp.session_id)
                .where(AttendanceStamp.school_id == school_id, SessionLogHead.session_id.is_(None))
            )
        ).all()
    due = [
        (sid, head)
        for sid, starts_at, minutes, status, head, stamped, rules in candidates
        if (stamped != head or rules != RULES)
        and (status == "ended" or _aware(starts_at) + dt.timedelta(minutes=minutes) <= now)
    ]
    began = time.monotonic()
    done = 0
    busy = FINISHING.busy(school_id)  # a task is at it: leave them to it
    for sid, _head in due:
        if busy or (budget_s is not None and time.monotonic() - began > budget_s):
            break
        try:
            await compute_session(engine, sid, now)
        except IntegrityError:  # the room's end kept them at the same moment
            log.info("attendance rows kept twice at once", extra={"session": sid})
        done += 1
    left = [sid for sid, _head in due[done:]]
    if left and not busy:
        FINISHING.finish(school_id, left, lambda sid: compute_session(engine, sid, now))
    if orphans:
        async with engine.begin() as conn:
            await _drop(conn, [sid for (sid,) in orphans])
    return Refreshed(done, len(orphans), len(left))


FINISHING = Leftovers("attendance rows")  # rows computed after a page's budget ran out


async def _drop(conn: AsyncConnection, session_ids: Sequence[str]) -> None:
    for table in (AttendanceMark, BehaviourMark, AttendanceStamp):
        await conn.execute(delete(table).where(table.session_id.in_(session_ids)))


async def compute_session(engine: AsyncEngine, session_id: str, now: dt.datetime) -> int:
    """Compute and store one session's rows from its log (replacing any); how many pupils."""
    try:
        stored = await load_session(engine, session_id)
    except SessionNotFoundError:
        return 0
    entries = await EventLog(engine).read(session_id)
    async with engine.connect() as conn:
        class_id = (
            await conn.execute(select(Session.class_id).where(Session.id == session_id))
        ).scalar_one_or_none()
    marks, behaviour = session_rows(entries, stored.plan, stored.policy, stored.school_id, class_id)
    last_seq = entries[-1].seq if entries else 0
    async with engine.begin() as conn:
        await _drop(conn, [session_id])
        if marks:
            await conn.execute(insert(AttendanceMark), marks)
        if behaviour:
            await conn.execute(insert(BehaviourMark), behaviour)
        sums = [0, 0, 0, 0]
        for row in marks:
            sums[row["mark"]] += 1
        await conn.execute(
            insert(AttendanceStamp).values(
                session_id=session_id,
                school_id=stored.school_id,
                log_seq=last_seq,
                rules=RULES,
                computed_at=now,
                class_id=class_id,
                starts_at=_aware(stored.plan.starts_at),
                on_time=sums[0],
                late=sums[1],
                absent=sums[2],
                other=sums[3],
            )
        )
    return len(marks)


def mark_of(status: Attendance, late: bool) -> int:
    """A register row's bucket: 0 came on time, 1 came late, 2 absent, 3 anything else
    (opted out, turned away, never let in)."""
    if status.value in CAME:
        return 1 if late else 0
    return 2 if status is Attendance.ABSENT else 3


def session_rows(
    entries: Sequence[LogEntry],
    plan: SessionPlan,
    policy: Policy,
    school_id: str,
    class_id: str | None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The attendance and behaviour rows of one session, from its log entries (pure)."""
    register = build_register(
        plan,
        room_events(entries),
        policy.school.timezone,
        policy=policy,
        attempts=refused_attempts(entries),
    )
    starts_at = _aware(plan.starts_at)
    marks = [
        {
            "session_id": plan.session_id,
            "pupil_id": row.pupil_id,
            "school_id": school_id,
            "class_id": class_id,
            "starts_at": starts_at,
            "status": row.status.value,
            "mark": mark_of(row.status, row.late_by is not None),
            "late_seconds": None if row.late_by is None else round(row.late_by.total_seconds()),
            "seconds_present": round(row.present.total_seconds()),
            "left_early": row.left_early,
        }
        for row in register.pupils
    ]
    pupils = {row.pupil_id for row in register.pupils}
    behaviour = []
    for entry in entries:
        kind = _mark_of(entry, pupils)
        if kind is None or entry.payload is None:
            continue
        p = entry.payload
        behaviour.append(
            {
                "session_id": plan.session_id,
                "seq": entry.seq,
                "school_id": school_id,
                "class_id": class_id,
                "at": _aware(dt.datetime.fromisoformat(entry.at)),
                "kind": kind.value,
                "pupil_id": p.get("pupil") or p.get("target"),
                "by": p.get("by"),
            }
        )
    return marks, behaviour


def _mark_of(entry: LogEntry, pupils: set[str]) -> Mark | None:
    p = entry.payload
    if p is None:
        return None
    if entry.type == "LogNoteAdded":
        kind = p.get("kind")
        return Mark(kind) if kind in _NOTE_KINDS else None
    if entry.type == "PupilRemoved":
        return Mark.REMOVAL
    if entry.type == "ConcernRaised":
        return Mark.CONCERN
    if entry.type == "CameraTurnedOff" and p.get("by") != p.get("target"):
        return Mark.CAMERA_OFF if p.get("target") in pupils else None
    return None


# -- the figures -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Counts:
    """Pupils' marks: came on time, came late (by the policy), absent, and the rest (opted out,
    turned away, never let in)."""

    on_time: int = 0
    late: int = 0
    absent: int = 0
    other: int = 0

    @property
    def expected(self) -> int:
        return self.on_time + self.late + self.absent + self.other

    @property
    def came(self) -> int:
        return self.on_time + self.late

    def percent(self, part: int) -> int:
        """`part` as a whole percentage of the pupils expected (0 when none were)."""
        return round(100 * part / self.expected) if self.expected else 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.on_time + other.on_time,
            self.late + other.late,
            self.absent + other.absent,
            self.other + other.other,
        )


@dataclass(frozen=True, slots=True)
class Line:
    """One row of a table of counts: a week, a class or a pupil."""

    key: str
    label: str
    counts: Counts
    sessions: int = 0
    extra: str = ""  # a pupil's class


@dataclass(frozen=True, slots=True)
class BehaviourLine:
    at: dt.datetime  # local
    kind: Mark
    session_id: str
    session_title: str
    pupil: str
    by: str
    text: str  # a note's words or a removal's reason; never a concern's


@dataclass(frozen=True, slots=True)
class Overview:
    since: dt.date
    until: dt.date  # inclusive
    class_id: str | None
    sessions: int  # ended sessions counted
    never_opened: int  # scheduled, over, not cancelled, but nobody opened the room
    total: Counts
    weeks: list[Line]
    classes: list[Line]
    pupils: list[Line]
    behaviour: dict[Mark, int]
    behaviour_by_class: dict[str, dict[Mark, int]]
    recent: list[BehaviourLine] = field(default_factory=list)
    on_roll: int = 0  # the pupils of the school (or the class) today
    pending: int = 0  # ended sessions whose rows are still being computed


def _counts_of(marks: Iterable[tuple[int, int]]) -> Counts:
    """Counts from (mark, how many) pairs."""
    sums = [0, 0, 0, 0]
    for mark, n in marks:
        sums[int(mark)] += int(n)
    return Counts(*sums)


def period_bounds(
    since: dt.date, until: dt.date, zone: ZoneInfo
) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants of local midnight at `since` and the midnight after `until`."""
    start = dt.datetime.combine(since, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(0), tzinfo=zone)
    return start, end.astimezone(dt.UTC)


def week_of(day: dt.date) -> dt.date:
    """The Monday of `day`'s week."""
    return day - dt.timedelta(days=day.weekday())


def full_name(forename: str, surname: str) -> str:
    return f"{forename} {surname}".strip()


class Pupils(StrEnum):
    """Which pupils' lines an overview carries."""

    ALL = "all"  # every pupil with a mark in the period (the CSV; a chosen class)
    MOST_MISSED = "most_missed"  # the PUPILS_LISTED most often late or absent
    NONE = "none"


PUPILS_LISTED = 20


async def overview(
    engine: AsyncEngine,
    school_id: str,
    zone: ZoneInfo,
    since: dt.date,
    until: dt.date,
    now: dt.datetime,
    class_id: str | None = None,
    recent: int = 20,
    pupils: Pupils = Pupils.ALL,
    class_names: Mapping[str, str] | None = None,
    budget_s: float | None = None,
) -> Overview:
    """The figures for the head's page over [since, until] (local dates), one class or all.

    Weeks and classes add up each session's own sums (one row a session); pupils add up their
    marks through covering indexes, and without a class only the marks of lateness and
    absence are grouped to find the pupils who missed most."""
    start, end = period_bounds(since, until, zone)
    refreshed = await refresh(engine, school_id, now, start, end, budget_s)
    in_period = [
        AttendanceMark.school_id == school_id,
        AttendanceMark.starts_at >= start,
        AttendanceMark.starts_at < end,
    ]
    stamps = [
        AttendanceStamp.school_id == school_id,
        AttendanceStamp.starts_at >= start,
        AttendanceStamp.starts_at < end,
    ]
    behaviour_where = [
        BehaviourMark.school_id == school_id,
        BehaviourMark.at >= start,
        BehaviourMark.at < end,
    ]
    if class_id is not None:
        in_period.append(AttendanceMark.class_id == class_id)
        stamps.append(AttendanceStamp.class_id == class_id)
        behaviour_where.append(BehaviourMark.class_id == class_id)
    async with engine.connect() as conn:
        per_session = (
            await conn.execute(
                select(
                    AttendanceStamp.starts_at,
                    AttendanceStamp.class_id,
                    AttendanceStamp.on_time,
                    AttendanceStamp.late,
                    AttendanceStamp.absent,
                    AttendanceStamp.other,
                ).where(*stamps)
            )
        ).all()
        per_pupil = await _pupil_marks(conn, in_period, pupils)
        if class_names is None:
            class_names = dict(
                (
                    await conn.execute(
                        select(SchoolClass.id, SchoolClass.name).where(
                            SchoolClass.school_id == school_id
                        )
                    )
                ).all()
            )
        classes = class_names
        kinds = (
            await conn.execute(
                select(BehaviourMark.class_id, BehaviourMark.kind, func.count())
                .where(*behaviour_where)
                .group_by(BehaviourMark.class_id, BehaviourMark.kind)
            )
        ).all()
        never, pupils_on_roll = await _never_opened(conn, school_id, start, min(end, now), class_id)
        listed = await _recent(conn, behaviour_where, recent) if recent else []
        named = set(per_pupil) | {line.pupil_id for line in listed if line.pupil_id}
        names = await _names(conn, school_id, named)
    # plain lists while adding up (sessions, on time, late, absent, other): a term is 840 rows
    weeks: dict[dt.date, list[int]] = {}
    by_class: dict[str | None, list[int]] = {}
    week_at: dict[dt.datetime, dt.date] = {}
    for starts_at, cid, on_time, late, absent, other in per_session:
        week = week_at.get(starts_at)
        if week is None:
            week = week_at[starts_at] = week_of(_aware(starts_at).astimezone(zone).date())
        for sums in (
            weeks.setdefault(week, [0, 0, 0, 0, 0]),
            by_class.setdefault(cid, [0, 0, 0, 0, 0]),
        ):
            sums[0] += 1
            sums[1] += on_time
            sums[2] += late
            sums[3] += absent
            sums[4] += other
    total = Counts(*(sum(s[i] for s in weeks.values()) for i in range(1, 5)))
    week_lines = [
        Line(week.isoformat(), week.isoformat(), Counts(*weeks[week][1:]), weeks[week][0])
        for week in sorted(weeks)
    ]
    class_lines = sorted(
        (
            Line(cid or "", classes.get(cid or "", ""), Counts(*sums[1:]), sums[0])
            for cid, sums in by_class.items()
        ),
        key=lambda line: (line.label == "", line.label.casefold()),
    )
    pupil_lines = []
    for pid, counts in per_pupil.items():
        name, surname, forename, cid = names.get(pid, (pid, pid, "", None))
        line = Line(pid, name, counts, counts.expected, classes.get(cid or "", ""))
        pupil_lines.append(((surname.casefold(), forename.casefold(), pid), line))
    pupil_lines.sort(key=lambda pair: pair[0])
    ordered = [line for _, line in pupil_lines]
    if pupils is Pupils.MOST_MISSED:
        ordered.sort(key=lambda p: (-(p.counts.absent + p.counts.late), -p.counts.absent, p.label))
    behaviour: dict[Mark, int] = dict.fromkeys(MARK_ORDER, 0)
    behaviour_by_class: dict[str, dict[Mark, int]] = {}
    for cid, kind, n in kinds:
        mark = Mark(kind)
        behaviour[mark] += int(n)
        per = behaviour_by_class.setdefault(cid or "", dict.fromkeys(MARK_ORDER, 0))
        per[mark] += int(n)
    return Overview(
        since=since,
        until=until,
        class_id=class_id,
        sessions=len(per_session),
        never_opened=never,
        total=total,
        weeks=week_lines,
        classes=class_lines,
        pupils=ordered,
        behaviour=behaviour,
        behaviour_by_class=behaviour_by_class,
        recent=[_local_line(line, zone, names) for line in listed],
        on_roll=pupils_on_roll,
        pending=refreshed.pending,
    )


async def _names(
    conn: AsyncConnection, school_id: str, pupil_ids: Iterable[str]
) -> dict[str, tuple[str, str, str, str | None]]:
    """(full name, surname, forename, class id) of these pupils of the school."""
    wanted = sorted(pupil_ids)
    found: dict[str, tuple[str, str, str, str | None]] = {}
    for i in range(0, len(wanted), 500):
        rows = await conn.execute(
            select(Pupil.id, Pupil.forename, Pupil.surname, Pupil.class_id).where(
                Pupil.school_id == school_id, Pupil.id.in_(wanted[i : i + 500])
            )
        )
        for pid, fore, sur, cid in rows:
            found[pid] = (full_name(fore, sur), sur, fore, cid)
    return found


async def _pupil_marks(
    conn: AsyncConnection, where: Sequence[Any], which: Pupils
) -> dict[str, Counts]:
    """Each pupil's counts over the marks `where` selects (all pupils, or those most often
    late or absent, found from those marks alone)."""
    if which is Pupils.NONE:
        return {}
    grouped = select(AttendanceMark.pupil_id, AttendanceMark.mark, func.count()).group_by(
        AttendanceMark.pupil_id, AttendanceMark.mark
    )
    if which is Pupils.MOST_MISSED:
        missed = (await conn.execute(grouped.where(*where, AttendanceMark.mark.in_((1, 2))))).all()
        totals: dict[str, tuple[int, int]] = {}
        for pid, mark, n in missed:
            late, absent = totals.get(pid, (0, 0))
            totals[pid] = (late + int(n), absent) if mark == 1 else (late, absent + int(n))
        top = sorted(totals, key=lambda pid: (-sum(totals[pid]), -totals[pid][1], pid))
        chosen = top[:PUPILS_LISTED]
        if not chosen:
            return {}
        where = [*where, AttendanceMark.pupil_id.in_(chosen)]
    rows = (await conn.execute(grouped.where(*where))).all()
    found: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for pid, mark, n in rows:
        found[pid].append((mark, n))
    return {pid: _counts_of(marks) for pid, marks in found.items()}


async def _never_opened(
    conn: AsyncConnection,
    school_id: str,
    start: dt.datetime,
    end: dt.datetime,
    class_id: str | None,
) -> tuple[int, int]:
    """Sessions planned in the period, started before `end`, not cancelled, with no log; and
    the pupils on roll (of the class, or the school), in one round trip."""
    never = (
        select(func.count())
        .select_from(Session)
        .outerjoin(SessionLogHead, SessionLogHead.session_id == Session.id)
        .where(
            Session.school_id == school_id,
            Session.status != "cancelled",
            Session.starts_at >= start,
            Session.starts_at < end,
            SessionLogHead.session_id.is_(None),
        )
    )
    on_roll = select(func.count()).select_from(Pupil).where(Pupil.school_id == school_id)
    if class_id is not None:
        never = never.where(Session.class_id == class_id)
        on_roll = on_roll.where(Pupil.class_id == class_id)
    row = (await conn.execute(select(never.scalar_subquery(), on_roll.scalar_subquery()))).one()
    return int(row[0]), int(row[1])


@dataclass(frozen=True, slots=True)
class _Listed:
    at: dt.datetime
    kind: str
    session_id: str
    title: str
    pupil_id: str | None
    by: str
    payload: str | None


async def _recent(conn: AsyncConnection, where: Sequence[Any], limit: int) -> list[_Listed]:
    """The latest behaviour marks (not concerns: those are the DSL's), with their log entry's
    words (a note's text, a removal's reason) and who recorded them."""
    rows = (
        await conn.execute(
            select(
                BehaviourMark.at,
                BehaviourMark.kind,
                BehaviourMark.session_id,
                Session.title,
                BehaviourMark.pupil_id,
                Staff.name,
                SessionEvent.payload,
            )
            .join(Session, Session.id == BehaviourMark.session_id)
            .outerjoin(Staff, Staff.id == BehaviourMark.by)
            .outerjoin(
                SessionEvent,
                and_(
                    SessionEvent.session_id == BehaviourMark.session_id,
                    SessionEvent.seq == BehaviourMark.seq,
                ),
            )
            .where(*where, BehaviourMark.kind != Mark.CONCERN.value)
            .order_by(BehaviourMark.at.desc(), BehaviourMark.seq.desc())
            .limit(limit)
        )
    ).all()
    return [_Listed(*row[:5], row[5] or "", row[6]) for row in rows]


def _local_line(
    listed: _Listed, zone: ZoneInfo, pupils: Mapping[str, tuple[str, str, str, str | None]]
) -> BehaviourLine:
    kind = Mark(listed.kind)
    text = ""
    if listed.payload is not None and kind is not Mark.CONCERN:
        data = json.loads(listed.payload)
        text = str(data.get("reason" if kind is Mark.REMOVAL else "text", "") or "")
    pupil = pupils.get(listed.pupil_id or "", ("", "", "", None))[0] if listed.pupil_id else ""
    return BehaviourLine(
        at=_aware(listed.at).astimezone(zone),
        kind=kind,
        session_id=listed.session_id,
        session_title=listed.title,
        pupil=pupil,
        by=listed.by,
        text=text,
    )


# -- one pupil -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PupilSession:
    """One session in a pupil's own history."""

    session_id: str
    starts_at: dt.datetime  # local
    title: str
    class_name: str
    status: Attendance
    late_minutes: float | None
    minutes_present: float
    left_early: bool


@dataclass(frozen=True, slots=True)
class PupilHistory:
    pupil_id: str
    name: str
    class_name: str
    counts: Counts
    sessions: list[PupilSession]
    behaviour: dict[Mark, int]


class NoSuchPupilError(LookupError):
    """No pupil of this school has that id."""


async def pupil_history(
    engine: AsyncEngine,
    school_id: str,
    pupil_id: str,
    zone: ZoneInfo,
    since: dt.date,
    until: dt.date,
    now: dt.datetime,
) -> PupilHistory:
    """One pupil's row of every ended session in the period, newest first."""
    start, end = period_bounds(since, until, zone)
    async with engine.connect() as conn:
        found = (
            await conn.execute(
                select(Pupil.forename, Pupil.surname, Pupil.class_id).where(
                    Pupil.id == pupil_id, Pupil.school_id == school_id
                )
            )
        ).first()
    if found is None:
        raise NoSuchPupilError(pupil_id)
    await refresh(engine, school_id, now, start, end)
    async with engine.connect() as conn:
        classes = dict(
            (
                await conn.execute(
                    select(SchoolClass.id, SchoolClass.name).where(
                        SchoolClass.school_id == school_id
                    )
                )
            ).all()
        )
        rows = (
            await conn.execute(
                select(
                    AttendanceMark.session_id,
                    AttendanceMark.starts_at,
                    Session.title,
                    AttendanceMark.class_id,
                    AttendanceMark.status,
                    AttendanceMark.late_seconds,
                    AttendanceMark.seconds_present,
                    AttendanceMark.left_early,
                )
                .join(Session, Session.id == AttendanceMark.session_id)
                .where(
                    AttendanceMark.school_id == school_id,
                    AttendanceMark.pupil_id == pupil_id,
                    AttendanceMark.starts_at >= start,
                    AttendanceMark.starts_at < end,
                )
                .order_by(AttendanceMark.starts_at.desc())
            )
        ).all()
        kinds = (
            await conn.execute(
                select(BehaviourMark.kind, func.count())
                .where(
                    BehaviourMark.school_id == school_id,
                    BehaviourMark.pupil_id == pupil_id,
                    BehaviourMark.at >= start,
                    BehaviourMark.at < end,
                )
                .group_by(BehaviourMark.kind)
            )
        ).all()
    sessions = [
        PupilSession(
            session_id=sid,
            starts_at=_aware(starts_at).astimezone(zone),
            title=title,
            class_name=classes.get(cid or "", ""),
            status=Attendance(status),
            late_minutes=None if late is None else round(late / 60, 1),
            minutes_present=round(present / 60, 1),
            left_early=bool(left_early),
        )
        for sid, starts_at, title, cid, status, late, present, left_early in rows
    ]
    behaviour: dict[Mark, int] = dict.fromkeys(MARK_ORDER, 0)
    for kind, n in kinds:
        behaviour[Mark(kind)] += int(n)
    forename, surname, cid = found
    return PupilHistory(
        pupil_id=pupil_id,
        name=full_name(forename, surname),
        class_name=classes.get(cid or "", ""),
        counts=_tally((s.status, s.late_minutes is not None) for s in sessions),
        sessions=sessions,
        behaviour=behaviour,
    )


def _tally(rows: Iterable[tuple[Attendance, bool]]) -> Counts:
    on = late = absent = other = 0
    for status, was_late in rows:
        if status.value in CAME:
            late += was_late
            on += not was_late
        elif status is Attendance.ABSENT:
            absent += 1
        else:
            other += 1
    return Counts(on, late, absent, other)


# -- the policy's review date (CRO-17) -------------------------------------------------------------


class Review(StrEnum):
    FINE = "fine"
    SOON = "soon"  # within REVIEW_WARNING_DAYS
    TODAY = "today"
    OVERDUE = "overdue"


def review_state(policy: Policy, today: dt.date) -> Review:
    """Where the policy in force stands against its review date (warned of 30 days ahead)."""
    review = policy.school.review
    if today > review:
        return Review.OVERDUE
    if today == review:
        return Review.TODAY
    if (review - today).days <= REVIEW_WARNING_DAYS:
        return Review.SOON
    return Review.FINE
