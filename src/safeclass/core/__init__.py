"""The pure domain: the live room as a state machine with safeguarding invariants. No I/O."""

from safeclass.core.apply import apply, apply_all
from safeclass.core.decide import Decision, decide, decide_and_apply
from safeclass.core.events import Event
from safeclass.core.invariants import transition_violations, violations
from safeclass.core.refusals import Refusal, RefusalCode
from safeclass.core.roles import Role, Status
from safeclass.core.room import Step, step
from safeclass.core.state import (
    Consent,
    ExpectedPupil,
    Participant,
    Phase,
    RecordingState,
    RoomState,
    SessionKind,
    SessionPlan,
    consent_allows,
    new_room,
)
from safeclass.core.timers import next_deadline

__all__ = [
    "Consent",
    "Decision",
    "Event",
    "ExpectedPupil",
    "Participant",
    "Phase",
    "RecordingState",
    "Refusal",
    "RefusalCode",
    "Role",
    "RoomState",
    "SessionKind",
    "SessionPlan",
    "Status",
    "Step",
    "apply",
    "apply_all",
    "consent_allows",
    "decide",
    "decide_and_apply",
    "new_room",
    "next_deadline",
    "step",
    "transition_violations",
    "violations",
]
