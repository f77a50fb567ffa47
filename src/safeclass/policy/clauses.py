"""Which clause of a school's own protocol each enforced rule protects, for refusal messages.

A refusal cites the school's words ("(CLA-02)" at Claydon, "(S04-11)" at the Dojo school). Where
a school's protocol says nothing about a rule, or the policy is not one of the seed presets, it
cites the capability ID from REQUIREMENTS.md instead ("(C4)"): never another school's clause.
The table is checked when this module is imported, so a clause of the wrong school cannot ship.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Literal, get_args

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
    "HANDS",
    "RECORDING",
    "ONE_TO_ONE",
    "REMOVAL",
    "DURATION",
    "STAFF_LEAVE",
    "CONSENT",
    "EXPECTATIONS",
    "EMERGENCY",
    "LOG",
    "CONCERN",
    "ROLES",
]
RULES: tuple[Rule, ...] = get_args(Rule)

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
    "HANDS": "C9",
    "RECORDING": "C13",
    "ONE_TO_ONE": "C6",
    "REMOVAL": "C10",
    "DURATION": "C11",
    "STAFF_LEAVE": "C11",
    "CONSENT": "C17",
    "EXPECTATIONS": "C18",
    "EMERGENCY": "C12",
    "LOG": "C15",
    "CONCERN": "C16",
    "ROLES": "C21",
}

# Each seed school's preset key and the code its clauses carry in REQUIREMENTS.md.
SCHOOL_CODES: dict[str, str] = {
    "claydon": "CLA",
    "werrington": "WER",
    "st-josephs": "STJ",
    "crofton": "CRO",
    "s04": "S04",
}

_CAPABILITY_ID = re.compile(r"^C([1-9]|1[0-9]|2[0-4])$")


def mapping_problems(
    by_school: Mapping[str, Mapping[str, str]], capability: Mapping[str, str] = CAPABILITY
) -> list[str]:
    """Why a clause table could cite the wrong thing: empty when every citation is sound.

    Every rule needs a capability ID (C1 to C24), and a school may cite only its own clauses
    ("WER-05" at Werrington): a Werrington refusal citing St Joseph's STJ-11 is a problem.
    """
    problems = [f"rule {rule} has no capability ID" for rule in RULES if rule not in capability]
    problems += [
        f"rule {rule} cites {cap}, which is not a capability ID (C1 to C24)"
        for rule, cap in capability.items()
        if not _CAPABILITY_ID.match(cap)
    ]
    for school, clauses in by_school.items():
        code = SCHOOL_CODES.get(school)
        if code is None:
            problems.append(f"{school} is not a seed school, so it has no clauses of its own")
            continue
        for rule, clause in clauses.items():
            if rule not in RULES:
                problems.append(f"{school} maps {rule}, which is not a rule")
            if not re.fullmatch(rf"{code}-\d\d", clause):
                problems.append(
                    f"{school}'s {rule} cites {clause}, which is not one of {school}'s own "
                    f"clauses ({code}-NN); leave it out to cite {capability.get(rule, '?')}"
                )
    return problems


def _checked(by_school: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    problems = mapping_problems(by_school)
    if problems:
        raise ValueError("clause table: " + "; ".join(problems))
    return by_school


_BY_SCHOOL: dict[str, dict[str, str]] = _checked(
    {
        "claydon": {
            "TWO_ADULTS": "CLA-02",
            "SINGLE_ADULT": "CLA-02",
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
            "LOG": "CLA-17",
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
            "HANDS": "STJ-11",
            "RECORDING": "STJ-09",
            "ONE_TO_ONE": "STJ-07",
            "REMOVAL": "STJ-06",
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
            "HANDS": "S04-17",
            "RECORDING": "S04-10",
            "ONE_TO_ONE": "S04-09",
            "REMOVAL": "S04-16",
            "CONSENT": "S04-18",
            "EXPECTATIONS": "S04-15",
            "EMERGENCY": "S04-19",
            "CONCERN": "S04-21",
        },
    }
)


def clause_for(school_key: str, rule: Rule) -> str:
    """The clause ID to cite for `rule` at this school: its own clause, else the capability."""
    return _BY_SCHOOL.get(school_key, {}).get(rule, CAPABILITY[rule])
