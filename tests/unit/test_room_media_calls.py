"""What the SFU is told after each command: the media follows the room's state, and nothing else.

`media_calls(before, after)` is what the room's media lane makes after the log write; these tests
run real commands through the core and check the calls, in order (a hold first, a release last).
"""

from __future__ import annotations

from safeclass.app.live.media_calls import MediaCall, media_calls, media_resumed, visible_feeds
from safeclass.core import Role
from safeclass.core import commands as c
from tests.support.checks import variant
from tests.support.rooms import Driver, make_room


def calls(d: Driver, command: c.Command) -> list[MediaCall]:
    before = d.state
    d.ok(command)
    return media_calls(before, d.state)


def in_class() -> Driver:
    d = Driver(make_room("claydon", pupils=3))
    d.class_in(["p1", "p2"])
    return d


def test_staff_are_admitted_to_the_media_with_mic_and_camera_on() -> None:
    d = Driver(make_room("claydon", pupils=2))
    assert calls(d, c.RequestToJoin("t1", Role.TEACHER, "dev-t1", staff_name="T")) == [
        MediaCall("admit", "t1", role=Role.TEACHER),
        MediaCall("set_media", "t1", audio=True, video=True),
    ]


def test_a_waiting_pupil_is_not_in_the_media_and_an_admitted_one_is_muted() -> None:
    d = Driver(make_room("claydon", pupils=3))
    d.staff_join("t1")
    d.staff_join("t2", Role.ASSISTANT)
    before = d.state
    d.pupil_join("p1")
    assert media_calls(before, d.state) == []  # the waiting room has no media
    assert calls(d, c.Admit("t1", ("p1",))) == [
        MediaCall("admit", "p1", role=Role.PUPIL),
        MediaCall("set_media", "p1", audio=False, video=False),  # CLA-05, CLA-11 on entry
    ]


def test_mutes_and_cameras_become_set_media_with_the_state_after_them() -> None:
    d = in_class()
    assert calls(d, c.UnmuteMic("t1", "p1")) == [MediaCall("set_media", "p1", audio=True)]
    assert calls(d, c.CameraOn("t1", "p1")) == [
        MediaCall("set_media", "p1", audio=True, video=True)
    ]
    assert calls(d, c.MuteMic("t1", "p1")) == [MediaCall("set_media", "p1", video=True)]
    assert calls(d, c.CameraOff("t1", "p1")) == [MediaCall("set_media", "p1")]
    # letting a pupil speak changes nothing the SFU forwards until they unmute
    assert calls(d, c.AllowToSpeak("t1", "p2")) == []
    assert calls(d, c.UnmuteMic("p2", "p2")) == [MediaCall("set_media", "p2", audio=True)]


def test_a_hold_comes_before_the_revocation_of_the_adult_who_dropped() -> None:
    d = in_class()
    assert calls(d, c.ConnectionLost("t2", "dev-t2")) == [
        MediaCall("hold", held=True),
        MediaCall("revoke", "t2"),
    ]
    assert calls(d, c.RequestToJoin("t2", Role.ASSISTANT, "dev-t2b", staff_name="A")) == [
        MediaCall("admit", "t2", role=Role.ASSISTANT),
        MediaCall("set_media", "t2", audio=True, video=True),
        MediaCall("hold", held=False),  # released last, once the adult is back in the media
    ]


def test_removal_leaving_and_dropping_revoke_and_the_end_closes() -> None:
    d = in_class()
    assert calls(d, c.Remove("t1", "p1", "behaviour")) == [MediaCall("revoke", "p1")]
    assert calls(d, c.Leave("p2")) == [MediaCall("revoke", "p2")]
    assert calls(d, c.EndSession("t1")) == [MediaCall("close")]


def test_a_pupil_who_moves_to_another_device_loses_the_first_ones_media() -> None:
    d = Driver(make_room(variant("claydon", identity={"one_device_per_pupil": False})))
    d.class_in(["p1", "p2"])
    before = d.state
    d.pupil_join("p1", device="tablet-2")
    assert media_calls(before, d.state) == [MediaCall("revoke", "p1")]


def test_everyone_in_the_room_sees_the_others_and_nobody_sees_the_waiting_room() -> None:
    d = in_class()
    d.pupil_join("p3")
    assert visible_feeds(d.state, "p1") == ["t1", "t2", "p2"]
    assert visible_feeds(d.state, "t1") == ["t2", "p1", "p2"]
    d.ok(c.Remove("t1", "p2", ""))
    assert visible_feeds(d.state, "p1") == ["t1", "t2"]


def recording_class() -> Driver:
    d = Driver(make_room("st-josephs", pupils=2))
    d.class_in(["p1"])
    return d


def test_recording_starts_at_the_sfu_only_when_the_notice_has_run_out() -> None:
    # covers: STJ-09
    d = recording_class()
    assert calls(d, c.StartRecording("t1")) == []  # the notice: nothing is recorded yet
    d.later(9)
    assert calls(d, c.Tick()) == []
    d.later(1)
    assert calls(d, c.Tick()) == [MediaCall("record", on=True)]


def test_stopping_a_recording_stops_it_at_the_sfu_and_the_end_destroys_the_room() -> None:
    # covers: STJ-09
    d = recording_class()
    d.ok(c.StartRecording("t1"))
    d.later(10)
    d.ok(c.Tick())
    assert calls(d, c.StopRecording("t2")) == [MediaCall("record", on=False)]
    d.ok(c.StartRecording("t1"))
    d.later(10)
    d.ok(c.Tick())
    assert calls(d, c.EndSession("t1")) == [MediaCall("close")]  # destroying ends it too


def test_a_hold_during_a_recording_cuts_the_pupils_but_the_recording_runs_on() -> None:
    # covers: STJ-09, STJ-06
    d = recording_class()
    d.ok(c.StartRecording("t1"))
    d.later(10)
    d.ok(c.Tick())
    assert calls(d, c.ConnectionLost("t2", "dev-t2")) == [
        MediaCall("hold", held=True),
        MediaCall("revoke", "t2"),
    ]


def test_a_room_taken_over_is_built_as_its_state_says_with_its_mutes_and_hold() -> None:
    """Another worker takes the room over (a failover): its SFU room is opened (held, as the
    state is) and everyone in the media admitted with their own microphone and camera."""
    d = in_class()
    d.ok(c.CameraOn("t1", "p1"))
    d.ok(c.ConnectionLost("t2", "dev-t2"))  # held: one adult left
    assert d.state.held
    assert media_resumed(d.state) == [
        MediaCall("open"),
        MediaCall("admit", "t1", role=Role.TEACHER),
        MediaCall("set_media", "t1", audio=True, video=True),
        MediaCall("admit", "p1", role=Role.PUPIL),
        MediaCall("set_media", "p1", video=True),  # muted still; the open call holds it
        MediaCall("admit", "p2", role=Role.PUPIL),
        MediaCall("set_media", "p2"),
    ]
    d.ok(c.EndSession("t1"))
    assert media_resumed(d.state) == []  # an ended room has no media to build
