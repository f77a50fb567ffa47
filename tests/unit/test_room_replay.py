"""Replaying a session's event log rebuilds exactly the live room: the log is the truth."""

from __future__ import annotations

import json

import pytest

from safeclass.core import Role, SessionKind, apply_all, new_room
from safeclass.core import commands as c
from safeclass.core.commands import NoteKind
from safeclass.core.events import from_dict, to_dict
from tests.support.checks import PRESETS
from tests.support.rooms import Driver, make_room


def busy_session(preset: str) -> Driver:
    """A whole session touching most rules: joins, refusals, a hold, chat, hands, removal, end."""
    d = Driver(make_room(preset, pupils=5))
    d.staff_join("t1")
    for pid in ("p1", "p2", "p3", "p4"):
        d.pupil_join(pid)
    d.do(c.Admit("t1", ("p1",)))  # refused: one adult (or one pupil, at Crofton)
    d.staff_join("t2", Role.ASSISTANT)
    d.at(minutes=0)
    d.ok(c.AdmitAllExpected("t1"))
    d.do(c.UnmuteMic("p1", "p1"))  # refused
    d.ok(c.RaiseHand("p2"))
    d.later(3)
    d.ok(c.RaiseHand("p3"))
    d.ok(c.CallOn("t1", "p2"))
    d.ok(c.UnmuteMic("p2", "p2"))
    d.ok(c.SetChat("t2", on=True))
    d.ok(c.PostChat("p3", "Is it 12?"))
    d.ok(c.CameraOn("t1", "p1"))
    d.ok(c.CameraOff("t2", "p1"))
    d.ok(c.AddLogNote("t1", NoteKind.AGENDA, "Number bonds to 20"))
    d.at(minutes=6)
    d.ok(c.ConnectionLost("t2", "dev-t2"))  # held
    d.later(40)
    d.ok(c.RequestToJoin("t2", Role.ASSISTANT, "dev-t2-b"))  # released
    d.ok(c.Remove("t2", "p4", "kept shouting"))
    d.do(c.StartRecording("t1"))  # allowed only at St Joseph's
    d.ok(c.RaiseConcern("t1", "Adult shouting in the background", pupil="p3"))
    d.at(minutes=12)
    d.ok(c.Leave("p3"))
    d.at(minutes=25)
    d.ok(c.Tick())
    d.at(minutes=29)
    d.ok(c.Tick())
    d.at(minutes=50)
    d.ok(c.Tick())  # the end
    return d


@pytest.mark.parametrize("preset", PRESETS)
def test_replaying_the_log_on_a_fresh_room_equals_the_live_room(preset: str) -> None:
    # covers: C14, C15, C22, C20
    d = busy_session(preset)
    fresh = make_room(preset, pupils=5)
    assert apply_all(fresh, d.log) == d.state
    assert d.state.phase.value == "ended"


@pytest.mark.parametrize("preset", PRESETS)
def test_replaying_the_stored_json_log_equals_the_live_room(preset: str) -> None:
    # covers: C14, C15, C22
    d = busy_session(preset)
    stored = json.dumps([to_dict(e) for e in d.log])
    events = [from_dict(row) for row in json.loads(stored)]
    assert events == d.log
    assert apply_all(make_room(preset, pupils=5), events) == d.state


def test_replaying_any_prefix_of_the_log_equals_the_room_at_that_moment() -> None:
    # covers: C14, C22
    room = make_room("claydon", pupils=3)
    d = Driver(room)
    states = [room]
    counts = [0]
    d.staff_join("t1")
    steps: list[c.Command] = [
        c.RequestToJoin("t2", Role.ASSISTANT, "dev-t2"),
        c.RequestToJoin("p1", Role.PUPIL, "dev-p1", None, True),
        c.Admit("t1", ("p1",)),
        c.ConnectionLost("t2", "dev-t2"),
        c.EndSession("t1"),
    ]
    for command in steps:
        d.ok(command)
        states.append(d.state)
        counts.append(len(d.log))
    for state, count in zip(states[1:], counts[1:], strict=True):
        assert apply_all(room, d.log[:count]) == state


def test_a_one_to_one_with_a_recorded_exception_replays_exactly() -> None:
    # covers: C6, C13, C22, WER-10
    room = make_room("werrington", pupils=1, kind=SessionKind.ONE_TO_ONE)
    d = Driver(room)
    d.staff_join("t1")
    d.pupil_join("p1")
    d.ok(c.StartRecording("t1"))
    d.later(10)
    d.ok(c.Admit("t1", ("p1",)))
    d.ok(c.StopRecording("t1"))
    d.ok(c.AttestParentPresent("t1", "p1"))
    d.ok(c.EmergencyEnd("t1"))
    assert apply_all(new_room(room.plan, room.policy), d.log) == d.state
