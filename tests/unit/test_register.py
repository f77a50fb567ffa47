"""The attendance register and the timeline, projected from a session's events (C14, C15)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from zoneinfo import ZoneInfo

from safeclass.app.register import Attendance, PupilRow, Register, build_register
from safeclass.app.reports import register_csv
from safeclass.app.timeline import build_timeline
from safeclass.core import Consent, Role
from safeclass.core import commands as c
from safeclass.core.events import ChatPosted, EndReason, HoldReason
from safeclass.policy import load_preset
from safeclass.policy.model import ConsentBasis, Policy
from tests.support.lessons import claydon_lesson
from tests.support.rooms import START, Driver, class_list, make_room

LONDON = "Europe/London"
CLAYDON = load_preset("claydon")


def register_of(d: Driver, tz: str = LONDON) -> Register:
    return build_register(d.state.plan, d.log, tz, policy=d.state.policy)


def row(register: Register, name: str) -> PupilRow:
    (found,) = [p for p in register.pupils if p.name == name]
    return found


def local(hour: int, minute: int, second: int = 0) -> dt.datetime:
    return START.replace(hour=hour, minute=minute, second=second)  # London is on UTC in November


# covers: C14, CLA-17, S04-03, CRO-02
def test_register_has_one_row_per_expected_pupil_in_name_order_including_those_who_never_came():
    register = register_of(claydon_lesson())
    assert [p.name for p in register.pupils] == [
        "Amelia R.",
        "Ava T.",
        "Isla J.",
        "Leo B.",
        "Mia W.",
        "Noah K.",
        "Oliver S.",
        "Siân O.",
        "Zoë-Mae E.",
    ]
    assert row(register, "Noah K.").status is Attendance.ABSENT
    assert row(register, "Noah K.").waiting_at is None
    assert row(register, "Noah K.").present == dt.timedelta(0)


# covers: C14, CRO-02, STJ-11
def test_pupil_waiting_on_time_is_not_late_even_when_staff_admit_them_late():
    amelia = row(register_of(claydon_lesson()), "Amelia R.")
    assert amelia.waiting_at == local(9, 57)
    assert amelia.admitted_at == local(10, 1)
    assert amelia.late_by is None
    assert amelia.status is Attendance.ATTENDED


def late_after(minutes: int) -> Policy:
    """Claydon's policy with `timing.late_after_minutes` set to `minutes`."""
    timing = CLAYDON.timing.model_copy(update={"late_after_minutes": minutes})
    return CLAYDON.model_copy(update={"timing": timing})


# covers: C14, CRO-02, STJ-11
def test_late_pupil_is_late_by_the_minutes_between_the_start_and_joining_the_waiting_room():
    d = claydon_lesson()
    register = build_register(d.state.plan, d.log, LONDON, policy=late_after(0))
    zoe = row(register, "Zoë-Mae E.")
    assert zoe.late_by == dt.timedelta(minutes=3)
    assert zoe.late_minutes == 3
    assert zoe.admitted_at == local(10, 3, 30)
    assert zoe.minutes_present == 26.5
    assert register.late == 3  # Zoë-Mae, Leo and Mia (turned away, but late all the same)


# covers: C14, C19, CRO-02, STJ-11
def test_late_means_more_than_the_policys_threshold_after_the_planned_start():
    d = claydon_lesson()  # Leo joins at 10:02, Zoë-Mae at 10:03, Mia at 10:05
    assert CLAYDON.timing.late_after_minutes == 5  # the default
    by_default = register_of(d)
    assert by_default.late == 0  # nobody more than 5 minutes after the start
    assert row(by_default, "Zoë-Mae E.").late_by is None
    assert by_default.facts.late_after == dt.timedelta(minutes=5)
    two = build_register(d.state.plan, d.log, LONDON, policy=late_after(2))
    assert row(two, "Leo B.").late_by is None  # exactly 2 minutes: not more than 2
    assert row(two, "Zoë-Mae E.").late_by == dt.timedelta(minutes=3)  # still from the start
    assert row(two, "Mia W.").late_by == dt.timedelta(minutes=5)
    assert two.late == 2


# covers: C14, S04-03
def test_pupil_who_drops_and_is_readmitted_has_both_stretches_counted_and_one_reconnection():
    isla = row(register_of(claydon_lesson()), "Isla J.")
    assert isla.status is Attendance.ATTENDED
    assert isla.reconnections == 1
    assert isla.admitted_at == local(10, 1)  # the first admission
    assert isla.present == dt.timedelta(minutes=7) + dt.timedelta(minutes=20, seconds=30)
    assert isla.minutes_present == 27.5
    assert isla.left_at == local(10, 30)
    assert not isla.left_early


# covers: C14, C10, STJ-06, CLA-17
def test_removed_pupil_shows_who_removed_them_and_why():
    leo = row(register_of(claydon_lesson()), "Leo B.")
    assert leo.status is Attendance.REMOVED
    assert leo.removed_by == "Mr Lee"
    assert leo.removal_reason == "kept unmuting after two reminders"
    assert leo.left_at == local(10, 12)
    assert leo.minutes_present == 9.5
    assert not leo.left_early  # removal is its own column, not "left early"


# covers: C14, CLA-17, C11
def test_pupil_who_left_before_the_end_left_early_and_those_disconnected_at_the_end_did_not():
    register = register_of(claydon_lesson())
    oliver = row(register, "Oliver S.")
    assert oliver.left_early and oliver.left_at == local(10, 20)
    assert oliver.minutes_present == 19
    assert [p.name for p in register.pupils if p.left_early] == ["Oliver S."]
    assert row(register, "Siân O.").left_at == local(10, 30)


# covers: C14, C17, CLA-14, C3
def test_absent_opted_out_and_denied_pupils_are_told_apart():
    register = register_of(claydon_lesson())
    assert row(register, "Ava T.").status is Attendance.OPTED_OUT
    assert row(register, "Noah K.").status is Attendance.ABSENT
    mia = row(register, "Mia W.")
    assert mia.status is Attendance.DENIED
    assert mia.waiting_at == local(10, 5) and mia.left_at == local(10, 5, 30)
    assert mia.admitted_at is None and mia.left_early is False


# covers: C14, C3
def test_pupil_who_waited_but_was_never_let_in_is_not_admitted_rather_than_absent():
    d = Driver(make_room("claydon", pupils=2))
    d.at(-1).pupil_join("p1")
    d.at(30).ok(c.Tick())
    register = register_of(d)
    assert row(register, "Amelia R.").status is Attendance.NOT_ADMITTED
    assert row(register, "Amelia R.").left_at == local(10, 30)
    assert row(register, "Oliver S.").status is Attendance.ABSENT


# covers: C17, CLA-14
def test_school_needing_explicit_consent_lists_a_pupil_without_it_as_opted_out():
    policy = CLAYDON.model_copy(
        update={"consent": CLAYDON.consent.model_copy(update={"basis": ConsentBasis.EXPLICIT})}
    )
    d = Driver(make_room(policy, pupils=2, consent={"p2": Consent.GIVEN}))
    register = build_register(d.state.plan, d.log, LONDON, policy=policy)
    assert [p.status for p in register.pupils] == [Attendance.OPTED_OUT, Attendance.ABSENT]
    # without the policy, only a refusal on record counts as opting out
    plain = build_register(d.state.plan, d.log, LONDON)
    assert [p.status for p in plain.pupils] == [Attendance.ABSENT, Attendance.ABSENT]


# covers: C14, C5, CLA-02, S04-11, STJ-06
def test_assistant_dropping_for_40_seconds_appears_as_one_hold_with_its_duration():
    facts = register_of(claydon_lesson()).facts
    (hold,) = facts.holds
    assert hold.started_at == local(10, 15)
    assert hold.ended_at == local(10, 15, 40)
    assert hold.duration == dt.timedelta(seconds=40)
    assert hold.reason is HoldReason.STAFF_BELOW_MINIMUM
    assert (hold.staff_present, hold.staff_required) == (1, 2)
    assert facts.total_hold == dt.timedelta(seconds=40)


# covers: C14, C15, C11, CLA-06, C8, C16
def test_session_facts_record_the_time_limit_end_chat_and_concerns():
    facts = register_of(claydon_lesson()).facts
    assert facts.school == "Claydon Primary School"
    assert facts.title == "Year 2 Maths"
    assert facts.planned_start == local(10, 0) and facts.planned_end == local(10, 30)
    assert facts.opened_at == local(9, 56) and facts.started_at == local(10, 0)
    assert facts.ended_at == local(10, 30)
    assert facts.end_reason is EndReason.TIME_LIMIT and facts.ended_by is None
    assert [(p.start, p.end) for p in facts.chat] == [(local(10, 10), local(10, 13))]
    assert facts.chat_messages == 1
    assert facts.concerns == 1
    assert facts.recording == ()


# covers: C14, CLA-02, CLA-10
def test_staff_rows_show_each_adult_with_minutes_present_and_reconnections():
    staff = register_of(claydon_lesson()).staff
    assert [(s.name, s.role) for s in staff] == [
        ("Mrs Khan", Role.TEACHER),
        ("Mr Lee", Role.ASSISTANT),
    ]
    khan, lee = staff
    assert (khan.joined_at, khan.left_at, khan.minutes_present) == (local(9, 56), local(10, 30), 34)
    assert lee.reconnections == 1
    assert lee.present == dt.timedelta(minutes=29, seconds=20)  # 15 min + 14 min 20 s
    assert lee.minutes_present == 29.3


# covers: C14, C7, C9, S04-16, STJ-11
def test_cameras_turned_off_by_staff_and_hands_raised_are_counted():
    amelia = row(register_of(claydon_lesson()), "Amelia R.")
    assert amelia.cameras_turned_off == 1
    assert amelia.hands_raised == 1


# covers: C14, S04-03, CLA-17
def test_csv_has_a_header_row_local_hh_mm_times_and_plain_minute_numbers():
    d = claydon_lesson()  # late from the start itself, so the late minutes show
    lines = register_csv(build_register(d.state.plan, d.log, LONDON, policy=late_after(0))).split(
        "\r\n"
    )
    assert lines[0] == (
        "Date,Session,Pupil,Status,Joined waiting room,Admitted,Left,Minutes present,"
        "Late by (minutes),Left early,Reconnections,Removed by,Removal reason,"
        "Cameras turned off by staff,Hands raised,Refused attempts"
    )
    assert lines[1:] == [
        "2026-11-24,Year 2 Maths,Amelia R.,attended,09:57,10:01,10:30,29,,no,0,,,1,1,0",
        "2026-11-24,Year 2 Maths,Ava T.,opted out,,,,0,,,0,,,0,0,0",
        "2026-11-24,Year 2 Maths,Isla J.,attended,09:59,10:01,10:30,27.5,,no,1,,,0,0,0",
        "2026-11-24,Year 2 Maths,Leo B.,removed,10:02,10:02,10:12,9.5,2,no,0,Mr Lee,"
        "kept unmuting after two reminders,0,0,0",
        "2026-11-24,Year 2 Maths,Mia W.,denied,10:05,,10:05,0,5,,0,,,0,0,0",
        "2026-11-24,Year 2 Maths,Noah K.,absent,,,,0,,,0,,,0,0,0",
        "2026-11-24,Year 2 Maths,Oliver S.,attended,09:59,10:01,10:20,19,,yes,0,,,0,0,0",
        "2026-11-24,Year 2 Maths,Siân O.,attended,09:58,10:01,10:30,29,,no,0,,,0,0,0",
        "2026-11-24,Year 2 Maths,Zoë-Mae E.,attended,10:03,10:03,10:30,26.5,3,no,0,,,0,0,0",
        "",
    ]


# covers: C14
def test_csv_defuses_cells_a_spreadsheet_would_run_as_formulas():
    for reason in ('=HYPERLINK("http://x","y")', "+1", "-1", "@SUM(A1)"):
        text = register_csv(register_of(claydon_lesson(removal_reason=reason)))
        (leo,) = [line for line in text.splitlines() if ",Leo B.," in line]
        assert f"Mr Lee,'{reason[0]}" in leo or f"Mr Lee,\"'{reason[0]}" in leo


# covers: C14
def test_csv_quotes_a_reason_with_commas_and_quotes_so_columns_stay_aligned():
    text = register_csv(register_of(claydon_lesson(removal_reason='said "no", twice')))
    (leo,) = [line for line in text.splitlines() if ",Leo B.," in line]
    assert 'Mr Lee,"said ""no"", twice",0,0' in leo


# covers: C14
def test_times_are_shown_in_the_schools_time_zone():
    register = register_of(claydon_lesson(), tz="Europe/Paris")
    assert register.facts.planned_start.hour == 11
    assert row(register, "Amelia R.").waiting_at is not None
    assert (
        register_csv(register)
        .splitlines()[1]
        .startswith("2026-11-24,Year 2 Maths,Amelia R.,attended,10:57,11:01,11:30,29,")
    )


# covers: C14, C15
def test_register_of_a_live_session_counts_time_so_far_and_nobody_in_the_room_left_early():
    d = Driver(make_room("claydon", pupils=3))
    d.class_in(["p1", "p2"])
    d.at(5).ok(c.Leave("p2"))
    d.at(10).ok(c.RaiseHand("p1"))
    register = register_of(d)
    assert register.facts.ended_at is None and register.facts.end_reason is None
    amelia, oliver = row(register, "Amelia R."), row(register, "Oliver S.")
    assert amelia.present == dt.timedelta(minutes=12) and not amelia.left_early
    assert amelia.left_at is None
    assert oliver.left_early and oliver.minutes_present == 7


# covers: C14
def test_register_of_no_events_lists_every_expected_pupil_as_absent():
    d = Driver(make_room("claydon", pupils=3))
    register = register_of(d)
    assert [p.status for p in register.pupils] == [Attendance.ABSENT] * 3
    assert register.staff == () and register.facts.holds == ()
    assert register_csv(register).count("\r\n") == 4


# covers: C14
def test_register_of_500_events_for_30_pupils_builds_in_well_under_50_ms():
    d = Driver(make_room("claydon", pupils=30))
    ids = [pid for pid, _, _ in class_list(30)]
    d.class_in(ids)
    while len(d.log) < 500:
        for pid in ids[: (500 - len(d.log) + 1) // 2]:
            d.ok(c.RaiseHand(pid))
            d.ok(c.CallOn("t1", pid))
    events = d.log[:500]
    timings = []
    for _ in range(5):
        began = time.perf_counter()
        build_register(d.state.plan, events, LONDON, policy=d.state.policy)
        timings.append(time.perf_counter() - began)
    assert min(timings) < 0.050


# covers: C15, CLA-17
def test_timeline_reads_as_plain_english_with_local_times():
    d = claydon_lesson()
    names = {pid: p.shown_name for pid, p in d.state.plan.expected.items()}
    lines = [str(line) for line in build_timeline(d.log, LONDON, names)]
    for expected in (
        "09:56 Waiting room opened",
        "09:56 Mrs Khan (teacher) joined",
        "09:57 Amelia R. joined the waiting room",
        "10:01 Amelia R. admitted by Mrs Khan",
        "10:05 Mia W. turned away by Mrs Khan",
        "10:08 Isla J.'s connection dropped",
        "10:09 Isla J. rejoined the waiting room",
        "10:10 Chat message 1 from Amelia R.: Hello Miss",
        "10:12 Leo B. removed by Mr Lee: kept unmuting after two reminders",
        "10:15 Room held: 1 of 2 required staff present",
        "10:15 Room released (held for 40 s)",
        "10:20 Oliver S. left",
        "10:25 5 minutes left",
        "10:29 1 minute left",
        "10:30 Session ended (time limit) — 6 disconnected (4 pupils, 2 staff)",
    ):
        assert expected in lines
    assert len(lines) == len(d.log)


# covers: C15, CLA-13
def test_timeline_shows_chat_text_only_while_the_log_holds_it():
    d = claydon_lesson()
    blanked = [dataclasses.replace(e, text="") if isinstance(e, ChatPosted) else e for e in d.log]
    lines = [line.text for line in build_timeline(blanked, LONDON, {})]
    assert "Chat message 1 from Amelia R." in lines
    assert not any("Hello Miss" in line for line in lines)


# covers: C16, CLA-07
def test_timeline_never_shows_a_concerns_summary():
    d = claydon_lesson()
    names = {pid: p.shown_name for pid, p in d.state.plan.expected.items()}
    lines = [line.text for line in build_timeline(d.log, LONDON, names)]
    assert "Safeguarding concern 1 raised by Mrs Khan about Siân O." in lines
    assert not any("worrying" in line for line in lines)


# covers: C16, CLA-07, WER-14 (issue 11: nothing undelivered is called sent)
def test_timeline_says_a_dsl_alert_was_sent_only_once_the_outbox_sent_it():
    from safeclass.app.undelivered import AlertDelivery
    from safeclass.core.events import DslAlerted

    d = claydon_lesson()
    (alerted,) = [e for e in d.log if isinstance(e, DslAlerted)]

    def line(alerts: list[AlertDelivery] | None) -> str:
        (text,) = [t.text for t in build_timeline(d.log, LONDON, {}, (), alerts) if "DSL" in t.text]
        return text

    waiting = AlertDelivery(alerted.at, None, "pending", None)
    assert line([waiting]) == (
        "DSL alert queued: a concern; not delivered yet (no email set up, or not sent yet)"
    )
    refused = AlertDelivery(alerted.at, None, "pending", "SMTPConnectError: refused")
    assert "not delivered yet (the mail server did not take it yet" in line([refused])
    gave_up = AlertDelivery(alerted.at, None, "failed", "SMTPConnectError: refused")
    assert "tell the DSL yourself" in line([gave_up])
    sent_at = alerted.at + dt.timedelta(minutes=1)
    sent = AlertDelivery(alerted.at, sent_at, "sent", None)
    local = sent_at.astimezone(ZoneInfo(LONDON)).strftime("%H:%M")
    assert line([sent]) == f"DSL alert: a concern; sent to the DSL at {local}"
    assert line(None) == "DSL alert written: a concern"  # no outbox rows read: no claim made
