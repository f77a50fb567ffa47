"""Roster-bound identity (C4): the shown name comes from the class list, one device per pupil."""

from __future__ import annotations

import pytest

from safeclass.core import RefusalCode, Role, Status
from safeclass.core import commands as c
from safeclass.core import events as ev
from tests.support.checks import PRESETS, only, refused_unchanged, staff_in
from tests.support.rooms import Driver, make_room

CLASS_LIST_CLAUSE = {
    "claydon": "CLA-15",
    "werrington": "WER-03",
    "st-josephs": "C4",
    "crofton": "CRO-11",
    "s04": "S04-05",
}
NAME_CLAUSE = {
    "claydon": "CLA-15",
    "werrington": "WER-05",
    "st-josephs": "C4",
    "crofton": "CRO-15",
    "s04": "S04-05",
}


def join(pid: str, device: str = "", shown_name: str | None = None) -> c.RequestToJoin:
    return c.RequestToJoin(
        pid, Role.PUPIL, device or f"dev-{pid}", shown_name, acknowledged_expectations=True
    )


@pytest.mark.parametrize("claimed", [None, "Amelia R.", "amelia roberts", "AMELIA", "Amelia R"])
def test_shown_name_is_the_roster_name_whatever_the_client_claims(claimed: str | None) -> None:
    # covers: C4, CLA-15, WER-05, S04-05, CRO-11
    d = Driver(make_room("claydon", pupils=2))
    events = d.ok(join("p1", shown_name=claimed))
    assert only(events, ev.PupilWaiting).name == "Amelia R."
    assert d.state.participants["p1"].name == "Amelia R."


@pytest.mark.parametrize("preset", PRESETS)
def test_a_pupil_not_on_the_class_list_is_refused(preset: str) -> None:
    # covers: C4, C20, CLA-15, WER-03, CRO-11, S04-05
    d = Driver(make_room(preset, pupils=2))
    refusal = refused_unchanged(d, join("stranger", shown_name="Amelia R."), RefusalCode.RULE)
    assert str(refusal) == (
        f"Not on the class list — cannot be admitted ({CLASS_LIST_CLAUSE[preset]})"
    )
    assert "stranger" not in d.state.participants


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("claimed", ["bob123", "Oliver S.", "Amelia S.", "Amelia Smith"])
def test_joining_with_someone_elses_name_is_refused(preset: str, claimed: str) -> None:
    # covers: C4, C20, CLA-15, WER-05, CRO-15, S04-05
    d = Driver(make_room(preset, pupils=3))
    refusal = refused_unchanged(d, join("p1", shown_name=claimed), RefusalCode.RULE)
    assert str(refusal) == (
        "Cannot join with that name: this link is for the name on the class list, "
        f"shown as Amelia R. ({NAME_CLAUSE[preset]})"
    )
    assert "p1" not in d.state.participants


@pytest.mark.parametrize(
    ("actor", "said"),
    [
        ("p1", "Your name comes from the class list and cannot be changed (CLA-15)"),
        ("t1", "Your name comes from your school account and cannot be changed (CLA-16)"),
    ],
)
def test_nobody_can_rename_themselves_in_the_room(actor: str, said: str) -> None:
    # covers: C4, C21, CLA-15, CLA-16, CRO-15
    d = Driver(make_room("claydon", pupils=2))
    d.class_in(["p1"])
    refusal = refused_unchanged(d, c.Rename(actor, "Bob"), RefusalCode.NOT_PERMITTED)
    assert str(refusal) == said
    assert d.state.participants["p1"].name == "Amelia R."


# Only St Joseph's protocol speaks of a second device; elsewhere the capability is cited.
ONE_DEVICE_CLAUSE = {
    "claydon": "C4",
    "werrington": "C4",
    "st-josephs": "STJ-11",
    "crofton": "C4",
    "s04": "C4",
}


@pytest.mark.parametrize("preset", PRESETS)
def test_a_second_device_is_refused_while_the_first_is_connected(preset: str) -> None:
    # covers: C4, C20, STJ-11
    d = Driver(make_room(preset, pupils=2))
    staff_in(d)
    d.pupil_join("p1")
    d.pupil_join("p2")
    d.ok(c.Admit("t1", ("p1",)))
    for pid, name, status in (("p1", "Amelia R.", Status.ADMITTED), ("p2", "Oliver S.", None)):
        refusal = refused_unchanged(d, join(pid, device="phone"), RefusalCode.RULE)
        assert str(refusal) == (
            f"{name} is already connected on another device; close it first "
            f"({ONE_DEVICE_CLAUSE[preset]})"
        )
        pupil = d.state.participants[pid]
        assert (pupil.device, pupil.connected) == (f"dev-{pid}", True)
        assert pupil.status is (status or Status.WAITING)


def test_the_same_device_asking_again_changes_nothing() -> None:
    # covers: C4, STJ-11
    d = Driver(make_room("claydon", pupils=2))
    d.pupil_join("p1")
    before = d.state
    assert d.pupil_join("p1") == []
    assert d.state == before


def test_a_pupil_may_reconnect_on_a_new_device_once_the_first_has_dropped() -> None:
    # covers: C4, STJ-11
    d = Driver(make_room("claydon", pupils=2))
    d.class_in(["p1"])
    d.ok(c.ConnectionLost("p1", "dev-p1"))
    d.ok(join("p1", device="tablet"))
    assert d.state.participants["p1"].device == "tablet"
    assert d.state.participants["p1"].status is Status.WAITING


def test_a_drop_reported_for_an_old_device_does_not_disconnect_the_new_one() -> None:
    # covers: C4, STJ-11
    d = Driver(make_room("claydon", pupils=2))
    d.class_in(["p1"])
    d.ok(c.ConnectionLost("p1", "dev-p1"))
    d.ok(join("p1", device="tablet"))
    d.ok(c.Admit("t1", ("p1",)))
    assert d.ok(c.ConnectionLost("p1", "dev-p1")) == []
    assert d.state.participants["p1"].connected


@pytest.mark.parametrize("joined_as_pupil_first", [True, False])
def test_a_pupil_on_the_class_list_can_never_join_as_staff(joined_as_pupil_first: bool) -> None:
    # covers: C4, C5, C21, CLA-02, CLA-16
    d = Driver(make_room("claydon", pupils=2))
    if joined_as_pupil_first:
        d.pupil_join("p1")
        d.ok(c.ConnectionLost("p1", "dev-p1"))
    refusal = refused_unchanged(
        d, c.RequestToJoin("p1", Role.TEACHER, "dev-p1"), RefusalCode.NOT_PERMITTED
    )
    assert str(refusal) == "A pupil cannot join as staff (CLA-16)"
    assert d.state.staff_present() == 0


def test_staff_cannot_join_twice_from_two_devices() -> None:
    # covers: C4, C5, STJ-11
    d = Driver(make_room("claydon", pupils=2))
    d.staff_join("t1")
    refusal = refused_unchanged(d, c.RequestToJoin("t1", Role.TEACHER, "laptop-2"))
    assert refusal.clause == "C4"  # Claydon's protocol has no clause on devices: never STJ-11
    assert d.state.staff_present() == 1


def test_clashing_names_are_shown_apart_in_the_waiting_room() -> None:
    # covers: C4, CLA-15, CRO-11
    roster = [("a", "Amelia", "Roberts"), ("b", "Amelia", "Richards"), ("c", "Oliver", "Smith")]
    d = Driver(make_room("claydon", roster=roster))
    for pid in ("a", "b", "c"):
        d.pupil_join(pid)
    assert [p.name for p in d.state.waiting_pupils()] == ["Amelia Ro.", "Amelia Ri.", "Oliver S."]


def test_names_with_accents_apostrophes_and_hyphens_are_shown_from_the_roster() -> None:
    # covers: C4, CLA-15, CRO-15
    roster = [("z", "Zoë-Mae", "O'Neill"), ("s", "Siân", "Evans"), ("n", "Niamh", "Ó Briain")]
    d = Driver(make_room("st-josephs", roster=roster))
    d.ok(join("z", shown_name="zoe-mae o’neill"))
    d.ok(join("s", shown_name="Sian E."))
    d.ok(join("n"))
    assert {p.id: p.name for p in d.state.waiting_pupils()} == {
        "z": "Zoë-Mae O.",
        "s": "Siân E.",
        "n": "Niamh Ó.",
    }


def test_two_pupils_with_the_same_name_are_numbered_in_the_waiting_room() -> None:
    # covers: C4, CLA-15, CRO-11
    roster = [("a", "Amelia", "Roberts"), ("b", "Amelia", "Roberts")]
    d = Driver(make_room("claydon", roster=roster))
    d.pupil_join("a")
    d.pupil_join("b")
    assert [p.name for p in d.state.waiting_pupils()] == ["Amelia R. (1)", "Amelia R. (2)"]
