"""The waiting room (C3): when it opens, who waits, and staff admitting or turning pupils away."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from safeclass.core import Phase, RefusalCode, Role, Status
from safeclass.core import commands as c
from safeclass.core import events as ev
from tests.support.checks import PRESETS, only, refused_unchanged, staff_in
from tests.support.rooms import START, Driver, make_room

WAITING_ROOM_CLAUSE = {
    "claydon": "CLA-04",
    "werrington": "WER-03",
    "st-josephs": "C3",
    "crofton": "C3",
    "s04": "S04-03",
}


@pytest.mark.parametrize("preset", PRESETS)
def test_waiting_room_is_not_open_before_n_minutes_early(preset: str) -> None:
    # covers: C3, C20, CLA-04, WER-03, WER-04, S04-03, S04-04
    room = make_room(preset, pupils=2)
    lead = room.policy.timing.waiting_room_opens_minutes_before
    d = Driver(room).at(minutes=-lead, seconds=-1)
    refusal = refused_unchanged(d, c.RequestToJoin("p1", Role.PUPIL, "dev-p1", None, True))
    assert str(refusal) == f"The waiting room opens at 09:55 ({WAITING_ROOM_CLAUSE[preset]})"
    assert d.state.phase is Phase.SCHEDULED
    assert "p1" not in d.state.participants
    d.later(1)
    events = d.pupil_join("p1")
    assert d.names_of(events) == ["WaitingRoomOpened", "PupilWaiting"]
    assert d.state.phase is Phase.OPEN
    assert d.state.participants["p1"].status is Status.WAITING


def test_waiting_room_opening_time_is_said_in_the_schools_local_time() -> None:
    # covers: C3, CLA-04
    room = make_room("claydon", pupils=1)
    june = dt.datetime(2026, 6, 9, 9, 0, tzinfo=dt.UTC)  # 10:00 in London (BST)
    room = dataclasses.replace(room, plan=dataclasses.replace(room.plan, starts_at=june))
    d = Driver(room, now=june - dt.timedelta(minutes=10))
    refusal = refused_unchanged(d, c.RequestToJoin("p1", Role.PUPIL, "dev-p1", None, True))
    assert refusal.message == "The waiting room opens at 09:55"  # 08:55 UTC is 09:55 BST


def test_staff_can_come_in_before_the_waiting_room_opens() -> None:
    # covers: C3, CLA-04
    d = Driver(make_room("claydon", pupils=1)).at(minutes=-20)
    events = d.staff_join("t1")
    assert d.names_of(events) == ["StaffJoined"]
    assert d.state.phase is Phase.SCHEDULED


def test_session_goes_live_at_the_start_time() -> None:
    # covers: C3, CLA-04
    d = Driver(make_room("claydon", pupils=1))
    d.staff_join("t1")
    assert d.state.phase is Phase.OPEN
    d.at(minutes=0)
    events = d.ok(c.Tick())
    assert d.names_of(events) == ["SessionStarted"]
    assert events[0].at == START
    assert d.state.phase is Phase.LIVE


def test_a_pupil_in_the_waiting_room_is_not_yet_in_the_session() -> None:
    # covers: C3, CLA-04, WER-03
    d = Driver(make_room("claydon", pupils=2))
    staff_in(d)
    d.pupil_join("p1")
    assert [p.name for p in d.state.waiting_pupils()] == ["Amelia R."]
    refusal = refused_unchanged(d, c.RaiseHand("p1"), RefusalCode.NOT_HERE)
    assert str(refusal) == "You can do that when your teacher has let you in (CLA-04)"


def test_admit_all_expected_admits_everyone_waiting_and_nobody_else() -> None:
    # covers: C3, CLA-04, WER-03, S04-03
    d = Driver(make_room("claydon", pupils=4))
    d.staff_join("t1")
    d.staff_join("t2", Role.ASSISTANT)
    for pid in ("p3", "p1", "p2"):
        d.pupil_join(pid)
    events = d.ok(c.AdmitAllExpected("t2"))
    admitted = [e for e in events if isinstance(e, ev.PupilAdmitted)]
    assert [e.pupil for e in admitted] == ["p1", "p2", "p3"]
    assert {e.by for e in admitted} == {"t2"}
    assert "p4" not in d.state.participants
    assert d.state.waiting_pupils() == []


def test_admit_all_expected_with_nobody_waiting_is_refused() -> None:
    # covers: C3, CLA-04
    d = Driver(make_room("claydon", pupils=2))
    staff_in(d)
    refusal = refused_unchanged(d, c.AdmitAllExpected("t1"), RefusalCode.NOT_HERE)
    assert str(refusal) == "Nobody is waiting (CLA-04)"


def test_staff_admit_a_chosen_pupil_and_the_rest_keep_waiting() -> None:
    # covers: C3, CLA-04
    d = Driver(make_room("claydon", pupils=3))
    staff_in(d)
    d.pupil_join("p1")
    d.pupil_join("p2")
    events = d.ok(c.Admit("t1", ("p2",)))
    assert only(events, ev.PupilAdmitted).pupil == "p2"
    assert d.state.participants["p1"].status is Status.WAITING
    assert d.state.participants["p2"].status is Status.ADMITTED


def test_staff_deny_a_waiting_pupil() -> None:
    # covers: C3, WER-03, CRO-11
    d = Driver(make_room("claydon", pupils=2))
    staff_in(d)
    d.pupil_join("p1")
    events = d.ok(c.Deny("t2", "p1"))
    assert only(events, ev.PupilDenied).by == "t2"
    pupil = d.state.participants["p1"]
    assert pupil.status is Status.DENIED
    assert not pupil.connected
    refusal = refused_unchanged(d, c.Admit("t1", ("p1",)), RefusalCode.NOT_HERE)
    assert str(refusal) == "That pupil is not in the waiting room (CLA-04)"


def test_admitting_a_pupil_who_is_not_waiting_is_refused() -> None:
    # covers: C3, CLA-04
    d = Driver(make_room("claydon", pupils=2))
    staff_in(d)
    refusal = refused_unchanged(d, c.Admit("t1", ("p2",)), RefusalCode.NOT_HERE)
    assert str(refusal) == "That pupil is not in the waiting room (CLA-04)"
    refusal = refused_unchanged(d, c.Admit("t1", ()), RefusalCode.INVALID)
    assert refusal.message == "Choose who to admit"


def test_a_pupil_who_drops_must_be_admitted_again_after_reconnecting() -> None:
    # covers: C3, C4, CLA-04, WER-03
    d = Driver(make_room("claydon", pupils=2))
    d.class_in(["p1"])
    d.ok(c.ConnectionLost("p1", "dev-p1"))
    events = d.pupil_join("p1", device="dev-p1-again")
    assert d.names_of(events) == ["PupilWaiting"]
    pupil = d.state.participants["p1"]
    assert pupil.status is Status.WAITING
    assert pupil.device == "dev-p1-again"
    d.ok(c.Admit("t1", ("p1",)))
    assert d.state.participants["p1"].status is Status.ADMITTED
