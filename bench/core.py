"""Benchmark: commands decided and applied per second by the pure core, 2 staff and 30 pupils.

A realistic mix for a live lesson (hands, call-on, mutes, cameras, chat, a dropped and returning
assistant, a few refused pupil attempts), run through `safeclass.core.step` on one core.
Goal (issue 2): at least 50,000 commands a second, so the core is never the bottleneck.
Prints its figures last as one JSON line.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.rooms import START, class_list, make_room

from safeclass.core import Role, step
from safeclass.core import commands as c

PUPILS = 30


def _room_in_session():  # type: ignore[no-untyped-def]
    state = make_room("claydon", pupils=PUPILS)
    now = START - dt.timedelta(minutes=4)
    ids = [pid for pid, _, _ in class_list(PUPILS)]
    setup: list[c.Command] = [
        c.RequestToJoin("t1", Role.TEACHER, "d-t1", staff_name="Mrs Khan"),
        c.RequestToJoin("t2", Role.ASSISTANT, "d-t2", staff_name="Mr Lee"),
        *[c.RequestToJoin(p, Role.PUPIL, f"d-{p}", acknowledged_expectations=True) for p in ids],
        c.AdmitAllExpected("t1"),
        c.SetChat("t1", True),
    ]
    for command in setup:
        result = step(state, command, now)
        assert result.refusal is None, result.refusal
        state = result.state
    return state, now, ids


def _lesson_mix(ids: list[str]) -> list[c.Command]:
    mix: list[c.Command] = []
    for i, pid in enumerate(ids):
        mix += [
            c.RaiseHand(pid),
            c.CallOn("t1", pid),
            c.UnmuteMic(pid, pid),
            c.MuteMic("t2", pid),
            c.PostChat(pid, f"answer {i}"),
            c.UnmuteMic(pid, ids[(i + 1) % len(ids)]),  # refused: a pupil unmuting another
            c.CameraOn("t1", pid),
            c.CameraOff("t2", pid),
        ]
        if i % 10 == 0:
            mix += [
                c.ConnectionLost("t2", "d-t2"),  # the room is held
                c.RequestToJoin("t2", Role.ASSISTANT, "d-t2", staff_name="Mr Lee"),  # released
            ]
    return mix


def main() -> None:
    state, now, ids = _room_in_session()
    mix = _lesson_mix(ids)
    tick = dt.timedelta(milliseconds=1)
    rounds = 0
    commands = 0
    refused = 0
    events = 0
    started = time.perf_counter()
    while time.perf_counter() - started < 3.0:
        current = state
        clock = now
        for command in mix:
            clock += tick
            result = step(current, command, clock)
            current = result.state
            events += len(result.events)
            refused += result.refusal is not None
        commands += len(mix)
        rounds += 1
    elapsed = time.perf_counter() - started
    print(f"{commands} commands in {elapsed:.2f} s ({rounds} lessons of {len(mix)} commands)")
    figures = {
        "bench": "core",
        "pupils": PUPILS,
        "staff": 2,
        "commands_per_s": round(commands / elapsed),
        "events_per_s": round(events / elapsed),
        "refused_share": round(refused / commands, 3),
        "us_per_command": round(elapsed / commands * 1e6, 2),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
