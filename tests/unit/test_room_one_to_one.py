"""1-to-1 sessions (C6): a parent in the room, or the policy's answer when there is none."""

from __future__ import annotations

import datetime as dt

from safeclass.core import RecordingState, RefusalCode, Role, SessionKind, Status
from safeclass.core import commands as c
from safeclass.core import events as ev
from safeclass.core.events import AlertReason, HoldReason, NoticeReason
from tests.support.checks import only, refused_unchanged, staff_in
from tests.support.rooms import Driver, make_room


def one_to_one(preset: str) -> Driver:
    return Driver(make_room(preset, pupils=1, kind=SessionKind.ONE_TO_ONE))


# -- Werrington: one teacher with the parent in the room, or a recorded exception (WER-09/10) ------


def test_werrington_one_to_one_with_the_parent_present_needs_only_one_teacher() -> None:
    # covers: C6, C20, WER-09, WER-07
    d = one_to_one("werrington")
    d.staff_join("t1")
    d.pupil_join("p1", parent_present=True)
    events = d.ok(c.Admit("t1", ("p1",)))
    assert d.names_of(events) == ["PupilAdmitted"]
    assert d.state.participants["p1"].status is Status.ADMITTED
    assert not d.state.held
    assert d.state.recording is RecordingState.OFF


def test_werrington_one_to_one_without_a_parent_is_refused_until_the_recording_has_started() -> (
    None
):
    # covers: C6, C13, C20, WER-09, WER-10
    d = one_to_one("werrington")
    d.staff_join("t1")
    d.pupil_join("p1")
    refusal = refused_unchanged(d, c.Admit("t1", ("p1",)), RefusalCode.RULE)
    assert str(refusal) == (
        "Cannot admit Amelia R. without a parent in the room until the recording has started: "
        "start recording (the parent is told and the DSL alerted) (WER-09)"
    )

    events = d.ok(c.StartRecording("t1"))
    starts_at = d.now + dt.timedelta(seconds=10)
    assert events == [
        ev.RecordingNoticeGiven(at=d.now, by="t1", starts_at=starts_at, one_to_one_exception=True),
        ev.ParentNoticeQueued(
            at=d.now, pupil="p1", reason=NoticeReason.RECORDED, send_at_end=False
        ),
        ev.DslAlerted(at=d.now, reason=AlertReason.ONE_TO_ONE_RECORDED, by="t1", pupil="p1"),
    ]
    assert d.state.recording is RecordingState.NOTICE

    d.later(9)  # the notice is still showing: the recording has not begun
    refusal = refused_unchanged(d, c.Admit("t1", ("p1",)))
    assert refusal.clause == "WER-09"

    d.later(1)
    events = d.ok(c.Admit("t1", ("p1",)))
    assert d.names_of(events) == ["RecordingStarted", "PupilAdmitted"]
    assert d.state.recording is RecordingState.ON
    assert d.state.participants["p1"].status is Status.ADMITTED
    assert not d.state.held


def test_werrington_pupil_is_held_when_the_recording_stops_with_no_parent_present() -> None:
    # covers: C6, C13, WER-10
    d = one_to_one("werrington")
    d.staff_join("t1")
    d.pupil_join("p1")
    d.ok(c.StartRecording("t1"))
    d.later(10)
    d.ok(c.Admit("t1", ("p1",)))
    events = d.ok(c.StopRecording("t1"))
    assert d.names_of(events) == ["RecordingStopped", "RoomHeld"]
    assert only(events, ev.RoomHeld).reason is HoldReason.PARENT_ABSENT
    assert d.state.held
    refusal = refused_unchanged(d, c.UnmuteMic("t1", "p1"))
    assert str(refusal) == "Cannot unmute Amelia R.: waiting for a parent to be present (WER-09)"
    events = d.ok(c.AttestParentPresent("t1", "p1"))
    assert d.names_of(events) == ["ParentPresenceAttested", "RoomReleased"]


def test_werrington_parent_leaving_holds_the_pupil_until_a_noticed_recording_starts() -> None:
    # covers: C6, C13, WER-07, WER-10
    d = one_to_one("werrington")
    d.staff_join("t1")
    d.pupil_join("p1", parent_present=True)
    d.ok(c.Admit("t1", ("p1",)))
    events = d.ok(c.AttestParentPresent("p1", "p1", present=False))  # from the pupil's device
    assert d.names_of(events) == ["ParentPresenceAttested", "RoomHeld"]
    assert only(events, ev.RoomHeld).reason is HoldReason.PARENT_ABSENT
    d.ok(c.StartRecording("t1"))
    assert d.state.held  # still held during the notice
    d.later(10)
    events = d.ok(c.Tick())
    assert d.names_of(events) == ["RecordingStarted", "RoomReleased"]
    assert not d.state.held


def test_werrington_one_to_one_recording_is_refused_when_the_parent_is_present() -> None:
    # covers: C13, WER-08, WER-10
    d = one_to_one("werrington")
    d.staff_join("t1")
    d.pupil_join("p1", parent_present=True)
    d.ok(c.Admit("t1", ("p1",)))
    refusal = refused_unchanged(d, c.StartRecording("t1"))
    assert str(refusal) == (
        "Recording is only allowed for a 1-to-1 session without a parent in the room (WER-08)"
    )


def test_werrington_one_teacher_cannot_leave_the_pupil_alone() -> None:
    # covers: C6, C11, WER-09
    d = one_to_one("werrington")
    d.staff_join("t1")
    d.pupil_join("p1", parent_present=True)
    d.ok(c.Admit("t1", ("p1",)))
    refusal = refused_unchanged(d, c.Leave("t1"))
    assert refusal.message.startswith("You cannot leave yet: 1 pupil would be left with 0 of 1")


# -- S04: two staff and a parent, never recorded (S04-09, S04-10, S04-11) ---------------------


def test_s04_one_to_one_without_a_parent_is_refused() -> None:
    # covers: C6, C20, S04-08, S04-09, S04-10
    d = one_to_one("s04")
    staff_in(d)
    d.pupil_join("p1")
    refusal = refused_unchanged(d, c.Admit("t1", ("p1",)), RefusalCode.RULE)
    assert str(refusal) == (
        "Cannot admit Amelia R.: a parent has not confirmed they are in the room (S04-09)"
    )
    refusal = refused_unchanged(d, c.StartRecording("t1"))
    assert str(refusal) == "Recording is switched off in this school's policy (S04-10)"
    assert d.state.participants["p1"].status is Status.WAITING


def test_s04_one_to_one_needs_two_staff_even_with_the_parent_present() -> None:
    # covers: C5, C6, S04-11
    d = one_to_one("s04")
    d.staff_join("t1")
    d.pupil_join("p1", parent_present=True)
    refusal = refused_unchanged(d, c.Admit("t1", ("p1",)))
    assert str(refusal) == "Cannot admit Amelia R.: 1 of 2 required staff present (S04-11)"


def test_s04_one_to_one_admits_once_staff_confirm_the_parent_is_there() -> None:
    # covers: C6, S04-09
    d = one_to_one("s04")
    staff_in(d)
    d.pupil_join("p1")
    events = d.ok(c.AttestParentPresent("t2", "p1"))
    assert events == [ev.ParentPresenceAttested(at=d.now, pupil="p1", present=True, by="t2")]
    d.ok(c.Admit("t1", ("p1",)))
    assert d.state.participants["p1"].status is Status.ADMITTED


def test_s04_parent_leaving_holds_the_pupil() -> None:
    # covers: C6, S04-07, S04-09
    d = one_to_one("s04")
    staff_in(d)
    d.pupil_join("p1", parent_present=True)
    d.ok(c.Admit("t1", ("p1",)))
    events = d.ok(c.AttestParentPresent("t1", "p1", present=False))
    assert only(events, ev.RoomHeld).reason is HoldReason.PARENT_ABSENT
    refusal = refused_unchanged(d, c.CameraOn("t1", "p1"))
    assert str(refusal) == (
        "Cannot turn on Amelia R.'s camera: waiting for a parent to be present (S04-09)"
    )


def test_a_pupil_cannot_confirm_a_parent_for_another_pupil() -> None:
    # covers: C6, C21, S04-09
    d = Driver(make_room("s04", pupils=2, kind=SessionKind.ONE_TO_ONE))
    staff_in(d)
    d.pupil_join("p1")
    d.pupil_join("p2")
    refusal = refused_unchanged(d, c.AttestParentPresent("p2", "p1"), RefusalCode.NOT_PERMITTED)
    assert refusal.message == "Only staff can confirm a parent is present"
    assert not d.state.participants["p1"].parent_present


def test_a_parent_confirming_twice_changes_nothing() -> None:
    # covers: C6, S04-09
    d = one_to_one("s04")
    staff_in(d)
    d.pupil_join("p1", parent_present=True)
    before = d.state
    assert d.ok(c.AttestParentPresent("p1", "p1")) == []
    assert d.state == before
    assert d.state.participants["p1"].role is Role.PUPIL
