"""What each role sees of a room: typed snapshots, built from the core's state for one viewer.

Staff see everything a teacher needs at a glance (who waits and whether they are expected, how
many adults are here against how many are required, time left, hands in order). A pupil sees
their own controls, the names of those in the room with them, and whether the lesson is on or
held; never the waiting list, removals, notes or concerns. Shapes are `extra="forbid"` models so
a field cannot reach a client by accident.

Everything a page needs to offer only what the room allows is here, so no page restates a rule:
what this viewer may do now and why not (`can`, `cannot`, from the room itself: actions.py), the
policy's expectations and whether they must be ticked (C18) and a parent's "I am in the room"
(C6), the time (the end, the warnings, when a noticed recording begins), why the room is held in
words for whoever reads them, and the public chat so far, so a page that reconnects loses
nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from safeclass.app import staff_roles
from safeclass.core import Participant, Role, RoomState, Status
from safeclass.core import events as ev
from safeclass.core.events import HoldReason, to_dict
from safeclass.core.state import RecordingState, SessionKind
from safeclass.policy.clauses import clause_for
from safeclass.policy.model import WithoutParent
from safeclass.web import actions


class _View(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Reason(_View):
    """Why the room would refuse an action now, as its refusal would say it to this viewer."""

    message: str
    clause: str


class Hold(_View):
    """Why pupils are held (media cut), in words for this viewer, and when a hold that goes on
    ends the session."""

    reason: str  # staff_below_minimum | parent_absent
    message: str
    clause: str
    ends_session_at: dt.datetime


class ScreenShare(_View):
    """Who is showing the room a screen (staff also get their id, to know if it is theirs)."""

    name: str
    by: str | None = None


class SessionFacts(_View):
    id: str
    title: str
    kind: str  # class | group | one_to_one
    phase: str
    opens_at: dt.datetime  # the waiting room opens
    starts_at: dt.datetime
    ends_at: dt.datetime
    warnings_minutes: list[int]  # "5 minutes left": minutes before ends_at, largest first
    held: bool
    hold_reason: str | None
    hold: Hold | None
    chat_on: bool
    recording: str  # off | notice | on
    recording_policy: str  # never | with_notice | one_to_one_exception
    recording_starts_at: dt.datetime | None  # when the notice ends and recording begins
    screen: ScreenShare | None  # a screen being shared now (its feed's `source` is "screen")


class Expectations(_View):
    """The school's expectations (C18) and the parent in a 1-to-1 (C6), before joining."""

    pupil: list[str]
    parent: list[str]
    must_tick: bool  # this viewer must tick them to join (`join`'s acknowledged_expectations)
    parent_in_room: str | None  # required | or_recorded | None (not asked)
    parent_note: str | None


class ChatLine(_View):
    number: int
    at: dt.datetime
    name: str
    text: str


class StaffChatLine(ChatLine):
    by: str


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
    may_take_part: bool  # the consent record lets them join under this school's basis (C17)


class StaffView(_View):
    kind: Literal["staff"] = "staff"
    you: str
    session: SessionFacts
    staffing: StaffFacts
    people: list[Person]
    waiting: list[str]
    hands: list[str]
    expected: list[ExpectedPupilView]
    other_devices: list[str]  # pupils waiting or in with their link also open on another device
    expectations: Expectations
    can: list[str]
    cannot: dict[str, Reason]
    can_for: dict[str, list[str]]
    chat: list[StaffChatLine] | None


class Classmate(_View):
    name: str
    role: str  # staff | pupil
    staff_role: str | None  # teacher | assistant | dsl | head, so a child knows their teacher
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
    expectations: Expectations | None  # until the pupil is in the room
    can: list[str]
    cannot: dict[str, Reason]
    chat: list[ChatLine] | None


class Views:
    """The views of one room at one moment, built once and shared by every viewer.

    A publish after each command sends a view to every connection (30 pupils, each seeing 31
    others), so the parts that are the same for everyone (the session facts, the people in the
    room, the class list, what staff may do to each pupil) are built once as plain JSON-ready
    dicts, and pupils in the same state share what they may do; each viewer's view only adds
    what is theirs. `StaffView` and `PupilView` above are the schema these dicts follow (a test
    validates them against it).

    `chat` is the public chat so far, for a page that has not got it yet (it connected, or it
    now may see the chat); a page that has it gets `None` and each new message as an event, so
    a room's chat is not sent again to everyone whenever anyone speaks.
    """

    def __init__(
        self,
        state: RoomState,
        now: dt.datetime,
        unrecordable: str | None = None,
        other_devices: frozenset[str] = frozenset(),
        no_video: str | None = None,
    ) -> None:
        """`unrecordable`: why this server cannot record the room (the runtime refuses
        recording then, whatever the policy allows), or None. `other_devices`: the pupils
        waiting or in the room whose link is also open on another device (a forwarded link, a
        second tablet: STJ-11), which only the room's connections know. `no_video`: why it
        cannot carry a shared screen (video is off), or None."""
        self.state = state
        self.now = now
        self.unrecordable = unrecordable
        self.other_devices = other_devices
        self.no_video = no_video
        self._facts: dict[bool, dict[str, Any]] = {}
        self._expectations: dict[bool, dict[str, Any]] = {}
        self._staff_common: dict[str, Any] | None = None
        self._classmates: list[tuple[str, dict[str, Any]]] | None = None
        self._chat: dict[bool, list[dict[str, Any]]] = {}
        self._can_for: dict[str, list[str]] | None = None
        self._pupil_can: dict[tuple[Any, ...], tuple[list[str], dict[str, Any]]] = {}
        self._staff_can: dict[tuple[Any, ...], tuple[list[str], dict[str, Any]]] = {}

    def facts(self, staff: bool = True) -> dict[str, Any]:
        """The session as this kind of viewer sees it (only a hold's words differ)."""
        if staff not in self._facts:
            state = self.state
            timing = state.policy.timing
            self._facts[staff] = {
                "id": state.plan.session_id,
                "title": state.plan.title,
                "kind": state.plan.kind.value,
                "phase": state.phase.value,
                "opens_at": state.opens_at.isoformat(),
                "starts_at": state.plan.starts_at.isoformat(),
                "ends_at": state.ends_at.isoformat(),
                "warnings_minutes": sorted(timing.warnings_minutes_before_end, reverse=True),
                "held": state.held,
                "hold_reason": state.hold_reason.value if state.hold_reason else None,
                "hold": _hold(state, staff),
                "chat_on": state.chat_on,
                "recording": state.recording.value,
                "recording_policy": state.policy.recording.mode.value,
                "recording_starts_at": (
                    state.recording_starts_at.isoformat()
                    if state.recording is not RecordingState.OFF and state.recording_starts_at
                    else None
                ),
                "screen": _screen(state, staff),
            }
        return self._facts[staff]

    def expectations(self, staff: bool) -> dict[str, Any]:
        if staff not in self._expectations:
            self._expectations[staff] = _expectations(self.state, must_tick=not staff)
        return self._expectations[staff]

    def chat(self, staff: bool) -> list[dict[str, Any]]:
        """The public chat so far (the room keeps the last 200); pupils see names, never ids."""
        if staff not in self._chat:
            lines = []
            for m in self.state.chat:
                line = {"number": m.number, "at": m.at.isoformat(), "name": m.name, "text": m.text}
                if staff:
                    line["by"] = m.by
                lines.append(line)
            self._chat[staff] = lines
        return self._chat[staff]

    def staff(self, viewer: str, with_chat: bool = True) -> dict[str, Any]:
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
                        "may_take_part": state.consent_allows(pupil),
                    }
                )
            self._staff_common = {
                "kind": "staff",
                "session": self.facts(staff=True),
                "staffing": {
                    "staff_present": state.staff_present(),
                    "staff_required": state.staff_required,
                    "single_adult_fallback": state.policy.staffing.single_adult_fallback,
                },
                "people": [_person(p) for p in state.participants.values()],
                "waiting": [p.id for p in state.waiting_pupils() if p.connected],
                "hands": [p.id for p in state.hand_queue()],
                "expected": expected,
                "other_devices": sorted(self.other_devices),
                "expectations": self.expectations(staff=True),
            }
        me = self.state.participants.get(viewer)
        present = me is not None and me.connected and me.status is Status.ADMITTED
        if me is not None and present:
            # staff alike in the room get the same answers (whoever shares the screen is not
            # offered to share it again)
            key = (*actions.situation(me), me.id == self.state.screen_sharer)
            if key not in self._staff_can:
                self._staff_can[key] = self._offer(me.role, actions.staff_own(self.state, me))
            can, cannot = self._staff_can[key]
            if self.unrecordable and "start_recording" in can:
                can = [a for a in can if a != "start_recording"]
                clause = clause_for(self.state.policy.school.key, "RECORDING")
                cannot = {
                    **cannot,
                    "start_recording": {"message": self.unrecordable, "clause": clause},
                }
            if self.no_video and "media_share" in can:  # the server refuses it (runtime.py)
                can = [a for a in can if a != "media_share"]
                clause = clause_for(self.state.policy.school.key, "ROLES")
                cannot = {**cannot, "media_share": {"message": self.no_video, "clause": clause}}
            can_for = self.can_for(me)
        else:
            role = me.role if me is not None else Role.TEACHER
            can, cannot = self._offer(role, actions.join(self.state, viewer, role))
            can_for = {}
        return {
            **self._staff_common,
            "you": viewer,
            "can": can,
            "cannot": cannot,
            "can_for": can_for,
            "chat": self.chat(staff=True) if with_chat else None,
        }

    def can_for(self, actor: Participant) -> dict[str, list[str]]:
        """What a member of staff in the room may do to each pupil now (the same for every
        member of staff there, so judged once, as the first who asks)."""
        if self._can_for is None:
            state = self.state
            alike: dict[tuple[Any, ...], list[str]] = {}
            out: dict[str, list[str]] = {}
            for p in state.participants.values():
                if p.role is not Role.PUPIL or p.status is Status.REMOVED:
                    continue
                key = actions.situation(p)
                if key not in alike:
                    alike[key], _ = self._offer(actor.role, actions.on_pupil(state, actor.id, p))
                out[p.id] = alike[key]
            self._can_for = out
        return self._can_for

    def pupil(self, viewer: str, bound: bool = True, with_chat: bool = True) -> dict[str, Any]:
        """A pupil's view. A device that is not the pupil's one in the room (`bound` false: not
        joined yet, or a second device) sees the session, the expectations and whether it may
        join, and nothing of the room."""
        me = self.state.participants.get(viewer) if viewer and bound else None
        admitted = me is not None and me.status is Status.ADMITTED
        if me is not None:
            key = actions.situation(me)
            if key not in self._pupil_can:
                self._pupil_can[key] = self._offer(Role.PUPIL, actions.pupil_own(self.state, me))
            can, cannot = self._pupil_can[key]
        elif viewer:
            can, cannot = self._offer(Role.PUPIL, actions.join(self.state, viewer, Role.PUPIL))
        else:
            can, cannot = [], {}
        return {
            "kind": "pupil",
            "session": self.facts(staff=False),
            "me": _me(me) if me is not None else None,
            "in_the_room": [c for pid, c in self.classmates() if pid != viewer] if admitted else [],
            # what the family ticks before joining; once in, the start's reminder is an event
            "expectations": None if admitted else self.expectations(staff=False),
            "can": can,
            "cannot": cannot,
            "chat": self.chat(staff=False) if with_chat and me is not None else None,
        }

    def _offer(
        self, role: Role, candidates: actions.Candidates
    ) -> tuple[list[str], dict[str, Any]]:
        return actions.offer(self.state, self.now, role, candidates)

    def classmates(self) -> list[tuple[str, dict[str, Any]]]:
        if self._classmates is None:
            held = self.state.held
            self._classmates = [
                (
                    p.id,
                    {
                        "name": p.name,
                        "role": "staff" if p.is_staff else "pupil",
                        "staff_role": p.role.value if p.is_staff else None,
                        "mic_on": p.mic_on and not held,
                        "camera_on": p.camera_on and not held,
                        "hand_up": p.hand_raised_at is not None,
                    },
                )
                for p in self.state.participants.values()
                if p.status is Status.ADMITTED and p.connected
            ]
        return self._classmates


def _hold(state: RoomState, staff: bool) -> dict[str, Any] | None:
    """Why pupils are held, in the numbers staff act on, or what a pupil is waiting for."""
    if not state.held or state.hold_reason is None or state.held_since is None:
        return None
    policy = state.policy
    limit = dt.timedelta(minutes=policy.staffing.hold_ends_session_after_minutes)
    if state.hold_reason is HoldReason.PARENT_ABSENT:
        clause = clause_for(policy.school.key, "ONE_TO_ONE")
        recorded = policy.one_to_one.without_parent is WithoutParent.RECORD_WITH_NOTICE
        if not staff:
            message = "Waiting for your parent or carer to be in the room with you."
        elif recorded:
            message = (
                "The pupil is held until a parent confirms they are in the room or the "
                "recording has started."
            )
        else:
            message = "The pupil is held until a parent confirms they are in the room."
    else:
        clause = clause_for(policy.school.key, "TWO_ADULTS")
        present, required = state.staff_present(), state.staff_required
        message = (
            f"Pupils are held until another adult joins: {present} of {required} required "
            "staff present."
            if staff
            else "Waiting for another adult to join."
        )
    return {
        "reason": state.hold_reason.value,
        "message": message,
        "clause": clause,
        "ends_session_at": (state.held_since + limit).isoformat(),
    }


def _screen(state: RoomState, staff: bool) -> dict[str, Any] | None:
    sharer = state.participants.get(state.screen_sharer or "")
    if sharer is None:
        return None
    return {"name": sharer.name, "by": sharer.id} if staff else {"name": sharer.name}


def _expectations(state: RoomState, must_tick: bool) -> dict[str, Any]:
    """The policy's expectations, and whether a parent must say they are in the room (C6)."""
    policy = state.policy
    rule = policy.one_to_one
    parent_in_room: str | None = None
    note: str | None = None
    if state.plan.kind is SessionKind.ONE_TO_ONE and rule.parent_must_be_present:
        if rule.without_parent is WithoutParent.RECORD_WITH_NOTICE:
            parent_in_room = "or_recorded"
            note = (
                "A parent or carer should stay in the room for the whole session. If nobody "
                "can, the session is recorded, you are told, and the school's safeguarding "
                "lead is alerted."
            )
        else:
            parent_in_room = "required"
            note = (
                "A parent or carer must stay in the room for the whole session: your child is "
                "let in only once you confirm you are in the room."
            )
    return {
        "pupil": list(policy.expectations.pupil),
        "parent": list(policy.expectations.parent),
        "must_tick": must_tick and policy.expectations.must_acknowledge,
        "parent_in_room": parent_in_room,
        "parent_note": note,
    }


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
    """The event as a pupil may see it, or None. Chat shows the sender's shown name only; an
    event about the pupil says whether they did it themselves (`by_you`), never who else did."""
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
        # never a member of staff's id; only whether the pupil did it themselves, so their page
        # does not say "your teacher has turned your microphone off" when they did
        data["by_you"] = data.pop("by", None) == viewer
        return data
    return None


_STAFF_PRIVATE = (ev.ConcernRaised, ev.DslAlerted)


def staff_event(event: ev.Event, viewer: str, role: str) -> dict[str, Any] | None:
    """Staff see every event, except a concern's text and its category (and an emergency end's
    note for the DSL) unless the one rule (`staff_roles.may_read_concern`) lets them read it:
    who raised it, about whom and when are always shown."""
    data = to_dict(event)
    if isinstance(event, _STAFF_PRIVATE) and not staff_roles.may_read_concern(
        role, is_author=event.by == viewer
    ):
        if isinstance(event, ev.ConcernRaised):
            data["summary"] = data["category"] = ""
        else:
            data["note"] = ""
    return data
