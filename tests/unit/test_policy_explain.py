"""The plain-English explanation of a policy, its review date, and the diff between two policies."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from safeclass.policy import PRESET_NAMES, Policy, load_preset
from safeclass.policy.diff import Change, diff
from safeclass.policy.explain import explain, review_date_has_passed, review_notice
from safeclass.policy.loading import dump_dict
from safeclass.policy.model import Weekday
from safeclass.policy.wording import days, long_date

CLAUSE = re.compile(r"\b(CLA|WER|STJ|CRO|S04)-\d\d\b")
OWN_PREFIX = {"claydon": "CLA", "werrington": "WER", "st-josephs": "STJ", "crofton": "CRO"}


def text_of(policy: Policy) -> str:
    return "\n".join(s for _, sentences in explain(policy) for s in sentences)


def variant(name: str, **changes: Any) -> Policy:
    """A preset with some dotted settings changed, validated like a file would be."""
    data = dump_dict(load_preset(name))
    for dotted, value in changes.items():
        section, field = dotted.split("__")
        data[section][field] = value
    return Policy.model_validate(data)


# --- explain ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fact",
    [
        # covers: CLA-02, C5
        "At least 2 staff must be in the room before any pupil is admitted (CLA-02)",
        "a pupil is never in a live room with fewer than two adults",
        # covers: CLA-06, C11
        "Sessions last at most 30 minutes (CLA-06)",
        # covers: CLA-09, C13
        "Sessions are never recorded (CLA-09).",
        # covers: CLA-13, C8
        "Chat is off until the teacher switches it on; messages are always seen by everyone — "
        "there is no private chat (CLA-13).",
        # covers: CLA-15, C4
        "Pupils are shown by first name and surname initial, e.g. 'Amelia R.', taken from the "
        "class list; they cannot change it (CLA-15).",
        # covers: CLA-10
        "Staff cannot leave while pupils are still in the session",
        # covers: CLA-05
        "Pupils' microphones are off when they are admitted (CLA-05).",
        # covers: CLA-14, C17
        "Attending counts as consent until the parent gives or refuses consent (CLA-14).",
        # covers: CLA-02, C6
        "1-to-1 sessions are not allowed",
        # covers: C20
        "adopted on 4 January 2021 and is due for review on 4 January 2022",
        "For pupils: Wear suitable clothes (not pyjamas).",
        "after 5 minutes on hold the session ends for everyone",
        "Everyone sees a warning 5 minutes and 1 minute before the end.",
        "The waiting room opens 5 minutes before the start",
        "Sessions can be scheduled only Monday to Friday, between 08:30 and 15:30 (CLA-03)",
        "Each pupil can be connected from one device at a time",
        "Chat messages are deleted when the session ends.",
        "Safeguarding concerns are kept until the pupil is 25.",
    ],
)
def test_claydon_is_explained_in_the_words_of_its_protocol(fact: str) -> None:
    assert fact in text_of(load_preset("claydon"))


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_every_section_of_the_model_has_a_heading_and_sentences(name: str) -> None:
    sections = explain(load_preset(name))
    assert len(sections) == 14
    assert len({heading for heading, _ in sections}) == 14
    assert all(sentences for _, sentences in sections)


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_a_preset_cites_only_its_own_schools_clauses(name: str) -> None:
    prefix = OWN_PREFIX.get(name, "S04")
    cited = {m.group(1) for m in CLAUSE.finditer(text_of(load_preset(name)))}
    assert cited == {prefix}


def test_a_schools_own_policy_cites_no_seed_clause() -> None:
    policy = variant("claydon", school__key="oakfield", school__name="Oakfield Primary")
    assert not CLAUSE.search(text_of(policy))
    assert "Oakfield Primary" in text_of(policy)


def test_crofton_explains_the_single_adult_fallback() -> None:
    # covers: CRO-04
    text = text_of(load_preset("crofton"))
    assert "pupils are admitted only once two or more are waiting" in text
    assert "never in a live room with fewer than two adults" not in text
    assert "Pupils' cameras are on when they are admitted (CRO-14)." in text


def test_werrington_explains_the_recorded_one_to_one_and_the_group_two_adult_rule() -> None:
    # covers: WER-08, WER-09, WER-10
    text = text_of(load_preset("werrington"))
    assert "admitted to a group session; 1-to-1 sessions have their own rule, below" in text
    assert "Group sessions are never recorded (WER-08)." in text
    assert "the parent is told 10 seconds before it starts and the DSL is alerted (WER-10)" in text
    assert "with at least one member of staff in the room (WER-09)" in text
    assert "If the parent cannot be in the room, the session is recorded" in text


def test_st_josephs_explains_the_notice_before_recording() -> None:
    # covers: STJ-09, STJ-06
    text = text_of(load_preset("st-josephs"))
    assert "“This session will be recorded” 10 seconds before it starts" in text
    assert "The parent is told at the end of the session that their child was removed" in text


def test_s04_explains_the_parent_told_when_a_camera_is_turned_off() -> None:
    # covers: S04-09, S04-16
    text = text_of(load_preset("s04"))
    assert "the pupil is not admitted (or is held) until they are" in text
    assert "The parent is also told at the end of the session when staff turn their child's" in text


def test_other_choices_are_explained_too() -> None:
    policy = variant(
        "werrington",
        staffing__min_staff=1,
        staffing__staff_may_leave_pupils=True,
        timing__warnings_minutes_before_end=[],
        timing__waiting_room_opens_minutes_before=0,
        school_day__days=["mon", "wed"],
        identity__name_rule="full_name",
        identity__one_device_per_pupil=False,
        entry__mic_on_entry="on",
        entry__pupils_may_unmute_themselves=True,
        entry__pupil_camera="pupil_choice",
        chat__default="on",
        consent__basis="explicit",
        removal__parent_told="immediately",
        expectations__pupil=[],
        expectations__must_acknowledge=False,
        expectations__remind_at_start=False,
        retention__invitations_days=0,
    )
    text = text_of(policy)
    for fact in (
        "One member of staff is enough",
        "If the only member of staff leaves",
        "Staff may leave before the pupils do",
        "Nobody is warned before the end.",
        "The waiting room opens at the start time",
        "only on Monday and Wednesday",
        "full name, e.g. 'Amelia Roberts'",
        "more than one device",
        "Pupils' microphones are on when they are admitted",
        "Pupils may unmute themselves",
        "Pupils may turn their own cameras on and off.",
        "Chat is on from the start",
        "Only pupils whose parent has given consent",
        "The parent is told straight away",
        "No expectations are set for pupils.",
        "nobody has to tick them",
        "not repeated at the start",
        "Invitation links are deleted when the session ends.",
    ):
        assert fact in text, fact


# --- review date ------------------------------------------------------------------------------


def test_the_review_date_has_passed_only_after_the_day_itself() -> None:
    # covers: CRO-17
    policy = load_preset("crofton")  # review on 2 January 2023
    assert not review_date_has_passed(policy, dt.date(2023, 1, 1))
    assert not review_date_has_passed(policy, dt.date(2023, 1, 2))
    assert review_date_has_passed(policy, dt.date(2023, 1, 3))


def test_the_review_notice_says_how_long_is_left_or_that_review_is_overdue() -> None:
    policy = load_preset("crofton")
    assert review_notice(policy, dt.date(2022, 12, 31)) == (
        "The next review is due on 2 January 2023, in 2 days."
    )
    assert review_notice(policy, dt.date(2023, 1, 2)) == "This policy is due for review today."
    assert review_notice(policy, dt.date(2024, 6, 1)).startswith(
        "The review date, 2 January 2023, has passed"
    )


# --- diff -------------------------------------------------------------------------------------


def test_a_policy_has_no_differences_from_itself() -> None:
    assert diff(load_preset("claydon"), load_preset("claydon")) == []


def test_claydon_and_crofton_differ_in_the_single_adult_fallback() -> None:
    # covers: CRO-04, CLA-02
    changes = {c.field: c for c in diff(load_preset("claydon"), load_preset("crofton"))}
    fallback = changes["staffing.single_adult_fallback"]
    assert fallback == Change(
        "staffing.single_adult_fallback",
        False,
        True,
        "One adult may admit pupils once two or more are waiting (single-adult fallback): "
        "changes from no to yes.",
    )
    assert changes["timing.max_minutes"].sentence == (
        "Longest session: changes from 30 minutes to 45 minutes."
    )
    assert "school.name" in changes
    assert "school.key" in changes
    assert "staffing.min_staff" not in changes


def test_changes_come_in_the_order_of_the_model() -> None:
    fields = [c.field for c in diff(load_preset("claydon"), load_preset("werrington"))]
    assert fields[:3] == ["school.name", "school.key", "school.source"]
    assert fields.index("recording.mode") < fields.index("one_to_one.allowed")


def test_a_changed_list_of_expectations_says_what_was_added_and_removed() -> None:
    before = load_preset("claydon")
    pupil = list(before.expectations.pupil)
    after = variant("claydon", expectations__pupil=[*pupil[1:], "Bring a pencil."])
    (change,) = diff(before, after)
    assert change.sentence == (
        "Pupil expectations: adds “Bring a pencil.”; removes “Wear suitable clothes "
        "(not pyjamas).”."
    )
    (reordered,) = diff(before, variant("claydon", expectations__pupil=pupil[::-1]))
    assert reordered.sentence.endswith("the same items, in a different order.")


def test_a_change_of_choice_reads_as_words_not_code() -> None:
    (change,) = diff(
        load_preset("claydon"), variant("claydon", school_day__days=["mon", "tue", "wed"])
    )
    assert change.sentence == "School days: changes from Monday–Friday to Monday–Wednesday."


# --- wording ----------------------------------------------------------------------------------


def test_days_read_as_a_range_or_a_list() -> None:
    assert days([Weekday.MON, Weekday.TUE, Weekday.WED]) == "Monday to Wednesday"
    assert days([Weekday.FRI, Weekday.MON]) == "Monday and Friday"
    assert days([Weekday.MON, Weekday.WED, Weekday.FRI]) == "Monday, Wednesday and Friday"


def test_dates_are_written_out_whatever_the_locale() -> None:
    assert long_date(dt.date(2022, 1, 4)) == "4 January 2022"
