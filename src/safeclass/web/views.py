"""What each role sees of a room: typed snapshots, built from the core's state for one viewer.

Staff see everything a teacher needs at a glance (who waits and whether they are expected, how
many adults are here against how many are required, time left, hands in order). A pupil sees
their own controls, the names of those in the room with them, and whether the lesson is on or
held; never the waiting list, removals, notes or concerns. Shapes are `extra="forbid"` models so
a field cannot reach a client by accident.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from safeclass.core import Participant, RoomState, Status
from safeclass.core import events as ev
from safeclass.core.events import to_dict


class _View(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SessionFacts(_View):
    id: str
    title: str
    phase: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    held: bool
    hold_reason: str | None
    chat_on: bool
    recording: str  # off | notice | on


class StaffFacts(_View):
    staff_present: int
    staff_required: int
    single_adult_fallback: bool


class Person(_View):
    id: str
    name: str
    role: str
    status: str
    connected: bool
    mic_on: bool
    mic_allowed: bool
    camera_on: bool
    camera_allowed: bool
    hand_raised_at: dt.datetime | None
    parent_present: bool


class ExpectedPupilView(_View):
    id: str
    name: str
    status: str  # not_joined | waiting | admitted | left | denied | removed
    consent: str


class StaffView(_View):
    kind: Literal["staff"] = "staff"
    you: str
    session: SessionFacts
    staffing: StaffFacts
    people: list[Person]
    waiting: list[str]
    hands: list[str]
    expected: list[ExpectedPupilView]


class Classmate(_View):
    name: str
    role: str
    mic_on: bool
    camera_on: bool
    hand_up: bool


class Me(_View):
    name: str
    status: str
    mic_on: bool
    mic_allowed: bool
    camera_on: bool
    camera_allowed: bool
    hand_up: bool
    parent_present: bool


class PupilView(_View):
    kind: Literal["pupil"] = "pupil"
    session: SessionFacts
    me: Me | None
    in_the_room: list[Classmate]


class Views:
    """The views of one room at one moment, built once and shared by every viewer.

    A publish after each command sends a view to every connection (30 pupils, each seeing 31
    others), so the parts that are the same for everyone (the session facts, the people in the
    room, the class list) are built once as plain JSON-ready dicts; each viewer's view only adds
    what is theirs. `StaffView` and `PupilView` above are the schema these dicts follow (a test
    validates them against it).
    """

    def __init__(self, state: RoomState, now: dt.datetime) -> None:
        self.state = state
        self.now = now
        self._facts: dict[str, Any] | None = None
        self._staff_common: dict[str, Any] | None = None
        self._classmates: list[tuple[str, dict[str, Any]]] | None = None

    def facts(self) -> dict[str, Any]:
        if self._facts is None:
            state = self.state
            self._facts = {
                "id": state.plan.session_id,
                "title": state.plan.title,
                "phase": state.phase.value,
                "starts_at": state.plan.starts_at.isoformat(),
                "ends_at": state.ends_at.isoformat(),
                "held": state.held,
                "hold_reason": state.hold_reason.value if state.hold_reason else None,
                "chat_on": state.chat_on,
                "recording": state.recording.value,
            }
        return self._facts

    def staff(self, viewer: str) -> dict[str, Any]:
        if self._staff_common is None:
            state = self.state
            expected = []
            for pupil in sorted(state.plan.expected.values(), key=lambda e: e.shown_name):
                here = state.participants.get(pupil.pupil_id)
                expected.append(
                    {
                        "id": pupil.pupil_id,
                        "name": pupil.shown_name,
                        "status": here.status.value if here else "not_joined",
                        "consent": pupil.consent.value,
                    }
                )
            self._staff_common = {
                "kind": "staff",
                "session": self.facts(),
                "staffing": {
                    "staff_present": state.staff_present(),
                    "staff_required": state.staff_required,
                    "single_adult_fallback": state.policy.staffing.single_adult_fallback,
                },
                "people": [_person(p) for p in state.participants.values()],
                "waiting": [p.id for p in state.waiting_pupils() if p.connected],
                "hands": [p.id for p in state.hand_queue()],
                "expected": expected,
            }
        return {**self._staff_common, "you": viewer}

    def pupil(self, viewer: str) -> dict[str, Any]:
        """A pupil's view; for a viewer not (or no longer) in the room, the session facts only."""
        me = self.state.participants.get(viewer) if viewer else None
        admitted = me is not None and me.status is Status.ADMITTED
        return {
            "kind": "pupil",
            "session": self.facts(),
            "me": _me(me) if me is not None else None,
            "in_the_room": [c for pid, c in self.classmates() if pid != viewer] if admitted else [],
        }

    def classmates(self) -> list[tuple[str, dict[str, Any]]]:
        if self._classmates is None:
            held = self.state.held
            self._classmates = [
                (
                    p.id,
                    {
                        "name": p.name,
                        "role": "staff" if p.is_staff else "pupil",
                        "mic_on": p.mic_on and not held,
                        "camera_on": p.camera_on and not held,
                        "hand_up": p.hand_raised_at is not None,
                    },
                )
                for p in self.state.participants.values()
                if p.status is Status.ADMITTED and p.connected
            ]
        return self._classmates


def _person(p: Participant) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "role": p.role.value,
        "status": p.status.value,
        "connected": p.connected,
        "mic_on": p.mic_on,
        "mic_allowed": p.mic_allowed,
        "camera_on": p.camera_on,
        "camera_allowed": p.camera_allowed,
        "hand_raised_at": p.hand_raised_at.isoformat() if p.hand_raised_at else None,
        "parent_present": p.parent_present,
    }


def _me(me: Participant) -> dict[str, Any]:
    return {
        "name": me.name,
        "status": me.status.value,
        "mic_on": me.mic_on,
        "mic_allowed": me.mic_allowed,
        "camera_on": me.camera_on,
        "camera_allowed": me.camera_allowed,
        "hand_up": me.hand_raised_at is not None,
        "parent_present": me.parent_present,
    }


def staff_view(state: RoomState, viewer: str, now: dt.datetime) -> StaffView:
    """The typed staff view (for tests and the API schema; the socket uses `Views`)."""
    return StaffView.model_validate(Views(state, now).staff(viewer))


def pupil_view(state: RoomState, viewer: str, now: dt.datetime) -> PupilView:
    """The typed pupil view (for tests and the API schema; the socket uses `Views`)."""
    return PupilView.model_validate(Views(state, now).pupil(viewer))


# Events every participant hears of (as notices), and events only about the viewer.
_FOR_EVERYONE = (
    ev.SessionStarted,
    ev.TimeWarning,
    ev.RecordingNoticeGiven,
    ev.RecordingStarted,
    ev.RecordingStopped,
    ev.RoomHeld,
    ev.RoomReleased,
    ev.ChatSwitched,
    ev.SessionEnded,
)
_ABOUT_A_PUPIL = (
    ev.MicMuted,
    ev.MicUnmuted,
    ev.CameraTurnedOff,
    ev.CameraTurnedOn,
    ev.SpeakingAllowed,
    ev.PupilCalledOn,
    ev.PupilAdmitted,
)


def pupil_event(event: ev.Event, viewer: str) -> dict[str, Any] | None:
    """The event as a pupil may see it, or None. Chat shows the sender's shown name only."""
    if isinstance(event, ev.ChatPosted):
        return {
            "type": "ChatPosted",
            "at": event.at.isoformat(),
            "number": event.number,
            "name": event.name,
            "text": event.text,
        }
    if isinstance(event, _FOR_EVERYONE):
        data = to_dict(event)
        if isinstance(event, ev.SessionEnded):
            data.pop("disconnected", None)
        return data
    if (
        isinstance(event, _ABOUT_A_PUPIL)
        and getattr(event, "target", getattr(event, "pupil", None)) == viewer
    ):
        data = to_dict(event)
        data.pop("by", None)
        return data
    return None


_STAFF_PRIVATE = (ev.ConcernRaised, ev.DslAlerted)
_OVERSIGHT_ROLES = frozenset({"dsl", "head"})


def staff_event(event: ev.Event, viewer: str, role: str) -> dict[str, Any] | None:
    """Staff see every event, except a concern's text (and an emergency end's note for the DSL)
    unless they wrote it or are DSL/head."""
    data = to_dict(event)
    if isinstance(event, _STAFF_PRIVATE) and event.by != viewer and role not in _OVERSIGHT_ROLES:
        data["summary" if isinstance(event, ev.ConcernRaised) else "note"] = ""
    return data
