"""What each viewer may do now: the room's own answer, so a page never offers what it would refuse.

For every message a viewer's page could send, the view says whether the room would carry it out
now. Nothing here restates a rule: a message is offered only if the permissions table lets the
viewer's role send it (`may_send`, the one table) and the room, asked without acting
(`judge`, the same checks as `decide`), would not refuse it and it would change something (a
muted mic is not offered `mute`). A refused one comes with the room's own reason, as a refusal
would say it to this viewer ("Cannot admit Amelia R.: 1 of 2 required staff present", "CLA-02"),
when a safeguarding rule forbids it now (not for what the view already shows, such as nobody
waiting).

Names are the protocol's message types (docs/protocol.md); a test checks each one turns into
the command judged here. The actions a member of staff can take on each pupil (`for_pupils`)
are the same for every member of staff in the room, so they are judged once per view, and a
pupil's own actions depend only on their own controls, so pupils in the same state share them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from safeclass.core import (
    Participant,
    Phase,
    Refusal,
    RefusalCode,
    Role,
    RoomState,
    SessionKind,
    Status,
)
from safeclass.core import commands as cmd
from safeclass.core.decide import judge
from safeclass.core.permissions import may_send

# A stand-in text: whether a message may be posted or a note written now, not what it says.
_SAMPLE = "…"
# A device no participant has: an unbound page's join is judged as a new device's would be.
_NEW_DEVICE = ""

Candidates = Iterable[tuple[str, cmd.Command]]


def offer(
    state: RoomState, now: dt.datetime, role: Role, candidates: Candidates
) -> tuple[list[str], dict[str, dict[str, str]]]:
    """(the actions the room would carry out now, why each other one would be refused).

    Once the session has ended nothing is offered, and the view's phase says why.
    """
    can: list[str] = []
    if state.phase is Phase.ENDED:
        return can, {}
    cannot: dict[str, dict[str, str]] = {}
    for name, command in candidates:
        if not may_send(role, command):
            continue  # the permissions table: never offered, never explained
        result = judge(state, command, now)
        if isinstance(result, Refusal):
            if result.code is RefusalCode.RULE:  # not "nobody is waiting": the view shows that
                cannot.setdefault(name, {"message": result.message, "clause": result.clause})
        elif result and name not in can:
            can.append(name)
    for name in can:
        cannot.pop(name, None)
    return can, cannot


def staff_own(state: RoomState, me: Participant) -> Candidates:
    """What a member of staff in the room may try on the room and on themselves."""
    a = me.id
    return (
        ("admit_all", cmd.AdmitAllExpected(a)),
        ("chat_off" if state.chat_on else "chat_on", cmd.SetChat(a, on=not state.chat_on)),
        ("chat", cmd.PostChat(a, _SAMPLE)),
        ("start_recording", cmd.StartRecording(a)),
        ("stop_recording", cmd.StopRecording(a)),
        ("media_share", cmd.ShareScreen(a)),
        ("media_share_stop", cmd.StopSharing(a)),
        ("mute", cmd.MuteMic(a, a)),
        ("unmute", cmd.UnmuteMic(a, a)),
        ("camera_off", cmd.CameraOff(a, a)),
        ("camera_on", cmd.CameraOn(a, a)),
        ("note", cmd.AddLogNote(a, cmd.NoteKind.NOTE, _SAMPLE)),
        ("concern", cmd.RaiseConcern(a, _SAMPLE)),
        ("leave", cmd.Leave(a)),
        ("end", cmd.EndSession(a)),
        ("emergency_end", cmd.EmergencyEnd(a)),
    )


def join(state: RoomState, viewer: str, role: Role) -> Candidates:
    """Joining, for a page whose participant is not in the room on it."""
    request = cmd.RequestToJoin(
        viewer,
        role,
        _NEW_DEVICE,
        acknowledged_expectations=True,  # judged as once the expectations are ticked
        parent_present=True,
        staff_name=viewer,
    )
    return (("join", request),)


def on_pupil(state: RoomState, actor: str, pupil: Participant) -> Candidates:
    """What a member of staff may try on one pupil."""
    p = pupil.id
    out: list[tuple[str, cmd.Command]] = []
    if pupil.status is Status.WAITING:
        out += [("admit", cmd.Admit(actor, (p,))), ("deny", cmd.Deny(actor, p))]
    elif pupil.status is Status.ADMITTED:
        out += [
            ("mute", cmd.MuteMic(actor, p)),
            ("unmute", cmd.UnmuteMic(actor, p)),
            ("camera_off", cmd.CameraOff(actor, p)),
            ("camera_on", cmd.CameraOn(actor, p)),
            ("allow_to_speak", cmd.AllowToSpeak(actor, p)),
            ("call_on", cmd.CallOn(actor, p)),
            ("lower_hand", cmd.LowerHand(actor, p)),
        ]
    if state.plan.kind is SessionKind.ONE_TO_ONE:
        out.append(("parent_present", cmd.AttestParentPresent(actor, p, not pupil.parent_present)))
    out.append(("remove", cmd.Remove(actor, p)))
    return out


def pupil_own(state: RoomState, me: Participant) -> Candidates:
    """What a pupil in the waiting room or the room may try on themselves."""
    a = me.id
    out: list[tuple[str, cmd.Command]] = [
        ("raise_hand", cmd.RaiseHand(a)),
        ("lower_hand", cmd.LowerHand(a, a)),
        ("unmute", cmd.UnmuteMic(a, a)),
        ("mute", cmd.MuteMic(a, a)),
        ("camera_on", cmd.CameraOn(a, a)),
        ("camera_off", cmd.CameraOff(a, a)),
        ("chat", cmd.PostChat(a, _SAMPLE)),
    ]
    if state.plan.kind is SessionKind.ONE_TO_ONE:
        out.append(("parent_present", cmd.AttestParentPresent(a, a, not me.parent_present)))
    out.append(("leave", cmd.Leave(a)))
    return out


def situation(p: Participant) -> tuple[Any, ...]:
    """Everything about a participant that the room's answer to their own (or staff's)
    commands depends on, besides the room: participants alike here get the same answers."""
    return (
        p.role,
        p.status,
        p.connected,
        p.mic_on,
        p.mic_allowed,
        p.camera_on,
        p.camera_allowed,
        p.hand_raised_at is not None,
        p.parent_present,
    )
