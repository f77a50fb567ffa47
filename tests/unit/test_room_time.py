"""The clock (C11, C5): warnings, the end at the time limit, and a hold that lasts too long."""

from __future__ import annotations

import datetime as dt

import pytest

from safeclass.core import Phase, RefusalCode, Role, Status, next_deadline
from safeclass.core import commands as c
from safeclass.core import events as ev
from safeclass.core.events import EndReason
from tests.support.checks import PRESETS, TWO_ADULT_PRESETS, only
from tests.support.rooms import START, Driver, make_room


def in_class(preset: str = "claydon", minutes: int | None = None) -> Driver:
    d = Driver(make_room(preset, pupils=3, minutes=minutes)).at(minutes=0)
    d.class_in(["p1", "p2"])
    return d


@pytest.mark.parametrize("preset", PRESETS)
def test_warnings_come_five_and_one_minutes_before_the_end(preset: str) -> None:
    # covers: C11, C20, CLA-06
    d = in_class(preset)
    limit = d.state.policy.timing.max_minutes
    d.at(minutes=limit - 5, seconds=-1)
    assert d.ok(c.Tick()) == []
    d.later(1)
    assert d.ok(c.Tick()) == [ev.TimeWarning(at=d.now, minutes_left=5)]
    d.at(minutes=limit - 2)
    assert d.ok(c.Tick()) == []
    d.at(minutes=limit - 1)
    assert d.ok(c.Tick()) == [ev.TimeWarning(at=d.now, minutes_left=1)]
    assert d.state.phase is Phase.LIVE


@pytest.mark.parametrize("preset", PRESETS)
def test_the_time_limit_ends_the_session_and_disconnects_everyone_in_one_event(
    preset: str,
) -> None:
    # covers: C11, C20, CLA-06, STJ-07, CRO-04, CLA-10
    d = in_class(preset)
    d.pupil_join("p3")
    limit = d.state.policy.timing.max_minutes
    d.at(minutes=limit, seconds=-1)
    d.ok(c.Tick())
    assert d.state.phase is Phase.LIVE
    d.at(minutes=limit)
    events = d.ok(c.Tick())
    assert events == [
        ev.SessionEnded(
            at=START + dt.timedelta(minutes=limit),
            reason=EndReason.TIME_LIMIT,
            by="clock",
            disconnected=("p1", "p2", "p3", "t1", "t2"),
        )
    ]
    assert d.state.phase is Phase.ENDED
    assert all(not p.connected for p in d.state.participants.values())
    assert next_deadline(d.state) is None


def test_the_policy_maximum_caps_a_longer_planned_session() -> None:
    # covers: C11, CLA-06
    d = in_class("claydon", minutes=60)
    d.at(minutes=30)
    ended = only(d.ok(c.Tick()), ev.SessionEnded)
    assert ended.reason is EndReason.TIME_LIMIT


def test_the_maximum_counts_from_the_first_admission_when_pupils_come_in_early() -> None:
    # covers: C11, CLA-06
    d = Driver(make_room("claydon", pupils=2)).at(minutes=-3)
    d.class_in(["p1"])
    assert d.state.ends_at == START + dt.timedelta(minutes=27)
    d.at(minutes=27)
    assert only(d.ok(c.Tick()), ev.SessionEnded).reason is EndReason.TIME_LIMIT


def test_a_clock_jump_straight_past_the_end_still_ends_it() -> None:
    # covers: C11, CLA-06, STJ-07
    d = Driver(make_room("claydon", pupils=3)).at(minutes=-2)
    d.class_in(["p1", "p2"])
    d.at(minutes=95)
    events = d.ok(c.Tick())
    assert d.names_of(events) == ["SessionStarted", "SessionEnded"]
    ended = only(events, ev.SessionEnded)
    assert (ended.reason, ended.disconnected) == (EndReason.TIME_LIMIT, ("p1", "p2", "t1", "t2"))
    assert not any(isinstance(e, ev.TimeWarning) for e in d.log)


def test_the_end_is_not_lost_behind_a_refused_command() -> None:
    # covers: C11, CLA-06
    d = in_class()
    d.at(minutes=31)
    refusal = d.refused(c.UnmuteMic("p1", "p1"))
    assert refusal.code is RefusalCode.ENDED
    assert str(refusal) == "This session has ended (CLA-06)"
    assert d.names_of(d.log[-1:]) == ["SessionEnded"]
    assert d.state.phase is Phase.ENDED


def test_a_late_jump_gives_only_the_most_urgent_warning() -> None:
    # covers: C11, CLA-06
    d = in_class()
    d.at(minutes=29, seconds=30)
    assert d.ok(c.Tick()) == [ev.TimeWarning(at=d.now, minutes_left=1)]
    d.later(10)
    assert d.ok(c.Tick()) == []


@pytest.mark.parametrize("preset", TWO_ADULT_PRESETS)
def test_a_hold_lasting_longer_than_the_policy_allows_ends_the_session(preset: str) -> None:
    # covers: C5, C11, C20, CLA-02, S04-11, STJ-06
    d = in_class(preset)
    d.at(minutes=5)
    d.ok(c.ConnectionLost("t2", "dev-t2"))
    assert d.state.held
    hold = d.state.policy.staffing.hold_ends_session_after_minutes
    d.at(minutes=5 + hold, seconds=-1)
    assert d.ok(c.Tick()) == []
    d.at(minutes=5 + hold)
    events = d.ok(c.Tick())
    assert events == [
        ev.SessionEnded(
            at=d.now, reason=EndReason.HOLD_TIMEOUT, by="clock", disconnected=("p1", "p2", "t1")
        )
    ]
    assert d.state.end_reason is EndReason.HOLD_TIMEOUT
    assert d.state.participants["p1"].status is Status.LEFT


def test_a_released_hold_starts_the_hold_clock_afresh_next_time() -> None:
    # covers: C5, C11, CLA-02
    d = in_class()
    d.at(minutes=2)
    d.ok(c.ConnectionLost("t2", "dev-t2"))
    d.at(minutes=6)
    d.ok(c.RequestToJoin("t2", Role.ASSISTANT, "dev-t2-b"))
    assert not d.state.held
    d.at(minutes=8)
    d.ok(c.ConnectionLost("t2", "dev-t2-b"))
    d.at(minutes=12)
    d.ok(c.Tick())
    assert d.state.phase is Phase.LIVE  # 4 minutes into the second hold, 8 in all
    d.at(minutes=13)
    assert only(d.ok(c.Tick()), ev.SessionEnded).reason is EndReason.HOLD_TIMEOUT


def test_next_deadline_tells_the_runtime_when_to_wake() -> None:
    # covers: C11, C3
    room = make_room("claydon", pupils=2)
    assert next_deadline(room) == START - dt.timedelta(minutes=5)
    d = in_class()
    assert next_deadline(d.state) == START + dt.timedelta(minutes=25)
    d.at(minutes=3)
    d.ok(c.ConnectionLost("t2", "dev-t2"))
    assert next_deadline(d.state) == START + dt.timedelta(minutes=8)
