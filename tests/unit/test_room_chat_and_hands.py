"""Chat (C8: off by default, public to the room) and raised hands (C9: a queue in order)."""

from __future__ import annotations

import dataclasses

import pytest

from safeclass.core import RefusalCode
from safeclass.core import commands as c
from safeclass.core import events as ev
from safeclass.core.state import CHAT_KEPT
from tests.support.checks import PRESETS, refused_unchanged, variant
from tests.support.rooms import Driver, make_room

CHAT_CLAUSE = {
    "claydon": "CLA-13",
    "werrington": "C8",
    "st-josephs": "C8",
    "crofton": "CRO-12",
    "s04": "C8",
}


def in_class(preset: str = "claydon", pupils: tuple[str, ...] = ("p1", "p2", "p3")) -> Driver:
    d = Driver(make_room(preset, pupils=4))
    d.class_in(pupils)
    return d


# -- chat ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("preset", PRESETS)
def test_pupil_cannot_post_in_the_chat_while_it_is_off(preset: str) -> None:
    # covers: C8, C20, CLA-13, CRO-12
    d = in_class(preset)
    assert not d.state.chat_on
    refusal = refused_unchanged(d, c.PostChat("p1", "hello"), RefusalCode.RULE)
    assert str(refusal) == (
        f"The chat is off until your teacher switches it on ({CHAT_CLAUSE[preset]})"
    )
    assert d.state.chat_count == 0


def test_chat_is_open_from_the_start_where_policy_says() -> None:
    # covers: C8, C20
    d = Driver(make_room(variant("claydon", chat={"default": "on"}), pupils=2))
    d.class_in(["p1"])
    assert d.state.chat_on
    assert d.names_of(d.ok(c.PostChat("p1", "hello"))) == ["ChatPosted"]


def test_staff_switch_the_chat_on_and_every_message_goes_to_the_whole_room() -> None:
    # covers: C8, CLA-13, CRO-12
    d = in_class()
    assert d.ok(c.SetChat("t2", on=True)) == [ev.ChatSwitched(at=d.now, on=True, by="t2")]
    assert d.state.chat_on
    events = d.ok(c.PostChat("p1", "  I   finished   question 3 "))
    assert events == [
        ev.ChatPosted(at=d.now, number=1, by="p1", name="Amelia R.", text="I finished question 3")
    ]
    d.ok(c.PostChat("t1", "Well done"))
    assert d.state.chat_count == 2
    # A message has no recipient: there is no private channel to anyone (CRO-12).
    fields = {f.name for f in dataclasses.fields(ev.ChatPosted)}
    assert fields == {"at", "number", "by", "name", "text"}
    assert {f.name for f in dataclasses.fields(c.PostChat)} == {"actor", "text"}


def test_staff_switch_the_chat_off_again_and_pupils_are_refused() -> None:
    # covers: C8, CLA-13
    d = in_class()
    d.ok(c.SetChat("t1", on=True))
    d.ok(c.PostChat("p1", "hi"))
    assert d.names_of(d.ok(c.SetChat("t1", on=False))) == ["ChatSwitched"]
    refusal = refused_unchanged(d, c.PostChat("p1", "hi again"))
    assert refusal.clause == "CLA-13"
    assert d.ok(c.SetChat("t1", on=False)) == []  # already off


def test_empty_or_overlong_chat_messages_are_refused() -> None:
    # covers: C8, CLA-13
    d = in_class()
    d.ok(c.SetChat("t1", on=True))
    refusal = refused_unchanged(d, c.PostChat("p1", "   "), RefusalCode.INVALID)
    assert refusal.message == "The message is empty"
    refusal = refused_unchanged(d, c.PostChat("p1", "a" * 301), RefusalCode.INVALID)
    assert refusal.message == "The message is too long (at most 300 letters)"
    assert d.names_of(d.ok(c.PostChat("p1", "a" * 300))) == ["ChatPosted"]


def test_a_pupil_in_the_waiting_room_cannot_post_in_the_chat() -> None:
    # covers: C8, C3, CLA-13, CLA-04
    d = in_class(pupils=("p1",))
    d.ok(c.SetChat("t1", on=True))
    d.pupil_join("p2")
    refused_unchanged(d, c.PostChat("p2", "let me in"), RefusalCode.NOT_HERE)


# -- hands ---------------------------------------------------------------------------------------


def test_hand_queue_is_in_the_order_hands_went_up() -> None:
    # covers: C9, STJ-11, S04-17
    d = in_class()
    for pid in ("p3", "p1", "p2"):
        assert d.ok(c.RaiseHand(pid)) == [ev.HandRaised(at=d.now, pupil=pid)]
        d.later(2)
    assert [p.id for p in d.state.hand_queue()] == ["p3", "p1", "p2"]


def test_raising_a_hand_again_keeps_the_pupils_place_in_the_queue() -> None:
    # covers: C9, STJ-11, S04-17
    d = in_class()
    d.ok(c.RaiseHand("p2"))
    d.later(1)
    d.ok(c.RaiseHand("p1"))
    d.later(1)
    assert d.ok(c.RaiseHand("p2")) == []
    assert [p.id for p in d.state.hand_queue()] == ["p2", "p1"]


def test_calling_on_a_pupil_takes_them_off_the_queue_and_lets_them_speak() -> None:
    # covers: C9, C7, S04-17, STJ-11, CLA-05
    d = in_class()
    d.ok(c.RaiseHand("p1"))
    d.later(1)
    d.ok(c.RaiseHand("p2"))
    assert d.ok(c.CallOn("t1", "p2")) == [ev.PupilCalledOn(at=d.now, pupil="p2", by="t1")]
    assert [p.id for p in d.state.hand_queue()] == ["p1"]
    assert d.state.participants["p2"].mic_allowed
    assert not d.state.participants["p2"].mic_on  # the pupil unmutes when ready
    assert d.names_of(d.ok(c.UnmuteMic("p2", "p2"))) == ["MicUnmuted"]
    refused_unchanged(d, c.UnmuteMic("p1", "p1"))  # a raised hand is not permission


def test_staff_or_the_pupil_lower_a_hand() -> None:
    # covers: C9, S04-17
    d = in_class()
    d.ok(c.RaiseHand("p1"))
    d.ok(c.RaiseHand("p2"))
    assert d.ok(c.LowerHand("p1", "p1")) == [ev.HandLowered(at=d.now, pupil="p1", by="p1")]
    assert d.ok(c.LowerHand("t2", "p2")) == [ev.HandLowered(at=d.now, pupil="p2", by="t2")]
    assert d.state.hand_queue() == []
    assert d.ok(c.LowerHand("t2", "p2")) == []


def test_a_pupil_cannot_lower_another_pupils_hand() -> None:
    # covers: C9, C21, S04-17
    d = in_class()
    d.ok(c.RaiseHand("p1"))
    refusal = refused_unchanged(d, c.LowerHand("p2", "p1"), RefusalCode.NOT_PERMITTED)
    assert str(refusal) == "Only staff can lower other pupils' hands (C9)"
    assert [p.id for p in d.state.hand_queue()] == ["p1"]


def test_hands_are_for_pupils() -> None:
    # covers: C9
    d = in_class()
    refusal = refused_unchanged(d, c.RaiseHand("t1"), RefusalCode.INVALID)
    assert refusal.message == "Hands are for pupils"


def test_a_pupil_who_leaves_drops_out_of_the_hand_queue() -> None:
    # covers: C9, S04-17
    d = in_class()
    d.ok(c.RaiseHand("p1"))
    d.ok(c.RaiseHand("p2"))
    d.ok(c.Leave("p1"))
    assert [p.id for p in d.state.hand_queue()] == ["p2"]


def test_the_room_keeps_the_public_chat_so_far_for_a_reconnecting_page() -> None:
    # covers: C8
    d = in_class()
    d.ok(c.SetChat("t1", on=True))
    d.ok(c.PostChat("p1", "hello"))
    d.ok(c.PostChat("t1", "Welcome, Amelia"))
    assert [(m.number, m.name, m.text) for m in d.state.chat] == [
        (1, "Amelia R.", "hello"),
        (2, "Staff t1", "Welcome, Amelia"),
    ]


def test_the_kept_chat_is_the_last_two_hundred_messages_and_numbering_goes_on() -> None:
    # covers: C8
    d = in_class()
    d.ok(c.SetChat("t1", on=True))
    for i in range(CHAT_KEPT + 5):
        d.ok(c.PostChat("p1", f"message {i}"))
    assert len(d.state.chat) == CHAT_KEPT
    assert d.state.chat[0].number == 6
    assert d.state.chat[-1].text == f"message {CHAT_KEPT + 4}"
    assert d.state.chat_count == CHAT_KEPT + 5
