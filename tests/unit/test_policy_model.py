"""The policy model and its loader: the five presets, refusals of bad files, and the docs test."""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from pathlib import Path

import pytest
from annotated_types import Ge, Le
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from safeclass.policy import PRESET_NAMES, Policy, PolicyError, load, load_preset, loads
from safeclass.policy.loading import preset_path
from safeclass.policy.model import (
    ChatMode,
    EntryState,
    NameRule,
    PupilCamera,
    RecordingMode,
    WithoutParent,
)
from safeclass.policy.settings import SETTINGS, setting_names

DOCS = Path(__file__).resolve().parents[2] / "docs" / "policy.md"


def claydon_with(old: str, new: str) -> str:
    """Claydon's preset text with exactly one piece of it replaced."""
    text = preset_path("claydon").read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} should appear once in claydon.toml"
    return text.replace(old, new)


def problems_of(text: str) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        loads(text, source="test.toml")
    return [str(p) for p in caught.value.problems]


# --- the five presets -------------------------------------------------------------------------


@pytest.mark.parametrize("name", PRESET_NAMES)
def test_every_preset_loads_and_its_key_is_its_name(name: str) -> None:
    # covers: C20, STJ-01, CRO-17
    policy = load_preset(name)
    assert policy.school.key == name
    assert policy.school.review > policy.school.adopted


def test_claydon_needs_two_staff_for_thirty_minutes_never_records_and_opens_chat_on_request() -> (
    None
):
    # covers: CLA-02, CLA-06, CLA-09, CLA-13, CLA-15
    p = load_preset("claydon")
    assert p.staffing.min_staff == 2
    assert p.staffing.single_adult_fallback is False
    assert p.timing.max_minutes == 30
    assert p.recording.mode is RecordingMode.NEVER
    assert p.chat.default is ChatMode.OFF_UNTIL_ALLOWED
    assert p.identity.name_rule is NameRule.FIRST_NAME_SURNAME_INITIAL
    assert p.one_to_one.allowed is False


def test_crofton_lets_one_adult_admit_two_or_more_pupils_with_cameras_on() -> None:
    # covers: CRO-04, CRO-14, CRO-17
    p = load_preset("crofton")
    assert p.staffing.single_adult_fallback is True
    assert p.staffing.min_staff == 2
    assert p.entry.camera_on_entry is EntryState.ON
    assert p.entry.pupil_camera is PupilCamera.ON_UNLESS_AGREED
    assert p.school.review == dt.date(2023, 1, 2)


def test_werrington_records_a_one_to_one_only_when_the_parent_cannot_stay() -> None:
    # covers: WER-08, WER-09, WER-10
    p = load_preset("werrington")
    assert p.one_to_one.allowed is True
    assert p.one_to_one.without_parent is WithoutParent.RECORD_WITH_NOTICE
    assert p.recording.mode is RecordingMode.ONE_TO_ONE_EXCEPTION
    assert p.min_staff_for(one_to_one=True) == 1
    assert p.min_staff_for(one_to_one=False) == 2


def test_st_josephs_records_only_with_notice_to_everyone() -> None:
    # covers: STJ-09
    p = load_preset("st-josephs")
    assert p.recording.mode is RecordingMode.WITH_NOTICE
    assert p.recording.notice_seconds > 0


def test_s04_allows_a_booked_one_to_one_but_never_without_the_parent() -> None:
    # covers: S04-08, S04-09, S04-10, S04-16
    p = load_preset("s04")
    assert p.one_to_one.allowed is True
    assert p.one_to_one.parent_must_be_present is True
    assert p.one_to_one.without_parent is WithoutParent.REFUSE
    assert p.recording.mode is RecordingMode.NEVER
    assert p.removal.tell_parent_when_camera_turned_off is True


# --- refusing bad files -----------------------------------------------------------------------


def test_a_typo_in_a_setting_is_refused_with_its_line_and_the_nearest_known_name() -> None:
    # covers: C20 (a misspelt rule must never fall back to a default)
    problems = problems_of(claydon_with("min_staff = 2 ", "min_staf = 2 "))
    typo = next(p for p in problems if "min_staf:" in p)
    assert "line 15" in typo
    assert "did you mean 'min_staff'?" in typo


def test_a_wrong_type_is_refused_with_the_setting_and_its_line() -> None:
    problems = problems_of(claydon_with("max_minutes = 30 ", 'max_minutes = "thirty" '))
    assert problems == [
        "line 21: timing.max_minutes: Input should be a valid integer, unable to parse string "
        "as an integer (got 'thirty')"
    ]


def test_one_adult_with_one_to_one_forbidden_and_no_fallback_is_a_contradiction() -> None:
    # covers: CLA-02, CRO-04
    problems = problems_of(claydon_with("min_staff = 2 ", "min_staff = 1 "))
    assert len(problems) == 1
    assert problems[0].startswith("line 15: staffing.min_staff: staffing.min_staff = 1 lets one")
    assert "one_to_one.allowed = false forbids exactly that" in problems[0]
    assert "set staffing.min_staff = 2 (CLA-02)" in problems[0]


def test_an_unknown_choice_is_refused_with_the_allowed_values() -> None:
    # covers: C13
    problems = problems_of(claydon_with('mode = "never"', 'mode = "sometimes"'))
    assert len(problems) == 1
    assert problems[0].startswith("line 45: recording.mode:")
    for allowed in ("'never'", "'with_notice'", "'one_to_one_exception'"):
        assert allowed in problems[0]


def test_invalid_toml_is_refused_with_its_line() -> None:
    problems = problems_of(claydon_with('key = "claydon"', 'key = "claydon'))
    assert problems[0].startswith("line 7: not valid TOML")


def test_a_missing_required_table_is_named_with_how_to_add_it() -> None:
    text = claydon_with("[staffing]", "[staffing_rules]")
    problems = problems_of(text)
    assert "staffing: is required but missing (add a [staffing] table)" in problems
    assert any("staffing_rules" in p and "did you mean 'staffing'?" in p for p in problems)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # covers: CRO-17
        ("review = 2022-01-04", "review = 2020-01-04", "line 10: school.review: review date"),
        # covers: C1
        ("ends = 15:30:00", "ends = 07:00:00", "line 28: school_day.ends: the school day ends"),
        # covers: CLA-11
        ('camera_on_entry = "off"', 'camera_on_entry = "on"', "line 36: entry.camera_on_entry"),
        # covers: C11
        ("[5, 1]", "[5, 40]", "line 20: timing: a warning 40 minutes"),
        # covers: C1 (a misspelt zone would otherwise fail only when a session is scheduled)
        (
            'timezone = "Europe/London"',
            'timezone = "Europe/Londn"',
            "line 11: school.timezone: 'Europe/Londn' is not a time zone this server knows "
            "(use a name such as 'Europe/London')",
        ),
    ],
)
def test_a_contradiction_inside_a_table_points_at_the_setting_it_names(
    old: str, new: str, expected: str
) -> None:
    (problem,) = problems_of(claydon_with(old, new))
    assert problem.startswith(expected)


def test_a_one_to_one_recording_without_one_to_one_sessions_is_refused() -> None:
    # covers: WER-10
    (problem,) = problems_of(claydon_with('mode = "never"', 'mode = "one_to_one_exception"'))
    assert problem.startswith("line 45: recording.mode:")
    assert "set one_to_one.allowed = true" in problem


def test_a_recording_that_starts_before_anyone_can_read_the_notice_is_refused() -> None:
    # covers: STJ-09, C13
    text = preset_path("st-josephs").read_text(encoding="utf-8")
    assert "notice_seconds = 10" in text
    problems = problems_of(text.replace("notice_seconds = 10", "notice_seconds = 0"))
    assert any("notice_seconds = 0" in p and "at least 5 seconds" in p for p in problems), problems


def test_an_unknown_preset_name_suggests_the_nearest_preset() -> None:
    with pytest.raises(PolicyError) as caught:
        load("clayden")
    assert str(caught.value.problems[0]) == (
        "no preset or file called 'clayden' (did you mean 'claydon'?)"
    )


def test_a_name_too_long_for_a_path_is_an_unknown_policy_not_a_crash() -> None:
    with pytest.raises(PolicyError):
        load("x" * 5000)


def test_a_file_that_is_not_utf8_is_refused_with_a_hint(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.toml"
    bad.write_bytes("name = 'Sch\xf6n'".encode("latin-1"))
    with pytest.raises(PolicyError) as caught:
        load(str(bad))
    assert caught.value.problems[0].hint == "save it as UTF-8"


# --- every setting is named and documented (the Datasette habit) -------------------------------


def _fields(model: type[BaseModel], prefix: str = "") -> dict[str, FieldInfo]:
    """Every leaf field of the model, walked independently of safeclass.policy.settings."""
    found: dict[str, FieldInfo] = {}
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found |= _fields(annotation, f"{prefix}{name}.")
        else:
            found[f"{prefix}{name}"] = info
    return found


FIELDS = _fields(Policy)


def _docs_row(dotted: str) -> str:
    rows = [line for line in DOCS.read_text().splitlines() if line.startswith(f"| `{dotted}` |")]
    assert len(rows) == 1, f"docs/policy.md should have one table row for `{dotted}`"
    return rows[0]


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):  # includes the choices, which are str enums
        return f'"{value}"'
    if isinstance(value, tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dt.time):
        return f"{value:%H:%M:%S}"
    return str(value)


def test_the_settings_walk_finds_every_field_of_the_model() -> None:
    assert setting_names() == list(FIELDS)
    assert {"staffing.min_staff", "retention.concerns_until_pupil_age"} <= set(FIELDS)


@pytest.mark.parametrize("dotted", list(FIELDS))
def test_every_setting_has_a_label_for_diffs(dotted: str) -> None:
    assert SETTINGS[dotted].label


def test_no_label_is_left_for_a_setting_that_no_longer_exists() -> None:
    assert set(SETTINGS) == set(FIELDS)


@pytest.mark.parametrize("dotted", list(FIELDS))
def test_every_setting_is_documented_with_its_default_and_allowed_values(dotted: str) -> None:
    row = _docs_row(dotted)
    info = FIELDS[dotted]
    if info.is_required():
        assert "| required |" in row
    else:
        assert f"| `{_toml(info.default)}` |" in row
    annotation = info.annotation
    if isinstance(annotation, type) and issubclass(annotation, StrEnum):
        for choice in annotation:
            assert f'`"{choice.value}"`' in row, f"{dotted}: {choice.value} is not documented"
    bounds = {type(m): m for m in info.metadata if isinstance(m, Ge | Le)}
    if Ge in bounds and Le in bounds:
        low, high = bounds[Ge], bounds[Le]
        assert isinstance(low, Ge)
        assert isinstance(high, Le)
        assert f"| {low.ge}–{high.le} |" in row, f"{dotted}: range {low.ge}–{high.le}"


def test_every_day_of_the_week_is_documented() -> None:
    row = _docs_row("school_day.days")
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        assert f'`"{day}"`' in row


def test_the_docs_mention_every_policy_command() -> None:
    text = DOCS.read_text()
    for command in ("list", "show", "check", "diff"):
        assert re.search(rf"`safeclass policy {command}\b", text), command
