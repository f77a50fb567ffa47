"""`step`: decide and apply in one call, as the live-room runtime and the tests use the core."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from safeclass.core import commands as cmd
from safeclass.core.decide import run
from safeclass.core.events import Event
from safeclass.core.refusals import Refusal
from safeclass.core.state import RoomState


@dataclass(frozen=True, slots=True)
class Step:
    state: RoomState
    events: list[Event]
    refusal: Refusal | None = None


def step(
    state: RoomState, command: cmd.Command, now: dt.datetime, device: str | None = None
) -> Step:
    """Carry out `command` at `now` (from `device`, see `decide`); on refusal only the clock's
    due events happen.

    The clock is always brought up to `now` first, so time-driven events (such as the end at
    the time limit) are never lost behind a refused command.
    """
    events, after, refusal = run(state, command, now, device)
    return Step(after, events, refusal)
