"""Events: what happened in a room (past-tense names). The session event log is a list of these.

Events are the only thing `apply` understands, so replaying a session's log rebuilds its state
exactly. `to_dict`/`from_dict` give the stable JSON shape the event log stores and hashes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import types
import typing
from dataclasses import dataclass
from typing import Any, ClassVar

from safeclass.core.commands import NoteKind
from safeclass.core.roles import Consent, Role


class HoldReason(enum.StrEnum):
    STAFF_BELOW_MINIMUM = "staff_below_minimum"
    PARENT_ABSENT = "parent_absent"


class EndReason(enum.StrEnum):
    ENDED_BY_STAFF = "ended_by_staff"
    TIME_LIMIT = "time_limit"
    HOLD_TIMEOUT = "hold_timeout"
    EMERGENCY = "emergency"


class AlertReason(enum.StrEnum):
    CONCERN = "concern"
    EMERGENCY_END = "emergency_end"
    ONE_TO_ONE_RECORDED = "one_to_one_recorded"


class NoticeReason(enum.StrEnum):
    REMOVED = "removed"
    CAMERA_TURNED_OFF = "camera_turned_off"
    RECORDED = "recorded"


@dataclass(frozen=True, slots=True)
class Event:
    at: dt.datetime
    type_name: ClassVar[str] = "event"


_REGISTRY: dict[str, type[Event]] = {}


_E = typing.TypeVar("_E", bound=type[Event])


def _event(cls: _E) -> _E:
    cls.type_name = cls.__name__
    _REGISTRY[cls.__name__] = cls
    return cls


@_event
@dataclass(frozen=True, slots=True)
class WaitingRoomOpened(Event):
    pass


@_event
@dataclass(frozen=True, slots=True)
class SessionStarted(Event):
    reminder: tuple[str, ...] = ()


@_event
@dataclass(frozen=True, slots=True)
class PupilWaiting(Event):
    pupil: str
    name: str
    device: str
    parent_present: bool


@_event
@dataclass(frozen=True, slots=True)
class StaffJoined(Event):
    staff: str
    role: Role
    name: str
    device: str


@_event
@dataclass(frozen=True, slots=True)
class PupilAdmitted(Event):
    pupil: str
    by: str
    mic_on: bool
    camera_on: bool
    camera_allowed: bool


@_event
@dataclass(frozen=True, slots=True)
class PupilDenied(Event):
    pupil: str
    by: str


@_event
@dataclass(frozen=True, slots=True)
class ConsentChanged(Event):
    """The school's consent register changed for an expected pupil while the room was live;
    `source` is where the change came from ("parent, by link", the roster file, …; "" before
    sources were logged)."""

    pupil: str
    consent: Consent
    source: str = ""


@_event
@dataclass(frozen=True, slots=True)
class PupilWithdrawn(Event):
    """A waiting or admitted pupil taken out because they may no longer take part (consent
    withdrawn, C17); unlike a removal, they may come back if consent is given again."""

    pupil: str
    reason: str


@_event
@dataclass(frozen=True, slots=True)
class PupilRemoved(Event):
    pupil: str
    by: str
    reason: str


@_event
@dataclass(frozen=True, slots=True)
class ParentNoticeQueued(Event):
    pupil: str
    reason: NoticeReason
    send_at_end: bool


@_event
@dataclass(frozen=True, slots=True)
class MicMuted(Event):
    target: str
    by: str


@_event
@dataclass(frozen=True, slots=True)
class MicUnmuted(Event):
    target: str
    by: str


@_event
@dataclass(frozen=True, slots=True)
class CameraTurnedOff(Event):
    target: str
    by: str


@_event
@dataclass(frozen=True, slots=True)
class CameraTurnedOn(Event):
    target: str
    by: str


@_event
@dataclass(frozen=True, slots=True)
class SpeakingAllowed(Event):
    pupil: str
    by: str


@_event
@dataclass(frozen=True, slots=True)
class ChatSwitched(Event):
    on: bool
    by: str


@_event
@dataclass(frozen=True, slots=True)
class ChatPosted(Event):
    number: int
    by: str
    name: str
    text: str


@_event
@dataclass(frozen=True, slots=True)
class HandRaised(Event):
    pupil: str


@_event
@dataclass(frozen=True, slots=True)
class HandLowered(Event):
    pupil: str
    by: str


@_event
@dataclass(frozen=True, slots=True)
class PupilCalledOn(Event):
    pupil: str
    by: str


@_event
@dataclass(frozen=True, slots=True)
class ParentPresenceAttested(Event):
    pupil: str
    present: bool
    by: str


@_event
@dataclass(frozen=True, slots=True)
class RecordingNoticeGiven(Event):
    by: str
    starts_at: dt.datetime
    one_to_one_exception: bool


@_event
@dataclass(frozen=True, slots=True)
class RecordingStarted(Event):
    pass


@_event
@dataclass(frozen=True, slots=True)
class RecordingStopped(Event):
    by: str


@_event
@dataclass(frozen=True, slots=True)
class ScreenShareStarted(Event):
    """A member of staff began showing the room a window or tab (a second video feed)."""

    sharer: str


@_event
@dataclass(frozen=True, slots=True)
class ScreenShareStopped(Event):
    """The screen share ended: stopped by `by` (the sharer, other staff, or the sharer's own
    id when their screen's connection closed, they left or their connection dropped)."""

    sharer: str
    by: str


@_event
@dataclass(frozen=True, slots=True)
class LogNoteAdded(Event):
    kind: NoteKind
    by: str
    text: str
    pupil: str | None


@_event
@dataclass(frozen=True, slots=True)
class ConcernRaised(Event):
    """`pupil` is the first of `pupils`; `category` and `happened_at` (when it was seen or
    heard, if earlier than `at`) came later, with defaults, so older logs replay."""

    number: int
    by: str
    summary: str
    pupil: str | None
    category: str = ""
    pupils: tuple[str, ...] = ()
    happened_at: dt.datetime | None = None


@_event
@dataclass(frozen=True, slots=True)
class DslAlerted(Event):
    """The DSL is told (by the outbox, never with details). `note` is what the member of staff
    wrote when ending in an emergency: kept here for the record, never put in the email."""

    reason: AlertReason
    by: str
    pupil: str | None = None
    note: str = ""


@_event
@dataclass(frozen=True, slots=True)
class ParticipantLeft(Event):
    participant: str


@_event
@dataclass(frozen=True, slots=True)
class ConnectionDropped(Event):
    participant: str


@_event
@dataclass(frozen=True, slots=True)
class RoomHeld(Event):
    reason: HoldReason
    staff_present: int
    staff_required: int


@_event
@dataclass(frozen=True, slots=True)
class RoomReleased(Event):
    pass


@_event
@dataclass(frozen=True, slots=True)
class TimeWarning(Event):
    minutes_left: int


@_event
@dataclass(frozen=True, slots=True)
class SessionEnded(Event):
    """Everyone still present is disconnected in this one event (C11, invariant 3)."""

    reason: EndReason
    by: str
    disconnected: tuple[str, ...]


EVENT_TYPES: typing.Mapping[str, type[Event]] = types.MappingProxyType(_REGISTRY)


def to_dict(event: Event) -> dict[str, Any]:
    """The event as JSON-ready data: {"type": name, field: value, ...}."""
    out: dict[str, Any] = {"type": event.type_name}
    for field in dataclasses.fields(event):
        out[field.name] = _plain(getattr(event, field.name))
    return out


def from_dict(data: typing.Mapping[str, Any]) -> Event:
    """Rebuild an event from `to_dict`'s output; unknown types or fields raise ValueError."""
    kind = data.get("type")
    cls = _REGISTRY.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ValueError(f"unknown event type {kind!r}")
    hints = _hints(cls)
    values = {k: v for k, v in data.items() if k != "type"}
    unknown = set(values) - set(hints)
    if unknown:
        raise ValueError(f"{kind}: unknown fields {sorted(unknown)}")
    try:
        return cls(**{k: _typed(hints[k], v) for k, v in values.items()})
    except TypeError as exc:
        raise ValueError(f"{kind}: {exc}") from None


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


_HINTS: dict[type[Event], dict[str, Any]] = {}


def _hints(cls: type[Event]) -> dict[str, Any]:
    if cls not in _HINTS:
        hints = typing.get_type_hints(cls)
        _HINTS[cls] = {f.name: hints[f.name] for f in dataclasses.fields(cls)}
    return _HINTS[cls]


def _typed(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        return _typed(inner[0], value)
    if origin is tuple:
        (item, _ellipsis) = typing.get_args(hint)
        return tuple(_typed(item, v) for v in value)
    if hint is dt.datetime:
        when = dt.datetime.fromisoformat(value)
        if when.tzinfo is None:  # a naive time cannot be compared with the room's clock
            raise ValueError(f"time {value!r} has no UTC offset")
        return when
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(value)
    return value
