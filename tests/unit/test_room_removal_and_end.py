"""Removal (C10), the end for everyone at once (C11), and the emergency end (C12)."""

from __future__ import annotations

import pytest

from safeclass.core import Phase, RefusalCode, Role, Status
from safeclass.core import commands as c
from safeclass.core import events as ev
from safeclass.core.events import AlertReason, EndReason, NoticeReason
from tests.support.checks import PRESETS, only, refused_unchanged, variant
from tests.support.rooms import Driver, make_room

REMOVAL_CLAUSE = {
    "claydon": "CLA-08",
    "werrington": "C10",
    "st-josephs": "STJ-06",
    "crofton": "C10",
    "s04": "S04-16",
}
# What a refusal after staff ended the session cites: the end for everyone at once.
ENDED_BY_STAFF_CLAUSE = {
    "claydon": "CLA-10",
    "werrington": "C11",
    "st-josephs": "STJ-07",
    "crofton": "CRO-04",
    "s04": "C11",
}


def in_class(preset: str = "claydon") -> Driver:
    d = Driver(make_room(preset, pupils=4))
    d.class_in(["p1", "p2", "p3"])
    return d


# -- removal -------------------------------------------------------------------------------------


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("by", ["t1", "t2"])
def test_either_member_of_staff_removes_a_pupil_at_once(preset: str, by: str) -> None:
    # covers: C10, C20, STJ-06, S04-16, CLA-08
    d = in_class(preset)
    events = d.ok(c.Remove(by, "p2", reason="  kept   unmuting "))
    assert events == [
        ev.PupilRemoved(at=d.now, pupil="p2", by=by, reason="kept unmuting"),
        ev.ParentNoticeQueued(at=d.now, pupil="p2", reason=NoticeReason.REMOVED, send_at_end=True),
    ]
    pupil = d.state.participants["p2"]
    assert (pupil.status, pupil.connected, pupil.mic_on) == (Status.REMOVED, False, False)
    assert "p2" in d.state.removed


@pytest.mark.parametrize("preset", PRESETS)
def test_a_removed_pupil_cannot_rejoin_the_session(preset: str) -> None:
    # covers: C10, C20, STJ-06, S04-16, CLA-08
    d = in_class(preset)
    d.ok(c.Remove("t1", "p2"))
    for device in ("dev-p2", "mums-phone"):
        refusal = refused_unchanged(
            d, c.RequestToJoin("p2", Role.PUPIL, device, None, True), RefusalCode.RULE
        )
        assert str(refusal) == (
            "Oliver S. was removed from this session and cannot rejoin it "
            f"({REMOVAL_CLAUSE[preset]})"
        )
    assert d.state.participants["p2"].status is Status.REMOVED


def test_a_pupil_removed_from_the_waiting_room_cannot_be_admitted() -> None:
    # covers: C10, CLA-08
    d = in_class()
    d.pupil_join("p4")
    d.ok(c.Remove("t1", "p4"))
    refusal = refused_unchanged(d, c.Admit("t1", ("p4",)))
    assert str(refusal) == "Cannot admit Noah O.: removed from this session (CLA-08)"


def test_removing_a_pupil_twice_changes_nothing() -> None:
    # covers: C10, CLA-08
    d = in_class()
    d.ok(c.Remove("t1", "p1"))
    before = d.state
    assert d.ok(c.Remove("t2", "p1")) == []
    assert d.state == before


def test_the_parent_is_told_at_once_where_the_policy_says() -> None:
    # covers: C10, C20
    d = Driver(make_room(variant("claydon", removal={"parent_told": "immediately"}), pupils=3))
    d.class_in(["p1", "p2"])
    events = d.ok(c.Remove("t1", "p1"))
    assert only(events, ev.ParentNoticeQueued).send_at_end is False


def test_removing_someone_who_is_not_a_pupil_is_refused() -> None:
    # covers: C10, C5, CLA-08
    d = in_class()
    refusal = refused_unchanged(d, c.Remove("t1", "t2"), RefusalCode.NOT_HERE)
    assert str(refusal) == "That pupil is not in the session (CLA-08)"


# -- ending --------------------------------------------------------------------------------------


@pytest.mark.parametrize("preset", PRESETS)
def test_staff_ending_the_session_disconnects_everyone_in_one_event(preset: str) -> None:
    # covers: C11, C20, STJ-07, CRO-04, CLA-10
    d = in_class(preset)
    d.pupil_join("p4")  # still waiting
    d.ok(c.Leave("p3"))
    events = d.ok(c.EndSession("t2"))
    assert events == [
        ev.SessionEnded(
            at=d.now,
            reason=EndReason.ENDED_BY_STAFF,
            by="t2",
            disconnected=("p1", "p2", "p4", "t1", "t2"),
        )
    ]
    assert d.state.phase is Phase.ENDED
    assert d.state.end_reason is EndReason.ENDED_BY_STAFF
    for p in d.state.participants.values():
        assert (p.status, p.connected) == (Status.LEFT, False)


def test_removed_pupils_stay_removed_after_the_end() -> None:
    # covers: C10, C11, CLA-08
    d = in_class()
    d.ok(c.Remove("t1", "p1"))
    ended = only(d.ok(c.EndSession("t1")), ev.SessionEnded)
    assert "p1" not in ended.disconnected
    assert d.state.participants["p1"].status is Status.REMOVED


@pytest.mark.parametrize("preset", PRESETS)
def test_emergency_end_ends_for_everyone_and_alerts_the_dsl(preset: str) -> None:
    # covers: C12, C16, C20, WER-14, S04-19
    d = in_class(preset)
    events = d.ok(c.EmergencyEnd("t2", note="inappropriate content on screen"))
    assert events == [
        ev.DslAlerted(
            at=d.now,
            reason=AlertReason.EMERGENCY_END,
            by="t2",
            note="inappropriate content on screen",
        ),
        ev.SessionEnded(
            at=d.now,
            reason=EndReason.EMERGENCY,
            by="t2",
            disconnected=("p1", "p2", "p3", "t1", "t2"),
        ),
    ]
    assert d.state.phase is Phase.ENDED
    assert d.state.end_reason is EndReason.EMERGENCY
    assert not any(p.connected for p in d.state.participants.values())


@pytest.mark.parametrize("preset", PRESETS)
def test_nobody_can_join_after_the_end(preset: str) -> None:
    # covers: C11, C20, CLA-06, STJ-07
    d = in_class(preset)
    d.ok(c.EndSession("t1"))
    for command in (
        c.RequestToJoin("p4", Role.PUPIL, "dev-p4", None, True),
        c.RequestToJoin("p1", Role.PUPIL, "dev-p1", None, True),
        c.RequestToJoin("t1", Role.TEACHER, "dev-t1"),
    ):
        refusal = refused_unchanged(d, command, RefusalCode.ENDED)
        assert str(refusal) == f"This session has ended ({ENDED_BY_STAFF_CLAUSE[preset]})"
    assert not any(p.connected for p in d.state.participants.values())


def test_after_the_end_leaving_and_drops_are_quietly_accepted() -> None:
    # covers: C11, STJ-07
    d = in_class()
    d.ok(c.EndSession("t1"))
    before = d.state
    assert d.ok(c.Leave("t1")) == []
    assert d.ok(c.ConnectionLost("p1", "dev-p1")) == []
    assert d.state == before


def test_nothing_can_be_admitted_or_switched_on_after_the_end() -> None:
    # covers: C11, C8, C13, CLA-06
    d = in_class("st-josephs")
    d.ok(c.EndSession("t1"))
    for command in (
        c.AdmitAllExpected("t1"),
        c.SetChat("t1", on=True),
        c.StartRecording("t1"),
        c.EndSession("t1"),
        c.EmergencyEnd("t1"),
    ):
        refused_unchanged(d, command, RefusalCode.ENDED)


@pytest.mark.parametrize(
    ("preset", "ending", "clause"),
    [
        ("claydon", c.EndSession("t1"), "CLA-10"),  # staff end it for everyone at once
        ("st-josephs", c.EndSession("t1"), "STJ-07"),
        ("werrington", c.EmergencyEnd("t1"), "WER-14"),
        ("s04", c.EmergencyEnd("t1"), "S04-19"),
    ],
)
def test_a_command_after_the_end_cites_the_rule_that_ended_it(
    preset: str, ending: c.Command, clause: str
) -> None:
    # covers: C11, C12, C20
    d = in_class(preset)
    d.ok(ending)
    refusal = refused_unchanged(d, c.RaiseHand("p1"), RefusalCode.ENDED)
    assert (refusal.message, refusal.clause) == ("This session has ended", clause)


def test_a_command_after_the_time_limit_cites_the_time_limit() -> None:
    # covers: C11, CLA-06
    d = in_class("claydon")
    d.at(minutes=45).ok(c.Tick())
    assert d.state.end_reason is EndReason.TIME_LIMIT
    refusal = refused_unchanged(d, c.RaiseHand("p1"), RefusalCode.ENDED)
    assert refusal.clause == "CLA-06"
