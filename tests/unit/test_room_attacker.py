"""The attacker's view at the core: what a pupil (or a modified client) tries, and the room refuses.

Each attempt runs against the same live Claydon class: two staff; Amelia (p1) and Oliver (p2) in
the room; Oliver's camera was turned on and then off again by staff; Isla (p3) removed; Noah (p4)
in the waiting room; chat off. Every attempt must be refused and change nothing at all.
"""

from __future__ import annotations

import pytest

from safeclass.core import RefusalCode, Role
from safeclass.core import commands as c
from tests.support.checks import PRESETS, refused_unchanged
from tests.support.rooms import Driver, make_room


def live_class(preset: str = "claydon") -> Driver:
    d = Driver(make_room(preset, pupils=5)).at(minutes=0)
    d.class_in(["p1", "p2", "p3"])
    d.ok(c.CameraOn("t1", "p2"))
    d.ok(c.CameraOff("t1", "p2"))
    d.ok(c.Remove("t2", "p3", "unkind words"))
    d.pupil_join("p4")
    return d


def join(pid: str, device: str, shown_name: str | None = None) -> c.RequestToJoin:
    return c.RequestToJoin(pid, Role.PUPIL, device, shown_name, acknowledged_expectations=True)


ATTACKS: list[tuple[str, c.Command, RefusalCode, str]] = [
    (
        "unmute-self-without-permission",
        c.UnmuteMic("p1", "p1"),
        RefusalCode.RULE,
        "You can speak when your teacher lets you (CLA-05)",
    ),
    (
        "rename-self",
        c.Rename("p1", "Teacher"),
        RefusalCode.NOT_PERMITTED,
        "Your name comes from the class list and cannot be changed (CLA-15)",
    ),
    (
        "admit-others",
        c.Admit("p1", ("p4",)),
        RefusalCode.NOT_PERMITTED,
        "Only staff can admit pupils (CLA-04)",
    ),
    (
        "admit-everyone",
        c.AdmitAllExpected("p1"),
        RefusalCode.NOT_PERMITTED,
        "Only staff can admit pupils (CLA-04)",
    ),
    (
        "end-the-session",
        c.EndSession("p1"),
        RefusalCode.NOT_PERMITTED,
        "Only staff can end the session (CLA-16)",
    ),
    (
        "emergency-end",
        c.EmergencyEnd("p1", "prank"),
        RefusalCode.NOT_PERMITTED,
        "Only staff can end the session (C12)",
    ),
    (
        "camera-on-after-staff-turned-it-off",
        c.CameraOn("p2", "p2"),
        RefusalCode.RULE,
        "You can turn your camera on when your teacher says (CLA-11)",
    ),
    (
        "chat-while-off",
        c.PostChat("p1", "lol"),
        RefusalCode.RULE,
        "The chat is off until your teacher switches it on (CLA-13)",
    ),
    (
        "switch-chat-on",
        c.SetChat("p1", on=True),
        RefusalCode.NOT_PERMITTED,
        "Only staff can switch the chat on or off (CLA-13)",
    ),
    (
        "mute-the-teacher",
        c.MuteMic("p1", "t1"),
        RefusalCode.NOT_PERMITTED,
        "Only staff can mute others (CLA-05)",
    ),
    (
        "unmute-a-friend",
        c.UnmuteMic("p1", "p2"),
        RefusalCode.NOT_PERMITTED,
        "Only staff can unmute others (CLA-05)",
    ),
    (
        "remove-a-classmate",
        c.Remove("p1", "p2"),
        RefusalCode.NOT_PERMITTED,
        "Only staff can remove pupils (CLA-08)",
    ),
    (
        "start-recording",
        c.StartRecording("p1"),
        RefusalCode.NOT_PERMITTED,
        "Only staff can record the session (CLA-09)",
    ),
    (
        "rejoin-after-removal",
        join("p3", "dev-p3"),
        RefusalCode.RULE,
        "Isla J. was removed from this session and cannot rejoin it (CLA-08)",
    ),
    (
        "rejoin-after-removal-on-another-device",
        join("p3", "brothers-laptop"),
        RefusalCode.RULE,
        "Isla J. was removed from this session and cannot rejoin it (CLA-08)",
    ),
    (
        "second-device-while-in-the-room",
        join("p1", "phone"),
        RefusalCode.RULE,
        "Amelia R. is already connected on another device; close it first (C4)",
    ),
    (
        "second-device-while-waiting",
        join("p4", "phone"),
        RefusalCode.RULE,
        "Noah O. is already connected on another device; close it first (C4)",
    ),
    (
        "someone-elses-link-with-a-made-up-name",
        join("p5", "dev-p5", shown_name="bob123"),
        RefusalCode.RULE,
        "Cannot join with that name: this link is for the name on the class list, "
        "shown as Ava E. (CLA-15)",
    ),
    (
        "someone-elses-link-with-a-classmates-name",
        join("p5", "dev-p5", shown_name="Amelia R."),
        RefusalCode.RULE,
        "Cannot join with that name: this link is for the name on the class list, "
        "shown as Ava E. (CLA-15)",
    ),
    (
        "not-on-the-class-list",
        join("bob123", "dev-x", shown_name="bob123"),
        RefusalCode.RULE,
        "Not on the class list — cannot be admitted (CLA-15)",
    ),
    (
        "pupil-joins-as-teacher",
        c.RequestToJoin("p5", Role.TEACHER, "dev-p5", staff_name="Mrs Smith"),
        RefusalCode.NOT_PERMITTED,
        "A pupil cannot join as staff (CLA-16)",
    ),
    (
        "waiting-pupil-raises-a-hand",
        c.RaiseHand("p4"),
        RefusalCode.NOT_HERE,
        "You can do that when your teacher has let you in (CLA-04)",
    ),
    (
        "removed-pupil-posts",
        c.PostChat("p3", "I'm back"),
        RefusalCode.NOT_HERE,
        "You are not in the session (CLA-04)",
    ),
]


@pytest.mark.parametrize(
    ("command", "code", "said"), [a[1:] for a in ATTACKS], ids=[a[0] for a in ATTACKS]
)
def test_a_pupils_attempt_is_refused_and_nothing_changes(
    command: c.Command, code: RefusalCode, said: str
) -> None:
    # covers: C4, C7, C8, C10, C11, C12, C21, CLA-05, CLA-08, CLA-11, CLA-13, CLA-15, CLA-16, STJ-11
    d = live_class()
    refusal = refused_unchanged(d, command, code)
    assert str(refusal) == said


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize(
    ("command", "code"), [(a[1], a[2]) for a in ATTACKS], ids=[a[0] for a in ATTACKS]
)
def test_every_school_refuses_the_same_attempts(
    preset: str, command: c.Command, code: RefusalCode
) -> None:
    # covers: C20, STJ-01, C4, C7, C8, C10, C21, STJ-06, STJ-11, S04-16, CRO-14, WER-11
    refused_unchanged(live_class(preset), command, code)


@pytest.mark.parametrize(
    "command",
    [
        join("p1", "dev-p1"),
        join("p5", "dev-p5"),
        c.UnmuteMic("p1", "p1"),
        c.PostChat("p1", "hello?"),
        c.RaiseHand("p1"),
    ],
    ids=["rejoin", "late-joiner", "unmute", "chat", "hand"],
)
def test_nothing_a_pupil_sends_after_the_end_is_accepted(command: c.Command) -> None:
    # covers: C11, CLA-10, STJ-07
    d = live_class()
    d.ok(c.EndSession("t1"))
    refusal = refused_unchanged(d, command, RefusalCode.ENDED)
    assert str(refusal) == "This session has ended (CLA-10)"  # staff ended it for everyone


def test_an_unknown_command_is_refused() -> None:
    # covers: C21
    class Sneaky(c.Command):
        __slots__ = ()

    d = live_class()
    refusal = refused_unchanged(d, Sneaky("p1"), RefusalCode.INVALID)
    assert refusal.message == "Unknown command Sneaky"
