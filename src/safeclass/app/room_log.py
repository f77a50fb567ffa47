"""Room events in the session event log: writing them, reading them back, replaying a room.

The log is the source of truth. A room's state is never saved: it is rebuilt by applying the
logged events to a new room, which is how the runtime restores a live room after a restart and
how a test proves the replay equals the live state.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from safeclass.adapters.store.event_log import LogEntry, NewEntry
from safeclass.core import RoomState, SessionPlan, apply_all, new_room
from safeclass.core.events import EVENT_TYPES, Event, from_dict, to_dict
from safeclass.policy import Policy


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
