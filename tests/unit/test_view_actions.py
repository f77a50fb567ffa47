"""What a view offers is what the room would do: `judge` agrees with `decide`, every offered
action is a protocol message that makes the command judged, nothing the permissions table
forbids is ever offered, and every command a person may send has a place in the views."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from safeclass.core import Refusal, Role, SessionKind, Status
from safeclass.core import commands as c
from safeclass.core.decide import decide, judge
from safeclass.core.permissions import ROOM_COMMANDS, Who, may_send
from safeclass.web import actions, protocol
from safeclass.web.views import PupilView, StaffView, Views
from tests.support.rooms import Driver, make_room

# A message of each name the views use, with fields that make a command of it.
FIELDS: dict[str, dict[str, Any]] = {
    "admit": {"pupils": ["p1"]},
    "deny": {"pupil": "p1"},
    "remove": {"pupil": "p1"},
    "mute": {"target": "p1"},
    "unmute": {"target": "p1"},
    "camera_off": {"target": "p1"},
    "camera_on": {"target": "p1"},
    "allow_to_speak": {"pupil": "p1"},
    "call_on": {"pupil": "p1"},
    "lower_hand": {"pupil": "p1"},
    "chat": {"text": "hello"},
    "parent_present": {"pupil": "p1", "present": True},
    "note": {"kind": "note", "text": "x"},
    "concern": {"summary": "x"},
    "media_share": {"jsep": {"type": "offer", "sdp": "v=0"}},
}


def rooms() -> list[Driver]:
    """Rooms in the states a page meets: waiting, in class, hands up, chat on, held, 1-to-1."""
    out = []
    d = Driver(make_room("claydon", pupils=4))
    d.staff_join("t1")
    d.pupil_join("p1")
    out.append(d)
    d = Driver(make_room("claydon", pupils=4))
    d.class_in(["p1", "p2"])
    d.pupil_join("p3")
    d.ok(c.RaiseHand("p1"))
    d.ok(c.SetChat("t1", on=True))
    d.ok(c.CallOn("t1", "p2"))
    out.append(d)
    d = Driver(make_room("claydon", pupils=4))
    d.class_in(["p1", "p2"])
    d.ok(c.ConnectionLost("t2", "dev-t2"))  # held
    out.append(d)
    d = Driver(make_room("s04", pupils=1, kind=SessionKind.ONE_TO_ONE))
    d.staff_join("t1")
    d.staff_join("t2", Role.ASSISTANT)
    d.pupil_join("p1")
    out.append(d)
    d = Driver(make_room("crofton", pupils=4))  # one adult admits two or more at a time
    d.staff_join("t1")
    d.pupil_join("p1")
    d.pupil_join("p2")
    out.append(d)
    return out


def candidates(d: Driver) -> list[tuple[Role, str, c.Command]]:
    state = d.state
    out: list[tuple[Role, str, c.Command]] = []
    for p in state.participants.values():
        if p.is_staff:
            out += [(p.role, n, cmd) for n, cmd in actions.staff_own(state, p)]
            for q in state.participants.values():
                if q.role is Role.PUPIL:
                    out += [(p.role, n, cmd) for n, cmd in actions.on_pupil(state, p.id, q)]
        else:
            out += [(p.role, n, cmd) for n, cmd in actions.pupil_own(state, p)]
        out += [(p.role, n, cmd) for n, cmd in actions.join(state, p.id, p.role)]
    return out


@pytest.mark.parametrize("room", range(5))
def test_judging_a_command_gives_the_same_answer_as_deciding_it(room: int) -> None:
    d = rooms()[room]
    for _, _, command in candidates(d):
        judged, decided = judge(d.state, command, d.now), decide(d.state, command, d.now)
        if isinstance(decided, Refusal):
            assert judged == decided
        else:
            assert not isinstance(judged, Refusal)
            assert judged == decided[: len(judged)]  # the hold that may follow is not its own


def test_every_action_a_view_offers_is_the_protocol_message_that_makes_that_command() -> None:
    seen = set()
    for d in rooms():
        for _, name, command in candidates(d):
            message = protocol.parse_message.validate_python({"type": name, **FIELDS.get(name, {})})
            if isinstance(message, protocol.Join):  # the socket makes it, with the device
                assert isinstance(command, c.RequestToJoin)
            else:
                assert type(protocol.to_command(message, command.actor)) is type(command), name
            seen.add(name)
    assert "admit" in seen and "parent_present" in seen


def test_every_command_a_person_may_send_has_a_place_in_the_views() -> None:
    judged = {type(command) for d in rooms() for _, _, command in candidates(d)}
    people = {Who.ANYONE, Who.IN_ROOM, Who.STAFF, Who.PUPILS, Who.STAFF_OR_SELF}
    people |= {Who.PUPIL_DEVICE_OR_STAFF}
    sendable = {kind for kind, who in ROOM_COMMANDS.items() if who in people}
    assert sendable - judged == set()


@pytest.mark.parametrize("room", range(5))
def test_a_view_never_offers_what_the_permissions_table_forbids(room: int) -> None:
    # covers: C21
    d = rooms()[room]
    views = Views(d.state, d.now)
    by_name = {}
    for role, name, command in candidates(d):
        by_name.setdefault((command.actor, name), []).append((role, command))
    for p in d.state.participants.values():
        view = views.staff(p.id) if p.is_staff else views.pupil(p.id)
        (StaffView if p.is_staff else PupilView).model_validate(view)
        for name in itertools.chain(view["can"], view["cannot"]):
            assert any(may_send(role, cmd) for role, cmd in by_name[(p.id, name)]), name
        if not p.is_staff:
            assert not {"admit", "admit_all", "end", "remove"} & set(view["can"])
            assert "can_for" not in view


def test_one_adult_is_offered_admitting_two_together_but_not_one_alone() -> None:
    # covers: CRO-04, C5
    d = rooms()[4]
    view = Views(d.state, d.now).staff("t1")
    assert "admit_all" in view["can"]
    assert "admit" not in view["can_for"]["p1"]
    d.ok(c.AdmitAllExpected("t1"))
    assert all(p.status is Status.ADMITTED for p in d.state.admitted_pupils())


def test_a_one_to_one_holds_for_the_parent_in_words_for_staff_and_for_the_child() -> None:
    # covers: C6, S04-07, S04-09
    d = Driver(make_room("s04", pupils=1, kind=SessionKind.ONE_TO_ONE))
    d.staff_join("t1")
    d.staff_join("t2", Role.ASSISTANT)
    d.pupil_join("p1", parent_present=True)
    d.ok(c.Admit("t1", ("p1",)))
    d.ok(c.AttestParentPresent("p1", "p1", present=False))
    views = Views(d.state, d.now)
    staff_hold = views.staff("t1")["session"]["hold"]
    child = views.pupil("p1")
    assert staff_hold["reason"] == "parent_absent" and staff_hold["clause"] == "S04-09"
    assert staff_hold["message"] == (
        "The pupil is held until a parent confirms they are in the room."
    )
    assert child["session"]["hold"]["message"] == (
        "Waiting for your parent or carer to be in the room with you."
    )
    assert "parent_present" in child["can"]


def test_where_a_one_to_one_may_go_on_recorded_the_parent_is_told_so_before_joining() -> None:
    # covers: C6, C18, WER-10
    d = Driver(make_room("werrington", pupils=1, kind=SessionKind.ONE_TO_ONE))
    view = Views(d.state, d.now).pupil("p1", bound=False)
    assert view["expectations"]["parent_in_room"] == "or_recorded"
    assert view["expectations"]["parent_note"] == (
        "A parent or carer should stay in the room for the whole session. If nobody can, the "
        "session is recorded, you are told, and the school's safeguarding lead is alerted."
    )


def test_staff_see_which_pupils_on_the_class_list_may_take_part_and_which_have_opted_out() -> None:
    # covers: C17, CLA-14, CRO-16
    from safeclass.core.roles import Consent

    consent = {"p2": Consent.REFUSED, "p3": Consent.GIVEN}
    d = Driver(make_room("claydon", pupils=3, consent=consent))
    d.staff_join("t1")
    expected = {p["id"]: p for p in Views(d.state, d.now).staff("t1")["expected"]}
    assert {pid: (p["consent"], p["may_take_part"]) for pid, p in expected.items()} == {
        "p1": ("implied", True),
        "p2": ("refused", False),
        "p3": ("given", True),
    }
    StaffView.model_validate(Views(d.state, d.now).staff("t1"))


def test_a_pupil_hears_whether_they_muted_themselves_or_staff_did_but_never_who() -> None:
    # covers: C7
    from safeclass.web.views import pupil_event

    d = Driver(make_room("claydon", pupils=2))
    d.class_in(["p1"])
    d.ok(c.UnmuteMic("t1", "p1"))
    (by_staff,) = [e for e in d.ok(c.MuteMic("t1", "p1"))]
    d.ok(c.UnmuteMic("t1", "p1"))
    (by_self,) = [e for e in d.ok(c.MuteMic("p1", "p1"))]
    assert pupil_event(by_staff, "p1") == {
        "type": "MicMuted",
        "at": by_staff.at.isoformat(),
        "target": "p1",
        "by_you": False,
    }
    assert pupil_event(by_self, "p1")["by_you"] is True  # type: ignore[index]
    assert pupil_event(by_staff, "p2") is None
