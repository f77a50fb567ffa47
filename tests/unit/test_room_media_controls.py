"""Mics and cameras (C7): muted on entry, staff control, pupils speak only when allowed."""

from __future__ import annotations

import pytest

from safeclass.core import RefusalCode
from safeclass.core import commands as c
from safeclass.core import events as ev
from safeclass.core.events import NoticeReason
from tests.support.checks import PRESETS, only, refused_unchanged, staff_in, variant
from tests.support.rooms import Driver, make_room

MUTE_CLAUSE = {
    "claydon": "CLA-05",
    "werrington": "WER-06",
    "st-josephs": "STJ-11",
    "crofton": "CRO-13",
    "s04": "S04-06",
}
CAMERA_CLAUSE = {
    "claydon": "CLA-11",
    "werrington": "WER-11",
    "st-josephs": "C7",
    "crofton": "CRO-14",
    "s04": "S04-13",
}
CAMERA_ON_AT_ENTRY = {"crofton"}  # CRO-14 "keep their camera on throughout"


def in_class(preset: str) -> Driver:
    d = Driver(make_room(preset, pupils=3))
    d.class_in(["p1", "p2"])
    return d


@pytest.mark.parametrize("preset", PRESETS)
def test_pupils_enter_with_their_mic_off_and_camera_as_the_policy_says(preset: str) -> None:
    # covers: C7, C20, CLA-05, WER-06, S04-06, CRO-13, CRO-14, CLA-11
    d = Driver(make_room(preset, pupils=2))
    staff_in(d)
    d.pupil_join("p1")
    d.pupil_join("p2")
    events = d.ok(c.AdmitAllExpected("t1"))
    camera = preset in CAMERA_ON_AT_ENTRY
    for admitted in (e for e in events if isinstance(e, ev.PupilAdmitted)):
        assert (admitted.mic_on, admitted.camera_on) == (False, camera)
        pupil = d.state.participants[admitted.pupil]
        assert (pupil.mic_on, pupil.mic_allowed) == (False, False)
        assert (pupil.camera_on, pupil.camera_allowed) == (camera, camera)


@pytest.mark.parametrize("preset", PRESETS)
def test_pupil_cannot_unmute_themselves_without_permission(preset: str) -> None:
    # covers: C7, C20, CLA-05, WER-06, S04-06, CRO-13, STJ-11, S04-17
    d = in_class(preset)
    refusal = refused_unchanged(d, c.UnmuteMic("p1", "p1"), RefusalCode.RULE)
    assert str(refusal) == f"You can speak when your teacher lets you ({MUTE_CLAUSE[preset]})"
    assert not d.state.participants["p1"].mic_on


def test_staff_unmute_a_pupil_and_mute_them_again() -> None:
    # covers: C7, CLA-05, CRO-13
    d = in_class("claydon")
    events = d.ok(c.UnmuteMic("t2", "p1"))
    assert events == [ev.MicUnmuted(at=d.now, target="p1", by="t2")]
    assert d.state.participants["p1"].mic_on
    events = d.ok(c.MuteMic("t1", "p1"))
    assert events == [ev.MicMuted(at=d.now, target="p1", by="t1")]
    assert not d.state.participants["p1"].mic_on
    refused_unchanged(d, c.UnmuteMic("p1", "p1"))  # a staff mute withdraws the permission


def test_allowed_to_speak_lets_the_pupil_unmute_and_mute_themselves() -> None:
    # covers: C7, CLA-05, STJ-11, S04-17
    d = in_class("claydon")
    assert d.names_of(d.ok(c.AllowToSpeak("t1", "p1"))) == ["SpeakingAllowed"]
    assert not d.state.participants["p1"].mic_on  # allowed, not yet speaking
    assert d.names_of(d.ok(c.UnmuteMic("p1", "p1"))) == ["MicUnmuted"]
    assert d.names_of(d.ok(c.MuteMic("p1", "p1"))) == ["MicMuted"]
    assert d.names_of(d.ok(c.UnmuteMic("p1", "p1"))) == ["MicUnmuted"]  # still allowed
    d.ok(c.MuteMic("t1", "p1"))
    refusal = refused_unchanged(d, c.UnmuteMic("p1", "p1"))
    assert str(refusal) == "You can speak when your teacher lets you (CLA-05)"


def test_where_policy_lets_pupils_unmute_themselves_they_may() -> None:
    # covers: C7, C20
    policy = variant("claydon", entry={"pupils_may_unmute_themselves": True})
    d = Driver(make_room(policy, pupils=2))
    d.class_in(["p1"])
    assert d.names_of(d.ok(c.UnmuteMic("p1", "p1"))) == ["MicUnmuted"]


def test_pupil_cannot_turn_their_camera_on_until_the_teacher_says() -> None:
    # covers: C7, CLA-11
    d = in_class("claydon")
    refusal = refused_unchanged(d, c.CameraOn("p1", "p1"), RefusalCode.RULE)
    assert str(refusal) == "You can turn your camera on when your teacher says (CLA-11)"
    assert d.names_of(d.ok(c.CameraOn("t1", "p1"))) == ["CameraTurnedOn"]
    assert d.state.participants["p1"].camera_on
    d.ok(c.CameraOff("p1", "p1"))  # the pupil may switch off; the teacher's yes still stands
    assert d.names_of(d.ok(c.CameraOn("p1", "p1"))) == ["CameraTurnedOn"]


@pytest.mark.parametrize("preset", PRESETS)
def test_pupil_cannot_turn_their_camera_back_on_after_staff_turned_it_off(preset: str) -> None:
    # covers: C7, C20, WER-11, S04-13, S04-16, CRO-14, CLA-11
    d = in_class(preset)
    if preset not in CAMERA_ON_AT_ENTRY:
        d.ok(c.CameraOn("t1", "p1"))
    events = d.ok(c.CameraOff("t2", "p1"))
    assert only(events, ev.CameraTurnedOff) == ev.CameraTurnedOff(at=d.now, target="p1", by="t2")
    refusal = refused_unchanged(d, c.CameraOn("p1", "p1"), RefusalCode.RULE)
    assert str(refusal) == (
        f"You can turn your camera on when your teacher says ({CAMERA_CLAUSE[preset]})"
    )
    assert not d.state.participants["p1"].camera_on


@pytest.mark.parametrize(
    ("preset", "tells_parent"),
    [
        ("claydon", False),
        ("werrington", True),
        ("st-josephs", False),
        ("crofton", False),
        ("s04", True),
    ],
)
def test_camera_turned_off_by_staff_tells_the_parent_after_the_session_where_policy_says(
    preset: str, tells_parent: bool
) -> None:
    # covers: C7, C10, C20, WER-11, S04-13, S04-16
    d = in_class(preset)
    d.ok(c.CameraOn("t1", "p2"))
    events = d.ok(c.CameraOff("t1", "p2"))
    notices = [e for e in events if isinstance(e, ev.ParentNoticeQueued)]
    if tells_parent:
        assert notices == [
            ev.ParentNoticeQueued(
                at=d.now, pupil="p2", reason=NoticeReason.CAMERA_TURNED_OFF, send_at_end=True
            )
        ]
    else:
        assert notices == []


def test_crofton_pupil_keeps_camera_on_but_may_switch_it_off_and_on_again() -> None:
    # covers: C7, CRO-14
    d = in_class("crofton")
    assert d.state.participants["p1"].camera_on
    assert d.names_of(d.ok(c.CameraOff("p1", "p1"))) == ["CameraTurnedOff"]
    assert d.names_of(d.ok(c.CameraOn("p1", "p1"))) == ["CameraTurnedOn"]


def test_muting_someone_already_muted_changes_nothing() -> None:
    # covers: C7, CLA-05
    d = in_class("claydon")
    before = d.state
    assert d.ok(c.MuteMic("t1", "p1")) == []
    assert d.ok(c.MuteMic("p1", "p1")) == []
    assert d.state == before


def test_staff_controls_only_reach_pupils_in_the_room() -> None:
    # covers: C7, CLA-05
    d = in_class("claydon")
    d.pupil_join("p3")
    refusal = refused_unchanged(d, c.UnmuteMic("t1", "p3"), RefusalCode.NOT_HERE)
    assert refusal.message == "That pupil is not in the session"
    refused_unchanged(d, c.MuteMic("t1", "t2"), RefusalCode.NOT_HERE)
