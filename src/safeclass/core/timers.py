"""What the clock does to a room: open the waiting room, start, warn, begin a noticed
recording, end at the time limit or after too long a hold. Pure: `now` is passed in.
"""

from __future__ import annotations

import datetime as dt

from safeclass.core import events as ev
from safeclass.core.commands import NoteKind
from safeclass.core.roles import IN_ROOM
from safeclass.core.state import Phase, RecordingState, RoomState

# The `by` of the agenda's note: it was written when the session was scheduled, not in the room.
SCHEDULE = "schedule"


def due(state: RoomState, now: dt.datetime) -> list[ev.Event]:
    """The clock's events that are due at `now` (none once the session has ended)."""
    if state.wake_at is None or now < state.wake_at:
        return []
    out: list[ev.Event] = []
    if state.phase is Phase.SCHEDULED and now >= state.opens_at:
        out.append(ev.WaitingRoomOpened(at=now))
        agenda = state.plan.agenda.strip()[:2000]
        if agenda:  # the agenda goes on record as the room opens (C15)
            out.append(
                ev.LogNoteAdded(at=now, kind=NoteKind.AGENDA, by=SCHEDULE, text=agenda, pupil=None)
            )
        out.extend(  # and what families were given to open beforehand
            ev.LogNoteAdded(at=now, kind=NoteKind.RESOURCE, by=SCHEDULE, text=thing, pupil=None)
            for thing in state.plan.resources
        )
    if state.phase in (Phase.SCHEDULED, Phase.OPEN) and now >= state.plan.starts_at:
        expectations = state.policy.expectations
        reminder = expectations.pupil if expectations.remind_at_start else ()
        out.append(ev.SessionStarted(at=now, reminder=reminder))
    if now >= state.ends_at:
        out.append(end_all(state, now, ev.EndReason.TIME_LIMIT, by="clock"))
        return out
    if state.held and state.held_since is not None:
        limit = dt.timedelta(minutes=state.policy.staffing.hold_ends_session_after_minutes)
        if now >= state.held_since + limit:
            out.append(end_all(state, now, ev.EndReason.HOLD_TIMEOUT, by="clock"))
            return out
    warning = _warning_due(state, now)
    if warning is not None:
        out.append(ev.TimeWarning(at=now, minutes_left=warning))
    if (
        state.recording is RecordingState.NOTICE
        and state.recording_starts_at is not None
        and now >= state.recording_starts_at
    ):
        out.append(ev.RecordingStarted(at=now))
    return out


def next_deadline(state: RoomState) -> dt.datetime | None:
    """When the clock next has something to do; the runtime sleeps until then."""
    if state.phase is Phase.ENDED:
        return None
    times = [state.ends_at]
    if state.phase is Phase.SCHEDULED:
        times.append(state.opens_at)
    if state.phase in (Phase.SCHEDULED, Phase.OPEN):
        times.append(state.plan.starts_at)
    if state.held and state.held_since is not None:
        limit = dt.timedelta(minutes=state.policy.staffing.hold_ends_session_after_minutes)
        times.append(state.held_since + limit)
    for minutes in state.policy.timing.warnings_minutes_before_end:
        if minutes not in state.warned:
            times.append(state.ends_at - dt.timedelta(minutes=minutes))
    if state.recording is RecordingState.NOTICE and state.recording_starts_at is not None:
        times.append(state.recording_starts_at)
    return min(times)


def end_all(state: RoomState, now: dt.datetime, reason: ev.EndReason, by: str) -> ev.SessionEnded:
    """The end: everyone still connected or waiting is disconnected in this one event."""
    still_here = tuple(
        sorted(pid for pid, p in state.participants.items() if p.connected or p.status in IN_ROOM)
    )
    return ev.SessionEnded(at=now, reason=reason, by=by, disconnected=still_here)


def _warning_due(state: RoomState, now: dt.datetime) -> int | None:
    """The most urgent warning whose time has come and that has not been given."""
    passed = [
        minutes
        for minutes in state.policy.timing.warnings_minutes_before_end
        if minutes not in state.warned and now >= state.ends_at - dt.timedelta(minutes=minutes)
    ]
    return min(passed) if passed else None
