"""Which clause of a school's own protocol each enforced rule protects, for refusal messages.

A refusal cites the school's words ("(CLA-02)" at Claydon, "(S04-11)" at the Dojo school); a
policy that is not one of the seed presets cites the capability ID from REQUIREMENTS.md instead.
"""

from __future__ import annotations

from typing import Literal

Rule = Literal[
    "TWO_ADULTS",
    "SINGLE_ADULT",
    "WAITING_ROOM",
    "CLASS_LIST",
    "NAME",
    "ONE_DEVICE",
    "MUTE",
    "CAMERA",
    "CHAT",
    "RECORDING",
    "ONE_TO_ONE",
    "REMOVAL",
    "DURATION",
    "STAFF_LEAVE",
    "CONSENT",
    "EXPECTATIONS",
    "EMERGENCY",
    "CONCERN",
    "ROLES",
]

# The capability (REQUIREMENTS.md) of each rule: cited when a school has no clause of its own.
CAPABILITY: dict[str, str] = {
    "TWO_ADULTS": "C5",
    "SINGLE_ADULT": "C5",
    "WAITING_ROOM": "C3",
    "CLASS_LIST": "C4",
    "NAME": "C4",
    "ONE_DEVICE": "C4",
    "MUTE": "C7",
    "CAMERA": "C7",
    "CHAT": "C8",
    "RECORDING": "C13",
    "ONE_TO_ONE": "C6",
    "REMOVAL": "C10",
    "DURATION": "C11",
    "STAFF_LEAVE": "C11",
    "CONSENT": "C17",
    "EXPECTATIONS": "C18",
    "EMERGENCY": "C12",
    "CONCERN": "C16",
    "ROLES": "C21",
}

_BY_SCHOOL: dict[str, dict[str, str]] = {
    "claydon": {
        "TWO_ADULTS": "CLA-02",
        "WAITING_ROOM": "CLA-04",
        "CLASS_LIST": "CLA-15",
        "NAME": "CLA-15",
        "MUTE": "CLA-05",
        "CAMERA": "CLA-11",
        "CHAT": "CLA-13",
        "RECORDING": "CLA-09",
        "ONE_TO_ONE": "CLA-02",
        "REMOVAL": "CLA-08",
        "DURATION": "CLA-06",
        "STAFF_LEAVE": "CLA-10",
        "CONSENT": "CLA-14",
        "EXPECTATIONS": "CLA-18",
        "CONCERN": "CLA-07",
        "ROLES": "CLA-16",
    },
    "werrington": {
        "WAITING_ROOM": "WER-03",
        "CLASS_LIST": "WER-03",
        "NAME": "WER-05",
        "MUTE": "WER-06",
        "CAMERA": "WER-11",
        "RECORDING": "WER-08",
        "ONE_TO_ONE": "WER-09",
        "CONSENT": "WER-13",
        "EXPECTATIONS": "WER-12",
        "EMERGENCY": "WER-14",
        "CONCERN": "WER-16",
    },
    "st-josephs": {
        "TWO_ADULTS": "STJ-06",
        "ONE_DEVICE": "STJ-11",
        "MUTE": "STJ-11",
        "RECORDING": "STJ-09",
        "ONE_TO_ONE": "STJ-07",
        "REMOVAL": "STJ-06",
        "DURATION": "STJ-07",
        "STAFF_LEAVE": "STJ-07",
        "EXPECTATIONS": "STJ-11",
        "CONCERN": "STJ-08",
        "ROLES": "STJ-02",
    },
    "crofton": {
        "TWO_ADULTS": "CRO-04",
        "SINGLE_ADULT": "CRO-04",
        "CLASS_LIST": "CRO-11",
        "NAME": "CRO-15",
        "MUTE": "CRO-13",
        "CAMERA": "CRO-14",
        "CHAT": "CRO-12",
        "STAFF_LEAVE": "CRO-04",
        "CONSENT": "CRO-16",
        "ROLES": "CRO-03",
    },
    "s04": {
        "TWO_ADULTS": "S04-11",
        "WAITING_ROOM": "S04-03",
        "CLASS_LIST": "S04-05",
        "NAME": "S04-05",
        "MUTE": "S04-06",
        "CAMERA": "S04-13",
        "RECORDING": "S04-10",
        "ONE_TO_ONE": "S04-09",
        "REMOVAL": "S04-16",
        "CONSENT": "S04-18",
        "EXPECTATIONS": "S04-15",
        "EMERGENCY": "S04-19",
        "CONCERN": "S04-21",
    },
}
_ALWAYS = {"ONE_DEVICE": "STJ-11", "SINGLE_ADULT": "CRO-04"}


def clause_for(school_key: str, rule: Rule) -> str:
    """The clause ID to cite for `rule` at this school."""
    school = _BY_SCHOOL.get(school_key, {})
    if rule in school:
        return school[rule]
    if rule in _ALWAYS:
        return _ALWAYS[rule]
    return CAPABILITY[rule]
