"""Room events in the session event log: writing them, reading them back, replaying a room.

The log is the source of truth. A room's state is never saved: it is rebuilt by applying the
logged events to a new room, which is how the runtime restores a live room after a restart and
how a test proves the replay equals the live state.

Beside the room's events the log keeps refused attempts (`AttemptRefused`, one attempt, and
`AttemptsRefused`, a count of them: app/live/attempts.py). They change nothing in the room, so
replay skips them; `refused_attempts` reads them for the timeline and the register.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from safeclass.app.event_store import LogEntry, NewEntry
from safeclass.core import RoomState, SessionPlan, apply_all, new_room
from safeclass.core.events import EVENT_TYPES, Event, from_dict, to_dict
from safeclass.policy import Policy

ATTEMPT_REFUSED = "AttemptRefused"  # one attempt: actor, command, message, clause
ATTEMPTS_REFUSED = "AttemptsRefused"  # a count: actor, count, commands, first, last


@dataclass(frozen=True, slots=True)
class RefusedAttempts:
    """One refused attempt (count 1, with the refusal's message), or a count of them."""

    at: dt.datetime
    actor: str
    count: int
    commands: Mapping[str, int]  # the commands attempted and how often
    message: str = ""  # one attempt's refusal, in plain words
    clause: str = ""
    first: dt.datetime | None = None  # a count's span
    last: dt.datetime | None = None

    @property
    def counted(self) -> bool:
        """A count of attempts not logged one by one (AttemptsRefused)."""
        return self.first is not None


def entries_for(events: Iterable[Event]) -> list[NewEntry]:
    """Log entries for room events: the type, the ISO time, and the rest as the payload."""
    out = []
    for event in events:
        data = to_dict(event)
        kind = data.pop("type")
        at = data.pop("at")
        out.append(NewEntry(kind, at, data))
    return out


def room_events(entries: Sequence[LogEntry]) -> list[Event]:
    """The room events among log entries (others, such as redaction notes, are skipped).

    Retention blanks only content fields (a chat message's text), so a redacted room event
    still replays; an entry whose whole payload was deleted is skipped.
    """
    events = []
    for entry in entries:
        if entry.type not in EVENT_TYPES or entry.payload is None:
            continue
        events.append(from_dict({"type": entry.type, "at": entry.at, **entry.payload}))
    return events


def replay(plan: SessionPlan, policy: Policy, entries: Sequence[LogEntry]) -> RoomState:
    """The room's state rebuilt from its log."""
    return apply_all(new_room(plan, policy), room_events(entries))


def refused_attempts(entries: Sequence[LogEntry]) -> list[RefusedAttempts]:
    """The refused attempts among log entries, in log order (a redacted one is skipped)."""
    out = []
    for entry in entries:
        p = entry.payload
        if p is None or entry.type not in (ATTEMPT_REFUSED, ATTEMPTS_REFUSED):
            continue
        at = dt.datetime.fromisoformat(entry.at)
        if entry.type == ATTEMPT_REFUSED:
            attempt = RefusedAttempts(
                at, p["actor"], 1, {p["command"]: 1}, p["message"], p.get("clause", "")
            )
        else:
            attempt = RefusedAttempts(
                at,
                p["actor"],
                int(p["count"]),
                dict(p["commands"]),
                first=dt.datetime.fromisoformat(p["first"]),
                last=dt.datetime.fromisoformat(p["last"]),
            )
        out.append(attempt)
    return out
