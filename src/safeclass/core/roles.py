"""Who a participant is in a room, and which roles count as adults for the two-adult rule."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    TEACHER = "teacher"
    ASSISTANT = "assistant"
    DSL = "dsl"
    HEAD = "head"
    PUPIL = "pupil"


# Every member of staff in the room is a safeguarding-checked adult and counts towards the
# policy's minimum (STJ-06: "both members of staff are authorised"); a DSL or head who drops in
# counts as well. Parents never join as participants (STJ-12): they attest from the pupil's device.
STAFF_ROLES = frozenset({Role.TEACHER, Role.ASSISTANT, Role.DSL, Role.HEAD})


class Status(StrEnum):
    """Where a participant is: waiting → admitted → left | removed (or denied from waiting)."""

    WAITING = "waiting"
    ADMITTED = "admitted"
    LEFT = "left"
    DENIED = "denied"
    REMOVED = "removed"


IN_ROOM = frozenset({Status.WAITING, Status.ADMITTED})


class Consent(StrEnum):
    """A pupil's consent record (C17)."""

    IMPLIED = "implied"
    GIVEN = "given"
    REFUSED = "refused"
