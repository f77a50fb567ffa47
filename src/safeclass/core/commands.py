"""Commands: what a participant or the clock asks the room to do (imperative names).

Each command names its `actor` (the participant id of whoever sent it; the control plane fills it
in from the authenticated connection, never from the message). The room decides whether the actor
may do it; a command never carries a role or a name the client could forge, except the join
request, whose role and roster identity come from the server's own authentication.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from safeclass.core.roles import Consent, Role


@dataclass(frozen=True, slots=True)
class Command:
    actor: str


@dataclass(frozen=True, slots=True)
class RequestToJoin(Command):
    """Ask to join: a pupil goes to the waiting room; staff go straight in."""

    role: Role
    device: str
    shown_name: str | None = None
    acknowledged_expectations: bool = False
    parent_present: bool = False
    staff_name: str = ""


@dataclass(frozen=True, slots=True)
class Admit(Command):
    """Admit waiting pupils together (one adult admits two or more at a time, CRO-04)."""

    pupils: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AdmitAllExpected(Command):
    pass


@dataclass(frozen=True, slots=True)
class Deny(Command):
    pupil: str


@dataclass(frozen=True, slots=True)
class Remove(Command):
    pupil: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class MuteMic(Command):
    target: str


@dataclass(frozen=True, slots=True)
class UnmuteMic(Command):
    target: str


@dataclass(frozen=True, slots=True)
class CameraOff(Command):
    target: str


@dataclass(frozen=True, slots=True)
class CameraOn(Command):
    target: str


@dataclass(frozen=True, slots=True)
class AllowToSpeak(Command):
    pupil: str


@dataclass(frozen=True, slots=True)
class SetChat(Command):
    on: bool


@dataclass(frozen=True, slots=True)
class PostChat(Command):
    text: str


@dataclass(frozen=True, slots=True)
class RaiseHand(Command):
    pass


@dataclass(frozen=True, slots=True)
class LowerHand(Command):
    pupil: str


@dataclass(frozen=True, slots=True)
class CallOn(Command):
    pupil: str


@dataclass(frozen=True, slots=True)
class AttestParentPresent(Command):
    """A parent confirms (from the pupil's device) or staff confirm a parent is in the room."""

    pupil: str
    present: bool = True


@dataclass(frozen=True, slots=True)
class ShareScreen(Command):
    """Show the room a window or tab as a second video feed (staff only, one screen at a time).

    Sent with the screen's offer (`media_share`); the SFU takes the feed only once this is on
    record, so a pupil's client refused here has nothing to publish it to."""


@dataclass(frozen=True, slots=True)
class StopSharing(Command):
    """End the room's screen share: the sharer or any other member of staff (`media_share_stop`),
    or the server for the sharer when their screen's connection closed or their page was
    replaced. `only`: stop the share only if it is still this participant's (the server's, so a
    late notice about an old share never ends a newer one)."""

    only: str | None = None


@dataclass(frozen=True, slots=True)
class StartRecording(Command):
    pass


@dataclass(frozen=True, slots=True)
class StopRecording(Command):
    pass


class NoteKind(StrEnum):
    AGENDA = "agenda"
    INCIDENT = "incident"
    BEHAVIOUR = "behaviour"
    REWARD = "reward"
    NOTE = "note"
    # a thing for the lesson (a link or a file) on offer as the waiting room opened: written by
    # the room from the lesson's plan (`by` "schedule"), never sent by staff
    RESOURCE = "resource"


@dataclass(frozen=True, slots=True)
class AddLogNote(Command):
    """The staff log: agenda, incidents, behaviour notes, rewards (CLA-17, CRO-09, CRO-10)."""

    kind: NoteKind
    text: str
    pupil: str | None = None


@dataclass(frozen=True, slots=True)
class RaiseConcern(Command):
    """A safeguarding concern, straight to the DSL (CLA-07, STJ-08, WER-16, S04-21).

    `pupils` (one or more; `pupil` is the older one-pupil form), `category` (one of the policy's
    `concerns.categories`, or "" when the client did not say) and `happened_at` (when it was
    seen or heard, which may be earlier than now; None: now) came later, with defaults."""

    summary: str
    pupil: str | None = None
    category: str = ""
    pupils: tuple[str, ...] = ()
    happened_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class Rename(Command):
    """What a modified client might send; always refused: names come from the roster (C4)."""

    name: str


@dataclass(frozen=True, slots=True)
class Leave(Command):
    pass


@dataclass(frozen=True, slots=True)
class ConnectionLost(Command):
    """Sent by the server when a participant's connection drops; `actor` is who was dropped."""

    device: str


SCHOOL = "school"  # the actor of what the school's records say (never a participant's id)
PARENT_BY_LINK = "parent, by link"  # the source of a consent a parent withdrew by their link


@dataclass(frozen=True, slots=True)
class ChangeConsent(Command):
    """The school's records now say this about a pupil's consent (C17: CRO-16, CLA-14).

    Sent by the server when the consent register changes while the room is live (a family
    opting out is recorded by the office, or a parent withdraws it through their child's link);
    its actor is `SCHOOL`, never a participant. `source` is where the records say it came from.
    """

    pupil: str
    consent: Consent
    source: str = ""


@dataclass(frozen=True, slots=True)
class Tick(Command):
    """The clock: opens the waiting room, starts, warns, starts a noticed recording, ends."""

    actor: str = "clock"


@dataclass(frozen=True, slots=True)
class EndSession(Command):
    pass


@dataclass(frozen=True, slots=True)
class EmergencyEnd(Command):
    """One action ends the session for everyone and alerts the DSL (WER-14, S04-19)."""

    note: str = ""
