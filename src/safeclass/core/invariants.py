"""The room's safeguarding invariants (DESIGN.md), checkable after any transition.

`violations(state)` checks what must be true of every state; `transition_violations` checks what
must be true of every step (nothing is admitted after the end, chat is posted only while on, a
recording starts only after its notice). The property-based tests call both after every step;
the runtime may call them too, cheaply, as a last line of defence.
"""

from __future__ import annotations

from safeclass.core import events as ev
from safeclass.core.roles import IN_ROOM, Role, Status
from safeclass.core.safeguards import hold_reason, parent_rule_holds, staffing_holds
from safeclass.core.state import Phase, RecordingState, RoomState
from safeclass.policy.model import RecordingMode


def violations(state: RoomState) -> list[str]:
    """Every invariant that does not hold in `state` (empty when all is well)."""
    found: list[str] = []
    pupils = state.admitted_pupils()
    # 1. No pupil has media flowing while the staffing (or 1-to-1 parent) rule is broken.
    if pupils and not state.held:
        if not staffing_holds(state, state.staff_present(), len(pupils)):
            found.append(
                f"1: {len(pupils)} pupil(s) admitted and not held with "
                f"{state.staff_present()} of {state.staff_required} staff"
            )
        if not parent_rule_holds(state):
            found.append("1: a 1-to-1 pupil is not held although no parent is present")
    if state.held != (hold_reason(state) is not None) and state.phase is not Phase.ENDED:
        found.append(f"1: held={state.held} but the hold reason is {hold_reason(state)}")
    # 2. A pupil's shown name is always the roster's name.
    for p in state.participants.values():
        if p.role is Role.PUPIL:
            expected = state.plan.expected.get(p.id)
            if expected is None:
                found.append(f"2: {p.id} is in the room but not on the session's list")
            elif p.name != expected.shown_name:
                found.append(f"2: {p.id} is shown as {p.name!r}, not {expected.shown_name!r}")
    # 3. After the end nobody is in the room.
    if state.phase is Phase.ENDED:
        for p in state.participants.values():
            if p.connected or p.status in IN_ROOM:
                found.append(f"3: {p.id} is still {p.status} after the end")
    # 4. Recording only if the policy permits it, and only after the notice.
    if state.recording is RecordingState.ON:
        mode = state.policy.recording.mode
        if mode is RecordingMode.NEVER:
            found.append("4: recording although the policy says never")
        if mode is RecordingMode.ONE_TO_ONE_EXCEPTION and not state.is_one_to_one:
            found.append("4: the 1-to-1 recording exception used in a group session")
        notice, started = state.recording_notice_at, state.recording_started_at
        if notice is None or started is None or notice > started:
            found.append("4: recording started without a notice before it")
    # 5. A removed pupil is never back in the room.
    for pid in state.removed:
        removed = state.participants.get(pid)
        if removed is None or removed.status is not Status.REMOVED:
            status = removed.status if removed else "missing"
            found.append(f"5: removed pupil {pid} is {status}")
    # 6. Pupils' media follows the policy: no pupil's mic is open without permission.
    for p in pupils:
        if p.mic_on and not (p.mic_allowed or state.policy.entry.pupils_may_unmute_themselves):
            found.append(f"6: {p.id}'s mic is open without permission")
    # C21. Only a member of staff in the room shares a screen, and nobody after the end.
    sharer = state.participants.get(state.screen_sharer or "")
    if state.screen_sharer is not None and (
        sharer is None
        or not sharer.is_staff
        or not sharer.connected
        or sharer.status is not Status.ADMITTED
        or state.phase is Phase.ENDED
    ):
        found.append(f"C21: {state.screen_sharer} shares a screen without being staff in the room")
    # C17. A pupil whose consent does not allow it is never waiting or in the room.
    for p in state.participants.values():
        expected = state.plan.expected.get(p.id)
        in_or_waiting = p.status in (Status.WAITING, Status.ADMITTED)
        if expected is not None and in_or_waiting and not state.consent_allows(expected):
            found.append(f"C17: {p.id} is {p.status} without consent")
    return found


def transition_violations(before: RoomState, event: ev.Event, after: RoomState) -> list[str]:
    """Invariants about a single step from `before` to `after` by `event`."""
    found: list[str] = []
    if before.phase is Phase.ENDED:
        found.append(f"3: {event.type_name} happened after the session ended")
    if isinstance(event, ev.PupilAdmitted):
        if event.pupil in before.removed:
            found.append(f"5: removed pupil {event.pupil} admitted again")
        if event.mic_on and not before.policy.entry.pupils_may_unmute_themselves:
            found.append(f"C7: {event.pupil} admitted with the mic open")
    if isinstance(event, ev.ChatPosted) and not before.chat_on:
        found.append("6: a chat message was posted while chat was off")
    if isinstance(event, ev.ChatPosted) and before.held:
        found.append("1: a chat message was posted during a hold")
    if isinstance(event, ev.RecordingStarted) and before.recording is not RecordingState.NOTICE:
        found.append("4: recording started without a notice first")
    if isinstance(event, ev.SessionEnded):
        left_behind = [
            pid
            for pid, p in before.participants.items()
            if (p.connected or p.status in IN_ROOM) and pid not in event.disconnected
        ]
        if left_behind:
            found.append(f"3: the end left {left_behind} behind")
    return found
