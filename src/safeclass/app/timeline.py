"""The session timeline (C15): one plain-English line per logged event, at the school's local time.

"10:02 Amelia R. admitted by Mrs Khan". Names come from the plan and from the events themselves
(the name a pupil waited under, the name staff joined with). Chat text and note text appear only
while the log still holds them (retention blanks them). A concern's summary, and the note staff
wrote when ending a session in an emergency, never appear here (nor in the DSL's email): they go
to the DSL's chronology (C16), not to a register that may be printed or shared. Refused attempts
(a pupil's forged `admit`) are lines too, one per attempt logged and one per count of them, in
time order among the events.
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from safeclass.app.alerts import ABSENT, NO_ADDRESS, NO_DSL
from safeclass.app.room_log import RefusedAttempts
from safeclass.app.undelivered import AlertDelivery, ParentDelivery
from safeclass.core import Consent
from safeclass.core import events as ev
from safeclass.core.commands import PARENT_BY_LINK, NoteKind
from safeclass.core.timers import SCHEDULE

_END_REASONS = {
    ev.EndReason.TIME_LIMIT: "time limit",
    ev.EndReason.HOLD_TIMEOUT: "held too long without enough staff",
    ev.EndReason.ENDED_BY_STAFF: "ended by staff",
    ev.EndReason.EMERGENCY: "emergency",
}
_ALERTS = {
    ev.AlertReason.CONCERN: "a concern",
    ev.AlertReason.EMERGENCY_END: "an emergency end",
    ev.AlertReason.ONE_TO_ONE_RECORDED: "a 1-to-1 recorded without a parent present",
}
_NOTICES = {
    ev.NoticeReason.REMOVED: "removal",
    ev.NoticeReason.CAMERA_TURNED_OFF: "camera turned off",
    ev.NoticeReason.RECORDED: "recording",
    ABSENT: "absence",
}
_BY = {"email": "by email", "webhook": "by the school's messaging webhook"}
_NOTES = {
    NoteKind.AGENDA: "Agenda",
    NoteKind.INCIDENT: "Incident",
    NoteKind.BEHAVIOUR: "Behaviour note",
    NoteKind.REWARD: "Reward",
    NoteKind.NOTE: "Note",
    NoteKind.RESOURCE: "On offer for the lesson",
}


@dataclass(frozen=True, slots=True)
class TimelineLine:
    at: dt.datetime  # local time
    kind: str  # the event's type name
    text: str

    @property
    def time(self) -> str:
        return self.at.strftime("%H:%M")

    def __str__(self) -> str:
        return f"{self.time} {self.text}"


def build_timeline(
    events: Sequence[ev.Event],
    tz: str,
    names: Mapping[str, str],
    attempts: Sequence[RefusedAttempts] = (),
    alerts: Sequence[AlertDelivery] | None = None,
    *,
    parents: Sequence[ParentDelivery] | None = None,
) -> list[TimelineLine]:
    """The timeline of a session; `names` maps participant ids to names (e.g. the plan's).

    `alerts` are the outbox's rows of the session's DSL alerts: a `DslAlerted` line says "sent to
    the DSL at hh:mm" only once one of its rows was sent, and "not delivered yet" until then;
    without them (None) the line says only that an alert was written. `parents` are the rows of
    its parents' notices, read the same way: a `ParentNoticeQueued` line says whether the parent
    has been told, when and how; and an absence notice (written at the end, no event of its own)
    is a line of its own."""
    zone = ZoneInfo(tz)
    writer = _Writer(dict(names), zone, alerts, parents)
    lines = []
    for event in events:
        text = writer.describe(event)
        lines.append(TimelineLine(_aware(event.at).astimezone(zone), event.type_name, text))
    # an absence notice after the end that wrote it (merge keeps the events' own order)
    lines = list(heapq.merge(lines, sorted(writer.absences(), key=lambda x: x.at), key=_when))
    tried = [
        TimelineLine(
            _aware(a.at).astimezone(zone),
            "AttemptsRefused" if a.counted else "AttemptRefused",
            writer.attempt(a),
        )
        for a in attempts
    ]
    return list(heapq.merge(lines, tried, key=lambda line: line.at))


def _when(line: TimelineLine) -> dt.datetime:
    return line.at


def _aware(when: dt.datetime) -> dt.datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def _duration(span: dt.timedelta) -> str:
    seconds = round(span.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    whole, rest = divmod(seconds, 60)
    return f"{whole} min {rest} s" if rest else f"{whole} min"


class _Writer:
    """Turns events into sentences, learning names and remembering who has been seen."""

    def __init__(
        self,
        names: dict[str, str],
        zone: ZoneInfo,
        alerts: Sequence[AlertDelivery] | None = None,
        parents: Sequence[ParentDelivery] | None = None,
    ) -> None:
        self.alerts = alerts
        self.parents = parents
        self.names = names
        self.zone = zone
        self.seen: set[str] = set()
        self.staff: set[str] = set()
        self.held_since: dt.datetime | None = None
        self.describers: dict[type[ev.Event], Callable[[Any], str]] = {
            ev.WaitingRoomOpened: lambda e: "Waiting room opened",
            ev.SessionStarted: self._started,
            ev.PupilWaiting: self._waiting,
            ev.StaffJoined: self._staff_joined,
            ev.PupilAdmitted: lambda e: f"{self.n(e.pupil)} admitted by {self.n(e.by)}",
            ev.PupilDenied: lambda e: f"{self.n(e.pupil)} turned away by {self.n(e.by)}",
            ev.PupilRemoved: self._removed,
            ev.ConsentChanged: self._consent,
            ev.PupilWithdrawn: lambda e: (
                f"{self.n(e.pupil)} taken out of the session: not taking part (consent withdrawn)"
            ),
            ev.ParentNoticeQueued: self._notice,
            ev.MicMuted: lambda e: self._by(e, "muted", "microphone"),
            ev.MicUnmuted: lambda e: self._by(e, "unmuted", "microphone"),
            ev.CameraTurnedOff: lambda e: self._by(e, "turned off", "camera"),
            ev.CameraTurnedOn: lambda e: self._by(e, "turned on", "camera"),
            ev.SpeakingAllowed: lambda e: f"{self.n(e.by)} allowed {self.n(e.pupil)} to speak",
            ev.ChatSwitched: lambda e: f"Chat switched {'on' if e.on else 'off'} by {self.n(e.by)}",
            ev.ChatPosted: self._chat,
            ev.HandRaised: lambda e: f"{self.n(e.pupil)} raised a hand",
            ev.HandLowered: self._hand_lowered,
            ev.PupilCalledOn: lambda e: f"{self.n(e.by)} called on {self.n(e.pupil)}",
            ev.ParentPresenceAttested: self._parent,
            ev.RecordingNoticeGiven: self._recording_notice,
            ev.RecordingStarted: lambda e: "Recording started",
            ev.RecordingStopped: lambda e: f"Recording stopped by {self.n(e.by)}",
            ev.ScreenShareStarted: lambda e: f"{self.n(e.sharer)} started sharing a screen",
            ev.ScreenShareStopped: self._share_stopped,
            ev.LogNoteAdded: self._note,
            ev.ConcernRaised: self._concern,
            ev.DslAlerted: self._alerted,
            ev.ParticipantLeft: lambda e: f"{self.n(e.participant)} left",
            ev.ConnectionDropped: lambda e: f"{self.n(e.participant)}'s connection dropped",
            ev.RoomHeld: self._held,
            ev.RoomReleased: self._released,
            ev.TimeWarning: self._warning,
            ev.SessionEnded: self._ended,
        }

    def describe(self, event: ev.Event) -> str:
        describer = self.describers.get(type(event))
        return describer(event) if describer is not None else event.type_name

    def attempt(self, a: RefusedAttempts) -> str:
        if a.first is None or a.last is None:  # one attempt, logged as it happened
            return f"Refused attempt by {self.n(a.actor)} ({', '.join(a.commands)}): {a.message}"
        what = ", ".join(f"{name} {count:,}" for name, count in a.commands.items())
        span = f"{self._local(a.first)} to {self._local(a.last)}"
        more = "attempt" if a.count == 1 else "attempts"
        return f"{a.count:,} more refused {more} by {self.n(a.actor)} from {span} ({what})"

    def _local(self, when: dt.datetime) -> str:
        return _aware(when).astimezone(self.zone).strftime("%H:%M:%S")

    def n(self, pid: str | None) -> str:
        if pid is None:
            return "someone"
        if pid == "clock":
            return "the clock"
        return self.names.get(pid) or pid

    def _started(self, e: ev.SessionStarted) -> str:
        return "Session started; expectations reminded" if e.reminder else "Session started"

    def _waiting(self, e: ev.PupilWaiting) -> str:
        if e.name:
            self.names[e.pupil] = e.name
        again = e.pupil in self.seen
        self.seen.add(e.pupil)
        text = f"{self.n(e.pupil)} {'rejoined' if again else 'joined'} the waiting room"
        return f"{text} (parent present)" if e.parent_present else text

    def _staff_joined(self, e: ev.StaffJoined) -> str:
        if e.name:
            self.names[e.staff] = e.name
        again = e.staff in self.seen
        self.seen.add(e.staff)
        self.staff.add(e.staff)
        return f"{self.n(e.staff)} ({e.role.value}) {'rejoined' if again else 'joined'}"

    def _removed(self, e: ev.PupilRemoved) -> str:
        text = f"{self.n(e.pupil)} removed by {self.n(e.by)}"
        return f"{text}: {e.reason}" if e.reason else text

    def _consent(self, e: ev.ConsentChanged) -> str:
        if e.source == PARENT_BY_LINK and e.consent is Consent.REFUSED:
            return f"{self.n(e.pupil)}'s parent withdrew consent through their child's link"
        return f"The school's records now say {self.n(e.pupil)}'s consent is {e.consent.value}"

    def _notice(self, e: ev.ParentNoticeQueued) -> str:
        when = "at the end of the session" if e.send_at_end else "now"
        what = _NOTICES.get(e.reason, str(e.reason))
        text = f"Parent of {self.n(e.pupil)} to be told ({what}) {when}"
        if self.parents is None:
            return text
        at = _aware(e.at)
        rows = [
            p
            for p in self.parents
            if p.kind == f"parent_{e.reason.value}"
            and p.pupil_id == e.pupil
            and _aware(p.created_at) == at
        ]
        return f"{text}; {self._told(rows)}"

    def absences(self) -> list[TimelineLine]:
        """A line for each absence notice: the end of the session wrote it, with no event."""
        if self.parents is None:
            return []
        found: dict[tuple[str | None, dt.datetime], list[ParentDelivery]] = {}
        for p in self.parents:
            if p.kind == f"parent_{ABSENT}":
                found.setdefault((p.pupil_id, _aware(p.created_at)), []).append(p)
        return [
            TimelineLine(
                at.astimezone(self.zone),
                "AbsenceNotice",
                f"Parent of {self.n(pupil)} to be told (absence: never came); {self._told(rows)}",
            )
            for (pupil, at), rows in found.items()
        ]

    def _told(self, rows: Sequence[ParentDelivery]) -> str:
        """Whether a parents' notice was delivered, when and how, from its outbox rows."""
        if not rows:
            return "no way to reach them (no email address on record, no webhook)"
        sent = [r for r in rows if r.sent_at is not None]
        if sent:
            first = min(_aware(r.sent_at) for r in sent if r.sent_at is not None)
            how = " and ".join(_BY.get(c, c) for c in sorted({r.channel for r in sent}))
            told = f"told at {self._hm(first)} {how}"
            if len(sent) < len(rows):
                told += " (not yet every way)"
            return told
        if all(r.status == "held_until_end" for r in rows):
            return "waiting for the end of the session"
        if any(r.last_error == NO_ADDRESS for r in rows):
            return f"not told ({NO_ADDRESS}); tell them yourself"
        if any(r.status == "failed" for r in rows):
            return "not told (it could not be delivered); tell them yourself"
        if any(r.last_error for r in rows):
            return "not told yet (not taken yet; it is tried again)"
        return "not told yet (no email or webhook set up, or not sent yet)"

    def _by(
        self,
        e: ev.MicMuted | ev.MicUnmuted | ev.CameraTurnedOff | ev.CameraTurnedOn,
        did: str,
        thing: str,
    ) -> str:
        if e.by == e.target:
            return f"{self.n(e.target)} {did} their {thing}"
        return f"{self.n(e.by)} {did} {self.n(e.target)}'s {thing}"

    def _chat(self, e: ev.ChatPosted) -> str:
        text = f"Chat message {e.number} from {e.name or self.n(e.by)}"
        return f"{text}: {e.text}" if e.text else text

    def _hand_lowered(self, e: ev.HandLowered) -> str:
        if e.by == e.pupil:
            return f"{self.n(e.pupil)} lowered their hand"
        return f"{self.n(e.by)} lowered {self.n(e.pupil)}'s hand"

    def _parent(self, e: ev.ParentPresenceAttested) -> str:
        state = "present" if e.present else "not present"
        return f"Parent of {self.n(e.pupil)} {state} (confirmed by {self.n(e.by)})"

    def _recording_notice(self, e: ev.RecordingNoticeGiven) -> str:
        start = e.starts_at
        if start.tzinfo is None:
            start = start.replace(tzinfo=dt.UTC)
        when = start.astimezone(self.zone).strftime("%H:%M:%S")
        text = f"Recording notice given by {self.n(e.by)}: recording starts at {when}"
        return f"{text} (1-to-1 exception)" if e.one_to_one_exception else text

    def _share_stopped(self, e: ev.ScreenShareStopped) -> str:
        if e.by == e.sharer:
            return f"{self.n(e.sharer)} stopped sharing a screen"
        return f"{self.n(e.by)} stopped {self.n(e.sharer)}'s screen share"

    def _note(self, e: ev.LogNoteAdded) -> str:
        if e.by == SCHEDULE:
            return f"Agenda, as scheduled: {e.text}" if e.text else "Agenda, as scheduled"
        text = _NOTES.get(e.kind, "Note")
        if e.pupil:
            text += f" {'for' if e.kind is NoteKind.REWARD else 'about'} {self.n(e.pupil)}"
        text += f" by {self.n(e.by)}"
        return f"{text}: {e.text}" if e.text else text

    def _concern(self, e: ev.ConcernRaised) -> str:
        about = f" about {self.n(e.pupil)}" if e.pupil else ""
        return f"Safeguarding concern {e.number} raised by {self.n(e.by)}{about}"

    def _alerted(self, e: ev.DslAlerted) -> str:
        what = _ALERTS.get(e.reason, str(e.reason))
        # the note is for the DSL, like a concern's account: never on a page that is printed
        noted = " (with a note for the DSL)" if e.note else ""
        if self.alerts is None:
            return f"DSL alert written: {what}{noted}"
        at = _aware(e.at)
        rows = [a for a in self.alerts if _aware(a.created_at) == at]
        sent = sorted(_aware(a.sent_at) for a in rows if a.sent_at is not None)
        if sent:
            return f"DSL alert: {what}{noted}; sent to the DSL at {self._hm(sent[0])}"
        if any(a.status == "failed" for a in rows):
            why = "the mail server did not take it; tell the DSL yourself"
        elif any(a.last_error == NO_DSL for a in rows):
            why = NO_DSL
        elif any(a.last_error for a in rows):
            why = "the mail server did not take it yet; it is tried again"
        else:
            why = "no email set up, or not sent yet"
        return f"DSL alert queued: {what}{noted}; not delivered yet ({why})"

    def _hm(self, when: dt.datetime) -> str:
        return when.astimezone(self.zone).strftime("%H:%M")

    def _held(self, e: ev.RoomHeld) -> str:
        if self.held_since is None:
            self.held_since = e.at
        if e.reason is ev.HoldReason.PARENT_ABSENT:
            return "Room held: waiting for a parent to be present"
        return f"Room held: {e.staff_present} of {e.staff_required} required staff present"

    def _released(self, e: ev.RoomReleased) -> str:
        since, self.held_since = self.held_since, None
        if since is None:
            return "Room released"
        return f"Room released (held for {_duration(e.at - since)})"

    def _warning(self, e: ev.TimeWarning) -> str:
        return f"{e.minutes_left} minute{'s' if e.minutes_left != 1 else ''} left"

    def _ended(self, e: ev.SessionEnded) -> str:
        self.held_since = None
        count = len(e.disconnected)
        if e.reason is ev.EndReason.EMERGENCY:
            head = f"Emergency end by {self.n(e.by)}"
        elif e.reason is ev.EndReason.ENDED_BY_STAFF:
            head = f"Session ended by {self.n(e.by)}"
        else:
            head = f"Session ended ({_END_REASONS.get(e.reason, str(e.reason))})"
        staff = sum(1 for pid in e.disconnected if pid in self.staff)
        pupils = count - staff
        split = f"{pupils} pupil{'s' if pupils != 1 else ''}, {staff} staff"
        return f"{head} — {count} disconnected ({split})"
