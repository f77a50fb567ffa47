"""The compliance report's rules on rooms driven through the core (no server, no database).

What a live test cannot make here (a recording needs video): St Joseph's recording with notice,
and who was told; a removal; an open mic on entry where the log says so; a log that does not
verify; a session with no end. Each is read from the events as the report reads a stored log.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from safeclass.adapters.store.event_log import VerifyReport
from safeclass.adapters.store.sessions import StoredSession
from safeclass.app.reports.compliance import English, Outcome, build_report, say
from safeclass.core import commands as c
from safeclass.core import events as ev
from tests.support.rooms import Driver, make_room


def stored_of(d: Driver) -> StoredSession:
    state = d.state
    return StoredSession(state.plan, state.policy, "school", 3, "ended", "", ("t1", "t2"))


def report_of(d: Driver, verify: VerifyReport | None = None, events: list[ev.Event] | None = None):
    log = d.log if events is None else events
    checked = verify or VerifyReport("s1", entries=len(log))
    return build_report(stored_of(d), log, checked, alerts=None)


def said(report, key: str) -> list[str]:
    return [say(s, English()) for s in report.rule(key).evidence]


# covers: STJ-09, C13, C15
def test_a_recording_made_with_notice_says_when_and_who_was_told():
    d = Driver(make_room("st-josephs", pupils=3))
    d.class_in(["p1", "p2"])
    d.at(minutes=5)
    d.ok(c.StartRecording("t2"))
    d.later(10).ok(c.Tick())
    d.later(60).ok(c.StopRecording("t1"))
    d.later(5).ok(c.EndSession("t1"))
    report = report_of(d)
    recording = report.rule("recording")
    assert recording.outcome is Outcome.HELD
    assert recording.clause == "STJ-09"
    lines = said(report, "recording")
    assert lines[0] == (
        "Notice given at 10:05 by Staff t2 to everyone there (4): Amelia R., Oliver S., "
        "Staff t1, Staff t2."
    )
    assert lines[1] == "Recorded from 10:05:10 to 10:06:10 (1 minute)."
    assert report.breaches == 0


# covers: CLA-08, STJ-06, C10
def test_a_removal_is_evidence_and_the_rule_holds_when_nobody_came_back():
    d = Driver(make_room("claydon", pupils=3))
    d.class_in(["p1", "p2"])
    d.at(minutes=3).ok(c.Remove("t1", "p2", "shared a stranger's video"))
    d.refused(c.RequestToJoin("p2", c.Role.PUPIL, "dev-p2", acknowledged_expectations=True))
    d.at(minutes=20).ok(c.EndSession("t1"))
    report = report_of(d)
    assert report.rule("removal").outcome is Outcome.HELD
    assert said(report, "removal") == [
        "Oliver S. removed at 10:03:00 by Staff t1.",
        "Nobody removed came back.",
    ]
    assert report.breaches == 0


# covers: CLA-05, CLA-06, C7, C11
def test_an_open_mic_on_entry_and_a_lesson_past_its_limit_are_not_held():
    d = Driver(make_room("claydon", pupils=2))
    d.class_in(["p1"])
    d.at(minutes=10).ok(c.EndSession("t1"))
    events = list(d.log)
    admitted = next(i for i, e in enumerate(events) if isinstance(e, ev.PupilAdmitted))
    events[admitted] = dataclasses.replace(events[admitted], mic_on=True)
    end = len(events) - 1
    events[end] = dataclasses.replace(events[end], at=events[end].at + dt.timedelta(minutes=40))
    report = report_of(d, events=events)
    assert report.rule("mute").outcome is Outcome.NOT_HELD
    assert said(report, "mute")[-1].endswith("with the microphone on.")
    assert report.rule("duration").outcome is Outcome.NOT_HELD
    assert said(report, "duration")[-1] == "That is longer than the policy allows."


# covers: CLA-17, C15
def test_on_a_log_that_does_not_verify_nothing_holds_and_a_live_log_has_no_end():
    d = Driver(make_room("claydon", pupils=2))
    d.class_in(["p1"])
    broken = VerifyReport("s1", entries=len(d.log), problems=["event 3 (PupilAdmitted) changed"])
    report = report_of(d, verify=broken)
    assert not report.verified
    assert report.rule("log").outcome is Outcome.NOT_HELD
    assert {r.outcome for r in report.rules if r.key != "log"} == {Outcome.UNPROVEN}
    assert report.problems == ("event 3 (PupilAdmitted) changed",)

    live = report_of(d)  # verified, but the session has not ended
    assert live.rule("end").outcome is Outcome.NOT_HELD
    assert said(live, "end") == ["The log has no end: the session has not ended."]
