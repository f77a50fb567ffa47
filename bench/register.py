"""Benchmark: building the attendance register of a 30-pupil session of 500 logged events.

The session is driven through the core with the test Driver (every invariant checked): 2 staff,
30 pupils admitted, a late pupil, a dropped and re-admitted pupil, a removal, the assistant
dropping for 40 seconds, hands, call-ons, mutes, cameras and chat, then the time-limit end.
`build_register` is timed over 200 runs. Goal (issue 3): the register in under 50 ms.
Prints its figures last as one JSON line.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.rooms import Driver, class_list, make_room

from safeclass.adapters.store.event_log import LogEntry
from safeclass.app.register import build_register
from safeclass.app.room_log import entries_for, room_events
from safeclass.app.timeline import build_timeline
from safeclass.core import Role
from safeclass.core import commands as c
from safeclass.core.events import Event

PUPILS = 30
EVENTS = 500
RUNS = 200
TZ = "Europe/London"


def lesson() -> Driver:
    """A 30-pupil lesson of exactly EVENTS events, ending at the time limit."""
    d = Driver(make_room("claydon", pupils=PUPILS))
    ids = [pid for pid, _, _ in class_list(PUPILS)]
    d.at(-4).ok(c.RequestToJoin("t1", Role.TEACHER, "d-t1", staff_name="Mrs Khan"))
    d.at(-3).ok(c.RequestToJoin("t2", Role.ASSISTANT, "d-t2", staff_name="Mr Lee"))
    for i, pid in enumerate(ids[:-1]):
        d.at(-3, i * 5).pupil_join(pid)
    d.at(1).ok(c.AdmitAllExpected("t1"))
    d.at(3).pupil_join(ids[-1])  # late
    d.at(3, 30).ok(c.Admit("t2", (ids[-1],)))
    d.at(4).ok(c.SetChat("t1", True))
    d.at(5).ok(c.ConnectionLost(ids[3], f"dev-{ids[3]}"))
    d.at(6).pupil_join(ids[3])
    d.at(6, 20).ok(c.Admit("t1", (ids[3],)))
    d.at(7).ok(c.Remove("t2", ids[7], "kept unmuting"))
    d.at(8).ok(c.ConnectionLost("t2", "d-t2"))  # held: 1 of 2 staff
    d.at(8, 40).ok(c.RequestToJoin("t2", Role.ASSISTANT, "d-t2", staff_name="Mr Lee"))
    present = [pid for pid in ids if pid != ids[7]]
    seconds = 9 * 60.0
    i = 0
    ending = 3  # the 5- and 1-minute warnings and the end
    while len(d.log) < EVENTS - ending:
        pid = present[i % len(present)]
        step = i % 6
        d.at(0, seconds)
        if step == 0:
            d.ok(c.RaiseHand(pid))
        elif step == 1:
            d.ok(c.CallOn("t1", pid))
        elif step == 2:
            d.ok(c.MuteMic("t1", pid))
        elif step == 3:
            d.ok(c.PostChat(pid, f"answer {i}"))
        elif step == 4:
            d.ok(c.CameraOn("t1", pid))
        else:
            d.ok(c.CameraOff("t2", pid))
        i += 1
        seconds = min(seconds + 1.5, 24 * 60)
    d.at(25).ok(c.Tick())
    d.at(29).ok(c.Tick())
    d.at(30).ok(c.Tick())
    return d


def _timed(runs: int, events: list[Event], d: Driver) -> list[float]:
    plan, policy = d.state.plan, d.state.policy
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        build_register(plan, events, TZ, policy=policy)
        times.append((time.perf_counter() - began) * 1000)
    return times


def measure() -> dict[str, object]:
    """Build the register many times; print a summary line and return the figures."""
    d = lesson()
    events = list(d.log)
    _timed(10, events, d)  # warm up
    times = _timed(RUNS, events, d)
    register = build_register(d.state.plan, events, TZ, policy=d.state.policy)
    assert len(register.pupils) == PUPILS
    names = {pid: p.shown_name for pid, p in d.state.plan.expected.items()}
    began = time.perf_counter()
    build_timeline(events, TZ, names)
    timeline_ms = (time.perf_counter() - began) * 1000
    # From stored log entries (JSON payloads) to the register, as `safeclass report` does it.
    entries = [
        LogEntry("s1", seq, e.type, e.at, dict(e.payload), "")
        for seq, e in enumerate(entries_for(events), 1)
    ]
    began = time.perf_counter()
    build_register(d.state.plan, room_events(entries), TZ, policy=d.state.policy)
    from_log_ms = (time.perf_counter() - began) * 1000
    median = statistics.median(times)
    p95 = statistics.quantiles(times, n=20)[18]
    print(
        f"register of {len(events)} events, {PUPILS} pupils: median {median:.3f} ms, "
        f"p95 {p95:.3f} ms over {RUNS} runs; from log entries {from_log_ms:.3f} ms; "
        f"timeline {timeline_ms:.3f} ms"
    )
    figures = {
        "bench": "register",
        "events": len(events),
        "pupils": PUPILS,
        "register_ms_median": round(median, 3),
        "register_ms_p95": round(p95, 3),
        "register_from_log_ms": round(from_log_ms, 3),
    }
    return figures


def main() -> None:
    print(json.dumps(measure()))


if __name__ == "__main__":
    main()
