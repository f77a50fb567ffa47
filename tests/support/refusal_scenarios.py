"""Every refusal the room can give, each from a state that provokes it, under any of the presets.

`SCENARIOS[name](preset)` returns a driver and the command it must refuse. Where a preset's own
settings would not refuse, the scenario changes them (`variant`): the school, and so the clauses
its refusals cite, stays the preset's. Actors: t1 (teacher) and t2 (assistant) are staff; p1, p2...
are pupils. A new refusal in `core/decide.py` needs a scenario here (a test checks each is driven).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from safeclass.core import Consent, Role, SessionKind
from safeclass.core import commands as c
from safeclass.policy import Policy
from tests.support.checks import variant
from tests.support.rooms import Driver, FromDevice, make_room

Scenario = Callable[[str], tuple[Driver, c.Command | FromDevice]]
SCENARIOS: dict[str, Scenario] = {}


def scenario(name: str) -> Callable[[Scenario], Scenario]:
    def register(build: Scenario) -> Scenario:
        SCENARIOS[name] = build
        return build

    return register


@dataclass(frozen=True, slots=True)
class UnknownCommand(c.Command):
    """A command the room has no handler for."""


# -- rooms the scenarios start from ---------------------------------------------------------------


def join(pid: str, device: str | None = None, name: str | None = None) -> c.RequestToJoin:
    """A pupil asking to join, expectations ticked."""
    return c.RequestToJoin(
        pid, Role.PUPIL, device or f"dev-{pid}", name, acknowledged_expectations=True
    )


def live(policy: Policy | str, pupils: tuple[str, ...] = ("p1", "p2"), *then: c.Command) -> Driver:
    """Two staff (t1 teacher, t2 assistant) with `pupils` admitted at the start; then `then`."""
    d = Driver(make_room(policy, pupils=4)).at(minutes=0)
    d.class_in(pupils)
    for command in then:
        d.ok(command)
    return d


def opened(policy: Policy | str, *then: c.Command, kind: SessionKind = SessionKind.CLASS) -> Driver:
    """The waiting room is open and nobody has joined; then `then`."""
    d = Driver(make_room(policy, pupils=1 if kind is SessionKind.ONE_TO_ONE else 4, kind=kind))
    d.at(minutes=-2)
    for command in then:
        d.ok(command)
    return d


def staff(sid: str, role: Role = Role.TEACHER) -> c.RequestToJoin:
    return c.RequestToJoin(sid, role, f"dev-{sid}", staff_name=f"Staff {sid}")


def held(policy: Policy | str, *before: c.Command) -> Driver:
    """p1 alone with two staff, `before` done, then the assistant drops: the room is held."""
    d = live(policy, ("p1",), *before, c.ConnectionLost("t2", "dev-t2"))
    assert d.state.held
    return d


def one_to_one_policy(preset: str, without_parent: str = "refuse") -> Policy:
    """The preset with 1-to-1s allowed and a parent required; without one, refuse or record."""
    return variant(
        preset,
        one_to_one={
            "allowed": True,
            "parent_must_be_present": True,
            "without_parent": without_parent,
        },
        recording={"mode": "never" if without_parent == "refuse" else "one_to_one_exception"},
    )


def one_to_one(preset: str, without_parent: str = "refuse") -> Driver:
    """Two staff in a 1-to-1; p1 has joined without a parent in the room."""
    return opened(
        one_to_one_policy(preset, without_parent),
        staff("t1"),
        staff("t2", Role.ASSISTANT),
        join("p1"),
        kind=SessionKind.ONE_TO_ONE,
    )


def parent_gone(preset: str) -> Driver:
    """A 1-to-1 whose parent has just said they cannot stay: p1 (allowed to speak) is held."""
    d = opened(
        one_to_one_policy(preset),
        staff("t1"),
        staff("t2", Role.ASSISTANT),
        c.RequestToJoin(
            "p1", Role.PUPIL, "dev-p1", acknowledged_expectations=True, parent_present=True
        ),
        c.Admit("t1", ("p1",)),
        c.AllowToSpeak("t1", "p1"),
        c.AttestParentPresent("p1", "p1", present=False),
        kind=SessionKind.ONE_TO_ONE,
    )
    assert d.state.held
    return d


def teacher_decides(preset: str) -> Policy:
    return variant(preset, entry={"pupil_camera": "teacher_decides", "camera_on_entry": "off"})


def pupil_choice(preset: str) -> Policy:
    return variant(preset, entry={"pupil_camera": "pupil_choice", "camera_on_entry": "off"})


# -- the session is over --------------------------------------------------------------------------


@scenario("ended")
def ended(p: str) -> tuple[Driver, c.Command]:
    return live(p, ("p1",), c.EndSession("t1")), c.RaiseHand("p1")


@scenario("staff-join-after-the-end")
def staff_join_after_the_end(p: str) -> tuple[Driver, c.Command]:
    return live(p, ("p1",), c.EndSession("t1")), staff("t3")


@scenario("unknown-command")
def unknown_command(p: str) -> tuple[Driver, c.Command]:
    return live(p), UnknownCommand("t1")


# -- joining --------------------------------------------------------------------------------------


@scenario("second-device")
def second_device(p: str) -> tuple[Driver, c.Command]:
    return opened(p, join("p1")), join("p1", "phone")


@scenario("staff-second-device")
def staff_second_device(p: str) -> tuple[Driver, c.Command]:
    return live(p), c.RequestToJoin("t1", Role.TEACHER, "phone", staff_name="Staff t1")


@scenario("acting-from-another-device")
def acting_from_another_device(p: str) -> tuple[Driver, FromDevice]:
    return live(p), FromDevice(c.PostChat("p1", "I am p1, honest"), "phone")


@scenario("consent-changed-by-a-participant")
def consent_changed_by_a_participant(p: str) -> tuple[Driver, c.Command]:
    return live(p), c.ChangeConsent("t1", "p1", Consent.REFUSED)


@scenario("pupil-joins-as-staff")
def pupil_joins_as_staff(p: str) -> tuple[Driver, c.Command]:
    return opened(p), c.RequestToJoin("p1", Role.TEACHER, "dev", staff_name="Mr X")


@scenario("not-on-the-class-list")
def not_on_the_class_list(p: str) -> tuple[Driver, c.Command]:
    return opened(p), join("bob123", name="bob123")


@scenario("removed-rejoins")
def removed_rejoins(p: str) -> tuple[Driver, c.Command]:
    return live(p, ("p1", "p2"), c.Remove("t1", "p1")), join("p1")


@scenario("no-consent")
def no_consent(p: str) -> tuple[Driver, c.Command]:
    return Driver(make_room(p, consent={"p1": Consent.REFUSED})).at(minutes=-2), join("p1")


@scenario("wrong-name")
def wrong_name(p: str) -> tuple[Driver, c.Command]:
    return opened(p), join("p1", name="amelia roberts 2")


@scenario("too-early")
def too_early(p: str) -> tuple[Driver, c.Command]:
    return Driver(make_room(p)).at(minutes=-30), join("p1")


@scenario("expectations-not-ticked")
def expectations_not_ticked(p: str) -> tuple[Driver, c.Command]:
    return opened(p), c.RequestToJoin("p1", Role.PUPIL, "dev-p1")


# -- leaving --------------------------------------------------------------------------------------


@scenario("staff-leave-pupils-behind")
def staff_leave_pupils_behind(p: str) -> tuple[Driver, c.Command]:
    return live(p, ("p1",)), c.Leave("t1")


# -- admission ------------------------------------------------------------------------------------


@scenario("admit-nobody")
def admit_nobody(p: str) -> tuple[Driver, c.Command]:
    return live(p), c.Admit("t1", ())


@scenario("admit-removed")
def admit_removed(p: str) -> tuple[Driver, c.Command]:
    return live(p, ("p1", "p2"), c.Remove("t1", "p1")), c.Admit("t1", ("p1",))


@scenario("admit-not-waiting")
def admit_not_waiting(p: str) -> tuple[Driver, c.Command]:
    return live(p), c.Admit("t1", ("p1",))


@scenario("admit-not-on-the-class-list")
def admit_not_on_the_class_list(p: str) -> tuple[Driver, c.Command]:
    return live(p), c.Admit("t1", ("bob123",))


@scenario("admit-alone-single-adult")
def admit_alone_single_adult(p: str) -> tuple[Driver, c.Command]:
    policy = variant(p, staffing={"single_adult_fallback": True})
    return opened(policy, staff("t1"), join("p1")), c.Admit("t1", ("p1",))


@scenario("admit-alone-two-adults")
def admit_alone_two_adults(p: str) -> tuple[Driver, c.Command]:
    policy = variant(p, staffing={"single_adult_fallback": False})
    return opened(policy, staff("t1"), join("p1")), c.Admit("t1", ("p1",))


@scenario("admit-without-parent")
def admit_without_parent(p: str) -> tuple[Driver, c.Command]:
    return one_to_one(p), c.Admit("t1", ("p1",))


@scenario("admit-without-parent-before-recording")
def admit_without_parent_before_recording(p: str) -> tuple[Driver, c.Command]:
    return one_to_one(p, "record_with_notice"), c.Admit("t1", ("p1",))


@scenario("admit-all-nobody-waiting")
def admit_all_nobody_waiting(p: str) -> tuple[Driver, c.Command]:
    return live(p), c.AdmitAllExpected("t1")


@scenario("second-screen-share")
def second_screen_share(p: str) -> tuple[Driver, c.Command]:
    return live(p, ("p1",), c.ShareScreen("t1")), c.ShareScreen("t2")


@scenario("deny-not-waiting")
def deny_not_waiting(p: str) -> tuple[Driver, c.Command]:
    return live(p), c.Deny("t1", "p1")


@scenario("remove-not-a-pupil")
def remove_not_a_pupil(p: str) -> tuple[Driver, c.Command]:
    return live(p), c.Remove("t1", "t2")


# -- staff commands, sent by a pupil or by someone not in the session ---------------------------

PUPIL_SENDS_STAFF_COMMAND: dict[str, c.Command] = {
    "pupil-admits": c.Admit("p1", ("p3",)),
    "pupil-admits-all": c.AdmitAllExpected("p1"),
    "pupil-denies": c.Deny("p1", "p3"),
    "pupil-removes": c.Remove("p1", "p2"),
    "pupil-mutes-another": c.MuteMic("p1", "p2"),
    "pupil-unmutes-another": c.UnmuteMic("p1", "p2"),
    "pupil-turns-off-a-camera": c.CameraOff("p1", "p2"),
    "pupil-turns-on-a-camera": c.CameraOn("p1", "p2"),
    "pupil-lets-someone-speak": c.AllowToSpeak("p1", "p2"),
    "pupil-switches-the-chat": c.SetChat("p1", on=True),
    "pupil-lowers-another-hand": c.LowerHand("p1", "p2"),
    "pupil-calls-on": c.CallOn("p1", "p2"),
    "pupil-attests-another-parent": c.AttestParentPresent("p1", "p2"),
    "pupil-starts-recording": c.StartRecording("p1"),
    "pupil-stops-recording": c.StopRecording("p1"),
    "pupil-shares-a-screen": c.ShareScreen("p1"),
    "pupil-stops-a-screen-share": c.StopSharing("p1"),
    "pupil-writes-in-the-log": c.AddLogNote("p1", c.NoteKind.NOTE, "hi"),
    "pupil-raises-a-concern": c.RaiseConcern("p1", "joke"),
    "pupil-ends": c.EndSession("p1"),
    "pupil-emergency-ends": c.EmergencyEnd("p1"),
    "stranger-removes": c.Remove("ghost", "p1"),
}


def _pupil_sends(command: c.Command) -> Scenario:
    def build(p: str) -> tuple[Driver, c.Command]:
        return live(p, ("p1", "p2"), c.RaiseHand("p2"), join("p3")), command

    return build


for _name, _command in PUPIL_SENDS_STAFF_COMMAND.items():
    SCENARIOS[_name] = _pupil_sends(_command)


# -- a target or an actor who is not there --------------------------------------------------------


@scenario("mute-a-pupil-not-here")
def mute_a_pupil_not_here(p: str) -> tuple[Driver, c.Command]:
    return live(p), c.MuteMic("t1", "p3")


@scenario("call-on-a-pupil-not-here")
def call_on_a_pupil_not_here(p: str) -> tuple[Driver, c.Command]:
    return live(p), c.CallOn("t1", "p3")


@scenario("attest-for-a-pupil-not-here")
def attest_for_a_pupil_not_here(p: str) -> tuple[Driver, c.Command]:
    return live(p), c.AttestParentPresent("t1", "p3")


@scenario("waiting-pupil-raises-a-hand")
def waiting_pupil_raises_a_hand(p: str) -> tuple[Driver, c.Command]:
    return live(p, ("p1",), join("p3")), c.RaiseHand("p3")


@scenario("waiting-pupil-lowers-a-hand")
def waiting_pupil_lowers_a_hand(p: str) -> tuple[Driver, c.Command]:
    return live(p, ("p1",), join("p3")), c.LowerHand("p3", "p3")


@scenario("waiting-pupil-chats")
def waiting_pupil_chats(p: str) -> tuple[Driver, c.Command]:
    return live(p, ("p1",), c.SetChat("t1", on=True), join("p3")), c.PostChat("p3", "hello?")


@scenario("removed-pupil-chats")
def removed_pupil_chats(p: str) -> tuple[Driver, c.Command]:
    d = live(p, ("p1", "p2"), c.SetChat("t1", on=True), c.Remove("t1", "p2"))
    return d, c.PostChat("p2", "I'm back")


@scenario("left-pupil-attests")
def left_pupil_attests(p: str) -> tuple[Driver, c.Command]:
    return live(p, ("p1", "p2"), c.Leave("p2")), c.AttestParentPresent("p2", "p2")


@scenario("staff-attests-for-themselves")
def staff_attests_for_themselves(p: str) -> tuple[Driver, c.Command]:
    return live(p), c.AttestParentPresent("t1", "t1")


# -- mics, cameras, hands -------------------------------------------------------------------------


@scenario("pupil-unmutes-themselves")
def pupil_unmutes_themselves(p: str) -> tuple[Driver, c.Command]:
    return live(p), c.UnmuteMic("p1", "p1")


@scenario("pupil-turns-their-camera-on")
def pupil_turns_their_camera_on(p: str) -> tuple[Driver, c.Command]:
    return live(teacher_decides(p)), c.CameraOn("p1", "p1")


@scenario("staff-unmute-a-held-pupil")
def staff_unmute_a_held_pupil(p: str) -> tuple[Driver, c.Command]:
    return held(p), c.UnmuteMic("t1", "p1")


@scenario("staff-turn-on-a-held-pupils-camera")
def staff_turn_on_a_held_pupils_camera(p: str) -> tuple[Driver, c.Command]:
    return held(p), c.CameraOn("t1", "p1")


@scenario("held-pupil-unmutes")
def held_pupil_unmutes(p: str) -> tuple[Driver, c.Command]:
    return held(p, c.AllowToSpeak("t1", "p1")), c.UnmuteMic("p1", "p1")


@scenario("held-pupil-camera-on")
def held_pupil_camera_on(p: str) -> tuple[Driver, c.Command]:
    return held(pupil_choice(p)), c.CameraOn("p1", "p1")


@scenario("unmute-a-pupil-without-their-parent")
def unmute_a_pupil_without_their_parent(p: str) -> tuple[Driver, c.Command]:
    return parent_gone(p), c.UnmuteMic("t1", "p1")


@scenario("pupil-without-parent-unmutes")
def pupil_without_parent_unmutes(p: str) -> tuple[Driver, c.Command]:
    return parent_gone(p), c.UnmuteMic("p1", "p1")


@scenario("staff-raise-a-hand")
def staff_raise_a_hand(p: str) -> tuple[Driver, c.Command]:
    return live(p), c.RaiseHand("t1")


@scenario("staff-lower-their-own-hand")
def staff_lower_their_own_hand(p: str) -> tuple[Driver, c.Command]:
    return live(p), c.LowerHand("t1", "t1")


# -- chat -----------------------------------------------------------------------------------------


@scenario("pupil-chats-while-off")
def pupil_chats_while_off(p: str) -> tuple[Driver, c.Command]:
    return live(p), c.PostChat("p1", "hi")


@scenario("staff-chat-while-off")
def staff_chat_while_off(p: str) -> tuple[Driver, c.Command]:
    return live(p), c.PostChat("t1", "hello class")


@scenario("pupil-chats-while-held")
def pupil_chats_while_held(p: str) -> tuple[Driver, c.Command]:
    return held(p, c.SetChat("t1", on=True)), c.PostChat("p1", "hi")


@scenario("staff-chat-while-held")
def staff_chat_while_held(p: str) -> tuple[Driver, c.Command]:
    return held(p, c.SetChat("t1", on=True)), c.PostChat("t1", "hi")


@scenario("pupil-without-parent-chats")
def pupil_without_parent_chats(p: str) -> tuple[Driver, c.Command]:
    d = parent_gone(p)
    d.ok(c.SetChat("t1", on=True))
    return d, c.PostChat("p1", "hi")


@scenario("empty-message")
def empty_message(p: str) -> tuple[Driver, c.Command]:
    return live(p, ("p1",), c.SetChat("t1", on=True)), c.PostChat("p1", "   ")


@scenario("staff-empty-message")
def staff_empty_message(p: str) -> tuple[Driver, c.Command]:
    return live(p, ("p1",), c.SetChat("t1", on=True)), c.PostChat("t1", "   ")


@scenario("long-message")
def long_message(p: str) -> tuple[Driver, c.Command]:
    return live(p, ("p1",), c.SetChat("t1", on=True)), c.PostChat("p1", "a" * 2001)


# -- recording ------------------------------------------------------------------------------------


@scenario("recording-never")
def recording_never(p: str) -> tuple[Driver, c.Command]:
    policy = variant(p, recording={"mode": "never"}, one_to_one={"without_parent": "refuse"})
    return live(policy), c.StartRecording("t1")


@scenario("recording-only-the-exception")
def recording_only_the_exception(p: str) -> tuple[Driver, c.Command]:
    return live(one_to_one_policy(p, "record_with_notice")), c.StartRecording("t1")


# -- the log, concerns, names ---------------------------------------------------------------------


@scenario("empty-note")
def empty_note(p: str) -> tuple[Driver, c.Command]:
    return live(p), c.AddLogNote("t1", c.NoteKind.NOTE, " ")


@scenario("staff-writes-what-is-on-offer")
def staff_writes_a_resource(p: str) -> tuple[Driver, c.Command]:
    return live(p), c.AddLogNote("t1", c.NoteKind.RESOURCE, "A link never added")


@scenario("empty-concern")
def empty_concern(p: str) -> tuple[Driver, c.Command]:
    return live(p), c.RaiseConcern("t1", " ")


@scenario("concern-about-a-stranger")
def concern_about_a_stranger(p: str) -> tuple[Driver, c.Command]:
    return live(p), c.RaiseConcern("t1", "seen", pupil="x9")


@scenario("concern-in-no-category")
def concern_in_no_category(p: str) -> tuple[Driver, c.Command]:
    return live(p), c.RaiseConcern("t1", "seen", category="Not one of the school's")


@scenario("concern-in-the-future")
def concern_in_the_future(p: str) -> tuple[Driver, c.Command]:
    d = live(p)
    return d, c.RaiseConcern("t1", "seen", happened_at=d.now + dt.timedelta(hours=1))


@scenario("pupil-renames")
def pupil_renames(p: str) -> tuple[Driver, c.Command]:
    return live(p), c.Rename("p1", "The Teacher")


@scenario("staff-rename")
def staff_rename(p: str) -> tuple[Driver, c.Command]:
    return live(p), c.Rename("t1", "Head")
