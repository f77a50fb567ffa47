"""A refusal speaks to whoever acted: staff are never told to wait for their teacher, and a pupil
is never given staff jargon ("1 of 2 required staff present"), in every school (C20).

Each command both staff and pupils can send (chat, hands, leave, join, rename, parent present,
their own mic and camera) is refused from each side, and the words are checked exactly. Every
refusal in tests/support/refusal_scenarios.py is then checked against the two lists below.
"""

from __future__ import annotations

import pytest

from safeclass.core import commands as c
from tests.support.checks import PRESETS, refused_unchanged
from tests.support.refusal_scenarios import SCENARIOS, live

# What a pupil must never read: staff jargon and words about someone else.
PUPIL_NEVER = ("required staff", "staff present", "that pupil", "dsl", "policy", "1-to-1")
# What a member of staff must never read: they are the teacher.
STAFF_NEVER = ("your teacher", "your parent")

WAIT_FOR_AN_ADULT = "Please wait for another adult to join"
WAIT_FOR_A_PARENT = "Please wait until your parent or carer is in the room with you"
NOT_LET_IN_YET = "You can do that when your teacher has let you in"

# scenario -> (who acted, exactly what they are told)
WORDING: dict[str, tuple[str, str]] = {
    # chat
    "pupil-chats-while-off": ("pupil", "The chat is off until your teacher switches it on"),
    "staff-chat-while-off": ("staff", "The chat is off: switch it on to send a message"),
    "pupil-chats-while-held": ("pupil", WAIT_FOR_AN_ADULT),
    "staff-chat-while-held": ("staff", "Cannot send messages: 1 of 2 required staff present"),
    "pupil-without-parent-chats": ("pupil", WAIT_FOR_A_PARENT),
    "empty-message": ("pupil", "The message is empty"),
    "staff-empty-message": ("staff", "The message is empty"),
    "waiting-pupil-chats": ("pupil", NOT_LET_IN_YET),
    "removed-pupil-chats": ("pupil", "You are not in the session"),
    # hands
    "staff-raise-a-hand": ("staff", "Hands are for pupils"),
    "staff-lower-their-own-hand": ("staff", "Hands are for pupils"),
    "waiting-pupil-raises-a-hand": ("pupil", NOT_LET_IN_YET),
    "waiting-pupil-lowers-a-hand": ("pupil", NOT_LET_IN_YET),
    "pupil-lowers-another-hand": ("pupil", "Only staff can lower other pupils' hands"),
    # leaving (a pupil may always leave: see the test below)
    "staff-leave-pupils-behind": (
        "staff",
        "You cannot leave yet: 1 pupil would be left with 1 of 2 required staff; "
        "end the session for everyone instead",
    ),
    # joining
    "second-device": ("pupil", "Amelia R. is already connected on another device; close it first"),
    "staff-second-device": (
        "staff",
        "Staff t1 is already connected on another device; close it first",
    ),
    "expectations-not-ticked": ("pupil", "Please read and tick the expectations first"),
    "ended": ("pupil", "This session has ended"),
    "staff-join-after-the-end": ("staff", "This session has ended"),
    # names
    "pupil-renames": ("pupil", "Your name comes from the class list and cannot be changed"),
    "staff-rename": ("staff", "Your name comes from your school account and cannot be changed"),
    # a parent in the room
    "left-pupil-attests": ("pupil", "You are not in the session"),
    "staff-attests-for-themselves": ("staff", "Choose the pupil whose parent is in the room"),
    "attest-for-a-pupil-not-here": ("staff", "That pupil is not here"),
    "pupil-attests-another-parent": ("pupil", "Only staff can confirm a parent is present"),
    # screen sharing (C21): staff only, one screen at a time
    "pupil-shares-a-screen": ("pupil", "Only staff can share a screen"),
    "pupil-stops-a-screen-share": ("pupil", "Only staff can stop a screen share"),
    "second-screen-share": (
        "staff",
        "Staff t1 is sharing a screen: one screen at a time, so stop theirs first",
    ),
    # their own mic and camera, and a pupil's
    "pupil-unmutes-themselves": ("pupil", "You can speak when your teacher lets you"),
    "held-pupil-unmutes": ("pupil", WAIT_FOR_AN_ADULT),
    "held-pupil-camera-on": ("pupil", WAIT_FOR_AN_ADULT),
    "pupil-without-parent-unmutes": ("pupil", WAIT_FOR_A_PARENT),
    "staff-unmute-a-held-pupil": (
        "staff",
        "Cannot unmute Amelia R.: 1 of 2 required staff present",
    ),
    "staff-turn-on-a-held-pupils-camera": (
        "staff",
        "Cannot turn on Amelia R.'s camera: 1 of 2 required staff present",
    ),
    "unmute-a-pupil-without-their-parent": (
        "staff",
        "Cannot unmute Amelia R.: waiting for a parent to be present",
    ),
}


def _who_acted(actor: str) -> str | None:
    if actor.startswith("t"):
        return "staff"
    if actor.startswith("p"):
        return "pupil"
    return None  # a stranger, or someone not on the class list


@pytest.mark.parametrize("name", sorted(WORDING))
@pytest.mark.parametrize("preset", PRESETS)
def test_each_refusal_is_worded_for_whoever_acted(preset: str, name: str) -> None:
    # covers: C20, C8, C9, C11, C4, C6, C7, CLA-13, CLA-05
    who, said = WORDING[name]
    d, command = SCENARIOS[name](preset)
    assert _who_acted(command.actor) == who
    assert refused_unchanged(d, command).message == said


@pytest.mark.parametrize("name", sorted(SCENARIOS))
@pytest.mark.parametrize("preset", PRESETS)
def test_no_refusal_tells_staff_to_wait_for_their_teacher_or_a_pupil_staff_jargon(
    preset: str, name: str
) -> None:
    # covers: C20
    d, command = SCENARIOS[name](preset)
    message = refused_unchanged(d, command).message.lower()
    who = _who_acted(command.actor)
    if who == "staff":
        assert not any(words in message for words in STAFF_NEVER), message
    elif who == "pupil":
        assert not any(words in message for words in PUPIL_NEVER), message


@pytest.mark.parametrize("preset", PRESETS)
def test_a_pupil_may_always_leave_even_while_the_room_is_held(preset: str) -> None:
    # covers: C20, C5, C11
    d = live(preset, ("p1",), c.ConnectionLost("t2", "dev-t2"))
    assert d.state.held
    assert d.names_of(d.ok(c.Leave("p1"))) == ["ParticipantLeft", "RoomReleased"]
