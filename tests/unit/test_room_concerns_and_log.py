"""Safeguarding concerns straight to the DSL (C16) and the staff log (C15)."""

from __future__ import annotations

import datetime as dt

import pytest

from safeclass.core import RefusalCode
from safeclass.core import commands as c
from safeclass.core import events as ev
from safeclass.core.commands import NoteKind
from safeclass.core.events import AlertReason
from tests.support.checks import PRESETS, refused_unchanged
from tests.support.rooms import Driver, make_room

CONCERN_CLAUSE = {
    "claydon": "CLA-07",
    "werrington": "WER-16",
    "st-josephs": "STJ-08",
    "crofton": "C16",
    "s04": "S04-21",
}


def in_class(preset: str = "claydon") -> Driver:
    d = Driver(make_room(preset, pupils=3))
    d.class_in(["p1", "p2"])
    return d


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("by", ["t1", "t2"])
def test_raising_a_concern_records_it_and_alerts_the_dsl_at_once(preset: str, by: str) -> None:
    # covers: C16, C20, CLA-07, STJ-08, WER-16, S04-21
    d = in_class(preset)
    events = d.ok(c.RaiseConcern(by, "  Bruise on Oliver's arm; he said he fell  ", pupil="p2"))
    assert events == [
        ev.ConcernRaised(
            at=d.now,
            number=1,
            by=by,
            summary="Bruise on Oliver's arm; he said he fell",
            pupil="p2",
            pupils=("p2",),
        ),
        ev.DslAlerted(at=d.now, reason=AlertReason.CONCERN, by=by, pupil="p2"),
    ]
    assert d.state.concern_count == 1


def test_a_concern_names_its_pupils_its_category_and_when_it_happened() -> None:
    # covers: C16
    d = in_class()
    earlier = d.now - dt.timedelta(minutes=5)
    (raised, alert) = d.ok(
        c.RaiseConcern(
            "t1", "He said no one makes tea", None, "Neglect", ("p2", "p1", "p2"), earlier
        )
    )
    assert isinstance(raised, ev.ConcernRaised)
    assert (raised.pupils, raised.pupil, raised.category) == (("p2", "p1"), "p2", "Neglect")
    assert raised.happened_at == earlier and alert.pupil == "p2"
    d.refused(c.RaiseConcern("t1", "x", category="Not a category of the school"))
    d.refused(c.RaiseConcern("t1", "x", happened_at=d.now + dt.timedelta(minutes=1)))
    d.refused(c.RaiseConcern("t1", "x", pupils=("p1", "nobody")))


def test_a_concern_logged_before_pupils_and_categories_replays() -> None:
    # covers: C16 (an older log's ConcernRaised has none of the newer fields)
    old = {
        "type": "ConcernRaised",
        "at": "2026-11-24T10:00:00+00:00",
        "number": 1,
        "by": "t1",
        "summary": "x",
        "pupil": "p1",
    }
    event = ev.from_dict(old)
    assert isinstance(event, ev.ConcernRaised)
    assert (event.category, event.pupils, event.happened_at) == ("", (), None)


def test_concerns_are_numbered_in_order_and_need_not_name_a_pupil() -> None:
    # covers: C16, CLA-07
    d = in_class()
    d.ok(c.RaiseConcern("t1", "Adult voice shouting in the background"))
    events = d.ok(c.RaiseConcern("t2", "Pupil in a bedroom", pupil="p1"))
    assert [e.number for e in events if isinstance(e, ev.ConcernRaised)] == [2]
    alerts = [e for e in d.log if isinstance(e, ev.DslAlerted)]
    assert [(a.pupil, a.by) for a in alerts] == [(None, "t1"), ("p1", "t2")]


def test_a_concern_about_a_pupil_in_the_waiting_room_or_gone_is_still_recorded() -> None:
    # covers: C16, CLA-07
    d = in_class()
    d.ok(c.Leave("p1"))
    events = d.ok(c.RaiseConcern("t1", "Said something worrying before leaving", pupil="p1"))
    assert d.names_of(events) == ["ConcernRaised", "DslAlerted"]


@pytest.mark.parametrize("preset", PRESETS)
def test_a_concern_must_say_what_was_seen_and_about_whom(preset: str) -> None:
    # covers: C16, CLA-07, STJ-08
    d = in_class(preset)
    refusal = refused_unchanged(d, c.RaiseConcern("t1", "   "), RefusalCode.INVALID)
    assert str(refusal) == (
        f"Describe what you saw (up to 4000 characters) ({CONCERN_CLAUSE[preset]})"
    )
    refused_unchanged(d, c.RaiseConcern("t1", "x" * 4001), RefusalCode.INVALID)
    refusal = refused_unchanged(d, c.RaiseConcern("t1", "worried", pupil="p9"))
    assert refusal.message == "That pupil is not on this session's list"
    assert d.state.concern_count == 0


def test_a_pupil_cannot_raise_a_concern_in_the_session() -> None:
    # covers: C16, C21, CLA-07
    d = in_class()
    refusal = refused_unchanged(d, c.RaiseConcern("p1", "test"), RefusalCode.NOT_PERMITTED)
    assert str(refusal) == "Only staff can raise a safeguarding concern here (CLA-07)"


@pytest.mark.parametrize("kind", [k for k in NoteKind if k is not NoteKind.RESOURCE])
def test_staff_write_agenda_incidents_behaviour_and_rewards_in_the_log(kind: NoteKind) -> None:
    # covers: C15, CLA-17, CRO-09, CRO-10
    d = in_class("crofton")
    events = d.ok(c.AddLogNote("t2", kind, "  Star of the day  ", pupil="p1"))
    assert events == [
        ev.LogNoteAdded(at=d.now, kind=kind, by="t2", text="Star of the day", pupil="p1")
    ]


def test_what_was_on_offer_for_the_lesson_is_the_rooms_own_record_never_a_staff_note() -> None:
    # covers: C15
    d = in_class()
    refusal = refused_unchanged(
        d, c.AddLogNote("t1", NoteKind.RESOURCE, "A link never added"), RefusalCode.INVALID
    )
    assert refusal.message == "Things for the lesson are added on its page"


def test_a_log_note_needs_some_text() -> None:
    # covers: C15, CLA-17
    d = in_class()
    refusal = refused_unchanged(d, c.AddLogNote("t1", NoteKind.AGENDA, " "), RefusalCode.INVALID)
    assert refusal.message == "A note needs 1 to 2000 characters"
    refused_unchanged(d, c.AddLogNote("t1", NoteKind.NOTE, "x" * 2001), RefusalCode.INVALID)


def test_a_pupil_cannot_write_in_the_staff_log() -> None:
    # covers: C15, C21, CLA-17, CLA-16
    d = in_class()
    refused_unchanged(
        d, c.AddLogNote("p1", NoteKind.REWARD, "me!", pupil="p1"), RefusalCode.NOT_PERMITTED
    )
