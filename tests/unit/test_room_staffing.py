"""The two-adult rule and Crofton's single-adult fallback (C5), and staff staying to the end."""

from __future__ import annotations

import pytest

from safeclass.core import RefusalCode, Role, Status
from safeclass.core import commands as c
from safeclass.core import events as ev
from safeclass.core.events import HoldReason
from tests.support.checks import PRESETS, TWO_ADULT_PRESETS, only, refused_unchanged, variant
from tests.support.rooms import Driver, make_room

TWO_ADULTS_CLAUSE = {
    "claydon": "CLA-02",
    "werrington": "C5",
    "st-josephs": "STJ-06",
    "s04": "S04-11",
}


@pytest.mark.parametrize("preset", TWO_ADULT_PRESETS)
def test_pupil_cannot_be_admitted_with_one_adult_present(preset: str) -> None:
    # covers: C5, C20, CLA-02, S04-11, STJ-06
    d = Driver(make_room(preset, pupils=3))
    d.staff_join("t1")
    d.pupil_join("p1")
    refusal = refused_unchanged(d, c.Admit("t1", ("p1",)), RefusalCode.RULE)
    assert str(refusal) == (
        f"Cannot admit Amelia R.: 1 of 2 required staff present ({TWO_ADULTS_CLAUSE[preset]})"
    )
    assert d.state.participants["p1"].status is Status.WAITING


@pytest.mark.parametrize("preset", TWO_ADULT_PRESETS)
def test_one_adult_cannot_admit_several_pupils_together_without_the_fallback(preset: str) -> None:
    # covers: C5, C20, CLA-02, S04-11, STJ-06
    d = Driver(make_room(preset, pupils=3))
    d.staff_join("t1")
    for pid in ("p1", "p2", "p3"):
        d.pupil_join(pid)
    refusal = refused_unchanged(d, c.AdmitAllExpected("t1"))
    assert refusal.message == (
        "Cannot admit Amelia R., Oliver S., Isla J.: 1 of 2 required staff present"
    )
    assert refusal.clause == TWO_ADULTS_CLAUSE[preset]
    assert d.state.admitted_pupils() == []


@pytest.mark.parametrize("preset", PRESETS)
def test_pupils_are_admitted_muted_once_the_second_adult_arrives(preset: str) -> None:
    # covers: C5, CLA-02, S04-11, STJ-06, CRO-04
    d = Driver(make_room(preset, pupils=3))
    d.staff_join("t1")
    d.pupil_join("p1")
    d.pupil_join("p2")
    d.staff_join("t2", Role.ASSISTANT)
    events = d.ok(c.AdmitAllExpected("t1"))
    assert d.names_of(events) == ["PupilAdmitted", "PupilAdmitted"]
    for pid in ("p1", "p2"):
        pupil = d.state.participants[pid]
        assert pupil.status is Status.ADMITTED
        assert not pupil.mic_on
    assert not d.state.held


def test_a_dsl_who_joins_counts_as_the_second_adult() -> None:
    # covers: C5, CLA-02, STJ-06
    d = Driver(make_room("claydon", pupils=2))
    d.staff_join("t1")
    d.staff_join("dsl", Role.DSL)
    d.pupil_join("p1")
    d.ok(c.Admit("dsl", ("p1",)))
    assert d.state.participants["p1"].status is Status.ADMITTED


# -- the second adult drops ----------------------------------------------------------------------


@pytest.mark.parametrize("preset", TWO_ADULT_PRESETS)
def test_room_is_held_in_the_same_step_the_second_adult_drops(preset: str) -> None:
    # covers: C5, C20, CLA-02, S04-11, STJ-06
    d = Driver(make_room(preset, pupils=3))
    d.class_in(["p1", "p2"])
    events = d.ok(c.ConnectionLost("t2", "dev-t2"))
    assert d.names_of(events) == ["ConnectionDropped", "RoomHeld"]
    held = only(events, ev.RoomHeld)
    assert held.reason is HoldReason.STAFF_BELOW_MINIMUM
    assert (held.staff_present, held.staff_required) == (1, 2)
    assert d.state.held
    assert d.state.hold_reason is HoldReason.STAFF_BELOW_MINIMUM


@pytest.mark.parametrize("preset", TWO_ADULT_PRESETS)
def test_room_is_released_when_the_second_adult_is_back(preset: str) -> None:
    # covers: C5, CLA-02, S04-11, STJ-06
    d = Driver(make_room(preset, pupils=3))
    d.class_in(["p1", "p2"])
    d.ok(c.ConnectionLost("t2", "dev-t2"))
    d.later(40)
    events = d.ok(c.RequestToJoin("t2", Role.ASSISTANT, "dev-t2-new", staff_name="Mr Khan"))
    assert d.names_of(events) == ["StaffJoined", "RoomReleased"]
    assert not d.state.held
    assert d.state.hold_reason is None


def test_held_pupils_cannot_be_unmuted_or_have_their_camera_turned_on() -> None:
    # covers: C5, CLA-02
    d = Driver(make_room("claydon", pupils=2))
    d.class_in(["p1", "p2"])
    d.ok(c.AllowToSpeak("t1", "p2"))
    d.ok(c.ConnectionLost("t2", "dev-t2"))
    refusal = refused_unchanged(d, c.UnmuteMic("t1", "p1"))
    assert str(refusal) == "Cannot unmute Amelia R.: 1 of 2 required staff present (CLA-02)"
    refusal = refused_unchanged(d, c.CameraOn("t1", "p1"))
    assert str(refusal) == (
        "Cannot turn on Amelia R.'s camera: 1 of 2 required staff present (CLA-02)"
    )
    refusal = refused_unchanged(d, c.UnmuteMic("p2", "p2"))  # the pupil is told what to wait for
    assert str(refusal) == "Please wait for another adult to join (CLA-02)"
    assert not any(p.mic_on for p in d.state.admitted_pupils())


def test_chat_is_closed_while_the_room_is_held() -> None:
    # covers: C5, C8, CLA-02, CLA-13
    d = Driver(make_room("claydon", pupils=2))
    d.class_in(["p1", "p2"])
    d.ok(c.SetChat("t1", on=True))
    d.ok(c.ConnectionLost("t2", "dev-t2"))
    refusal = refused_unchanged(d, c.PostChat("p1", "hello"))
    assert str(refusal) == "Please wait for another adult to join (CLA-02)"
    refusal = refused_unchanged(d, c.PostChat("t1", "hello"))
    assert str(refusal) == "Cannot send messages: 1 of 2 required staff present (CLA-02)"


def test_a_dropped_connection_is_never_refused_even_for_the_last_adult() -> None:
    # covers: C5, C11, CLA-02, CLA-10
    d = Driver(make_room("claydon", pupils=2))
    d.class_in(["p1", "p2"])
    d.ok(c.ConnectionLost("t2", "dev-t2"))
    events = d.ok(c.ConnectionLost("t1", "dev-t1"))
    assert d.names_of(events) == ["ConnectionDropped"]  # already held: the hold goes on
    assert d.state.held
    assert d.state.staff_present() == 0
    assert d.state.participants["t1"].status is Status.LEFT


def test_a_drop_reported_for_an_old_device_does_not_hold_the_room() -> None:
    # covers: C5, CLA-02
    d = Driver(make_room("claydon", pupils=2))
    d.class_in(["p1", "p2"])
    d.ok(c.ConnectionLost("t2", "dev-t2"))
    d.ok(c.RequestToJoin("t2", Role.ASSISTANT, "dev-t2-new"))
    assert d.ok(c.ConnectionLost("t2", "dev-t2")) == []
    assert not d.state.held
    assert d.state.participants["t2"].connected


# -- staff leaving -------------------------------------------------------------------------------

STAFF_LEAVE_CLAUSE = {
    "claydon": "CLA-10",
    "werrington": "C11",
    "st-josephs": "STJ-07",
    "s04": "C11",
}


@pytest.mark.parametrize("preset", TWO_ADULT_PRESETS)
def test_staff_cannot_leave_if_it_would_leave_pupils_below_the_minimum(preset: str) -> None:
    # covers: C11, C5, C20, CLA-10, STJ-07, CLA-02, S04-11
    d = Driver(make_room(preset, pupils=3))
    d.class_in(["p1", "p2"])
    refusal = refused_unchanged(d, c.Leave("t2"), RefusalCode.RULE)
    assert str(refusal) == (
        "You cannot leave yet: 2 pupils would be left with 1 of 2 required staff; "
        f"end the session for everyone instead ({STAFF_LEAVE_CLAUSE[preset]})"
    )
    assert d.state.participants["t2"].connected
    assert not d.state.held


def test_staff_cannot_leave_one_pupil_behind_either() -> None:
    # covers: C11, CLA-10
    d = Driver(make_room("claydon", pupils=2))
    d.class_in(["p1"])
    refusal = refused_unchanged(d, c.Leave("t1"))
    assert refusal.message.startswith("You cannot leave yet: 1 pupil would be left with 1 of 2")


def test_staff_may_leave_when_enough_adults_remain() -> None:
    # covers: C11, CLA-10, CLA-02
    d = Driver(make_room("claydon", pupils=2))
    d.class_in(["p1", "p2"], staff=("t1", "t2", "t3"))
    events = d.ok(c.Leave("t3"))
    assert d.names_of(events) == ["ParticipantLeft"]
    assert not d.state.held


def test_staff_may_leave_once_every_pupil_has_left() -> None:
    # covers: C11, CLA-10
    d = Driver(make_room("claydon", pupils=2))
    d.class_in(["p1", "p2"])
    d.ok(c.Leave("p1"))
    d.ok(c.Leave("p2"))
    assert d.names_of(d.ok(c.Leave("t2"))) == ["ParticipantLeft"]
    assert d.names_of(d.ok(c.Leave("t1"))) == ["ParticipantLeft"]


def test_where_policy_lets_staff_leave_the_pupils_are_held_in_the_same_step() -> None:
    # covers: C5, C20, CLA-02
    policy = variant("claydon", staffing={"staff_may_leave_pupils": True})
    d = Driver(make_room(policy, pupils=2))
    d.class_in(["p1", "p2"])
    events = d.ok(c.Leave("t2"))
    assert d.names_of(events) == ["ParticipantLeft", "RoomHeld"]
    assert d.state.held


# -- Crofton: one adult, two or more pupils ------------------------------------------------------


def test_crofton_one_adult_cannot_admit_a_single_pupil() -> None:
    # covers: C5, C20, CRO-04
    d = Driver(make_room("crofton", pupils=3))
    d.staff_join("t1")
    d.pupil_join("p1")
    d.pupil_join("p2")
    refusal = refused_unchanged(d, c.Admit("t1", ("p1",)), RefusalCode.RULE)
    assert str(refusal) == (
        "Cannot admit Amelia R. alone: with one adult present, pupils are admitted two or "
        "more at a time (CRO-04)"
    )
    assert d.state.participants["p1"].status is Status.WAITING


def test_crofton_one_adult_admits_two_or_more_pupils_together() -> None:
    # covers: C5, C20, CRO-04
    d = Driver(make_room("crofton", pupils=3))
    d.staff_join("t1")
    d.pupil_join("p1")
    d.pupil_join("p2")
    events = d.ok(c.Admit("t1", ("p1", "p2")))
    assert d.names_of(events) == ["PupilAdmitted", "PupilAdmitted"]
    assert not d.state.held
    d.pupil_join("p3")
    assert d.names_of(d.ok(c.Admit("t1", ("p3",)))) == ["PupilAdmitted"]
    assert len(d.state.admitted_pupils()) == 3


@pytest.mark.parametrize(
    "departure",
    [c.Leave("p2"), c.ConnectionLost("p2", "dev-p2"), c.Remove("t1", "p2", "rude")],
    ids=["leaves", "drops", "removed"],
)
def test_crofton_room_is_held_when_pupils_drop_to_one_with_one_adult(
    departure: c.Command,
) -> None:
    # covers: C5, C20, CRO-04
    d = Driver(make_room("crofton", pupils=3))
    d.class_in(["p1", "p2"], staff=("t1",))
    events = d.ok(departure)
    held = only(events, ev.RoomHeld)
    assert held.reason is HoldReason.STAFF_BELOW_MINIMUM
    assert (held.staff_present, held.staff_required) == (1, 2)
    assert d.state.held


def test_crofton_hold_is_released_when_a_second_pupil_is_admitted_again() -> None:
    # covers: C5, CRO-04
    d = Driver(make_room("crofton", pupils=3))
    d.class_in(["p1", "p2"], staff=("t1",))
    d.ok(c.ConnectionLost("p2", "dev-p2"))
    d.pupil_join("p2", device="dev-p2-again")
    events = d.ok(c.Admit("t1", ("p2",)))
    assert d.names_of(events) == ["PupilAdmitted", "RoomReleased"]
    assert not d.state.held


def test_crofton_room_with_two_adults_is_not_held_when_one_drops() -> None:
    # covers: C5, CRO-04
    d = Driver(make_room("crofton", pupils=3))
    d.class_in(["p1", "p2"])
    events = d.ok(c.ConnectionLost("t2", "dev-t2"))
    assert d.names_of(events) == ["ConnectionDropped"]
    assert not d.state.held


def test_crofton_one_adult_cannot_leave_and_ends_for_all_pupils_together() -> None:
    # covers: C5, C11, C20, CRO-04
    d = Driver(make_room("crofton", pupils=3))
    d.class_in(["p1", "p2", "p3"], staff=("t1",))
    refusal = refused_unchanged(d, c.Leave("t1"))
    assert str(refusal) == (
        "You cannot leave yet: 3 pupils would be left with 0 of 2 required staff; "
        "end the session for everyone instead (CRO-04)"
    )
    events = d.ok(c.EndSession("t1"))
    ended = only(events, ev.SessionEnded)
    assert ended.disconnected == ("p1", "p2", "p3", "t1")
    assert all(not p.connected for p in d.state.participants.values())


@pytest.mark.parametrize("preset", TWO_ADULT_PRESETS)
def test_single_adult_fallback_is_only_crofton(preset: str) -> None:
    # covers: C5, C20, STJ-01, CRO-04, CLA-02, S04-11, STJ-06
    d = Driver(make_room(preset, pupils=3))
    d.staff_join("t1")
    d.pupil_join("p1")
    d.pupil_join("p2")
    refusal = refused_unchanged(d, c.Admit("t1", ("p1", "p2")))
    assert refusal.clause == TWO_ADULTS_CLAUSE[preset]
    assert "1 of 2 required staff present" in refusal.message
