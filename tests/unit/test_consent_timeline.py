"""The session's timeline says who changed a pupil's consent (C17, C23): a parent's withdrawal
through their child's link reads as the parent's, the office's change as the records'."""

from __future__ import annotations

import datetime as dt

from safeclass.app.timeline import build_timeline
from safeclass.core import Consent
from safeclass.core import events as ev
from safeclass.core.commands import PARENT_BY_LINK

AT = dt.datetime(2026, 11, 24, 10, 5, tzinfo=dt.UTC)


# covers: C17, C23
def test_a_parents_withdrawal_reads_as_the_parents_in_the_timeline() -> None:
    events = [
        ev.ConsentChanged(at=AT, pupil="p1", consent=Consent.REFUSED, source=PARENT_BY_LINK),
        ev.PupilWithdrawn(at=AT, pupil="p1", reason="consent"),
        ev.ConsentChanged(at=AT, pupil="p2", consent=Consent.REFUSED, source="roster import"),
        ev.ConsentChanged(at=AT, pupil="p3", consent=Consent.GIVEN),  # logged before sources
    ]
    names = {"p1": "Isla J.", "p2": "Oliver S.", "p3": "Amelia R."}
    lines = [str(line) for line in build_timeline(events, "Europe/London", names)]
    assert lines == [
        "10:05 Isla J.'s parent withdrew consent through their child's link",
        "10:05 Isla J. taken out of the session: not taking part (consent withdrawn)",
        "10:05 The school's records now say Oliver S.'s consent is refused",
        "10:05 The school's records now say Amelia R.'s consent is given",
    ]
    # an event logged before sources were kept still reads back
    assert (
        ev.from_dict(
            {"type": "ConsentChanged", "at": AT.isoformat(), "pupil": "p3", "consent": "given"}
        )
        == events[3]
    )
