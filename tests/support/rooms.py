"""Building rooms for tests: a class of pupils from a preset, and a driver that checks invariants.

`Driver` runs commands through `safeclass.core.step` with a clock the test moves by hand, and
asserts every invariant after every step, so each test also re-checks the safeguards.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from safeclass.core import (
    Consent,
    ExpectedPupil,
    Refusal,
    Role,
    RoomState,
    SessionKind,
    SessionPlan,
    new_room,
    step,
    transition_violations,
    violations,
)
from safeclass.core import commands as c
from safeclass.core.apply import apply
from safeclass.core.events import Event
from safeclass.core.names import display_names
from safeclass.policy import Policy, load_preset

START = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)  # a Tuesday, 10:00 in London

FIRST_NAMES = ["Amelia", "Oliver", "Isla", "Noah", "Ava", "Leo", "Mia", "Arthur", "Freya", "Jack"]
SURNAMES = ["Roberts", "Smith", "Jones", "O'Neill", "Evans", "Khan", "Taylor", "Brown", "Wilson"]


def class_list(size: int, consent: dict[str, Consent] | None = None) -> list[tuple[str, str, str]]:
    """(pupil_id, forename, surname) for `size` pupils: p1, p2, ..."""
    return [
        (f"p{i}", FIRST_NAMES[(i - 1) % len(FIRST_NAMES)], SURNAMES[(i - 1) % len(SURNAMES)])
        for i in range(1, size + 1)
    ]


def make_room(
    policy: Policy | str = "claydon",
    pupils: int = 5,
    kind: SessionKind = SessionKind.CLASS,
    minutes: int | None = None,
    consent: dict[str, Consent] | None = None,
    roster: Iterable[tuple[str, str, str]] | None = None,
) -> RoomState:
    pol = load_preset(policy) if isinstance(policy, str) else policy
    rows = list(roster) if roster is not None else class_list(pupils)
    names = display_names(rows, pol.identity.name_rule)
    expected = {
        pid: ExpectedPupil(pid, f, s, names[pid], (consent or {}).get(pid, Consent.IMPLIED))
        for pid, f, s in rows
    }
    plan = SessionPlan(
        session_id="s1",
        kind=kind,
        starts_at=START,
        minutes=minutes or pol.timing.max_minutes,
        expected=expected,
        title="Year 2 Maths",
    )
    return new_room(plan, pol)


@dataclass(frozen=True, slots=True)
class FromDevice:
    """A command as the server submits it for a connection: from that connection's device."""

    command: c.Command
    device: str

    @property
    def actor(self) -> str:
        return self.command.actor


class Driver:
    """Runs commands against a room at a clock the test controls, checking invariants."""

    def __init__(self, state: RoomState, now: dt.datetime | None = None) -> None:
        self.state = state
        self.now = now or START - dt.timedelta(minutes=2)
        self.log: list[Event] = []

    def at(self, minutes: float = 0, seconds: float = 0) -> Driver:
        """Move the clock to START + the given offset."""
        self.now = START + dt.timedelta(minutes=minutes, seconds=seconds)
        return self

    def later(self, seconds: float) -> Driver:
        self.now += dt.timedelta(seconds=seconds)
        return self

    def do(self, command: c.Command | FromDevice) -> list[Event] | Refusal:
        before = self.state
        if isinstance(command, FromDevice):
            result = step(self.state, command.command, self.now, command.device)
        else:
            result = step(self.state, command, self.now)
        replay = before
        for event in result.events:
            after = apply(replay, event)
            problems = transition_violations(replay, event, after)
            assert not problems, problems
            replay = after
        assert replay == result.state
        problems = violations(result.state)
        assert not problems, problems
        self.state = result.state
        self.log.extend(result.events)
        return result.refusal if result.refusal is not None else result.events

    def ok(self, command: c.Command | FromDevice) -> list[Event]:
        """Run a command that must succeed; return its events."""
        result = self.do(command)
        assert not isinstance(result, Refusal), f"refused: {result}"
        return result

    def refused(self, command: c.Command | FromDevice) -> Refusal:
        """Run a command that must be refused; return the refusal."""
        result = self.do(command)
        assert isinstance(result, Refusal), f"not refused: {[e.type_name for e in result]}"
        return result

    # -- shortcuts ---------------------------------------------------------------------------
    def staff_join(self, sid: str = "t1", role: Role = Role.TEACHER) -> list[Event]:
        return self.ok(c.RequestToJoin(sid, role, f"dev-{sid}", staff_name=f"Staff {sid}"))

    def pupil_join(self, pid: str, device: str | None = None, **kw: object) -> list[Event]:
        kw.setdefault("acknowledged_expectations", True)
        return self.ok(c.RequestToJoin(pid, Role.PUPIL, device or f"dev-{pid}", **kw))  # type: ignore[arg-type]

    def class_in(self, pupils: Iterable[str], staff: Iterable[str] = ("t1", "t2")) -> None:
        """Staff join, the pupils join and are all admitted."""
        for i, sid in enumerate(staff):
            self.staff_join(sid, Role.TEACHER if i == 0 else Role.ASSISTANT)
        ids = list(pupils)
        for pid in ids:
            self.pupil_join(pid)
        self.ok(c.Admit(next(iter(staff)), tuple(ids)))

    def names_of(self, events: Iterable[Event]) -> list[str]:
        return [e.type_name for e in events]
