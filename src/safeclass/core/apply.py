"""`apply(state, event) -> state`: how each event changes the room. Total, pure and trusting.

`apply` never refuses: the event already happened (it is in the log). All judgement lives in
`decide`; keeping `apply` simple is what makes a replay of the log equal the live room.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

from safeclass.core import events as ev
from safeclass.core.roles import Role, Status
from safeclass.core.state import CHAT_KEPT, Participant, Phase, RecordingState, RoomState
from safeclass.core.timers import next_deadline

_replace = dataclasses.replace


def apply(state: RoomState, event: ev.Event) -> RoomState:
    new = _HANDLERS[type(event)](state, event)
    if type(event) in _TIMING or (
        isinstance(event, ev.PupilAdmitted) and state.first_admitted_at is None
    ):
        new = _replace(new, wake_at=next_deadline(new))
    return new


def apply_all(state: RoomState, events: Iterable[ev.Event]) -> RoomState:
    for event in events:
        state = apply(state, event)
    return state


def _with(state: RoomState, pid: str, **changes: Any) -> RoomState:
    participants = dict(state.participants)
    participants[pid] = _replace(participants[pid], **changes)
    return _replace(state, participants=participants)


def _waiting_room_opened(s: RoomState, e: ev.WaitingRoomOpened) -> RoomState:
    return _replace(s, phase=Phase.OPEN)


def _session_started(s: RoomState, e: ev.SessionStarted) -> RoomState:
    return _replace(s, phase=Phase.LIVE)


def _pupil_waiting(s: RoomState, e: ev.PupilWaiting) -> RoomState:
    old = s.participants.get(e.pupil)
    participants = dict(s.participants)
    participants[e.pupil] = Participant(
        id=e.pupil,
        role=Role.PUPIL,
        name=e.name,
        status=Status.WAITING,
        device=e.device,
        connected=True,
        parent_present=e.parent_present,
        first_joined_at=old.first_joined_at if old else e.at,
    )
    return _replace(s, participants=participants)


def _staff_joined(s: RoomState, e: ev.StaffJoined) -> RoomState:
    old = s.participants.get(e.staff)
    participants = dict(s.participants)
    participants[e.staff] = Participant(
        id=e.staff,
        role=e.role,
        name=e.name,
        status=Status.ADMITTED,
        device=e.device,
        connected=True,
        mic_on=True,
        mic_allowed=True,
        camera_on=True,
        camera_allowed=True,
        first_joined_at=old.first_joined_at if old else e.at,
        admitted_at=e.at,
    )
    return _replace(s, participants=participants)


def _pupil_admitted(s: RoomState, e: ev.PupilAdmitted) -> RoomState:
    s = _with(
        s,
        e.pupil,
        status=Status.ADMITTED,
        admitted_at=e.at,
        mic_on=e.mic_on,
        mic_allowed=e.mic_on,
        camera_on=e.camera_on,
        camera_allowed=e.camera_allowed,
        hand_raised_at=None,
    )
    if s.first_admitted_at is None:
        s = _replace(s, first_admitted_at=e.at)
    return s


def _pupil_denied(s: RoomState, e: ev.PupilDenied) -> RoomState:
    return _with(s, e.pupil, status=Status.DENIED, connected=False)


def _consent_changed(s: RoomState, e: ev.ConsentChanged) -> RoomState:
    expected = dict(s.plan.expected)
    expected[e.pupil] = _replace(expected[e.pupil], consent=e.consent)
    return _replace(s, plan=_replace(s.plan, expected=expected))


def _pupil_withdrawn(s: RoomState, e: ev.PupilWithdrawn) -> RoomState:
    return _with(
        s,
        e.pupil,
        status=Status.DENIED,
        connected=False,
        mic_on=False,
        camera_on=False,
        hand_raised_at=None,
    )


def _pupil_removed(s: RoomState, e: ev.PupilRemoved) -> RoomState:
    s = _with(s, e.pupil, status=Status.REMOVED, connected=False, mic_on=False, camera_on=False)
    return _replace(s, removed=s.removed | {e.pupil})


def _unchanged(s: RoomState, e: ev.Event) -> RoomState:
    return s


def _mic_muted(s: RoomState, e: ev.MicMuted) -> RoomState:
    target = s.participants[e.target]
    keeps_permission = e.by == e.target
    return _with(s, e.target, mic_on=False, mic_allowed=target.mic_allowed and keeps_permission)


def _mic_unmuted(s: RoomState, e: ev.MicUnmuted) -> RoomState:
    return _with(s, e.target, mic_on=True, mic_allowed=True)


def _camera_off(s: RoomState, e: ev.CameraTurnedOff) -> RoomState:
    target = s.participants[e.target]
    keeps_permission = e.by == e.target
    return _with(
        s, e.target, camera_on=False, camera_allowed=target.camera_allowed and keeps_permission
    )


def _camera_on(s: RoomState, e: ev.CameraTurnedOn) -> RoomState:
    return _with(s, e.target, camera_on=True, camera_allowed=True)


def _speaking_allowed(s: RoomState, e: ev.SpeakingAllowed) -> RoomState:
    return _with(s, e.pupil, mic_allowed=True)


def _chat_switched(s: RoomState, e: ev.ChatSwitched) -> RoomState:
    return _replace(s, chat_on=e.on)


def _chat_posted(s: RoomState, e: ev.ChatPosted) -> RoomState:
    kept = (*s.chat[1 - CHAT_KEPT :], e) if len(s.chat) >= CHAT_KEPT else (*s.chat, e)
    return _replace(s, chat_count=e.number, chat=kept)


def _hand_raised(s: RoomState, e: ev.HandRaised) -> RoomState:
    return _with(s, e.pupil, hand_raised_at=e.at)


def _hand_lowered(s: RoomState, e: ev.HandLowered) -> RoomState:
    return _with(s, e.pupil, hand_raised_at=None)


def _called_on(s: RoomState, e: ev.PupilCalledOn) -> RoomState:
    return _with(s, e.pupil, hand_raised_at=None, mic_allowed=True)


def _parent_attested(s: RoomState, e: ev.ParentPresenceAttested) -> RoomState:
    return _with(s, e.pupil, parent_present=e.present)


def _recording_notice(s: RoomState, e: ev.RecordingNoticeGiven) -> RoomState:
    return _replace(
        s,
        recording=RecordingState.NOTICE,
        recording_notice_at=e.at,
        recording_starts_at=e.starts_at,
    )


def _recording_started(s: RoomState, e: ev.RecordingStarted) -> RoomState:
    return _replace(s, recording=RecordingState.ON, recording_started_at=e.at)


def _recording_stopped(s: RoomState, e: ev.RecordingStopped) -> RoomState:
    return _replace(
        s,
        recording=RecordingState.OFF,
        recording_notice_at=None,
        recording_starts_at=None,
        recording_started_at=None,
    )


def _screen_share_started(s: RoomState, e: ev.ScreenShareStarted) -> RoomState:
    return _replace(s, screen_sharer=e.sharer)


def _screen_share_stopped(s: RoomState, e: ev.ScreenShareStopped) -> RoomState:
    return _replace(s, screen_sharer=None)


def _concern_raised(s: RoomState, e: ev.ConcernRaised) -> RoomState:
    return _replace(s, concern_count=e.number)


def _gone(s: RoomState, pid: str) -> RoomState:
    return _with(s, pid, status=Status.LEFT, connected=False, hand_raised_at=None)


def _participant_left(s: RoomState, e: ev.ParticipantLeft) -> RoomState:
    return _gone(s, e.participant)


def _connection_dropped(s: RoomState, e: ev.ConnectionDropped) -> RoomState:
    return _gone(s, e.participant)


def _room_held(s: RoomState, e: ev.RoomHeld) -> RoomState:
    held_since = s.held_since if s.held else e.at
    return _replace(s, held=True, hold_reason=e.reason, held_since=held_since)


def _room_released(s: RoomState, e: ev.RoomReleased) -> RoomState:
    return _replace(s, held=False, hold_reason=None, held_since=None)


def _time_warning(s: RoomState, e: ev.TimeWarning) -> RoomState:
    passed = {w for w in s.policy.timing.warnings_minutes_before_end if w >= e.minutes_left}
    return _replace(s, warned=s.warned | passed)


def _session_ended(s: RoomState, e: ev.SessionEnded) -> RoomState:
    participants = {
        pid: (
            _replace(p, status=Status.LEFT, connected=False, hand_raised_at=None)
            if pid in e.disconnected
            else p
        )
        for pid, p in s.participants.items()
    }
    return _replace(
        s,
        participants=participants,
        phase=Phase.ENDED,
        ended_at=e.at,
        end_reason=e.reason,
        held=False,
        hold_reason=None,
        held_since=None,
        chat_on=False,
        recording=RecordingState.OFF,
        screen_sharer=None,
    )


_HANDLERS: dict[type[ev.Event], Callable[[RoomState, Any], RoomState]] = {
    ev.WaitingRoomOpened: _waiting_room_opened,
    ev.SessionStarted: _session_started,
    ev.PupilWaiting: _pupil_waiting,
    ev.StaffJoined: _staff_joined,
    ev.PupilAdmitted: _pupil_admitted,
    ev.PupilDenied: _pupil_denied,
    ev.PupilRemoved: _pupil_removed,
    ev.ConsentChanged: _consent_changed,
    ev.PupilWithdrawn: _pupil_withdrawn,
    ev.ParentNoticeQueued: _unchanged,
    ev.MicMuted: _mic_muted,
    ev.MicUnmuted: _mic_unmuted,
    ev.CameraTurnedOff: _camera_off,
    ev.CameraTurnedOn: _camera_on,
    ev.SpeakingAllowed: _speaking_allowed,
    ev.ChatSwitched: _chat_switched,
    ev.ChatPosted: _chat_posted,
    ev.HandRaised: _hand_raised,
    ev.HandLowered: _hand_lowered,
    ev.PupilCalledOn: _called_on,
    ev.ParentPresenceAttested: _parent_attested,
    ev.RecordingNoticeGiven: _recording_notice,
    ev.RecordingStarted: _recording_started,
    ev.RecordingStopped: _recording_stopped,
    ev.ScreenShareStarted: _screen_share_started,
    ev.ScreenShareStopped: _screen_share_stopped,
    ev.LogNoteAdded: _unchanged,
    ev.ConcernRaised: _concern_raised,
    ev.DslAlerted: _unchanged,
    ev.ParticipantLeft: _participant_left,
    ev.ConnectionDropped: _connection_dropped,
    ev.RoomHeld: _room_held,
    ev.RoomReleased: _room_released,
    ev.TimeWarning: _time_warning,
    ev.SessionEnded: _session_ended,
}

# Events that change when the clock next has something to do (the state's `wake_at`).
_TIMING: frozenset[type[ev.Event]] = frozenset(
    {
        ev.WaitingRoomOpened,
        ev.SessionStarted,
        ev.RoomHeld,
        ev.RoomReleased,
        ev.TimeWarning,
        ev.RecordingNoticeGiven,
        ev.RecordingStarted,
        ev.RecordingStopped,
        ev.SessionEnded,
    }
)
