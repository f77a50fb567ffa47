"""The room's state: the session plan, its policy, and every participant, as immutable values.

State is only ever produced by `apply` from events, so the live room and a replay of its log
agree. Queries that rules need (who counts as staff, who is in the room) live here beside it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from safeclass.core.events import ChatPosted, EndReason, HoldReason
from safeclass.core.roles import STAFF_ROLES, Role, Status
from safeclass.core.roles import Consent as Consent  # where it used to live
from safeclass.policy.model import ChatMode, ConsentBasis, Policy

# The public chat the room keeps, so a page that reconnects shows the conversation so far (C8).
# Older messages stay in the session's log; a page shows at most this many.
CHAT_KEPT = 200


class SessionKind(StrEnum):
    CLASS = "class"
    GROUP = "group"
    ONE_TO_ONE = "one_to_one"


class Phase(StrEnum):
    SCHEDULED = "scheduled"
    OPEN = "open"  # the waiting room is open; the start time has not come
    LIVE = "live"  # past the start time
    ENDED = "ended"


class RecordingState(StrEnum):
    OFF = "off"
    NOTICE = "notice"  # everyone has been told; recording begins at recording_starts_at
    ON = "on"


@dataclass(frozen=True, slots=True)
class ExpectedPupil:
    """One pupil on the session's list, with the name the policy derives from the roster."""

    pupil_id: str
    forename: str
    surname: str
    shown_name: str
    consent: Consent = Consent.IMPLIED


@dataclass(frozen=True, slots=True)
class SessionPlan:
    """What staff scheduled: checked against the policy before a room is made from it."""

    session_id: str
    kind: SessionKind
    starts_at: dt.datetime
    minutes: int
    expected: Mapping[str, ExpectedPupil]
    title: str = ""
    agenda: str = ""  # what staff wrote when scheduling; logged when the waiting room opens
    resources: tuple[str, ...] = ()  # the things for the lesson on offer; logged then too


@dataclass(frozen=True, slots=True)
class Participant:
    id: str
    role: Role
    name: str
    status: Status
    device: str
    connected: bool
    mic_on: bool = False
    mic_allowed: bool = False
    camera_on: bool = False
    camera_allowed: bool = False
    hand_raised_at: dt.datetime | None = None
    parent_present: bool = False
    first_joined_at: dt.datetime | None = None
    admitted_at: dt.datetime | None = None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES


@dataclass(frozen=True, slots=True)
class RoomState:
    plan: SessionPlan
    policy: Policy
    phase: Phase = Phase.SCHEDULED
    participants: Mapping[str, Participant] = field(default_factory=dict)
    removed: frozenset[str] = frozenset()
    chat_on: bool = False
    chat_count: int = 0
    chat: tuple[ChatPosted, ...] = ()  # the last CHAT_KEPT public messages, oldest first
    concern_count: int = 0
    held: bool = False
    hold_reason: HoldReason | None = None
    held_since: dt.datetime | None = None
    recording: RecordingState = RecordingState.OFF
    recording_notice_at: dt.datetime | None = None
    recording_starts_at: dt.datetime | None = None
    recording_started_at: dt.datetime | None = None
    screen_sharer: str | None = None  # the member of staff showing a screen now, if anyone
    warned: frozenset[int] = frozenset()
    first_admitted_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    end_reason: EndReason | None = None
    wake_at: dt.datetime | None = None  # when the clock next has something to do (timers.py)

    # -- time ---------------------------------------------------------------------------------
    @property
    def opens_at(self) -> dt.datetime:
        lead = self.policy.timing.waiting_room_opens_minutes_before
        return self.plan.starts_at - dt.timedelta(minutes=lead)

    @property
    def ends_at(self) -> dt.datetime:
        """The hard end: the planned end, or the policy maximum after the first admission."""
        limit = min(self.plan.minutes, self.policy.timing.max_minutes)
        end = self.plan.starts_at + dt.timedelta(minutes=limit)
        if self.first_admitted_at is not None:
            end = min(end, self.first_admitted_at + dt.timedelta(minutes=limit))
        return end

    # -- who is here --------------------------------------------------------------------------
    def staff_present(self) -> int:
        return sum(
            1
            for p in self.participants.values()
            if p.is_staff and p.connected and p.status is Status.ADMITTED
        )

    def admitted_pupils(self) -> list[Participant]:
        return [
            p
            for p in self.participants.values()
            if p.role is Role.PUPIL and p.status is Status.ADMITTED
        ]

    def waiting_pupils(self) -> list[Participant]:
        return [p for p in self.participants.values() if p.status is Status.WAITING]

    def hand_queue(self) -> list[Participant]:
        """Raised hands in the order they went up (C9)."""
        raised = [p for p in self.admitted_pupils() if p.hand_raised_at is not None]
        return sorted(raised, key=lambda p: (p.hand_raised_at, p.id))

    @property
    def is_one_to_one(self) -> bool:
        return self.plan.kind is SessionKind.ONE_TO_ONE

    @property
    def staff_required(self) -> int:
        return self.policy.min_staff_for(self.is_one_to_one)

    def consent_allows(self, pupil: ExpectedPupil) -> bool:
        return consent_allows(self.policy, pupil)


def consent_allows(policy: Policy, pupil: ExpectedPupil) -> bool:
    """Whether the pupil's consent lets them take part under this policy (C17): the room's
    rule, which a family's link and a session's page ask as well, so none of them disagree."""
    if pupil.consent is Consent.REFUSED:
        return False
    if policy.consent.basis is ConsentBasis.EXPLICIT:
        return pupil.consent is Consent.GIVEN
    return True


def new_room(plan: SessionPlan, policy: Policy) -> RoomState:
    """A room for a scheduled session, before anything has happened in it."""
    from safeclass.core.timers import next_deadline

    room = RoomState(plan=plan, policy=policy, chat_on=policy.chat.default is ChatMode.ON)
    return dataclasses.replace(room, wake_at=next_deadline(room))
