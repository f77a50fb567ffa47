"""Every policy setting by its dotted name ("staffing.min_staff"), with a label and unit in words.

The diff, the CLI and the documentation test all walk the model through `setting_names()`, so a
new field in model.py without a label here fails a test instead of showing up unexplained.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import NamedTuple

from pydantic import BaseModel

from safeclass.policy.model import Policy, Weekday
from safeclass.policy.wording import and_list, clock, days, long_date, words


class Setting(NamedTuple):
    """How a setting is named in a sentence, and the unit of its number if it has one."""

    label: str
    unit: str = ""  # singular; "minute"
    units: str = ""  # plural; "minutes"


def _unit(singular: str, plural: str | None = None) -> tuple[str, str]:
    return singular, plural or f"{singular}s"


_MINUTE = _unit("minute")
_DAY = _unit("day")
_STAFF = _unit("member of staff", "staff")

SETTINGS: dict[str, Setting] = {
    "school.name": Setting("School name"),
    "school.key": Setting("Short name in safeclass"),
    "school.version": Setting("Policy version"),
    "school.adopted": Setting("Date the policy was adopted"),
    "school.review": Setting("Review date"),
    "school.timezone": Setting("Time zone"),
    "school.source": Setting("Title of the school's protocol"),
    "staffing.min_staff": Setting(
        "Staff who must be in the room before pupils are admitted", *_STAFF
    ),
    "staffing.single_adult_fallback": Setting(
        "One adult may admit pupils once two or more are waiting (single-adult fallback)"
    ),
    "staffing.hold_ends_session_after_minutes": Setting(
        "Time pupils may be held without enough staff before the session ends", *_MINUTE
    ),
    "staffing.staff_may_leave_pupils": Setting("Staff may leave while pupils are still in"),
    "timing.max_minutes": Setting("Longest session", *_MINUTE),
    "timing.warnings_minutes_before_end": Setting("Warnings before the end", *_MINUTE),
    "timing.waiting_room_opens_minutes_before": Setting(
        "Waiting room opens before the start", *_MINUTE
    ),
    "timing.late_after_minutes": Setting(
        "A pupil is late who joins more than this after the start", *_MINUTE
    ),
    "school_day.days": Setting("School days"),
    "school_day.starts": Setting("School day starts"),
    "school_day.ends": Setting("School day ends"),
    "identity.name_rule": Setting("How pupils' names are shown"),
    "identity.one_device_per_pupil": Setting("One device per pupil"),
    "entry.mic_on_entry": Setting("Pupils' microphones when admitted"),
    "entry.camera_on_entry": Setting("Pupils' cameras when admitted"),
    "entry.pupil_camera": Setting("Who decides when a pupil's camera is on"),
    "entry.pupils_may_unmute_themselves": Setting("Pupils may unmute themselves"),
    "chat.default": Setting("Chat when the session starts"),
    "chat.max_message_chars": Setting("Longest chat message", *_unit("character")),
    "recording.mode": Setting("Recording"),
    "recording.notice_seconds": Setting("Notice before a recording starts", *_unit("second")),
    "one_to_one.allowed": Setting("1-to-1 sessions allowed"),
    "one_to_one.min_staff": Setting("Staff who must be in a 1-to-1", *_STAFF),
    "one_to_one.parent_must_be_present": Setting("Parent must be in the room for a 1-to-1"),
    "one_to_one.without_parent": Setting("A 1-to-1 when the parent cannot be in the room"),
    "removal.parent_told": Setting("When the parent is told their child was removed"),
    "removal.tell_parent_when_camera_turned_off": Setting(
        "Parent told when staff turn their child's camera off"
    ),
    "notices.absence": Setting("Parent told at the end when their child did not come"),
    "consent.basis": Setting("Consent basis"),
    "expectations.pupil": Setting("Pupil expectations"),
    "expectations.parent": Setting("Parent expectations"),
    "expectations.must_acknowledge": Setting("Expectations must be ticked before joining"),
    "expectations.remind_at_start": Setting("Expectations repeated at the start"),
    "concerns.categories": Setting("Categories a safeguarding concern is filed under"),
    "retention.chat_messages_days": Setting("Chat messages kept for", *_DAY),
    "retention.invitations_days": Setting("Invitation links kept for", *_DAY),
    "retention.register_days": Setting("Attendance registers kept for", *_DAY),
    "retention.session_log_days": Setting("Session logs kept for", *_DAY),
    "retention.recordings_days": Setting("Recordings kept for", *_DAY),
    "retention.concerns_until_pupil_age": Setting(
        "Safeguarding concerns kept until the pupil's age", *_unit("year")
    ),
}


# Choices whose name alone reads badly in a sentence; the rest read as their words.
_CHOICE_WORDS = {
    "one_to_one_exception": "only a 1-to-1 held without a parent",
    "with_notice": "allowed, with notice to everyone first",
    "record_with_notice": "record it, with notice to the parent",
    "refuse": "refuse the session",
    "first_name_surname_initial": "first name and surname initial",
    "on_unless_agreed": "on unless the teacher agrees otherwise",
    "teacher_decides": "the teacher decides",
    "pupil_choice": "the pupil decides",
    "implied_until_given": "implied until given",
    "end_of_session": "at the end of the session",
}


def setting_names(model: type[BaseModel] = Policy, prefix: str = "") -> list[str]:
    """Every leaf setting of the model, dotted, in the order the model declares them."""
    names: list[str] = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names += setting_names(annotation, f"{prefix}{name}.")
        else:
            names.append(f"{prefix}{name}")
    return names


def value_at(policy: Policy, dotted: str) -> object:
    """The value of one dotted setting."""
    value: object = policy
    for part in dotted.split("."):
        value = getattr(value, part)
    return value


def label(dotted: str) -> str:
    """The setting's name in words; the dotted name itself for a setting without a label."""
    setting = SETTINGS.get(dotted)
    return setting.label if setting else dotted


def describe(dotted: str, value: object) -> str:
    """A value in words: 'yes', '30 minutes', 'Monday to Friday', '4 January 2022'."""
    setting = SETTINGS.get(dotted, Setting(dotted))
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, StrEnum):
        return _CHOICE_WORDS.get(value.value, words(value.value))
    if isinstance(value, dt.date):
        return long_date(value)
    if isinstance(value, dt.time):
        return clock(value)
    if isinstance(value, int):
        return _counted([value], setting)
    if isinstance(value, str):
        return f'"{value}"' if value else "nothing"
    if isinstance(value, tuple):
        return _describe_tuple(value, setting)
    return str(value)


def _describe_tuple(values: tuple[object, ...], setting: Setting) -> str:
    if not values:
        return "none"
    if all(isinstance(v, Weekday) for v in values):
        # "Monday–Friday", so that "from … to …" around it still reads clearly
        return days((v for v in values if isinstance(v, Weekday)), through="–")
    if all(isinstance(v, int) for v in values):
        return _counted(values, setting)
    return and_list([f'"{v}"' for v in values])


def _counted(values: tuple[object, ...] | list[int], setting: Setting) -> str:
    text = and_list([str(v) for v in values])
    if not setting.unit:
        return text
    one = len(values) == 1 and values[0] == 1
    return f"{text} {setting.unit if one else setting.units}"
