"""Who may send each live-room command: one table, enforced here and written out in the docs.

The room checks a command against this table before its handler runs (`decide.run`), so a
pupil's modified browser sending `admit` or `end` is refused, and the refusal is logged as an
attempt. docs/protocol.md's "who" column and docs/roles.md's live-room table are this table in
words (a test compares them), and a test drives every command from every kind of caller
through a real server and checks the answer against it. The HTTP routes' table is
`safeclass.app.staff_roles`.

What the table cannot say (whether the actor is in the room at all, whether a rule such as the
two-adult rule forbids it now) is for the command's handler.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from safeclass.core import commands as cmd
from safeclass.core.roles import STAFF_ROLES, Role
from safeclass.policy.clauses import Rule


class Who(StrEnum):
    """Who may send a command; the values are how the docs say it."""

    ANYONE = "all"  # anyone connected to the room: pupils and staff
    IN_ROOM = "all in the room"  # anyone admitted (the handler checks they are in)
    STAFF = "staff"
    PUPILS = "pupils"
    STAFF_OR_SELF = "staff; pupils for themselves"
    PUPIL_DEVICE_OR_STAFF = "the pupil's device; staff"  # a parent attests on the pupil's device
    NOBODY = "nobody"  # always refused (names come from the class list)
    SERVER = "the server"  # the server's own: a dropped connection, the clock
    SCHOOL = "the school's records"  # consent changed in the register


ROOM_COMMANDS: Mapping[type[cmd.Command], Who] = {
    cmd.RequestToJoin: Who.ANYONE,
    cmd.Admit: Who.STAFF,
    cmd.AdmitAllExpected: Who.STAFF,
    cmd.Deny: Who.STAFF,
    cmd.Remove: Who.STAFF,
    cmd.MuteMic: Who.STAFF_OR_SELF,
    cmd.UnmuteMic: Who.STAFF_OR_SELF,
    cmd.CameraOff: Who.STAFF_OR_SELF,
    cmd.CameraOn: Who.STAFF_OR_SELF,
    cmd.AllowToSpeak: Who.STAFF,
    cmd.SetChat: Who.STAFF,
    cmd.PostChat: Who.IN_ROOM,
    cmd.RaiseHand: Who.PUPILS,
    cmd.LowerHand: Who.STAFF_OR_SELF,
    cmd.CallOn: Who.STAFF,
    cmd.AttestParentPresent: Who.PUPIL_DEVICE_OR_STAFF,
    cmd.StartRecording: Who.STAFF,
    cmd.StopRecording: Who.STAFF,
    cmd.ShareScreen: Who.STAFF,
    cmd.StopSharing: Who.STAFF,
    cmd.AddLogNote: Who.STAFF,
    cmd.RaiseConcern: Who.STAFF,
    cmd.Rename: Who.NOBODY,
    cmd.Leave: Who.ANYONE,
    cmd.EndSession: Who.STAFF,
    cmd.EmergencyEnd: Who.STAFF,
    cmd.ConnectionLost: Who.SERVER,
    cmd.Tick: Who.SERVER,
    cmd.ChangeConsent: Who.SCHOOL,
}


# What each staff command does, as a refusal says it: "Only staff can admit pupils".
DOING: Mapping[type[cmd.Command], str] = {
    cmd.Admit: "admit pupils",
    cmd.AdmitAllExpected: "admit pupils",
    cmd.Deny: "turn pupils away",
    cmd.Remove: "remove pupils",
    cmd.MuteMic: "mute others",
    cmd.UnmuteMic: "unmute others",
    cmd.CameraOff: "turn off cameras",
    cmd.CameraOn: "turn on cameras",
    cmd.AllowToSpeak: "let pupils speak",
    cmd.SetChat: "switch the chat on or off",
    cmd.LowerHand: "lower other pupils' hands",
    cmd.CallOn: "call on pupils",
    cmd.AttestParentPresent: "confirm a parent is present",
    cmd.StartRecording: "record the session",
    cmd.StopRecording: "stop the recording",
    cmd.ShareScreen: "share a screen",
    cmd.StopSharing: "stop a screen share",
    cmd.AddLogNote: "write in the session log",
    cmd.RaiseConcern: "raise a safeguarding concern here",
    cmd.EndSession: "end the session",
    cmd.EmergencyEnd: "end the session",
}


# The rule each staff command serves: what a refusal cites when someone else sends it (admitting
# is the waiting-room clause, CLA-04; removing is the removal clause). Others cite the roles rule.
STAFF_RULE: Mapping[type[cmd.Command], Rule] = {
    cmd.Admit: "WAITING_ROOM",
    cmd.AdmitAllExpected: "WAITING_ROOM",
    cmd.Deny: "WAITING_ROOM",
    cmd.Remove: "REMOVAL",
    cmd.MuteMic: "MUTE",
    cmd.UnmuteMic: "MUTE",
    cmd.AllowToSpeak: "MUTE",
    cmd.CameraOff: "CAMERA",
    cmd.CameraOn: "CAMERA",
    cmd.SetChat: "CHAT",
    cmd.LowerHand: "HANDS",
    cmd.CallOn: "HANDS",
    cmd.AttestParentPresent: "ONE_TO_ONE",
    cmd.StartRecording: "RECORDING",
    cmd.StopRecording: "RECORDING",
    cmd.AddLogNote: "LOG",
    cmd.RaiseConcern: "CONCERN",
    cmd.EmergencyEnd: "EMERGENCY",
}


def rule_of(command: cmd.Command) -> Rule:
    """The rule a refusal of this command to the wrong sender cites (the roles rule by default)."""
    return STAFF_RULE.get(type(command), "ROLES")


def target_of(command: cmd.Command) -> str | None:
    """Whose mic, camera, hand or parent a command is about (None: not about one person)."""
    match command:
        case cmd.MuteMic() | cmd.UnmuteMic() | cmd.CameraOff() | cmd.CameraOn():
            return command.target
        case cmd.LowerHand() | cmd.AttestParentPresent():
            return command.pupil
    return None


def may_send(role: Role, command: cmd.Command) -> bool:
    """Whether a participant in this role may send this command (the room still judges it)."""
    who = ROOM_COMMANDS[type(command)]
    staff = role in STAFF_ROLES
    match who:
        case Who.ANYONE | Who.IN_ROOM:
            return True
        case Who.STAFF:
            return staff
        case Who.PUPILS:
            return role is Role.PUPIL
        case Who.STAFF_OR_SELF | Who.PUPIL_DEVICE_OR_STAFF:
            return staff or target_of(command) == command.actor
        case Who.NOBODY | Who.SERVER | Who.SCHOOL:
            return False
