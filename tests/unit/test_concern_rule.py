"""Who may read a concern's text is one rule over the role table (issue 11, C16).

`staff_roles.may_read_concern` says yes to the role with `read_concerns` (the DSL) and to the
one who wrote it; the room's staff events follow it for every role, and the timeline (which is
printed with the register, for every reader) never carries the text at all: it says who raised a
concern, about whom and when. docs/roles.md states the rule, from the same table.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from safeclass.app import staff_roles
from safeclass.app.staff_roles import Capability
from safeclass.app.timeline import build_timeline
from safeclass.core import events as ev
from safeclass.web.views import staff_event

ROOT = Path(__file__).resolve().parents[2]
AT = dt.datetime(2026, 3, 3, 10, 12, tzinfo=dt.UTC)
ACCOUNT = "Amelia said her uncle shouts at her"
NOTE = "a man came into the room"
ROOM_ROLES = ("teacher", "assistant", "dsl", "head")


def _concern(by: str) -> ev.ConcernRaised:
    return ev.ConcernRaised(at=AT, number=1, by=by, summary=ACCOUNT, pupil="p1")


def _alert(by: str) -> ev.DslAlerted:
    return ev.DslAlerted(at=AT, reason=ev.AlertReason.EMERGENCY_END, by=by, note=NOTE)


# covers: C16, C21, CLA-07, STJ-08
@pytest.mark.parametrize("role", staff_roles.ROLES)
def test_the_rule_is_the_role_table_plus_the_writer(role: str):
    assert staff_roles.may_read_concern(role, is_author=True)
    assert staff_roles.may_read_concern(role, is_author=False) == staff_roles.may(
        role, Capability.READ_CONCERNS
    )
    assert staff_roles.may_read_concern(role, is_author=False) == (role == "dsl")


# covers: C16, C21, WER-14, S04-19
@pytest.mark.parametrize("role", ROOM_ROLES)
@pytest.mark.parametrize("mine", [True, False])
def test_the_rooms_staff_events_follow_the_rule(role: str, mine: bool):
    viewer, writer = "me", "me" if mine else "someone else"
    reads = staff_roles.may_read_concern(role, is_author=mine)
    concern = staff_event(_concern(writer), viewer, role)
    alert = staff_event(_alert(writer), viewer, role)
    assert concern is not None and alert is not None
    assert concern["summary"] == (ACCOUNT if reads else "")
    assert alert["note"] == (NOTE if reads else "")
    # who raised it, about whom and when are never hidden from staff
    assert (concern["by"], concern["pupil"], concern["number"]) == (writer, "p1", 1)
    assert concern["at"] == AT.isoformat()


# covers: C15, C16
def test_the_timeline_says_a_concern_was_raised_never_what_it_says():
    lines = build_timeline(
        [_concern("t1"), _alert("t1")], "Europe/London", {"t1": "Mrs Khan", "p1": "Amelia R."}
    )
    assert [line.text for line in lines] == [
        # whether the alert reached the DSL is the outbox's to say (app/undelivered), not this
        "Safeguarding concern 1 raised by Mrs Khan about Amelia R.",
        "DSL alert written: an emergency end (with a note for the DSL)",
    ]
    assert lines[0].at.strftime("%H:%M") == "10:12"


# covers: C21
def test_docs_roles_states_the_rule():
    page = (ROOT / "docs" / "roles.md").read_text(encoding="utf-8")
    assert "`staff_roles.may_read_concern`" in page
