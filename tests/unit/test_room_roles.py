"""Roles (C21): only staff in the session may run the session; a pupil's attempt is refused."""

from __future__ import annotations

import pytest

from safeclass.core import RefusalCode, Role
from safeclass.core import commands as c
from safeclass.core.commands import NoteKind
from tests.support.checks import PRESETS, refused_unchanged
from tests.support.rooms import Driver, make_room

ROLES_CLAUSE = {
    "claydon": "CLA-16",
    "werrington": "C21",
    "st-josephs": "STJ-02",
    "crofton": "CRO-03",
    "s04": "C21",
}

# Every staff command, sent by pupil p1, with what the pupil is told and the Claydon clause the
# refusal protects (admitting is CLA-04's, removing CLA-08's; ending is for staff alone, CLA-16).
STAFF_COMMANDS: list[tuple[c.Command, str, str]] = [
    (c.Admit("p1", ("p3",)), "admit pupils", "CLA-04"),
    (c.AdmitAllExpected("p1"), "admit pupils", "CLA-04"),
    (c.Deny("p1", "p3"), "turn pupils away", "CLA-04"),
    (c.Remove("p1", "p2", "annoying"), "remove pupils", "CLA-08"),
    (c.MuteMic("p1", "p2"), "mute others", "CLA-05"),
    (c.UnmuteMic("p1", "p2"), "unmute others", "CLA-05"),
    (c.CameraOff("p1", "p2"), "turn off cameras", "CLA-11"),
    (c.CameraOn("p1", "p2"), "turn on cameras", "CLA-11"),
    (c.AllowToSpeak("p1", "p1"), "let pupils speak", "CLA-05"),
    (c.SetChat("p1", on=True), "switch the chat on or off", "CLA-13"),
    (c.LowerHand("p1", "p2"), "lower other pupils' hands", "C9"),
    (c.CallOn("p1", "p1"), "call on pupils", "C9"),
    (c.AttestParentPresent("p1", "p2"), "confirm a parent is present", "CLA-02"),
    (c.StartRecording("p1"), "record the session", "CLA-09"),
    (c.StopRecording("p1"), "stop the recording", "CLA-09"),
    (c.AddLogNote("p1", NoteKind.REWARD, "me"), "write in the session log", "CLA-17"),
    (c.RaiseConcern("p1", "joke"), "raise a safeguarding concern here", "CLA-07"),
    (c.EndSession("p1"), "end the session", "CLA-16"),
    (c.EmergencyEnd("p1"), "end the session", "C12"),
]


def live_class(preset: str) -> Driver:
    """Two staff, p1 and p2 in the room (p2 with a hand up), p3 in the waiting room."""
    d = Driver(make_room(preset, pupils=3))
    d.class_in(["p1", "p2"])
    d.pupil_join("p3")
    d.ok(c.RaiseHand("p2"))
    return d


@pytest.mark.parametrize(
    ("command", "doing", "clause"),
    STAFF_COMMANDS,
    ids=[type(cm).__name__ for cm, _, _ in STAFF_COMMANDS],
)
def test_a_pupil_sending_a_staff_command_is_refused_as_not_permitted(
    command: c.Command, doing: str, clause: str
) -> None:
    # covers: C21, CLA-16, C3, C7, C8, C10, C11, C12, C13, C16, CLA-04, CLA-05, CLA-08, CLA-13
    d = live_class("claydon")
    refusal = refused_unchanged(d, command, RefusalCode.NOT_PERMITTED)
    assert str(refusal) == f"Only staff can {doing} ({clause})"


@pytest.mark.parametrize("preset", PRESETS)
def test_a_pupil_cannot_end_the_session_in_any_school(preset: str) -> None:
    # covers: C21, C20, C11, CLA-16, CRO-03, STJ-02
    d = live_class(preset)
    refusal = refused_unchanged(d, c.EndSession("p1"), RefusalCode.NOT_PERMITTED)
    assert str(refusal) == f"Only staff can end the session ({ROLES_CLAUSE[preset]})"


def test_a_pupil_in_the_waiting_room_cannot_admit_themselves() -> None:
    # covers: C21, C3, C5, CLA-04, CLA-16
    d = live_class("claydon")
    refusal = refused_unchanged(d, c.Admit("p3", ("p3",)), RefusalCode.NOT_PERMITTED)
    assert str(refusal) == "Only staff can admit pupils (CLA-04)"


@pytest.mark.parametrize("actor", ["ghost", "t3"])
def test_someone_not_in_the_session_cannot_act_as_staff(actor: str) -> None:
    # covers: C21, C10, CLA-08
    d = live_class("claydon")
    d.staff_join("t3", Role.HEAD)
    d.ok(c.Leave("t3"))
    refusal = refused_unchanged(d, c.Remove(actor, "p1"), RefusalCode.NOT_HERE)
    assert str(refusal) == "Only staff in the session can remove pupils (CLA-08)"


@pytest.mark.parametrize("role", [Role.TEACHER, Role.ASSISTANT, Role.DSL, Role.HEAD])
def test_every_member_of_staff_can_run_the_session(role: Role) -> None:
    # covers: C21, C5, STJ-06
    d = Driver(make_room("claydon", pupils=2))
    d.staff_join("t1")
    d.staff_join("s", role)
    d.pupil_join("p1")
    d.ok(c.Admit("s", ("p1",)))
    d.ok(c.AllowToSpeak("s", "p1"))
    d.ok(c.Remove("s", "p1"))
    d.ok(c.EndSession("s"))
