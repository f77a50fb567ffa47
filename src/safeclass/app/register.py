"""The attendance register (C14): a pure projection of a session's logged events.

Who was expected, who came and when, who was late and by how much (against the planned start,
from when the pupil first joined the waiting room: a pupil waiting on time is not late because
staff admitted them late; late only beyond the policy's `timing.late_after_minutes`, so a pupil
two minutes behind is not late where the school allows five), who left early, who was removed
and why; the staff present; and the session's facts, such as each hold of the two-adult rule.
Built in one pass over the events, so a 500-event session takes about a millisecond.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from safeclass.app.room_log import RefusedAttempts
from safeclass.core import events as ev
from safeclass.core.commands import NoteKind
from safeclass.core.roles import Role
from safeclass.core.state import Consent, SessionKind, SessionPlan
from safeclass.core.timers import SCHEDULE
from safeclass.policy.model import ChatMode, ConsentBasis, Policy

_ZERO = dt.timedelta(0)


class Attendance(StrEnum):
    """A pupil's status. When several fit, the first of: removed, attended, denied, not
    admitted, opted out, absent (a pupil denied once and admitted later attended)."""

    ATTENDED = "attended"
    REMOVED = "removed"  # admitted, then removed by staff (C10)
    DENIED = "denied"  # turned away from the waiting room, never admitted
    NOT_ADMITTED = "not admitted"  # waited, but was never let in before the end
    OPTED_OUT = "opted out"  # consent refused (or not given where it must be), C17
    ABSENT = "absent"


@dataclass(frozen=True, slots=True)
class PupilRow:
    pupil_id: str
    name: str
    status: Attendance
    waiting_at: dt.datetime | None  # first joined the waiting room (local time)
    admitted_at: dt.datetime | None  # first admitted
    left_at: dt.datetime | None  # last left: left, dropped, removed, denied or the end
    present: dt.timedelta  # the sum of every admitted stretch
    late_by: dt.timedelta | None  # after the planned start, only beyond the policy's threshold
    left_early: bool  # admitted, then gone before the session ended (not by removal)
    reconnections: int  # joined the waiting room again after the first time
    removed_by: str | None = None  # the staff member's name
    removal_reason: str = ""
    cameras_turned_off: int = 0  # by staff
    hands_raised: int = 0
    refused_attempts: int = 0  # commands a pupil may not send (a forged `admit`), C21

    @property
    def minutes_present(self) -> float:
        return minutes(self.present)

    @property
    def late_minutes(self) -> float | None:
        return None if self.late_by is None else minutes(self.late_by)


@dataclass(frozen=True, slots=True)
class StaffRow:
    staff_id: str
    name: str
    role: Role
    joined_at: dt.datetime
    left_at: dt.datetime | None
    present: dt.timedelta
    reconnections: int = 0

    @property
    def minutes_present(self) -> float:
        return minutes(self.present)


@dataclass(frozen=True, slots=True)
class Hold:
    """Pupils held (media cut) because a safeguard stopped holding (C5)."""

    started_at: dt.datetime
    ended_at: dt.datetime
    reason: ev.HoldReason
    staff_present: int
    staff_required: int

    @property
    def duration(self) -> dt.timedelta:
        return self.ended_at - self.started_at


@dataclass(frozen=True, slots=True)
class Period:
    """A stretch of time something was on (chat, recording)."""

    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True, slots=True)
class SessionFacts:
    session_id: str
    title: str
    school: str
    kind: SessionKind
    timezone: str
    planned_start: dt.datetime
    planned_end: dt.datetime
    opened_at: dt.datetime | None = None
    started_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None  # None while the log has no end
    end_reason: ev.EndReason | None = None
    ended_by: str | None = None  # a staff name; None when the clock ended it
    holds: tuple[Hold, ...] = ()
    concerns: int = 0
    chat: tuple[Period, ...] = ()
    chat_messages: int = 0
    recording: tuple[Period, ...] = ()
    recording_notice_at: dt.datetime | None = None
    refused_attempts: int = 0  # by anyone: commands their role may not send
    late_after: dt.timedelta = _ZERO  # the policy's threshold: later than this after the start

    @property
    def total_hold(self) -> dt.timedelta:
        return sum((h.duration for h in self.holds), _ZERO)


@dataclass(frozen=True, slots=True)
class LogNote:
    """A line of the staff's session log (C15): an incident, a behaviour note, a reward, a note
    (the agenda as scheduled is the register's `agenda`, not one of these)."""

    at: dt.datetime  # local time
    kind: NoteKind
    by: str  # the staff member's name
    pupil: str | None  # the pupil's name, if it is about one
    text: str  # "" once retention has blanked it


@dataclass(frozen=True, slots=True)
class ResourceLine:
    """A link or file the lesson offered families (app/resources.py), kept beside the log."""

    title: str
    what: str  # the web address, or the file's name
    added_by: str
    added_at: dt.datetime  # local time
    removed_by: str | None = None
    removed_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Register:
    facts: SessionFacts
    pupils: tuple[PupilRow, ...]
    staff: tuple[StaffRow, ...]
    agenda: str = ""  # as scheduled
    notes: tuple[LogNote, ...] = ()
    resources: tuple[ResourceLine, ...] = ()

    @property
    def has_session_log(self) -> bool:
        """Whether there is an agenda, a note or a resource to show beside the attendance."""
        return bool(self.agenda or self.notes or self.resources)

    def count(self, status: Attendance) -> int:
        return sum(1 for p in self.pupils if p.status is status)

    @property
    def late(self) -> int:
        return sum(1 for p in self.pupils if p.late_by is not None)

    @property
    def left_early(self) -> int:
        return sum(1 for p in self.pupils if p.left_early)


def minutes(span: dt.timedelta) -> float:
    """Minutes to one decimal place, as a register shows them."""
    return round(span.total_seconds() / 60, 1)


def sort_key(name: str) -> tuple[str, str]:
    """Alphabetical by name, accents aside ("Zoë" beside "Zoe"), for the register's order."""
    plain = "".join(
        ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch)
    )
    return (plain.casefold(), name)


def build_register(
    plan: SessionPlan,
    events: Sequence[ev.Event],
    tz: str,
    *,
    policy: Policy | None = None,
    attempts: Sequence[RefusedAttempts] = (),
    resources: Sequence[ResourceLine] = (),
) -> Register:
    """The register of one session from its events; `tz` is the school's time zone.

    With the policy, the register also knows the school's name, whether chat started on, and
    whether only explicit consent lets a pupil take part (so a pupil without it is "opted out").
    With the refused attempts from the log (room_log.refused_attempts), it counts them.
    """
    builder = _Builder(plan, policy, ZoneInfo(tz))
    if events:
        builder.begin(events[0].at)
    handlers = builder.handlers
    for event in events:
        handler = handlers.get(type(event))
        if handler is not None:
            handler(event)
    if events:
        builder.last_at = events[-1].at
    for attempt in attempts:
        builder.refused(attempt)
    done = builder.finish(tz)
    zone = ZoneInfo(tz)
    return replace(
        done,
        agenda=plan.agenda,
        notes=tuple(builder.notes),
        resources=tuple(
            replace(
                r,
                added_at=_aware(r.added_at).astimezone(zone),
                removed_at=None if r.removed_at is None else _aware(r.removed_at).astimezone(zone),
            )
            for r in resources
        ),
    )


@dataclass(slots=True)
class _Track:
    """One participant's running totals while the events are read."""

    name: str
    role: Role
    joins: int = 0
    first_join: dt.datetime | None = None
    first_admitted: dt.datetime | None = None
    in_since: dt.datetime | None = None  # admitted and connected since
    present: dt.timedelta = _ZERO
    left_at: dt.datetime | None = None
    denied: bool = False
    withdrawn: bool = False  # taken out when consent was withdrawn during the session (C17)
    removed_by: str | None = None
    removal_reason: str = ""
    cameras_off: int = 0
    hands: int = 0
    refused: int = 0

    def leave(self, at: dt.datetime) -> None:
        if self.in_since is not None:
            self.present += at - self.in_since
            self.in_since = None
        self.left_at = at


@dataclass(slots=True)
class _OpenHold:
    since: dt.datetime
    reason: ev.HoldReason
    staff_present: int
    staff_required: int


@dataclass(slots=True)
class _Builder:
    plan: SessionPlan
    policy: Policy | None
    zone: ZoneInfo
    people: dict[str, _Track] = field(default_factory=dict)
    last_at: dt.datetime | None = None
    opened_at: dt.datetime | None = None
    started_at: dt.datetime | None = None
    ended: ev.SessionEnded | None = None
    in_room_at_end: frozenset[str] = frozenset()
    holds: list[Hold] = field(default_factory=list)
    hold: _OpenHold | None = None
    concerns: int = 0
    chat: list[Period] = field(default_factory=list)
    chat_since: dt.datetime | None = None
    chat_messages: int = 0
    recording: list[Period] = field(default_factory=list)
    recording_since: dt.datetime | None = None
    recording_notice_at: dt.datetime | None = None
    refused_attempts: int = 0
    notes: list[LogNote] = field(default_factory=list)
    handlers: dict[type[ev.Event], Callable[[Any], None]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for pid, pupil in self.plan.expected.items():
            self.people[pid] = _Track(pupil.shown_name, Role.PUPIL)
        self.handlers = {
            ev.WaitingRoomOpened: self._opened,
            ev.SessionStarted: self._started,
            ev.PupilWaiting: self._waiting,
            ev.StaffJoined: self._staff_joined,
            ev.PupilAdmitted: self._admitted,
            ev.PupilDenied: self._denied,
            ev.PupilRemoved: self._removed,
            ev.PupilWithdrawn: self._withdrawn,
            ev.CameraTurnedOff: self._camera_off,
            ev.HandRaised: self._hand,
            ev.ChatSwitched: self._chat_switched,
            ev.ChatPosted: self._chat_posted,
            ev.RecordingNoticeGiven: self._recording_notice,
            ev.RecordingStarted: self._recording_started,
            ev.RecordingStopped: self._recording_stopped,
            ev.ConcernRaised: self._concern,
            ev.LogNoteAdded: self._note,
            ev.ParticipantLeft: self._left,
            ev.ConnectionDropped: self._dropped,
            ev.RoomHeld: self._held,
            ev.RoomReleased: self._released,
            ev.SessionEnded: self._ended,
        }

    def begin(self, at: dt.datetime) -> None:
        """The first event: where chat that starts on (by policy) is first on."""
        if self.policy is not None and self.policy.chat.default is ChatMode.ON:
            self.chat_since = at

    # -- the events --------------------------------------------------------------------------
    def _opened(self, e: ev.WaitingRoomOpened) -> None:
        self.opened_at = self.opened_at or e.at

    def _started(self, e: ev.SessionStarted) -> None:
        self.started_at = self.started_at or e.at

    def _track(self, pid: str, name: str, role: Role) -> _Track:
        track = self.people.get(pid)
        if track is None:
            track = self.people[pid] = _Track(name, role)
        return track

    def _waiting(self, e: ev.PupilWaiting) -> None:
        track = self._track(e.pupil, e.name, Role.PUPIL)
        if track.in_since is not None:  # a second device sent them back to the waiting room
            track.leave(e.at)
        track.joins += 1
        if track.first_join is None:
            track.first_join = e.at

    def _staff_joined(self, e: ev.StaffJoined) -> None:
        track = self._track(e.staff, e.name, e.role)
        track.name = e.name
        if track.in_since is None:
            track.joins += 1
            track.in_since = e.at
        if track.first_join is None:
            track.first_join = track.first_admitted = e.at

    def _admitted(self, e: ev.PupilAdmitted) -> None:
        track = self._track(e.pupil, e.pupil, Role.PUPIL)
        if track.in_since is None:
            track.in_since = e.at
        if track.first_admitted is None:
            track.first_admitted = e.at

    def _denied(self, e: ev.PupilDenied) -> None:
        track = self._track(e.pupil, e.pupil, Role.PUPIL)
        track.denied = True
        track.leave(e.at)

    def _withdrawn(self, e: ev.PupilWithdrawn) -> None:
        track = self._track(e.pupil, e.pupil, Role.PUPIL)
        track.withdrawn = True
        track.leave(e.at)

    def _removed(self, e: ev.PupilRemoved) -> None:
        track = self._track(e.pupil, e.pupil, Role.PUPIL)
        track.removed_by = self._name(e.by)
        track.removal_reason = e.reason
        track.leave(e.at)

    def _camera_off(self, e: ev.CameraTurnedOff) -> None:
        if e.by != e.target:
            track = self.people.get(e.target)
            if track is not None and track.role is Role.PUPIL:
                track.cameras_off += 1

    def _hand(self, e: ev.HandRaised) -> None:
        track = self.people.get(e.pupil)
        if track is not None:
            track.hands += 1

    def _chat_switched(self, e: ev.ChatSwitched) -> None:
        if e.on and self.chat_since is None:
            self.chat_since = e.at
        elif not e.on and self.chat_since is not None:
            self.chat.append(Period(self.chat_since, e.at))
            self.chat_since = None

    def _chat_posted(self, e: ev.ChatPosted) -> None:
        self.chat_messages += 1

    def _recording_notice(self, e: ev.RecordingNoticeGiven) -> None:
        self.recording_notice_at = e.at

    def _recording_started(self, e: ev.RecordingStarted) -> None:
        if self.recording_since is None:
            self.recording_since = e.at

    def _recording_stopped(self, e: ev.RecordingStopped) -> None:
        if self.recording_since is not None:
            self.recording.append(Period(self.recording_since, e.at))
            self.recording_since = None

    def _concern(self, e: ev.ConcernRaised) -> None:
        self.concerns += 1

    def _note(self, e: ev.LogNoteAdded) -> None:
        if e.kind in (NoteKind.AGENDA, NoteKind.RESOURCE) and e.by == SCHEDULE:
            return  # as scheduled: the register's `agenda` and `resources` (from their table)
        pupil = self._name(e.pupil) if e.pupil else None
        self.notes.append(LogNote(self._local(e.at), e.kind, self._name(e.by), pupil, e.text))

    def refused(self, attempt: RefusedAttempts) -> None:
        self.refused_attempts += attempt.count
        track = self.people.get(attempt.actor)
        if track is not None:
            track.refused += attempt.count

    def _left(self, e: ev.ParticipantLeft) -> None:
        track = self.people.get(e.participant)
        if track is not None:
            track.leave(e.at)

    def _dropped(self, e: ev.ConnectionDropped) -> None:
        track = self.people.get(e.participant)
        if track is not None:
            track.leave(e.at)

    def _held(self, e: ev.RoomHeld) -> None:
        if self.hold is not None:
            if self.hold.reason is e.reason:
                return
            self._close_hold(e.at)  # held on, for another reason: a new line in the register
        self.hold = _OpenHold(e.at, e.reason, e.staff_present, e.staff_required)

    def _released(self, e: ev.RoomReleased) -> None:
        self._close_hold(e.at)

    def _close_hold(self, at: dt.datetime) -> None:
        if self.hold is not None:
            h = self.hold
            self.holds.append(Hold(h.since, at, h.reason, h.staff_present, h.staff_required))
            self.hold = None

    def _ended(self, e: ev.SessionEnded) -> None:
        if self.ended is not None:
            return
        self.ended = e
        self.in_room_at_end = frozenset(
            pid for pid, track in self.people.items() if track.in_since is not None
        )
        for pid in e.disconnected:
            track = self.people.get(pid)
            if track is not None:
                track.leave(e.at)
        self._close_all(e.at)

    def _close_all(self, at: dt.datetime, leaving: bool = True) -> None:
        for track in self.people.values():
            if track.in_since is None:
                continue
            if leaving:
                track.leave(at)
            else:  # still here: count the time so far, but they have not left
                track.present += at - track.in_since
                track.in_since = None
        self._close_hold(at)
        if self.chat_since is not None:
            self.chat.append(Period(self.chat_since, at))
            self.chat_since = None
        if self.recording_since is not None:
            self.recording.append(Period(self.recording_since, at))
            self.recording_since = None

    def _name(self, pid: str) -> str:
        track = self.people.get(pid)
        return track.name if track is not None else pid

    # -- the result --------------------------------------------------------------------------
    def _local(self, when: dt.datetime) -> dt.datetime:
        return _aware(when).astimezone(self.zone)

    def _maybe(self, when: dt.datetime | None) -> dt.datetime | None:
        return None if when is None else self._local(when)

    def finish(self, tz: str) -> Register:
        if self.ended is None:
            # A log without an end (the session is live): the register so far. Who is in the
            # room now has not left early; their time runs to the last thing that happened.
            self.in_room_at_end = frozenset(
                pid for pid, track in self.people.items() if track.in_since is not None
            )
            if self.last_at is not None:
                self._close_all(self.last_at, leaving=False)
        pupils = [
            self._pupil_row(pid, track)
            for pid, track in self.people.items()
            if track.role is Role.PUPIL
        ]
        pupils.sort(key=lambda row: (*sort_key(row.name), row.pupil_id))
        staff = [
            StaffRow(
                staff_id=pid,
                name=track.name,
                role=track.role,
                joined_at=self._local(track.first_join),
                left_at=self._maybe(track.left_at),
                present=track.present,
                reconnections=max(track.joins - 1, 0),
            )
            for pid, track in self.people.items()
            if track.role is not Role.PUPIL and track.first_join is not None
        ]
        staff.sort(key=lambda row: (row.joined_at, row.staff_id))
        return Register(self._facts(tz), tuple(pupils), tuple(staff))

    def _late_after(self) -> dt.timedelta:
        """How far past the planned start a first join must be to be late (the policy's)."""
        if self.policy is None:
            return _ZERO
        return dt.timedelta(minutes=self.policy.timing.late_after_minutes)

    def _pupil_row(self, pid: str, track: _Track) -> PupilRow:
        start = _aware(self.plan.starts_at)
        late = track.first_join - start if track.first_join is not None else None
        threshold = self._late_after()
        return PupilRow(
            pupil_id=pid,
            name=track.name,
            status=self._status(pid, track),
            waiting_at=self._maybe(track.first_join),
            admitted_at=self._maybe(track.first_admitted),
            left_at=self._maybe(track.left_at),
            present=track.present,
            late_by=late if late is not None and late > threshold else None,
            left_early=(
                track.first_admitted is not None
                and track.removed_by is None
                and pid not in self.in_room_at_end
            ),
            reconnections=max(track.joins - 1, 0),
            removed_by=track.removed_by,
            removal_reason=track.removal_reason,
            cameras_turned_off=track.cameras_off,
            hands_raised=track.hands,
            refused_attempts=track.refused,
        )

    def _status(self, pid: str, track: _Track) -> Attendance:
        if track.removed_by is not None:
            return Attendance.REMOVED
        if track.first_admitted is not None:
            return Attendance.ATTENDED
        if track.withdrawn:
            return Attendance.OPTED_OUT
        if track.denied:
            return Attendance.DENIED
        if track.first_join is not None:
            return Attendance.NOT_ADMITTED
        expected = self.plan.expected.get(pid)
        if expected is not None and not self._consented(expected.consent):
            return Attendance.OPTED_OUT
        return Attendance.ABSENT

    def _consented(self, consent: Consent) -> bool:
        if consent is Consent.REFUSED:
            return False
        explicit = self.policy is not None and self.policy.consent.basis is ConsentBasis.EXPLICIT
        return consent is Consent.GIVEN or not explicit

    def _facts(self, tz: str) -> SessionFacts:
        start = _aware(self.plan.starts_at)
        end = self.ended
        local = self._local
        return SessionFacts(
            session_id=self.plan.session_id,
            title=self.plan.title,
            school=self.policy.school.name if self.policy is not None else "",
            kind=self.plan.kind,
            timezone=tz,
            planned_start=local(start),
            planned_end=local(start + dt.timedelta(minutes=self.plan.minutes)),
            opened_at=self._maybe(self.opened_at),
            started_at=self._maybe(self.started_at),
            ended_at=local(end.at) if end is not None else None,
            end_reason=end.reason if end is not None else None,
            ended_by=self._name(end.by) if end is not None and end.by != "clock" else None,
            holds=tuple(
                Hold(
                    local(h.started_at),
                    local(h.ended_at),
                    h.reason,
                    h.staff_present,
                    h.staff_required,
                )
                for h in self.holds
            ),
            concerns=self.concerns,
            chat=tuple(Period(local(p.start), local(p.end)) for p in self.chat),
            chat_messages=self.chat_messages,
            recording=tuple(Period(local(p.start), local(p.end)) for p in self.recording),
            recording_notice_at=self._maybe(self.recording_notice_at),
            refused_attempts=self.refused_attempts,
            late_after=self._late_after(),
        )


def _aware(when: dt.datetime) -> dt.datetime:
    """Stored times are UTC; a naive one (from an old row or a test) is read as UTC too."""
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)
