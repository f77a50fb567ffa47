"""The two-adult rule, its single-adult fallback, and the 1-to-1 parent rule (C5, C6).

This is the one place that decides whether pupils may have media flowing in a room. `decide`
refuses admissions that would break it, and holds the room (media cut for every pupil) the moment
a drop or a departure breaks it; invariant 1 checks the same function after every transition.
"""

from __future__ import annotations

from safeclass.core.events import HoldReason
from safeclass.core.state import RecordingState, RoomState
from safeclass.policy.model import WithoutParent


def staffing_holds(state: RoomState, staff: int, pupils: int) -> bool:
    """Whether `staff` adults may be in a room with `pupils` admitted pupils under this policy."""
    if pupils == 0 or staff >= state.staff_required:
        return True
    fallback = state.policy.staffing.single_adult_fallback and not state.is_one_to_one
    return fallback and staff >= 1 and pupils >= 2


def parent_rule_holds(state: RoomState) -> bool:
    """In a 1-to-1, a parent is in the room, or the policy's recorded exception is running."""
    one_to_one = state.policy.one_to_one
    if not state.is_one_to_one or not one_to_one.parent_must_be_present:
        return True
    for pupil in state.admitted_pupils():
        if pupil.parent_present:
            continue
        recorded = (
            one_to_one.without_parent is WithoutParent.RECORD_WITH_NOTICE
            and state.recording is RecordingState.ON
        )
        if not recorded:
            return False
    return True


def hold_reason(state: RoomState) -> HoldReason | None:
    """Why the room must be held now, or None when pupils' media may flow."""
    pupils = len(state.admitted_pupils())
    if pupils == 0:
        return None
    if not staffing_holds(state, state.staff_present(), pupils):
        return HoldReason.STAFF_BELOW_MINIMUM
    if not parent_rule_holds(state):
        return HoldReason.PARENT_ABSENT
    return None
