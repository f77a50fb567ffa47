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

The rows are kept and read through `AttendanceRows` (on the database:
`safeclass.adapters.store.attendance`, `Services.attendance`); the log through the event store.
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
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from safeclass.app.event_store import EventStore, LogEntry
from safeclass.app.leftovers import Leftovers
from safeclass.app.register import Attendance, build_register
from safeclass.app.room_log import refused_attempts, room_events
from safeclass.app.school_records import SessionNotFoundError, StoredSession
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


# -- the rows, as the records keep them ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MarkRow:
    """One pupil's line of one ended session's register (`attendance_marks`)."""

    session_id: str
    pupil_id: str
    school_id: str
    class_id: str | None  # the session's class
    starts_at: dt.datetime  # the session's planned start
    status: str  # an Attendance value
    mark: int  # mark_of: 0 on time, 1 late, 2 absent, 3 other
    late_seconds: int | None
    seconds_present: int
    left_early: bool


@dataclass(frozen=True, slots=True)
class BehaviourRow:
    """Where a note, removal, camera turned off or concern is in the log, never what it says."""

    session_id: str
    seq: int
    school_id: str
    class_id: str | None
    at: dt.datetime
    kind: str  # a Mark value
    pupil_id: str | None
    by: str | None  # the staff member's id


@dataclass(frozen=True, slots=True)
class Stamp:
    """Which log entry, and which version of the rules, a session's rows were computed from,
    with the session's own sums (so weeks and classes add up a row a session)."""

    session_id: str
    school_id: str
    log_seq: int
    rules: int
    computed_at: dt.datetime
    class_id: str | None
    starts_at: dt.datetime
    on_time: int
    late: int
    absent: int
    other: int


@dataclass(frozen=True, slots=True)
class StaleSession:
    """A session whose rows are missing or behind its log (or the rules), maybe not over yet."""

    session_id: str
    starts_at: dt.datetime
    minutes: int
    status: str
    head: int  # its log's last entry
    stamped: int | None  # the entry its rows were computed from (None: never computed)
    rules: int | None


@dataclass(frozen=True, slots=True)
class Scope:
    """The rows of a school's sessions planned in [start, end), of one class when given."""

    school_id: str
    start: dt.datetime
    end: dt.datetime
    class_id: str | None = None


@dataclass(frozen=True, slots=True)
class SessionSums:
    """One session's own sums, from its stamp."""

    starts_at: dt.datetime
    class_id: str | None
    on_time: int
    late: int
    absent: int
    other: int


@dataclass(frozen=True, slots=True)
class ListedMark:
    """A behaviour mark as listed: its session's title, who recorded it, its log entry."""

    at: dt.datetime
    kind: str
    session_id: str
    title: str
    pupil_id: str | None
    by: str  # the staff member's name ("" when unknown)
    payload: str | None  # the log entry's JSON (None when gone)


@dataclass(frozen=True, slots=True)
class PupilName:
    forename: str
    surname: str
    class_id: str | None


@dataclass(frozen=True, slots=True)
class PupilMarkRow:
    """One pupil's mark in one session, with the session's title."""

    session_id: str
    starts_at: dt.datetime
    title: str
    class_id: str | None
    status: str
    late_seconds: int | None
    seconds_present: int
    left_early: bool


class AttendanceRows(Protocol):
    """The head's view's rows as the records keep them, and the sessions they come from.

    The figures of a page are read together on the caller's connection (one snapshot)."""

    async def load_session(self, session_id: str) -> StoredSession:
        """The session's plan and governing policy (else SessionNotFoundError)."""

    async def class_of(self, session_id: str) -> str | None:
        """The class the session was planned for, if any."""

    async def to_refresh(
        self, school_id: str, rules: int, since: dt.datetime | None, until: dt.datetime | None
    ) -> tuple[list[StaleSession], list[str]]:
        """The school's sessions with a log, not cancelled, planned in [since, until), whose
        stamp is missing or behind the log or `rules`; and the sessions whose stamp is kept
        but whose log is gone (deleted by retention)."""

    async def drop(self, session_ids: Sequence[str]) -> None:
        """Delete these sessions' rows and stamps, in one transaction."""

    async def replace(
        self, stamp: Stamp, marks: Sequence[MarkRow], behaviour: Sequence[BehaviourRow]
    ) -> None:
        """Put a session's rows and stamp in place of any it had, in one transaction (an
        IntegrityError when another kept them at the same moment)."""

    async def session_sums(self, conn: AsyncConnection, scope: Scope) -> list[SessionSums]:
        """The sums of each session in scope whose rows are kept."""

    async def mark_counts(
        self,
        conn: AsyncConnection,
        scope: Scope,
        marks: Sequence[int] | None = None,
        pupil_ids: Sequence[str] | None = None,
    ) -> list[tuple[str, int, int]]:
        """(pupil, mark, how many) over the marks in scope (only these marks, or pupils)."""

    async def class_names(self, conn: AsyncConnection, school_id: str) -> dict[str, str]:
        """The name of each of the school's classes and groups, by id."""

    async def behaviour_counts(
        self, conn: AsyncConnection, scope: Scope
    ) -> list[tuple[str | None, str, int]]:
        """(class, kind, how many) of the behaviour marks in scope."""

    async def never_opened(self, conn: AsyncConnection, scope: Scope) -> tuple[int, int]:
        """Sessions planned in scope, not cancelled, with no log; and the pupils on roll (of
        the class, or the school), in one round trip."""

    async def recent(self, conn: AsyncConnection, scope: Scope, limit: int) -> list[ListedMark]:
        """The latest behaviour marks in scope, newest first, never a concern."""

    async def pupil_names(
        self, conn: AsyncConnection, school_id: str, pupil_ids: Iterable[str]
    ) -> dict[str, PupilName]:
        """These pupils of the school, by id (another school's are left out)."""

    async def pupil(self, conn: AsyncConnection, school_id: str, pupil_id: str) -> PupilName | None:
        """One pupil of the school (None: no such pupil here)."""

    async def pupil_marks(
        self, conn: AsyncConnection, scope: Scope, pupil_id: str
    ) -> list[PupilMarkRow]:
        """One pupil's marks in scope, the newest session first."""

    async def pupil_behaviour(
        self, conn: AsyncConnection, scope: Scope, pupil_id: str
    ) -> list[tuple[str, int]]:
        """(kind, how many) of the behaviour marks about one pupil in scope."""


# -- keeping the rows ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Refreshed:
    computed: int  # sessions whose rows were (re)computed
    dropped: int  # sessions whose log is gone, and their rows with it
    pending: int = 0  # left to a task of their own when the time budget ran out


def _aware(when: dt.datetime) -> dt.datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


async def refresh(
    rows: AttendanceRows,
    event_log: EventStore,
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
    candidates, orphans = await rows.to_refresh(school_id, RULES, since, until)
    due = [
        (c.session_id, c.head)
        for c in candidates
        if (c.stamped != c.head or c.rules != RULES)
        and (c.status == "ended" or _aware(c.starts_at) + dt.timedelta(minutes=c.minutes) <= now)
    ]
    began = time.monotonic()
    done = 0
    busy = FINISHING.busy(school_id)  # a task is at it: leave them to it
    for sid, _head in due:
        if busy or (budget_s is not None and time.monotonic() - began > budget_s):
            break
        try:
            await compute_session(rows, event_log, sid, now)
        except IntegrityError:  # the room's end kept them at the same moment
            log.info("attendance rows kept twice at once", extra={"session": sid})
        done += 1
    left = [sid for sid, _head in due[done:]]
    if left and not busy:
        FINISHING.finish(school_id, left, lambda sid: compute_session(rows, event_log, sid, now))
    if orphans:
        await rows.drop(orphans)
    return Refreshed(done, len(orphans), len(left))


FINISHING = Leftovers("attendance rows")  # rows computed after a page's budget ran out


async def compute_session(
    rows: AttendanceRows, event_log: EventStore, session_id: str, now: dt.datetime
) -> int:
    """Compute and store one session's rows from its log (replacing any); how many pupils."""
    try:
        stored = await rows.load_session(session_id)
    except SessionNotFoundError:
        return 0
    entries = await event_log.read(session_id)
    class_id = await rows.class_of(session_id)
    marks, behaviour = session_rows(entries, stored.plan, stored.policy, stored.school_id, class_id)
    sums = [0, 0, 0, 0]
    for row in marks:
        sums[row.mark] += 1
    stamp = Stamp(
        session_id=session_id,
        school_id=stored.school_id,
        log_seq=entries[-1].seq if entries else 0,
        rules=RULES,
        computed_at=now,
        class_id=class_id,
        starts_at=_aware(stored.plan.starts_at),
        on_time=sums[0],
        late=sums[1],
        absent=sums[2],
        other=sums[3],
    )
    await rows.replace(stamp, marks, behaviour)
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
) -> tuple[list[MarkRow], list[BehaviourRow]]:
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
        MarkRow(
            session_id=plan.session_id,
            pupil_id=row.pupil_id,
            school_id=school_id,
            class_id=class_id,
            starts_at=starts_at,
            status=row.status.value,
            mark=mark_of(row.status, row.late_by is not None),
            late_seconds=None if row.late_by is None else round(row.late_by.total_seconds()),
            seconds_present=round(row.present.total_seconds()),
            left_early=row.left_early,
        )
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
            BehaviourRow(
                session_id=plan.session_id,
                seq=entry.seq,
                school_id=school_id,
                class_id=class_id,
                at=_aware(dt.datetime.fromisoformat(entry.at)),
                kind=kind.value,
                pupil_id=p.get("pupil") or p.get("target"),
                by=p.get("by"),
            )
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
    rows: AttendanceRows,
    event_log: EventStore,
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
    absence are grouped to find the pupils who missed most. `engine` gives the one
    connection every figure is read on."""
    start, end = period_bounds(since, until, zone)
    refreshed = await refresh(rows, event_log, school_id, now, start, end, budget_s)
    scope = Scope(school_id, start, end, class_id)
    async with engine.connect() as conn:
        per_session = await rows.session_sums(conn, scope)
        per_pupil = await _pupil_marks(rows, conn, scope, pupils)
        if class_names is None:
            class_names = await rows.class_names(conn, school_id)
        classes = class_names
        kinds = await rows.behaviour_counts(conn, scope)
        never, pupils_on_roll = await rows.never_opened(
            conn, Scope(school_id, start, min(end, now), class_id)
        )
        listed = await rows.recent(conn, scope, recent) if recent else []
        named = set(per_pupil) | {line.pupil_id for line in listed if line.pupil_id}
        names = await rows.pupil_names(conn, school_id, named)
    # plain lists while adding up (sessions, on time, late, absent, other): a term is 840 rows
    weeks: dict[dt.date, list[int]] = {}
    by_class: dict[str | None, list[int]] = {}
    week_at: dict[dt.datetime, dt.date] = {}
    for one in per_session:
        week = week_at.get(one.starts_at)
        if week is None:
            week = week_at[one.starts_at] = week_of(_aware(one.starts_at).astimezone(zone).date())
        for sums in (
            weeks.setdefault(week, [0, 0, 0, 0, 0]),
            by_class.setdefault(one.class_id, [0, 0, 0, 0, 0]),
        ):
            sums[0] += 1
            sums[1] += one.on_time
            sums[2] += one.late
            sums[3] += one.absent
            sums[4] += one.other
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
        found = names.get(pid)
        if found is None:
            name, surname, forename, cid = pid, pid, "", None
        else:
            name = full_name(found.forename, found.surname)
            surname, forename, cid = found.surname, found.forename, found.class_id
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


async def _pupil_marks(
    rows: AttendanceRows, conn: AsyncConnection, scope: Scope, which: Pupils
) -> dict[str, Counts]:
    """Each pupil's counts over the marks in scope (all pupils, or those most often late or
    absent, found from those marks alone)."""
    if which is Pupils.NONE:
        return {}
    chosen: list[str] | None = None
    if which is Pupils.MOST_MISSED:
        totals: dict[str, tuple[int, int]] = {}
        for pid, mark, n in await rows.mark_counts(conn, scope, marks=(1, 2)):
            late, absent = totals.get(pid, (0, 0))
            totals[pid] = (late + int(n), absent) if mark == 1 else (late, absent + int(n))
        top = sorted(totals, key=lambda pid: (-sum(totals[pid]), -totals[pid][1], pid))
        chosen = top[:PUPILS_LISTED]
        if not chosen:
            return {}
    found: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for pid, mark, n in await rows.mark_counts(conn, scope, pupil_ids=chosen):
        found[pid].append((mark, n))
    return {pid: _counts_of(marks) for pid, marks in found.items()}


def _local_line(
    listed: ListedMark, zone: ZoneInfo, pupils: Mapping[str, PupilName]
) -> BehaviourLine:
    kind = Mark(listed.kind)
    text = ""
    if listed.payload is not None and kind is not Mark.CONCERN:
        data = json.loads(listed.payload)
        text = str(data.get("reason" if kind is Mark.REMOVAL else "text", "") or "")
    named = pupils.get(listed.pupil_id or "") if listed.pupil_id else None
    return BehaviourLine(
        at=_aware(listed.at).astimezone(zone),
        kind=kind,
        session_id=listed.session_id,
        session_title=listed.title,
        pupil=full_name(named.forename, named.surname) if named else "",
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
    rows: AttendanceRows,
    event_log: EventStore,
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
        found = await rows.pupil(conn, school_id, pupil_id)
    if found is None:
        raise NoSuchPupilError(pupil_id)
    await refresh(rows, event_log, school_id, now, start, end)
    scope = Scope(school_id, start, end)
    async with engine.connect() as conn:
        classes = await rows.class_names(conn, school_id)
        marks = await rows.pupil_marks(conn, scope, pupil_id)
        kinds = await rows.pupil_behaviour(conn, scope, pupil_id)
    sessions = [
        PupilSession(
            session_id=m.session_id,
            starts_at=_aware(m.starts_at).astimezone(zone),
            title=m.title,
            class_name=classes.get(m.class_id or "", ""),
            status=Attendance(m.status),
            late_minutes=None if m.late_seconds is None else round(m.late_seconds / 60, 1),
            minutes_present=round(m.seconds_present / 60, 1),
            left_early=bool(m.left_early),
        )
        for m in marks
    ]
    behaviour: dict[Mark, int] = dict.fromkeys(MARK_ORDER, 0)
    for kind, n in kinds:
        behaviour[Mark(kind)] += int(n)
    return PupilHistory(
        pupil_id=pupil_id,
        name=full_name(found.forename, found.surname),
        class_name=classes.get(found.class_id or "", ""),
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
