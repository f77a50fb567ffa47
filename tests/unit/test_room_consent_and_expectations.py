"""Consent (C17: opted-out pupils never admitted) and expectations (C18: ticked, then reminded)."""

from __future__ import annotations

import pytest

from safeclass.core import Consent, RefusalCode, Role, Status
from safeclass.core import commands as c
from safeclass.core import events as ev
from tests.support.checks import PRESETS, only, refused_unchanged, variant
from tests.support.rooms import Driver, make_room

CONSENT_CLAUSE = {
    "claydon": "CLA-14",
    "werrington": "WER-13",
    "st-josephs": "C17",
    "crofton": "CRO-16",
    "s04": "S04-18",
}
EXPECTATIONS_CLAUSE = {
    "claydon": "CLA-18",
    "werrington": "WER-12",
    "st-josephs": "STJ-11",
    "crofton": "C18",
    "s04": "S04-15",
}


def join(pid: str, ticked: bool = True) -> c.RequestToJoin:
    return c.RequestToJoin(pid, Role.PUPIL, f"dev-{pid}", acknowledged_expectations=ticked)


# -- consent -------------------------------------------------------------------------------------


@pytest.mark.parametrize("preset", PRESETS)
def test_a_pupil_whose_parent_opted_out_is_never_admitted(preset: str) -> None:
    # covers: C17, C20, CLA-14, WER-13, CRO-16, S04-18
    d = Driver(make_room(preset, pupils=3, consent={"p2": Consent.REFUSED}))
    d.class_in(["p1", "p3"])
    refusal = refused_unchanged(d, join("p2"), RefusalCode.RULE)
    assert str(refusal) == (
        "Oliver S. is not taking part in live sessions: their family has said no "
        f"({CONSENT_CLAUSE[preset]})"
    )
    assert "p2" not in d.state.participants
    refused_unchanged(d, c.AdmitAllExpected("t1"), RefusalCode.NOT_HERE)


@pytest.mark.parametrize("preset", PRESETS)
def test_consent_is_implied_until_the_parent_gives_it(preset: str) -> None:
    # covers: C17, C20, CLA-14, WER-13, S04-18
    d = Driver(make_room(preset, pupils=2, consent={"p2": Consent.GIVEN}))
    d.class_in(["p1", "p2"])  # p1 implied, p2 given
    assert {p.id for p in d.state.admitted_pupils()} == {"p1", "p2"}


def test_where_consent_must_be_given_only_those_pupils_are_admitted() -> None:
    # covers: C17, C20
    policy = variant("claydon", consent={"basis": "explicit"})
    d = Driver(make_room(policy, pupils=2, consent={"p1": Consent.GIVEN}))
    d.pupil_join("p1")
    refusal = refused_unchanged(d, join("p2"))
    assert refusal.clause == "CLA-14"
    assert refusal.message.startswith("Oliver S. is not taking part in live sessions")


# -- expectations --------------------------------------------------------------------------------


@pytest.mark.parametrize("preset", PRESETS)
def test_a_pupil_must_tick_the_expectations_before_waiting(preset: str) -> None:
    # covers: C18, C20, CLA-18, CLA-19, WER-12, STJ-11, S04-15, S04-14
    d = Driver(make_room(preset, pupils=2))
    refusal = refused_unchanged(d, join("p1", ticked=False), RefusalCode.RULE)
    assert str(refusal) == (
        f"Please read and tick the expectations first ({EXPECTATIONS_CLAUSE[preset]})"
    )
    assert "p1" not in d.state.participants
    d.ok(join("p1"))
    assert d.state.participants["p1"].status is Status.WAITING


def test_no_tick_is_needed_where_the_policy_does_not_ask_for_one() -> None:
    # covers: C18, C20
    d = Driver(make_room(variant("claydon", expectations={"must_acknowledge": False}), pupils=1))
    assert only(d.ok(join("p1", ticked=False)), ev.PupilWaiting).name == "Amelia R."


@pytest.mark.parametrize("preset", PRESETS)
def test_the_expectations_are_reminded_when_the_session_starts(preset: str) -> None:
    # covers: C18, C20, S04-15, CLA-18, STJ-11, WER-12
    d = Driver(make_room(preset, pupils=2))
    d.class_in(["p1"])
    d.at(minutes=0)
    started = only(d.ok(c.Tick()), ev.SessionStarted)
    assert started.reminder == d.state.policy.expectations.pupil
    assert len(started.reminder) >= 4


def test_claydon_reminder_says_what_its_pupil_protocol_says() -> None:
    # covers: C18, CLA-18
    d = Driver(make_room("claydon", pupils=1)).at(minutes=0)
    started = only(d.ok(c.Tick()), ev.SessionStarted)
    assert "Stay muted until you are asked to speak." in started.reminder
    assert "Only use the chat when your teacher says so." in started.reminder


def test_no_reminder_where_the_policy_turns_it_off() -> None:
    # covers: C18, C20
    policy = variant("claydon", expectations={"remind_at_start": False})
    d = Driver(make_room(policy, pupils=1)).at(minutes=0)
    assert only(d.ok(c.Tick()), ev.SessionStarted).reminder == ()
