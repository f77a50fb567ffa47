"""Recording (C13): never by default; with notice to everyone first where the policy allows it."""

from __future__ import annotations

import datetime as dt

import pytest

from safeclass.core import RecordingState, RefusalCode
from safeclass.core import commands as c
from safeclass.core import events as ev
from tests.support.checks import refused_unchanged
from tests.support.rooms import Driver, make_room


def in_class(preset: str = "st-josephs") -> Driver:
    d = Driver(make_room(preset, pupils=3))
    d.class_in(["p1", "p2"])
    return d


@pytest.mark.parametrize(
    ("preset", "said"),
    [
        ("claydon", "Recording is switched off in this school's policy (CLA-09)"),
        ("s04", "Recording is switched off in this school's policy (S04-10)"),
        ("crofton", "Recording is switched off in this school's policy (C13)"),
        (
            "werrington",
            "Recording is only allowed for a 1-to-1 session without a parent in the room (WER-08)",
        ),
    ],
)
def test_recording_is_refused_where_the_policy_does_not_allow_it(preset: str, said: str) -> None:
    # covers: C13, C20, STJ-01, CLA-09, S04-10, WER-08
    d = in_class(preset)
    refusal = refused_unchanged(d, c.StartRecording("t1"), RefusalCode.RULE)
    assert str(refusal) == said
    assert d.state.recording is RecordingState.OFF


def test_st_josephs_recording_starts_only_after_everyone_has_been_told() -> None:
    # covers: C13, C20, STJ-09
    d = in_class()
    told_at = d.now
    events = d.ok(c.StartRecording("t2"))
    assert events == [
        ev.RecordingNoticeGiven(
            at=told_at,
            by="t2",
            starts_at=told_at + dt.timedelta(seconds=10),
            one_to_one_exception=False,
        )
    ]
    assert d.state.recording is RecordingState.NOTICE
    d.later(9.9)
    assert d.ok(c.Tick()) == []
    assert d.state.recording is RecordingState.NOTICE
    d.later(0.1)
    assert d.ok(c.Tick()) == [ev.RecordingStarted(at=told_at + dt.timedelta(seconds=10))]
    assert d.state.recording is RecordingState.ON
    assert d.state.recording_notice_at == told_at
    assert d.state.recording_started_at == told_at + dt.timedelta(seconds=10)


def test_the_noticed_recording_starts_even_if_the_next_command_is_refused() -> None:
    # covers: C13, STJ-09
    d = in_class()
    d.ok(c.StartRecording("t1"))
    d.later(30)
    result = d.do(c.UnmuteMic("p1", "p1"))
    assert not isinstance(result, list)
    assert d.names_of(d.log[-1:]) == ["RecordingStarted"]
    assert d.state.recording is RecordingState.ON


def test_a_recording_stopped_during_its_notice_never_starts() -> None:
    # covers: C13, STJ-09
    d = in_class()
    d.ok(c.StartRecording("t1"))
    d.later(5)
    assert d.names_of(d.ok(c.StopRecording("t1"))) == ["RecordingStopped"]
    d.later(60)
    assert d.ok(c.Tick()) == []
    assert d.state.recording is RecordingState.OFF
    assert not any(isinstance(e, ev.RecordingStarted) for e in d.log)


def test_a_recording_never_starts_without_the_notice_first() -> None:
    # covers: C13, STJ-09, S04-10
    d = in_class()
    d.ok(c.StartRecording("t1"))
    d.later(10)
    d.ok(c.Tick())
    d.ok(c.StopRecording("t1"))
    d.ok(c.StartRecording("t1"))
    d.later(10)
    d.ok(c.Tick())
    kinds = [e.type_name for e in d.log if "Recording" in e.type_name]
    assert kinds == [
        "RecordingNoticeGiven",
        "RecordingStarted",
        "RecordingStopped",
        "RecordingNoticeGiven",
        "RecordingStarted",
    ]


def test_asking_to_record_twice_gives_one_notice() -> None:
    # covers: C13, STJ-09
    d = in_class()
    d.ok(c.StartRecording("t1"))
    assert d.ok(c.StartRecording("t2")) == []
    assert d.ok(c.StopRecording("t1")) != []
    assert d.ok(c.StopRecording("t1")) == []


def test_the_recording_stops_when_the_session_ends() -> None:
    # covers: C13, C11, STJ-09, STJ-07
    d = in_class()
    d.ok(c.StartRecording("t1"))
    d.later(10)
    d.ok(c.EndSession("t1"))
    assert d.state.recording is RecordingState.OFF


def test_a_pupil_cannot_start_or_stop_a_recording() -> None:
    # covers: C13, C21, STJ-09, STJ-02
    d = in_class()
    refusal = refused_unchanged(d, c.StartRecording("p1"), RefusalCode.NOT_PERMITTED)
    assert str(refusal) == "Only staff can record the session (STJ-09)"
    d.ok(c.StartRecording("t1"))
    refused_unchanged(d, c.StopRecording("p1"), RefusalCode.NOT_PERMITTED)
