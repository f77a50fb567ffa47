"""Property-based tests: random command sequences against each preset's room keep every invariant.

One hypothesis state machine per seed preset drives random commands from random actors (staff,
pupils trying staff commands, a stranger, ids on no list) through `safeclass.core.step`, moving
a clock that never goes backwards, and after every step checks:

- the six room invariants of DESIGN.md: `violations(state)` and, for each event,
  `transition_violations(before, event, after)`;
- that a refused command changes nothing but what the clock would have done anyway;
- that replaying the log (through its stored JSON) from the new room rebuilds the live state;
- that once the clock has caught up to `now`, `next_deadline` is ahead of it;
- what the invariants imply for a step's events: pupils act only on themselves, no pupil media
  opens during a hold, an admission never lands in a held room, pupils wait only once the
  waiting room is open and with consent, a stale drop notice disconnects nobody, and staff
  cannot leave pupils behind.

SAFECLASS_HYPOTHESIS_EXAMPLES sets how many command sequences each preset gets (default 1000).
A failure prints the shrunk sequence of rules and draws; replay it as a `Driver` test.
"""

# covers: invariant 1 (C5, C6: CLA-02, S04-11, STJ-06, CRO-04, WER-09, WER-10, S04-09),
# 2 (C4: CLA-15, WER-05, CRO-11, CRO-15, S04-05), 3 (C11, C12: CLA-06, CLA-10, STJ-07, WER-14,
# S04-19), 4 (C13: CLA-09, STJ-09, WER-08, WER-10, S04-10), 5 (C10: STJ-06, S04-16, CLA-08),
# 6 (C7, C8: CLA-05, CLA-13, CRO-12, CRO-13, WER-06, S04-06)

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import unittest
from collections.abc import Iterable
from typing import Any, ClassVar, TypeVar, cast

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from safeclass.core import (
    Consent,
    Event,
    Phase,
    RefusalCode,
    Role,
    RoomState,
    SessionKind,
    Status,
    apply,
    apply_all,
    next_deadline,
    step,
    transition_violations,
    violations,
)
from safeclass.core import commands as c
from safeclass.core import events as ev
from safeclass.core.events import from_dict, to_dict
from safeclass.policy import Policy, load_preset
from safeclass.policy.model import RecordingMode
from tests.support.rooms import START, class_list, make_room

T = TypeVar("T")

EXAMPLES = int(os.environ.get("SAFECLASS_HYPOTHESIS_EXAMPLES", "1000"))
STEPS = 40
REPLAY_EVERY = 10  # steps between full replays of the log (and always at teardown)
# Ending the session (by staff or the clock jumping past the end) is held back for the first
# rules of a run, so most runs build a full room before it closes; a short plan or a few
# minutes' moves can still end it earlier.
ENDING_ALLOWED_AFTER = 20

STAFF: dict[str, Role] = {"t1": Role.TEACHER, "t2": Role.ASSISTANT, "t3": Role.DSL}
PUPILS = ("p1", "p2", "p3", "p4", "p5", "p6")
STRANGER = "x9"  # has a connection but is on no list and no staff account
EVERYONE = (*STAFF, *PUPILS, STRANGER)
CLASS_SIZE = {SessionKind.CLASS: 6, SessionKind.GROUP: 3, SessionKind.ONE_TO_ONE: 1}
# The pupil whose parents refused consent (C17): the last on a class or group list.
CONSENT_REFUSED = {SessionKind.CLASS: "p6", SessionKind.GROUP: "p3"}

CHAT_TEXTS = ("Hello!", "  what   page?  ", "", "   ", "x" * 300, "y" * 301)
NOTE_TEXTS = ("Agenda: fractions", "  Leo was kind  ", "", "z" * 2001)
CONCERN_TEXTS = ("Bruise on arm seen on camera", "", "  ", "c" * 4001)
CLAIMED_NAMES = ("Spider Man", "", "Mr Teacher", "Amelia")

# The only events a pupil's own command may cause, each about that pupil.
SELF_SERVICE = (
    ev.MicMuted,
    ev.MicUnmuted,
    ev.CameraTurnedOff,
    ev.CameraTurnedOn,
    ev.HandLowered,
    ev.ParentPresenceAttested,
    ev.ChatPosted,
)

# Every command the machine below issues: a new command in commands.py fails the coverage test
# until a rule drives it.
COVERED_COMMANDS = frozenset(
    {
        c.RequestToJoin,
        c.Admit,
        c.AdmitAllExpected,
        c.Deny,
        c.Remove,
        c.MuteMic,
        c.UnmuteMic,
        c.CameraOff,
        c.CameraOn,
        c.AllowToSpeak,
        c.SetChat,
        c.PostChat,
        c.RaiseHand,
        c.LowerHand,
        c.CallOn,
        c.AttestParentPresent,
        c.StartRecording,
        c.StopRecording,
        c.ShareScreen,
        c.StopSharing,
        c.AddLogNote,
        c.RaiseConcern,
        c.Rename,
        c.Leave,
        c.ConnectionLost,
        c.ChangeConsent,
        c.Tick,
        c.EndSession,
        c.EmergencyEnd,
    }
)


@functools.cache
def _policy(preset: str) -> Policy:
    return load_preset(preset)


# Strategies are built once and reused: building them on every draw costs more than the room.
@functools.cache
def _sampled(options: tuple[object, ...]) -> st.SearchStrategy[Any]:
    return st.sampled_from(options)


def _pick(options: tuple[T, ...]) -> st.SearchStrategy[T]:
    return cast("st.SearchStrategy[T]", _sampled(options))


@functools.cache
def _upto(high: int) -> st.SearchStrategy[int]:
    return st.integers(0, high)


@functools.cache
def _shuffled(options: tuple[str, ...]) -> st.SearchStrategy[list[str]]:
    return st.permutations(options)


_BOOLEANS = st.booleans()


def _role_of(pid: str) -> Role:
    """The role the server's own authentication gives each connection (never the client's)."""
    return STAFF.get(pid, Role.PUPIL)


def _devices_of(pid: str) -> tuple[str, str]:
    return (f"{pid}-laptop", f"{pid}-tablet")


class RoomMachine(RuleBasedStateMachine):
    """A room from one preset, driven by random commands, checked after every step."""

    preset: ClassVar[str] = "claydon"

    def __init__(self) -> None:
        super().__init__()
        self.first: RoomState = make_room(self.preset)
        self.state: RoomState = self.first
        self.now: dt.datetime = START
        self.log: list[Event] = []
        self.steps = 0  # commands carried out
        self.moves = 0  # rules run

    # -- the room and the clock at the start --------------------------------------------------

    # covers: C1, C3, C6, C17, CLA-02, WER-09, S04-08, CLA-14, WER-13, CRO-16, S04-18
    @initialize(data=st.data())
    def a_session_is_scheduled(self, data: st.DataObject) -> None:
        policy = _policy(self.preset)
        kinds = [SessionKind.CLASS, SessionKind.GROUP]
        if policy.one_to_one.allowed:
            kinds = [SessionKind.ONE_TO_ONE, *kinds]
        kind = data.draw(_pick(tuple(kinds)), label="kind")
        # Plans as the scheduler accepts them (1 minute up to the policy's maximum), including
        # ones shorter than the time warnings, and one longer than the maximum (capped).
        lengths = (policy.timing.max_minutes, 20, 10, 3, 1, policy.timing.max_minutes + 30)
        minutes = data.draw(_pick(lengths), label="minutes")
        refused = CONSENT_REFUSED.get(kind)
        self.first = make_room(
            policy,
            kind=kind,
            minutes=minutes,
            roster=class_list(CLASS_SIZE[kind]),
            consent={refused: Consent.REFUSED} if refused else None,
        )
        self.state = self.first
        before_start = data.draw(_upto(15 * 60), label="seconds before the start")
        self.now = START - dt.timedelta(seconds=before_start)
        assert violations(self.state) == []

        # Usually people have gathered before the random commands begin (joining through
        # `step` like any command), so that most runs spend their steps on a live class.
        staff = data.draw(_shuffled(tuple(STAFF)), label="staff")
        staff = staff[: data.draw(_pick((2, 3, 1, 0)), label="staff who gather")]
        for sid in staff:
            self._join(data, sid)
        pupils = data.draw(_shuffled(tuple(self.state.plan.expected)), label="pupils")
        gathering = tuple(range(len(pupils), -1, -1))  # everyone is the likeliest, then fewer
        pupils = pupils[: data.draw(_pick(gathering), label="pupils who gather")]
        if pupils:
            self._move_clock(self.state.opens_at, tick=True)
        for pid in pupils:
            self._join(data, pid, honest=True)
        recordable = policy.recording.mode is not RecordingMode.NEVER
        if staff and recordable and data.draw(_BOOLEANS, label="recorded"):
            self._do(c.StartRecording(staff[0]))
            notice = dt.timedelta(seconds=policy.recording.notice_seconds)
            self._move_clock(self.now + notice, tick=True)
        waiting = tuple(self._with_status(Status.WAITING))
        if staff and waiting and data.draw(_pick((True, True, True, False)), label="admit"):
            self._do(c.Admit(staff[0], waiting))
        if len(staff) > 0 and data.draw(_BOOLEANS, label="chat on"):
            self._do(c.SetChat(staff[0], on=True))
        dropping = self.state.participants.get(staff[-1]) if staff else None
        if dropping is not None and data.draw(_pick((False, False, True)), label="staff drop"):
            self._do(c.ConnectionLost(dropping.id, dropping.device))
        self.moves = 0

    # -- drawing actors and targets -----------------------------------------------------------

    def _with_status(self, *statuses: Status, role: Role | None = None) -> list[str]:
        return sorted(
            pid
            for pid, p in self.state.participants.items()
            if p.status in statuses
            and p.connected
            and (role is None or (p.role is Role.PUPIL) == (role is Role.PUPIL))
        )

    def _one_of(self, data: st.DataObject, preferred: Iterable[str], label: str) -> str:
        """Three times in four someone who makes the command meaningful (the first of them is
        the simplest choice, so failures shrink towards it), otherwise anyone or a stranger."""
        likely = list(dict.fromkeys(preferred))
        if likely and data.draw(_upto(3), label=f"{label} is likely") < 3:
            return data.draw(_pick(tuple(likely)), label=label)
        return data.draw(_pick(EVERYONE), label=label)

    def _staff_actor(self, data: st.DataObject) -> str:
        """Staff in the room usually; otherwise a pupil or stranger trying a staff command."""
        return self._one_of(data, self._with_status(Status.ADMITTED, role=Role.TEACHER), "actor")

    def _pupil_actor(self, data: st.DataObject) -> str:
        admitted = self._with_status(Status.ADMITTED, role=Role.PUPIL)
        return self._one_of(data, admitted, "actor")

    def _pupil_target(self, data: st.DataObject) -> str:
        admitted = self._with_status(Status.ADMITTED, role=Role.PUPIL)
        return self._one_of(data, admitted, "target")

    # -- carrying out one command and checking everything -------------------------------------

    def _do(self, command: c.Command, device: str | None = None) -> None:
        assert type(command) in COVERED_COMMANDS
        self.moves += 1
        before, now = self.state, self.now
        result = step(before, command, now, device)

        # Every event is a legal transition from the state before it, and the events rebuild
        # the state `step` returned.
        replay = before
        for event in result.events:
            after = apply(replay, event)
            assert transition_violations(replay, event, after) == [], (event, replay.phase)
            replay = after
        assert replay == result.state
        assert violations(result.state) == []
        self._check_safeguards_of_the_step(command, before, result.events)

        # The log's clock never goes backwards: every event is stamped with this step's time.
        assert all(event.at == now for event in result.events)

        # A refused command changes nothing but what the clock would have done anyway.
        if result.refusal is not None or isinstance(command, c.Tick):
            clock_only = step(before, c.Tick(), now)
            assert result.state == clock_only.state
            assert result.events == clock_only.events
        if result.refusal is not None:
            assert result.refusal.clause, result.refusal

        # Once the clock has caught up to `now` (a Tick, or the Tick inside every refused
        # command), its next deadline is ahead of it; a command may leave something due at
        # once (a warning after a late first admission), which a Tick at `now` then clears.
        deadline = next_deadline(result.state)
        if result.state.phase is Phase.ENDED:
            assert deadline is None
        if isinstance(command, c.Tick) or result.refusal is not None:
            assert deadline is None or deadline > now, (deadline, now)
        elif deadline is not None and deadline <= now:
            caught_up = next_deadline(step(result.state, c.Tick(), now).state)
            assert caught_up is None or caught_up > now, (caught_up, now)

        self.state = result.state
        self.log.extend(result.events)
        self.steps += 1
        if self.steps % REPLAY_EVERY == 0:
            self._check_replay()

    # covers: C3, C4, C5, C6, C7, C11, C17, C21, CLA-02, CLA-04, CLA-10, CLA-14, CLA-16,
    # CRO-03, CRO-04, CRO-16, S04-09, S04-18, STJ-02, STJ-07, STJ-11, WER-13
    def _check_safeguards_of_the_step(
        self, command: c.Command, before: RoomState, events: list[Event]
    ) -> None:
        """What the invariants imply for one step's events, checked on the events themselves."""
        state = before
        for event in events:
            # A pupil (or a stranger) acts only on themselves: every staff action is staff's.
            by = getattr(event, "by", None)
            if by is not None and by != "clock" and _role_of(by) is Role.PUPIL:
                assert isinstance(event, SELF_SERVICE), event
                assert getattr(event, "target", getattr(event, "pupil", by)) == by, event
            # While a room is held no pupil's mic or camera is opened (media stays cut).
            if state.held and isinstance(event, ev.MicUnmuted | ev.CameraTurnedOn):
                assert state.participants[event.target].is_staff, event
            # Pupils wait only once the waiting room is open, and only with consent (C3, C17).
            if isinstance(event, ev.PupilWaiting):
                assert state.phase in (Phase.OPEN, Phase.LIVE), (event, state.phase)
                assert state.plan.expected[event.pupil].consent is not Consent.REFUSED, event
            # Only a member of staff in the room starts a screen share, as themselves (C21).
            if isinstance(event, ev.ScreenShareStarted):
                sharer = state.participants[event.sharer]
                assert sharer.is_staff and event.sharer == command.actor, event
            state = apply(state, event)
        # An admission is refused rather than made into a held room (C5 CRO-04, C6 S04-09).
        if any(isinstance(e, ev.PupilAdmitted) for e in events):
            assert not state.held, events
        # A drop notice from a device that is not the participant's live connection (an old
        # device after a switch) disconnects nobody; one from the live device always does.
        if isinstance(command, c.ConnectionLost):
            who = step(before, c.Tick(), self.now).state.participants.get(command.actor)
            live = who is not None and who.connected and who.device == command.device
            dropped = [e.participant for e in events if isinstance(e, ev.ConnectionDropped)]
            assert dropped == ([command.actor] if live else []), events
        # Staff cannot leave pupils behind where the policy says so: only a drop holds a room.
        if not before.policy.staffing.staff_may_leave_pupils:
            left = {e.participant for e in events if isinstance(e, ev.ParticipantLeft)}
            if any(before.participants[pid].is_staff for pid in left):
                assert not any(isinstance(e, ev.RoomHeld) for e in events), events

    def _check_replay(self) -> None:
        """The log alone (stored as JSON) rebuilds the live room exactly."""
        stored = [json.loads(json.dumps(to_dict(event))) for event in self.log]
        events = [from_dict(data) for data in stored]
        assert events == self.log
        assert apply_all(self.first, events) == self.state

    def teardown(self) -> None:
        self._check_replay()

    @invariant()
    def every_invariant_holds(self) -> None:
        assert violations(self.state) == []

    # -- joining, devices, leaving ------------------------------------------------------------

    def _away(self, ids: Iterable[str]) -> list[str]:
        here = self._with_status(Status.WAITING, Status.ADMITTED)
        return [pid for pid in ids if pid not in here]

    # covers: C5, C21, CLA-02, CLA-16, CRO-03, STJ-02, STJ-06, S04-11
    @rule(data=st.data())
    def a_member_of_staff_joins(self, data: st.DataObject) -> None:
        self._join(data, self._one_of(data, self._away(STAFF), "actor"))

    # covers: C3, C4, C6, C17, C18, CLA-04, CLA-14, CLA-15, CLA-18, WER-03, WER-05, WER-07,
    # WER-13, CRO-11, CRO-15, CRO-16, S04-03, S04-05, S04-07, S04-18, STJ-11
    @rule(data=st.data(), count=st.integers(1, 3))
    def people_arrive(self, data: st.DataObject, count: int) -> None:
        """One to three join requests: mostly people on the list not yet here, or anyone."""
        for _ in range(count):
            away = self._away([*STAFF, *self.state.plan.expected])
            self._join(data, self._one_of(data, away, "actor"))

    # covers: C3, C5, C6, CLA-02, CLA-04, CRO-04, S04-03, S04-11, STJ-06, WER-03, WER-09
    @rule(data=st.data())
    def people_come_back_and_are_admitted(self, data: st.DataObject) -> None:
        """Some of those away (re)join honestly, then someone admits everyone waiting."""
        away = data.draw(_shuffled(tuple(self._away([*STAFF, *self.state.plan.expected]))))
        for pid in away[: data.draw(_upto(len(away)), label="how many come back")]:
            self._join(data, pid, honest=True)
        self._do(c.AdmitAllExpected(self._staff_actor(data)))

    def _join(
        self, data: st.DataObject, actor: str, device: str | None = None, honest: bool = False
    ) -> None:
        """A join request with the role the server's authentication gives `actor`; an honest
        pupil claims no name or their own and has ticked the expectations."""
        if device is None:
            device = data.draw(_pick(_devices_of(actor)), label="device")
        role = _role_of(actor)
        if role is not Role.PUPIL:
            self._do(c.RequestToJoin(actor, role, device, staff_name=f"Staff {actor}"))
            return
        expected = self.state.plan.expected.get(actor)
        names: list[str | None] = [None]
        if expected is not None:
            names += [expected.shown_name, expected.forename.upper()]
        if not honest and not data.draw(_pick((True, True, False)), label="honest name"):
            names = list(CLAIMED_NAMES)
        shown = data.draw(_pick(tuple(names)), label="claimed name")
        acknowledged = honest or data.draw(_pick((True, True, True, False)), label="ack")
        parent = data.draw(_BOOLEANS, label="parent present")
        self._do(
            c.RequestToJoin(
                actor,
                Role.PUPIL,
                device,
                shown_name=shown,
                acknowledged_expectations=acknowledged,
                parent_present=parent,
            )
        )

    # covers: C4, C5, C6, C11, CLA-02, CLA-10, STJ-06, STJ-07, STJ-11, CRO-04, S04-11
    @rule(data=st.data(), how=st.sampled_from(["leaves", "drops", "drops", "stale drop"]))
    def someone_goes(self, data: st.DataObject, how: str) -> None:
        """A participant leaves, or their connection drops (from their device, or a stale one)."""
        actor = self._one_of(data, self._with_status(Status.ADMITTED, Status.WAITING), "actor")
        if how == "leaves":
            self._do(c.Leave(actor))
            return
        current = self.state.participants.get(actor)
        devices: tuple[str, ...] = _devices_of(actor)
        if current is not None:
            other = [d for d in devices if d != current.device]
            devices = (current.device,) if how == "drops" else (*other, f"{actor}-old-phone")
        self._do(c.ConnectionLost(actor, data.draw(_pick(tuple(devices)), label="device")))

    # covers: C5, C6, C11, CLA-02, S04-11, STJ-06, CRO-04, WER-09
    @rule(data=st.data())
    def a_member_of_staff_drops_out(self, data: st.DataObject) -> None:
        """Staff losing their connection is what holds a room under the two-adult rule."""
        actor = self._staff_actor(data)
        current = self.state.participants.get(actor)
        device = current.device if current is not None else _devices_of(actor)[0]
        self._do(c.ConnectionLost(actor, device))

    # covers: C4, STJ-11, CLA-15
    @rule(data=st.data())
    def someone_switches_devices(self, data: st.DataObject) -> None:
        """Joins from the other device: refused while connected; after a drop, the old device's
        late drop notice must not disconnect the new one."""
        actor = self._one_of(data, self._with_status(Status.ADMITTED, Status.WAITING), "actor")
        current = self.state.participants.get(actor)
        old = current.device if current is not None else _devices_of(actor)[0]
        new = next(d for d in _devices_of(actor) if d != old)
        if data.draw(_BOOLEANS, label="drop the old device first"):
            self._do(c.ConnectionLost(actor, old))
        self._join(data, actor, new)
        self._do(c.ConnectionLost(actor, old))

    # covers: C4, STJ-11, WER-02
    @rule(data=st.data())
    def a_second_device_tries_to_act_for_someone(self, data: st.DataObject) -> None:
        """Whatever a device that is not the participant's own sends for them is refused and
        changes nothing (a forwarded link cannot chat, raise a hand or leave for a pupil)."""
        actor = self._one_of(data, self._with_status(Status.ADMITTED, Status.WAITING), "actor")
        current = self.state.participants.get(actor)
        if current is None:
            return
        other = next(d for d in _devices_of(actor) if d != current.device)
        command = data.draw(
            _pick(
                (
                    c.PostChat(actor, "hello"),
                    c.RaiseHand(actor),
                    c.Leave(actor),
                    c.AttestParentPresent(actor, actor),
                    c.MuteMic(actor, actor),
                    c.EndSession(actor),
                )
            ),
            label="command",
        )
        tried = step(self.state, command, self.now, other)
        if tried.state.phase is not Phase.ENDED:  # after the end a leave is a no-op anyway
            assert tried.refusal is not None, command  # `_do` checks it changes nothing
            assert tried.refusal.code is RefusalCode.NOT_HERE
        self._do(command, device=other)

    # covers: C17, CRO-16, CLA-14, WER-13, S04-18
    @rule(data=st.data(), consent=st.sampled_from(list(Consent)))
    def the_school_records_a_change_of_consent(self, data: st.DataObject, consent: Consent) -> None:
        pupil = self._one_of(data, self.state.plan.expected, "pupil")
        self._do(c.ChangeConsent(c.SCHOOL, pupil, consent))

    # covers: C4, CLA-15, WER-05, CRO-15, S04-05
    @rule(data=st.data())
    def someone_tries_to_rename_themselves(self, data: st.DataObject) -> None:
        actor = self._pupil_actor(data)
        name = data.draw(_pick(CLAIMED_NAMES), label="name")
        self._do(c.Rename(actor, name))

    # -- admission ----------------------------------------------------------------------------

    # covers: C3, C5, C6, C10, CLA-02, CLA-04, CRO-04, S04-09, S04-11, STJ-06, WER-09, WER-10
    @rule(data=st.data())
    def someone_admits_pupils(self, data: st.DataObject) -> None:
        actor = self._staff_actor(data)
        waiting = self._with_status(Status.WAITING)
        count = data.draw(_pick((1, 1, 2, 3, 0)), label="how many")
        pupils = tuple(self._one_of(data, waiting, "pupil") for _ in range(count))
        self._do(c.Admit(actor, pupils))

    # covers: C3, C5, CLA-04, CRO-04, WER-03, S04-03
    @rule(data=st.data())
    def someone_admits_everyone_expected(self, data: st.DataObject) -> None:
        self._do(c.AdmitAllExpected(self._staff_actor(data)))

    # covers: C3, CLA-04, WER-03, S04-03
    @rule(data=st.data())
    def someone_turns_a_pupil_away(self, data: st.DataObject) -> None:
        actor = self._staff_actor(data)
        pupil = self._one_of(data, self._with_status(Status.WAITING), "pupil")
        self._do(c.Deny(actor, pupil))

    # covers: C10, CLA-08, STJ-06, S04-16
    @rule(data=st.data())
    def someone_removes_a_pupil(self, data: st.DataObject) -> None:
        actor = self._staff_actor(data)
        pupil = self._one_of(
            data, self._with_status(Status.WAITING, Status.ADMITTED, role=Role.PUPIL), "pupil"
        )
        reason = data.draw(_pick(("", "  swearing  ", "r" * 600)), label="reason")
        self._do(c.Remove(actor, pupil, reason))

    # -- mics, cameras, hands -----------------------------------------------------------------

    def _media_target(self, data: st.DataObject, actor: str) -> str:
        return self._one_of(
            data, [actor, *self._with_status(Status.ADMITTED, role=Role.PUPIL)], "target"
        )

    # covers: C7, CLA-05, WER-06, CRO-13, S04-06, STJ-11
    @rule(data=st.data(), unmute=st.booleans())
    def someone_mutes_or_unmutes_a_mic(self, data: st.DataObject, unmute: bool) -> None:
        actor = self._one_of(data, self._with_status(Status.ADMITTED), "actor")
        target = self._media_target(data, actor)
        self._do(c.UnmuteMic(actor, target) if unmute else c.MuteMic(actor, target))

    # covers: C7, CLA-11, CRO-14, WER-11, S04-13, S04-16
    @rule(data=st.data(), on=st.booleans())
    def someone_turns_a_camera_on_or_off(self, data: st.DataObject, on: bool) -> None:
        actor = self._one_of(data, self._with_status(Status.ADMITTED), "actor")
        target = self._media_target(data, actor)
        self._do(c.CameraOn(actor, target) if on else c.CameraOff(actor, target))

    # covers: C7, C9, CLA-05, S04-17, STJ-11
    @rule(data=st.data())
    def someone_lets_a_pupil_speak(self, data: st.DataObject) -> None:
        self._do(c.AllowToSpeak(self._staff_actor(data), self._pupil_target(data)))

    # covers: C9, S04-17, STJ-11
    @rule(data=st.data())
    def a_pupil_raises_a_hand(self, data: st.DataObject) -> None:
        self._do(c.RaiseHand(self._pupil_actor(data)))

    # covers: C9, S04-17, STJ-11
    @rule(data=st.data())
    def someone_lowers_a_hand(self, data: st.DataObject) -> None:
        actor = self._one_of(data, self._with_status(Status.ADMITTED), "actor")
        self._do(c.LowerHand(actor, self._pupil_target(data)))

    # covers: C7, C9, S04-17, STJ-11
    @rule(data=st.data())
    def someone_calls_on_a_pupil(self, data: st.DataObject) -> None:
        self._do(c.CallOn(self._staff_actor(data), self._pupil_target(data)))

    # covers: C5, C6, C7, C8, CLA-02, CLA-05, CLA-13, S04-09, S04-11, STJ-06, WER-09, CRO-04
    @precondition(lambda self: self.state.held)
    @rule(
        data=st.data(),
        what=st.sampled_from(["unmute", "camera", "chat", "speak", "call"]),
        by_staff=st.booleans(),
    )
    def someone_tries_to_open_media_during_a_hold(
        self, data: st.DataObject, what: str, by_staff: bool
    ) -> None:
        """While pupils are held nobody, staff included, may open a pupil's mic, camera or the
        chat; only runs while a room is held, so holds are explored more than their share."""
        actor = self._staff_actor(data) if by_staff else self._pupil_actor(data)
        target = self._one_of(
            data, [*self._with_status(Status.ADMITTED, role=Role.PUPIL), actor], "target"
        )
        command: c.Command
        if what == "unmute":
            command = c.UnmuteMic(actor, target)
        elif what == "camera":
            command = c.CameraOn(actor, target)
        elif what == "chat":
            command = c.PostChat(actor, "Hello!")
        elif what == "speak":
            command = c.AllowToSpeak(actor, target)
        else:
            command = c.CallOn(actor, target)
        self._do(command)

    # -- chat ---------------------------------------------------------------------------------

    # covers: C8, CLA-13, CRO-12
    @rule(data=st.data(), on=st.booleans())
    def someone_switches_the_chat(self, data: st.DataObject, on: bool) -> None:
        self._do(c.SetChat(self._staff_actor(data), on))

    # covers: C8, CLA-13, CRO-12, C5
    @rule(data=st.data())
    def someone_posts_in_the_chat(self, data: st.DataObject) -> None:
        actor = self._one_of(data, self._with_status(Status.ADMITTED), "actor")
        text = data.draw(_pick(CHAT_TEXTS), label="text")
        self._do(c.PostChat(actor, text))

    # -- parents and recording ----------------------------------------------------------------

    # covers: C6, WER-07, WER-09, WER-10, S04-07, S04-09
    @rule(data=st.data(), present=st.booleans())
    def someone_attests_a_parent_is_present(self, data: st.DataObject, present: bool) -> None:
        in_room = self._with_status(Status.WAITING, Status.ADMITTED, role=Role.PUPIL)
        pupil = self._one_of(data, in_room, "pupil")
        actor = data.draw(_pick((pupil, pupil, *STAFF, STRANGER)), label="actor")
        self._do(c.AttestParentPresent(actor, pupil, present))

    # covers: C13, CLA-09, STJ-09, WER-08, WER-10, S04-10
    @rule(data=st.data(), start=st.booleans())
    def someone_starts_or_stops_recording(self, data: st.DataObject, start: bool) -> None:
        actor = self._staff_actor(data)
        self._do(c.StartRecording(actor) if start else c.StopRecording(actor))

    # covers: C21
    @rule(data=st.data(), start=st.booleans())
    def someone_shares_a_screen_or_stops_it(self, data: st.DataObject, start: bool) -> None:
        """Staff share and stop (one screen at a time); pupils and strangers try to. The
        invariants hold that only staff in the room ever share; the step's check that only a
        member of staff's command starts a share."""
        actor = self._staff_actor(data)
        if start:
            self._do(c.ShareScreen(actor))
            return
        only = data.draw(_pick((None, None, actor, *STAFF)), label="only")
        self._do(c.StopSharing(actor, only=only))

    # -- the log and concerns -----------------------------------------------------------------

    # covers: C15, CLA-17, CRO-09, CRO-10
    @rule(data=st.data(), kind=st.sampled_from(c.NoteKind))
    def someone_writes_in_the_log(self, data: st.DataObject, kind: c.NoteKind) -> None:
        actor = self._staff_actor(data)
        text = data.draw(_pick(NOTE_TEXTS), label="text")
        pupil = data.draw(_pick((None, *PUPILS, STRANGER)), label="pupil")
        self._do(c.AddLogNote(actor, kind, text, pupil))

    # covers: C16, CLA-07, STJ-08, WER-16, S04-21
    @rule(data=st.data())
    def someone_raises_a_concern(self, data: st.DataObject) -> None:
        actor = self._staff_actor(data)
        summary = data.draw(_pick(CONCERN_TEXTS), label="summary")
        pupil = data.draw(_pick((None, *PUPILS, STRANGER)), label="pupil")
        self._do(c.RaiseConcern(actor, summary, pupil))

    # -- the end ------------------------------------------------------------------------------

    # covers: C11, C12, CLA-06, CLA-10, STJ-07, CRO-04, WER-14, S04-19
    @precondition(lambda self: self.moves >= ENDING_ALLOWED_AFTER)
    @rule(data=st.data(), emergency=st.booleans())
    def someone_ends_the_session(self, data: st.DataObject, emergency: bool) -> None:
        actor = self._staff_actor(data)
        self._do(c.EmergencyEnd(actor, "fire alarm") if emergency else c.EndSession(actor))

    # -- the clock ----------------------------------------------------------------------------

    def _move_clock(self, to: dt.datetime, tick: bool) -> None:
        self.now = max(self.now, to)  # the clock never goes backwards
        if tick:
            self._do(c.Tick())
        else:
            self.moves += 1

    # covers: C3, C11, C13, STJ-09
    @rule(seconds=st.integers(1, 59), tick=st.booleans())
    def a_few_seconds_pass(self, seconds: int, tick: bool) -> None:
        self._move_clock(self.now + dt.timedelta(seconds=seconds), tick)

    # covers: C3, C5, C11, CLA-06
    @rule(seconds=st.integers(60, 5 * 60), tick=st.booleans())
    def a_few_minutes_pass(self, seconds: int, tick: bool) -> None:
        self._move_clock(self.now + dt.timedelta(seconds=seconds), tick)

    # covers: C11, CLA-06, CLA-10, STJ-07
    @precondition(lambda self: self.moves >= ENDING_ALLOWED_AFTER)
    @rule(seconds=st.integers(0, 600), tick=st.booleans())
    def the_clock_jumps_past_the_end(self, seconds: int, tick: bool) -> None:
        self._move_clock(self.state.ends_at + dt.timedelta(seconds=seconds), tick)

    # covers: C5, C6, C11, CLA-02, S04-11, STJ-06, CRO-04
    @precondition(lambda self: self.state.held_since is not None)
    @rule(seconds=st.integers(0, 60), tick=st.booleans())
    def the_clock_jumps_past_the_hold_timeout(self, seconds: int, tick: bool) -> None:
        limit = dt.timedelta(minutes=self.state.policy.staffing.hold_ends_session_after_minutes)
        assert self.state.held_since is not None
        self._move_clock(self.state.held_since + limit + dt.timedelta(seconds=seconds), tick)

    # covers: C3, C5, C11, C13
    @rule(early=st.sampled_from([0, 0, 1]))
    def the_clock_reaches_the_next_deadline(self, early: int) -> None:
        """Exactly at (or one second before) whatever the clock next has to do."""
        deadline = next_deadline(self.state)
        if deadline is not None:
            self._move_clock(deadline - dt.timedelta(seconds=early), tick=True)


def _test_case_for(preset: str) -> type[unittest.TestCase]:
    """The TestCase running `RoomMachine` on a room from `preset`."""
    name = "".join(part.capitalize() for part in preset.split("-"))
    machine = cast(
        "type[RoomMachine]", type(f"{name}RoomMachine", (RoomMachine,), {"preset": preset})
    )
    case = machine.TestCase
    case.settings = settings(
        max_examples=EXAMPLES,
        stateful_step_count=STEPS,
        deadline=None,
        derandomize=False,
    )

    def test_random_commands_keep_every_invariant_after_every_step(self: Any) -> None:
        self.runTest()

    return type(
        f"TestA{name}RoomUnderRandomCommands",
        (case,),
        {
            "test_random_commands_keep_every_invariant_after_every_step": (
                test_random_commands_keep_every_invariant_after_every_step
            )
        },
    )


# covers: C5, C7, C8, C10, C11, C15, C16, CLA-02, CLA-04, CLA-05, CLA-06, CLA-08, CLA-09, CLA-10,
# CLA-11, CLA-13, CLA-14, CLA-15, CLA-18 (two staff, no recording, no 1-to-1)
TestAClaydonRoomUnderRandomCommands = _test_case_for("claydon")

# covers: C6, C13, WER-03, WER-05, WER-06, WER-07, WER-08, WER-09, WER-10, WER-11, WER-13, WER-14
# (1-to-1 with one adult and a parent, or recorded with notice and the DSL told)
TestAWerringtonRoomUnderRandomCommands = _test_case_for("werrington")

# covers: C5, C10, C13, STJ-06, STJ-07, STJ-09, STJ-11 (recording with notice)
TestAStJosephsRoomUnderRandomCommands = _test_case_for("st-josephs")

# covers: C5, C7, C8, CRO-04, CRO-11, CRO-12, CRO-13, CRO-14, CRO-15, CRO-16
# (the single-adult fallback: one adult admits two or more pupils at a time; cameras on)
TestACroftonRoomUnderRandomCommands = _test_case_for("crofton")

# covers: C6, C10, S04-05, S04-06, S04-07, S04-09, S04-10, S04-11, S04-13, S04-16, S04-18, S04-19
# (1-to-1 with two staff and a parent, refused without one)
TestAS04RoomUnderRandomCommands = _test_case_for("s04")


def test_the_state_machines_drive_every_command_the_room_knows() -> None:
    known = {
        value
        for value in vars(c).values()
        if isinstance(value, type) and issubclass(value, c.Command) and value is not c.Command
    }
    assert known == COVERED_COMMANDS
