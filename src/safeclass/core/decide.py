"""`decide(state, command, now) -> events | Refusal`: every rule a live session must keep.

The room first lets the clock catch up to `now` (the waiting room opens, the time limit ends the
session), then judges the command against that state, then settles the room: if what happened
breaks the two-adult or parent rule, the same decision holds every pupil (media cut); if it
restores the rule, it releases them. Nothing here does I/O or reads the wall clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from safeclass.core import commands as cmd
from safeclass.core import events as ev
from safeclass.core.apply import apply, apply_all
from safeclass.core.names import claimed_name_matches
from safeclass.core.permissions import DOING, ROOM_COMMANDS, Who, may_send, rule_of
from safeclass.core.refusals import Refusal, RefusalCode, refuse
from safeclass.core.roles import IN_ROOM, STAFF_ROLES, Consent, Role, Status
from safeclass.core.safeguards import hold_reason, staffing_holds
from safeclass.core.state import Participant, Phase, RecordingState, RoomState
from safeclass.core.timers import due, end_all
from safeclass.policy.clauses import Rule
from safeclass.policy.model import (
    EntryState,
    ParentToldWhen,
    PupilCamera,
    RecordingMode,
    WithoutParent,
)

Decision = list[ev.Event] | Refusal


def decide(
    state: RoomState, command: cmd.Command, now: dt.datetime, device: str | None = None
) -> Decision:
    """The events that `command` at `now` causes, or why it is refused (nothing happens then).

    `device` is the device the command came from (a staff login, a pupil's pass); given, only
    the device a participant joined on may act for them. None: a caller that is not a device.
    """
    events, _, refusal = run(state, command, now, device)
    return refusal if refusal is not None else events


def decide_and_apply(
    state: RoomState, command: cmd.Command, now: dt.datetime, device: str | None = None
) -> tuple[list[ev.Event], RoomState] | Refusal:
    """`decide`, also returning the state after its events (saves the caller applying twice)."""
    events, after, refusal = run(state, command, now, device)
    return refusal if refusal is not None else (events, after)


def run(
    state: RoomState, command: cmd.Command, now: dt.datetime, device: str | None = None
) -> tuple[list[ev.Event], RoomState, Refusal | None]:
    """The clock's events and the command's, the state after them, and any refusal.

    On a refusal only the clock's events (which are due whatever the command) are returned, so
    a caller that keeps them never loses the end of a session behind a refused command.
    """
    events = due(state, now)
    current = apply_all(state, events)
    refusal: Refusal | None = None
    if not isinstance(command, cmd.Tick):
        result = _judge(current, command, now, device)
        if isinstance(result, Refusal):
            refusal = result
        else:
            for event in result:
                current = apply(current, event)
            events.extend(result)
    if (share_ended := _share_ended(current, now)) is not None:
        current = apply(current, share_ended)
        events.append(share_ended)
    if any(type(event) in SAFEGUARD_EVENTS for event in events):
        settled = _settle(current, now)
        if settled is not None:
            current = apply(current, settled)
            events.append(settled)
    return events, current, refusal


def judge(state: RoomState, command: cmd.Command, now: dt.datetime) -> Decision:
    """What `command` would do at `now`, without doing it: the command's own events (not
    applied, and without the clock's or the hold that may follow) or why it would be refused.

    This is how a page's buttons show what the room allows now instead of guessing: the same
    checks as `decide`, in the same order, for a command from the participant's own device.
    """
    events = due(state, now)
    current = apply_all(state, events) if events else state
    if isinstance(command, cmd.Tick):
        return []
    return _judge(current, command, now, None)


def _judge(
    current: RoomState, command: cmd.Command, now: dt.datetime, device: str | None
) -> Decision:
    """The command's events in a room whose clock has caught up to `now`, or its refusal."""
    if current.phase is Phase.ENDED:
        if isinstance(command, cmd.ConnectionLost | cmd.Leave):
            return []  # everyone was disconnected by the end: nothing is left to change
        rule = _ENDED_BY.get(current.end_reason, "DURATION") if current.end_reason else "DURATION"
        return _refuse(current, rule, "This session has ended", RefusalCode.ENDED)
    if (other := _from_another_device(current, command, device)) is not None:
        return other
    if (denied := _not_permitted(current, command)) is not None:
        return denied
    handler = _HANDLERS.get(type(command))
    if handler is None:
        name = type(command).__name__
        return Refusal(RefusalCode.INVALID, f"Unknown command {name}", "C22")
    return handler(current, command, now)


# Events after which the two-adult or parent rule may have changed: only these need a settle.
SAFEGUARD_EVENTS: frozenset[type[ev.Event]] = frozenset(
    {
        ev.StaffJoined,
        ev.PupilAdmitted,
        ev.PupilRemoved,
        ev.PupilWithdrawn,
        ev.ParticipantLeft,
        ev.ConnectionDropped,
        ev.ParentPresenceAttested,
        ev.RecordingStarted,
        ev.RecordingStopped,
        ev.PupilWaiting,
    }
)


def _settle(state: RoomState, now: dt.datetime) -> ev.Event | None:
    """Hold the room if a safeguard no longer holds; release it once it does again."""
    if state.phase is Phase.ENDED:
        return None
    reason = hold_reason(state)
    if reason is not None and (not state.held or state.hold_reason is not reason):
        return ev.RoomHeld(
            at=now,
            reason=reason,
            staff_present=state.staff_present(),
            staff_required=state.staff_required,
        )
    if reason is None and state.held:
        return ev.RoomReleased(at=now)
    return None


def _share_ended(state: RoomState, now: dt.datetime) -> ev.Event | None:
    """A screen share lasts only while its sharer is in the room: when they leave or their
    connection drops, the same decision ends it (the end of the session ends it too, in
    `SessionEnded` itself)."""
    sharer = state.screen_sharer
    if sharer is None or state.phase is Phase.ENDED or _present(state, sharer) is not None:
        return None
    return ev.ScreenShareStopped(at=now, sharer=sharer, by=sharer)


# -- helpers ------------------------------------------------------------------------------------

# What an ended session's refusal cites: the rule that ended it.
_ENDED_BY: dict[ev.EndReason, Rule] = {
    ev.EndReason.TIME_LIMIT: "DURATION",
    ev.EndReason.ENDED_BY_STAFF: "STAFF_LEAVE",  # the end for everyone at once (CLA-10, STJ-07)
    ev.EndReason.EMERGENCY: "EMERGENCY",
    ev.EndReason.HOLD_TIMEOUT: "TWO_ADULTS",
}

# Commands that name their device themselves (joining binds one; a lost connection names its
# own), and the clock's and the school's, which come from no device.
_DEVICE_FREE = (cmd.RequestToJoin, cmd.ConnectionLost, cmd.Tick, cmd.ChangeConsent)


# The table's rows the gate checks. The others' handlers know their own senders: the clock,
# the school's records, a lost connection; names are never changed by anyone; and a member of
# staff who raises a hand is told hands are for pupils (a slip, not an attempt to log).
_GATED = frozenset({Who.STAFF, Who.STAFF_OR_SELF, Who.PUPIL_DEVICE_OR_STAFF})


def _not_permitted(state: RoomState, command: cmd.Command) -> Refusal | None:
    """Why the actor's role may not send this command at all (the permissions table), or None.

    An actor not in the room is left to the handler, which says they are not here.
    """
    if ROOM_COMMANDS.get(type(command)) not in _GATED:
        return None
    actor = state.participants.get(command.actor)
    if actor is None or may_send(actor.role, command):
        return None
    return _only_staff(state, command)


def _from_another_device(
    state: RoomState, command: cmd.Command, device: str | None
) -> Refusal | None:
    """Why a command may not act for its actor from this device (STJ-11, WER-02), or None.

    A participant acts only from the device they joined on: a forwarded link's second device
    must not post chat under the pupil's name, raise their hand or leave for them.
    """
    if device is None or isinstance(command, _DEVICE_FREE):
        return None
    actor = state.participants.get(command.actor)
    if actor is None or actor.device == device:
        return None
    return _refuse(
        state,
        "ONE_DEVICE",
        f"{actor.name} is in the session on another device: only that device can act for them",
        RefusalCode.NOT_HERE,
    )


def _refuse(
    state: RoomState, rule: Rule, message: str, code: RefusalCode = RefusalCode.RULE
) -> Refusal:
    return refuse(state.policy, rule, message, code)


def _pupils(count: int) -> str:
    return f"{count} pupil" if count == 1 else f"{count} pupils"


def _local(state: RoomState, when: dt.datetime) -> str:
    return when.astimezone(ZoneInfo(state.policy.school.timezone)).strftime("%H:%M")


def _present(state: RoomState, pid: str) -> Participant | None:
    p = state.participants.get(pid)
    return p if p is not None and p.connected and p.status is Status.ADMITTED else None


def _staff(state: RoomState, command: cmd.Command) -> Participant | Refusal:
    """The actor, if they are a member of staff in the room; otherwise why not."""
    doing = DOING[type(command)]  # as the permissions table says it
    rule = rule_of(command)
    actor = state.participants.get(command.actor)
    if actor is None or not actor.connected or actor.status not in IN_ROOM:
        return _refuse(state, rule, f"Only staff in the session can {doing}", RefusalCode.NOT_HERE)
    if not actor.is_staff:
        return _only_staff(state, command)
    return actor


def _only_staff(state: RoomState, command: cmd.Command) -> Refusal:
    """The refusal for a participant whose role may not send this command (logged as an
    attempt): the permissions table's answer."""
    doing = DOING[type(command)]
    rule = rule_of(command)
    return _refuse(state, rule, f"Only staff can {doing}", RefusalCode.NOT_PERMITTED)


def _in_room(state: RoomState, command: cmd.Command) -> Participant | Refusal:
    """The actor, if they are in the room (admitted and connected); otherwise why not."""
    actor = _present(state, command.actor)
    if actor is None:
        waiting = state.participants.get(command.actor)
        if waiting is not None and waiting.connected and waiting.status is Status.WAITING:
            return _refuse(
                state,
                "WAITING_ROOM",
                "You can do that when your teacher has let you in",
                RefusalCode.NOT_HERE,
            )
        return _refuse(state, "WAITING_ROOM", "You are not in the session", RefusalCode.NOT_HERE)
    return actor


def _pupil_target(state: RoomState, pid: str, rule: Rule) -> Participant | Refusal:
    target = _present(state, pid)
    if target is None or target.role is not Role.PUPIL:
        return _refuse(state, rule, "That pupil is not in the session", RefusalCode.NOT_HERE)
    return target


def _held_refusal(state: RoomState, doing: str) -> Refusal:
    """Why staff cannot open a held pupil's media or post now: in the numbers staff act on."""
    staff, required = state.staff_present(), state.staff_required
    if state.hold_reason is ev.HoldReason.PARENT_ABSENT:
        return _refuse(state, "ONE_TO_ONE", f"Cannot {doing}: waiting for a parent to be present")
    return _refuse(
        state, "TWO_ADULTS", f"Cannot {doing}: {staff} of {required} required staff present"
    )


def _held_pupil_refusal(state: RoomState) -> Refusal:
    """Why a held pupil cannot speak, show their camera or post: what they are waiting for."""
    if state.hold_reason is ev.HoldReason.PARENT_ABSENT:
        return _refuse(
            state, "ONE_TO_ONE", "Please wait until your parent or carer is in the room with you"
        )
    return _refuse(state, "TWO_ADULTS", "Please wait for another adult to join")


# -- joining and leaving ------------------------------------------------------------------------


def _request_to_join(state: RoomState, c: cmd.RequestToJoin, now: dt.datetime) -> Decision:
    existing = state.participants.get(c.actor)
    if existing is not None and existing.connected and existing.status in IN_ROOM:
        if existing.device == c.device:
            return []  # the same device asking again: nothing changes
        if c.role is not Role.PUPIL or state.policy.identity.one_device_per_pupil:
            return _refuse(
                state,
                "ONE_DEVICE",
                f"{existing.name} is already connected on another device; close it first",
            )
    if c.role in STAFF_ROLES:
        # A pupil's id is never staff, whether or not they have joined yet (C5, C21).
        if c.actor in state.plan.expected or (existing is not None and existing.role is Role.PUPIL):
            return _refuse(
                state, "ROLES", "A pupil cannot join as staff", RefusalCode.NOT_PERMITTED
            )
        name = " ".join(c.staff_name.split()) or c.actor
        return [ev.StaffJoined(at=now, staff=c.actor, role=c.role, name=name, device=c.device)]
    return _pupil_joins(state, c, now)


def _pupil_joins(state: RoomState, c: cmd.RequestToJoin, now: dt.datetime) -> Decision:
    expected = state.plan.expected.get(c.actor)
    if expected is None:
        return _refuse(state, "CLASS_LIST", "Not on the class list — cannot be admitted")
    if c.actor in state.removed:
        return _refuse(
            state,
            "REMOVAL",
            f"{expected.shown_name} was removed from this session and cannot rejoin it",
        )
    if not state.consent_allows(expected):
        name = expected.shown_name
        return _refuse(
            state,
            "CONSENT",
            f"{name} is not taking part in live sessions: their family has said no"
            if expected.consent is Consent.REFUSED
            else f"{name} is not taking part in live sessions (no consent on record)",
        )
    if c.shown_name is not None and not claimed_name_matches(
        c.shown_name, expected.forename, expected.surname, expected.shown_name
    ):
        return _refuse(
            state,
            "NAME",
            "Cannot join with that name: this link is for the name on the class list, "
            f"shown as {expected.shown_name}",
        )
    if state.phase is Phase.SCHEDULED:
        return _refuse(
            state, "WAITING_ROOM", f"The waiting room opens at {_local(state, state.opens_at)}"
        )
    if state.policy.expectations.must_acknowledge and not c.acknowledged_expectations:
        return _refuse(state, "EXPECTATIONS", "Please read and tick the expectations first")
    return [
        ev.PupilWaiting(
            at=now,
            pupil=c.actor,
            name=expected.shown_name,
            device=c.device,
            parent_present=c.parent_present,
        )
    ]


def _leave(state: RoomState, c: cmd.Leave, now: dt.datetime) -> Decision:
    actor = state.participants.get(c.actor)
    if actor is None or not actor.connected:
        return []
    if actor.is_staff and not state.policy.staffing.staff_may_leave_pupils:
        pupils = len(state.admitted_pupils())
        staff_after = state.staff_present() - (1 if actor.status is Status.ADMITTED else 0)
        if pupils and not staffing_holds(state, staff_after, pupils):
            return _refuse(
                state,
                "STAFF_LEAVE",
                f"You cannot leave yet: {_pupils(pupils)} would be left with {staff_after} of "
                f"{state.staff_required} required staff; end the session for everyone instead",
            )
    return [ev.ParticipantLeft(at=now, participant=c.actor)]


def _change_consent(state: RoomState, c: cmd.ChangeConsent, now: dt.datetime) -> Decision:
    """The school's consent register changed (CRO-16, C17): an opted-out pupil already waiting
    or in the room is taken out at once, and cannot join again unless consent is given."""
    if c.actor != cmd.SCHOOL:
        return _refuse(
            state,
            "CONSENT",
            "Only the school's records can change consent",
            RefusalCode.NOT_PERMITTED,
        )
    expected = state.plan.expected.get(c.pupil)
    if expected is None or expected.consent is c.consent:
        return []
    changed = ev.ConsentChanged(at=now, pupil=c.pupil, consent=c.consent, source=c.source)
    events: list[ev.Event] = [changed]
    here = state.participants.get(c.pupil)
    after = apply(state, changed)
    if (
        here is not None
        and here.status in (Status.WAITING, Status.ADMITTED)
        and not after.consent_allows(after.plan.expected[c.pupil])
    ):
        events.append(ev.PupilWithdrawn(at=now, pupil=c.pupil, reason="consent"))
    return events


def _connection_lost(state: RoomState, c: cmd.ConnectionLost, now: dt.datetime) -> Decision:
    actor = state.participants.get(c.actor)
    if actor is None or not actor.connected or actor.device != c.device:
        return []  # a stale drop from a device that is no longer the participant's
    return [ev.ConnectionDropped(at=now, participant=c.actor)]


# -- admission ----------------------------------------------------------------------------------


def _admit(state: RoomState, c: cmd.Admit, now: dt.datetime) -> Decision:
    staff = _staff(state, c)
    if isinstance(staff, Refusal):
        return staff
    if not c.pupils:
        return _refuse(state, "WAITING_ROOM", "Choose who to admit", RefusalCode.INVALID)
    pupils: list[Participant] = []
    for pid in dict.fromkeys(c.pupils):
        if pid in state.removed:
            name = state.participants[pid].name
            return _refuse(state, "REMOVAL", f"Cannot admit {name}: removed from this session")
        if pid not in state.plan.expected:
            return _refuse(state, "CLASS_LIST", "Only pupils on the class list can be admitted")
        waiting = state.participants.get(pid)
        if waiting is None or waiting.status is not Status.WAITING or not waiting.connected:
            return _refuse(
                state, "WAITING_ROOM", "That pupil is not in the waiting room", RefusalCode.NOT_HERE
            )
        refusal = _parent_rule_for(state, waiting)
        if refusal is not None:
            return refusal
        pupils.append(waiting)
    names = ", ".join(p.name for p in pupils)
    staff_now = state.staff_present()
    pupils_after = len(state.admitted_pupils()) + len(pupils)
    if not staffing_holds(state, staff_now, pupils_after):
        fallback = state.policy.staffing.single_adult_fallback and not state.is_one_to_one
        if fallback and staff_now == 1:
            return _refuse(
                state,
                "SINGLE_ADULT",
                f"Cannot admit {names} alone: with one adult present, pupils are admitted "
                "two or more at a time",
            )
        return _refuse(
            state,
            "TWO_ADULTS",
            f"Cannot admit {names}: {staff_now} of {state.staff_required} required staff present",
        )
    return [_admitted(state, p, staff.id, now) for p in pupils]


def _admitted(state: RoomState, pupil: Participant, by: str, now: dt.datetime) -> ev.Event:
    entry = state.policy.entry
    camera_allowed = entry.pupil_camera is not PupilCamera.TEACHER_DECIDES
    return ev.PupilAdmitted(
        at=now,
        pupil=pupil.id,
        by=by,
        mic_on=entry.mic_on_entry is EntryState.ON,
        camera_on=entry.camera_on_entry is EntryState.ON,
        camera_allowed=camera_allowed,
    )


def _parent_rule_for(state: RoomState, pupil: Participant) -> Refusal | None:
    rule = state.policy.one_to_one
    if not state.is_one_to_one or not rule.parent_must_be_present or pupil.parent_present:
        return None
    if rule.without_parent is WithoutParent.REFUSE:
        return _refuse(
            state,
            "ONE_TO_ONE",
            f"Cannot admit {pupil.name}: a parent has not confirmed they are in the room",
        )
    if state.recording is not RecordingState.ON:
        return _refuse(
            state,
            "ONE_TO_ONE",
            f"Cannot admit {pupil.name} without a parent in the room until the recording has "
            "started: start recording (the parent is told and the DSL alerted)",
        )
    return None


def _admit_all(state: RoomState, c: cmd.AdmitAllExpected, now: dt.datetime) -> Decision:
    staff = _staff(state, c)
    if isinstance(staff, Refusal):
        return staff
    waiting = tuple(sorted(p.id for p in state.waiting_pupils() if p.connected))
    if not waiting:
        return _refuse(state, "WAITING_ROOM", "Nobody is waiting", RefusalCode.NOT_HERE)
    return _admit(state, cmd.Admit(actor=c.actor, pupils=waiting), now)


def _deny(state: RoomState, c: cmd.Deny, now: dt.datetime) -> Decision:
    staff = _staff(state, c)
    if isinstance(staff, Refusal):
        return staff
    waiting = state.participants.get(c.pupil)
    if waiting is None or waiting.status is not Status.WAITING:
        return _refuse(
            state, "WAITING_ROOM", "That pupil is not in the waiting room", RefusalCode.NOT_HERE
        )
    return [ev.PupilDenied(at=now, pupil=c.pupil, by=staff.id)]


def _remove(state: RoomState, c: cmd.Remove, now: dt.datetime) -> Decision:
    staff = _staff(state, c)
    if isinstance(staff, Refusal):
        return staff
    target = state.participants.get(c.pupil)
    if target is None or target.role is not Role.PUPIL:
        return _refuse(state, "REMOVAL", "That pupil is not in the session", RefusalCode.NOT_HERE)
    if target.status is Status.REMOVED:
        return []
    reason = " ".join(c.reason.split())[:500]
    told_at_end = state.policy.removal.parent_told is ParentToldWhen.END_OF_SESSION
    return [
        ev.PupilRemoved(at=now, pupil=c.pupil, by=staff.id, reason=reason),
        ev.ParentNoticeQueued(
            at=now, pupil=c.pupil, reason=ev.NoticeReason.REMOVED, send_at_end=told_at_end
        ),
    ]


# -- mics, cameras, hands ----------------------------------------------------------------------


def _controls(
    state: RoomState, c: cmd.Command, target: str
) -> tuple[Participant, Participant] | Refusal:
    """(who acts, whose mic or camera): a participant on their own, or staff on a pupil's."""
    if target == c.actor:
        actor = _in_room(state, c)
        return actor if isinstance(actor, Refusal) else (actor, actor)
    staff = _staff(state, c)
    if isinstance(staff, Refusal):
        return staff
    pupil = _pupil_target(state, target, rule_of(c))
    return pupil if isinstance(pupil, Refusal) else (staff, pupil)


def _mute(state: RoomState, c: cmd.MuteMic, now: dt.datetime) -> Decision:
    who = _controls(state, c, c.target)
    if isinstance(who, Refusal):
        return who
    actor, target = who
    # a pupil muting themselves keeps their permission to speak; staff muting them removes it
    if not target.mic_on and (actor is target or not target.mic_allowed):
        return []
    return [ev.MicMuted(at=now, target=c.target, by=actor.id)]


def _unmute(state: RoomState, c: cmd.UnmuteMic, now: dt.datetime) -> Decision:
    who = _controls(state, c, c.target)
    if isinstance(who, Refusal):
        return who
    actor, target = who
    if actor is target and not (
        actor.is_staff or actor.mic_allowed or state.policy.entry.pupils_may_unmute_themselves
    ):
        return _refuse(state, "MUTE", "You can speak when your teacher lets you")
    if state.held and not target.is_staff:
        if actor is target:
            return _held_pupil_refusal(state)
        return _held_refusal(state, f"unmute {target.name}")
    return [] if target.mic_on else [ev.MicUnmuted(at=now, target=c.target, by=actor.id)]


def _camera_off(state: RoomState, c: cmd.CameraOff, now: dt.datetime) -> Decision:
    who = _controls(state, c, c.target)
    if isinstance(who, Refusal):
        return who
    actor, target = who
    if not target.camera_on and (actor is target or not target.camera_allowed):
        return []
    events: list[ev.Event] = [ev.CameraTurnedOff(at=now, target=c.target, by=actor.id)]
    removal = state.policy.removal
    if actor is not target and removal.tell_parent_when_camera_turned_off:
        events.append(
            ev.ParentNoticeQueued(
                at=now,
                pupil=c.target,
                reason=ev.NoticeReason.CAMERA_TURNED_OFF,
                send_at_end=removal.parent_told is ParentToldWhen.END_OF_SESSION,
            )
        )
    return events


def _camera_on(state: RoomState, c: cmd.CameraOn, now: dt.datetime) -> Decision:
    who = _controls(state, c, c.target)
    if isinstance(who, Refusal):
        return who
    actor, target = who
    choice = state.policy.entry.pupil_camera is PupilCamera.PUPIL_CHOICE
    if actor is target and not (actor.is_staff or actor.camera_allowed or choice):
        return _refuse(state, "CAMERA", "You can turn your camera on when your teacher says")
    if state.held and not target.is_staff:
        if actor is target:
            return _held_pupil_refusal(state)
        return _held_refusal(state, f"turn on {target.name}'s camera")
    return [] if target.camera_on else [ev.CameraTurnedOn(at=now, target=c.target, by=actor.id)]


def _allow_to_speak(state: RoomState, c: cmd.AllowToSpeak, now: dt.datetime) -> Decision:
    staff = _staff(state, c)
    if isinstance(staff, Refusal):
        return staff
    target = _pupil_target(state, c.pupil, "MUTE")
    if isinstance(target, Refusal):
        return target
    return [] if target.mic_allowed else [ev.SpeakingAllowed(at=now, pupil=c.pupil, by=staff.id)]


def _raise_hand(state: RoomState, c: cmd.RaiseHand, now: dt.datetime) -> Decision:
    actor = _in_room(state, c)
    if isinstance(actor, Refusal):
        return actor
    if actor.is_staff:
        return _refuse(state, "HANDS", "Hands are for pupils", RefusalCode.INVALID)
    return [] if actor.hand_raised_at else [ev.HandRaised(at=now, pupil=actor.id)]


def _lower_hand(state: RoomState, c: cmd.LowerHand, now: dt.datetime) -> Decision:
    if c.pupil == c.actor:
        actor = _in_room(state, c)
        if isinstance(actor, Refusal):
            return actor
        if actor.is_staff:
            return _refuse(state, "HANDS", "Hands are for pupils", RefusalCode.INVALID)
    else:
        staff = _staff(state, c)
        if isinstance(staff, Refusal):
            return staff
    target = _pupil_target(state, c.pupil, "HANDS")
    if isinstance(target, Refusal):
        return target
    if target.hand_raised_at is None:
        return []
    return [ev.HandLowered(at=now, pupil=c.pupil, by=c.actor)]


def _call_on(state: RoomState, c: cmd.CallOn, now: dt.datetime) -> Decision:
    staff = _staff(state, c)
    if isinstance(staff, Refusal):
        return staff
    target = _pupil_target(state, c.pupil, "HANDS")
    if isinstance(target, Refusal):
        return target
    return [ev.PupilCalledOn(at=now, pupil=c.pupil, by=staff.id)]


# -- chat -------------------------------------------------------------------------------------


def _set_chat(state: RoomState, c: cmd.SetChat, now: dt.datetime) -> Decision:
    staff = _staff(state, c)
    if isinstance(staff, Refusal):
        return staff
    return [] if state.chat_on == c.on else [ev.ChatSwitched(at=now, on=c.on, by=staff.id)]


def _post_chat(state: RoomState, c: cmd.PostChat, now: dt.datetime) -> Decision:
    actor = _in_room(state, c)
    if isinstance(actor, Refusal):
        return actor
    if not state.chat_on:
        if actor.is_staff:
            return _refuse(state, "CHAT", "The chat is off: switch it on to send a message")
        return _refuse(state, "CHAT", "The chat is off until your teacher switches it on")
    if state.held:
        if actor.is_staff:
            return _held_refusal(state, "send messages")
        return _held_pupil_refusal(state)
    text = " ".join(c.text.split())
    limit = state.policy.chat.max_message_chars
    if not text:
        return _refuse(state, "CHAT", "The message is empty", RefusalCode.INVALID)
    if len(text) > limit:
        return _refuse(
            state, "CHAT", f"The message is too long (at most {limit} letters)", RefusalCode.INVALID
        )
    number = state.chat_count + 1
    return [ev.ChatPosted(at=now, number=number, by=actor.id, name=actor.name, text=text)]


# -- 1-to-1 parents and recording ----------------------------------------------------------------


def _attest_parent(state: RoomState, c: cmd.AttestParentPresent, now: dt.datetime) -> Decision:
    if c.pupil != c.actor:
        staff = _staff(state, c)
        if isinstance(staff, Refusal):
            return staff
    target = state.participants.get(c.pupil)
    if c.pupil == c.actor and target is not None and target.is_staff:
        return _refuse(
            state,
            "ONE_TO_ONE",
            "Choose the pupil whose parent is in the room",
            RefusalCode.INVALID,
        )
    if c.pupil == c.actor and (target is None or target.status not in IN_ROOM):
        return _refuse(state, "ONE_TO_ONE", "You are not in the session", RefusalCode.NOT_HERE)
    if target is None or target.role is not Role.PUPIL or target.status not in IN_ROOM:
        return _refuse(state, "ONE_TO_ONE", "That pupil is not here", RefusalCode.NOT_HERE)
    if target.parent_present == c.present:
        return []
    return [ev.ParentPresenceAttested(at=now, pupil=c.pupil, present=c.present, by=c.actor)]


def _start_recording(state: RoomState, c: cmd.StartRecording, now: dt.datetime) -> Decision:
    staff = _staff(state, c)
    if isinstance(staff, Refusal):
        return staff
    mode = state.policy.recording.mode
    if mode is RecordingMode.NEVER:
        return _refuse(state, "RECORDING", "Recording is switched off in this school's policy")
    exception = mode is RecordingMode.ONE_TO_ONE_EXCEPTION
    pupil = None
    if exception:
        in_need = [
            p
            for p in state.participants.values()
            if p.role is Role.PUPIL and p.status in IN_ROOM and not p.parent_present
        ]
        if not state.is_one_to_one or not in_need:
            return _refuse(
                state,
                "RECORDING",
                "Recording is only allowed for a 1-to-1 session without a parent in the room",
            )
        pupil = in_need[0].id
    if state.recording is not RecordingState.OFF:
        return []
    starts_at = now + dt.timedelta(seconds=state.policy.recording.notice_seconds)
    events: list[ev.Event] = [
        ev.RecordingNoticeGiven(
            at=now, by=staff.id, starts_at=starts_at, one_to_one_exception=exception
        )
    ]
    if pupil is not None:
        events.append(
            ev.ParentNoticeQueued(
                at=now, pupil=pupil, reason=ev.NoticeReason.RECORDED, send_at_end=False
            )
        )
        events.append(
            ev.DslAlerted(
                at=now, reason=ev.AlertReason.ONE_TO_ONE_RECORDED, by=staff.id, pupil=pupil
            )
        )
    if starts_at <= now:
        events.append(ev.RecordingStarted(at=now))
    return events


def _stop_recording(state: RoomState, c: cmd.StopRecording, now: dt.datetime) -> Decision:
    staff = _staff(state, c)
    if isinstance(staff, Refusal):
        return staff
    if state.recording is RecordingState.OFF:
        return []
    return [ev.RecordingStopped(at=now, by=staff.id)]


# -- screen sharing -------------------------------------------------------------------------------


def _share_screen(state: RoomState, c: cmd.ShareScreen, now: dt.datetime) -> Decision:
    staff = _staff(state, c)
    if isinstance(staff, Refusal):
        return staff
    sharer = state.screen_sharer
    if sharer == staff.id:
        return []  # sharing already: a new offer for the same share (after a reconnection)
    if sharer is not None:
        name = state.participants[sharer].name
        return _refuse(
            state,
            "ROLES",
            f"{name} is sharing a screen: one screen at a time, so stop theirs first",
        )
    return [ev.ScreenShareStarted(at=now, sharer=staff.id)]


def _stop_sharing(state: RoomState, c: cmd.StopSharing, now: dt.datetime) -> Decision:
    staff = _staff(state, c)
    if isinstance(staff, Refusal):
        return staff
    sharer = state.screen_sharer
    if sharer is None or (c.only is not None and c.only != sharer):
        return []
    return [ev.ScreenShareStopped(at=now, sharer=sharer, by=staff.id)]


# -- the log, concerns, names --------------------------------------------------------------------


def _add_note(state: RoomState, c: cmd.AddLogNote, now: dt.datetime) -> Decision:
    staff = _staff(state, c)
    if isinstance(staff, Refusal):
        return staff
    if c.kind is cmd.NoteKind.RESOURCE:  # the room's own record of what was on offer
        return _refuse(
            state, "LOG", "Things for the lesson are added on its page", RefusalCode.INVALID
        )
    text = c.text.strip()
    if not text or len(text) > 2000:
        return _refuse(state, "LOG", "A note needs 1 to 2000 characters", RefusalCode.INVALID)
    return [ev.LogNoteAdded(at=now, kind=c.kind, by=staff.id, text=text, pupil=c.pupil)]


def _raise_concern(state: RoomState, c: cmd.RaiseConcern, now: dt.datetime) -> Decision:
    staff = _staff(state, c)
    if isinstance(staff, Refusal):
        return staff
    summary = c.summary.strip()
    if not summary or len(summary) > 4000:
        return _refuse(
            state, "CONCERN", "Describe what you saw (up to 4000 characters)", RefusalCode.INVALID
        )
    pupils = tuple(dict.fromkeys(c.pupils or ((c.pupil,) if c.pupil is not None else ())))
    if any(p not in state.plan.expected for p in pupils):
        return _refuse(state, "CONCERN", "That pupil is not on this session's list")
    category = c.category.strip()
    if category and category not in state.policy.concerns.categories:
        return _refuse(
            state, "CONCERN", "Choose one of the school's categories", RefusalCode.INVALID
        )
    if c.happened_at is not None and c.happened_at > now:
        return _refuse(
            state, "CONCERN", "When it happened cannot be in the future", RefusalCode.INVALID
        )
    happened = c.happened_at if c.happened_at is not None and c.happened_at < now else None
    first = pupils[0] if pupils else None
    number = state.concern_count + 1
    return [
        ev.ConcernRaised(
            at=now,
            number=number,
            by=staff.id,
            summary=summary,
            pupil=first,
            category=category,
            pupils=pupils,
            happened_at=happened,
        ),
        ev.DslAlerted(at=now, reason=ev.AlertReason.CONCERN, by=staff.id, pupil=first),
    ]


def _rename(state: RoomState, c: cmd.Rename, now: dt.datetime) -> Decision:
    actor = state.participants.get(c.actor)
    if actor is not None and actor.is_staff:
        return _refuse(
            state,
            "ROLES",
            "Your name comes from your school account and cannot be changed",
            RefusalCode.NOT_PERMITTED,
        )
    return _refuse(
        state,
        "NAME",
        "Your name comes from the class list and cannot be changed",
        RefusalCode.NOT_PERMITTED,
    )


# -- the end ------------------------------------------------------------------------------------


def _end(state: RoomState, c: cmd.EndSession, now: dt.datetime) -> Decision:
    staff = _staff(state, c)
    if isinstance(staff, Refusal):
        return staff
    return [end_all(state, now, ev.EndReason.ENDED_BY_STAFF, by=staff.id)]


def _emergency_end(state: RoomState, c: cmd.EmergencyEnd, now: dt.datetime) -> Decision:
    staff = _staff(state, c)
    if isinstance(staff, Refusal):
        return staff
    # The alert comes first: once the session has ended, nothing more happens in it (invariant 3).
    note = c.note.strip()[:2000]  # a note never stops the end: one too long is cut, not refused
    return [
        ev.DslAlerted(at=now, reason=ev.AlertReason.EMERGENCY_END, by=staff.id, note=note),
        end_all(state, now, ev.EndReason.EMERGENCY, by=staff.id),
    ]


_HANDLERS: dict[type[cmd.Command], Callable[[RoomState, Any, dt.datetime], Decision]] = {
    cmd.RequestToJoin: _request_to_join,
    cmd.Admit: _admit,
    cmd.AdmitAllExpected: _admit_all,
    cmd.Deny: _deny,
    cmd.Remove: _remove,
    cmd.MuteMic: _mute,
    cmd.UnmuteMic: _unmute,
    cmd.CameraOff: _camera_off,
    cmd.CameraOn: _camera_on,
    cmd.AllowToSpeak: _allow_to_speak,
    cmd.SetChat: _set_chat,
    cmd.PostChat: _post_chat,
    cmd.RaiseHand: _raise_hand,
    cmd.LowerHand: _lower_hand,
    cmd.CallOn: _call_on,
    cmd.AttestParentPresent: _attest_parent,
    cmd.StartRecording: _start_recording,
    cmd.StopRecording: _stop_recording,
    cmd.ShareScreen: _share_screen,
    cmd.StopSharing: _stop_sharing,
    cmd.AddLogNote: _add_note,
    cmd.RaiseConcern: _raise_concern,
    cmd.Rename: _rename,
    cmd.Leave: _leave,
    cmd.ConnectionLost: _connection_lost,
    cmd.ChangeConsent: _change_consent,
    cmd.EndSession: _end,
    cmd.EmergencyEnd: _emergency_end,
}
