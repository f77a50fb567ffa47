"""`step`: decide and apply in one call, as the live-room runtime and the tests use the core."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from safeclass.core import commands as cmd
from safeclass.core.decide import decide_and_apply
from safeclass.core.events import Event
from safeclass.core.refusals import Refusal
from safeclass.core.state import RoomState


@dataclass(frozen=True, slots=True)
class Step:
    state: RoomState
    events: list[Event]
    refusal: Refusal | None = None


def step(state: RoomState, command: cmd.Command, now: dt.datetime) -> Step:
    """Carry out `command` at `now`; on refusal the state is unchanged and the refusal says why.

    The clock is always brought up to `now` first with a `Tick`, so time-driven events (such as
    the end at the time limit) are never lost behind a refused command.
    """
    ticked = decide_and_apply(state, cmd.Tick(), now)
    assert not isinstance(ticked, Refusal)  # noqa: S101 - a Tick is never refused
    clock_events, state = ticked
    if isinstance(command, cmd.Tick):
        return Step(state, clock_events)
    outcome = decide_and_apply(state, command, now)
    if isinstance(outcome, Refusal):
        return Step(state, clock_events, outcome)
    events, state = outcome
    return Step(state, clock_events + events)
