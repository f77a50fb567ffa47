"""Every refusal cites a clause of the policy in force, the one the refusal protects (C20).

A Werrington refusal must never cite St Joseph's STJ-11: each school cites its own clauses, or the
capability ID (C1 to C24) where its protocol says nothing. The scenarios (tests/support/
refusal_scenarios.py) drive every refusal the room can give under each of the five presets, and a
spy on `decide._refuse` checks that no refusal in `decide.py` is left undriven.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from safeclass.core import Refusal
from safeclass.policy import load_preset
from safeclass.policy.clauses import (
    CAPABILITY,
    RULES,
    SCHOOL_CODES,
    Rule,
    clause_for,
    mapping_problems,
)
from tests.support.checks import PRESETS, refused_unchanged
from tests.support.refusal_scenarios import SCENARIOS

# `safeclass.core.decide` is also the name of the function the package exports: ask for the module.
decide_module = importlib.import_module("safeclass.core.decide")

CODE = {"claydon": "CLA", "werrington": "WER", "st-josephs": "STJ", "crofton": "CRO", "s04": "S04"}


def _own_or_capability(preset: str, clause: str) -> bool:
    return bool(re.fullmatch(rf"{CODE[preset]}-\d\d|C([1-9]|1\d|2[0-4])", clause))


def _drive(preset: str, name: str) -> Refusal:
    d, command = SCENARIOS[name](preset)
    return refused_unchanged(d, command)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
@pytest.mark.parametrize("preset", PRESETS)
def test_every_refusal_cites_the_schools_own_clause_or_a_capability(preset: str, name: str) -> None:
    # covers: C20, C4, STJ-11, WER-05, CLA-15
    refusal = _drive(preset, name)
    assert _own_or_capability(preset, refusal.clause), (name, str(refusal))


def _refusal_sites() -> set[int]:
    """The line of every `_refuse(...)` call in decide.py."""
    tree = ast.parse(Path(inspect.getfile(decide_module)).read_text())
    return {
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "_refuse"
    }


def test_the_scenarios_drive_every_refusal_in_the_room(monkeypatch: pytest.MonkeyPatch) -> None:
    # covers: C20
    real = decide_module._refuse
    reached: set[int] = set()

    def spy(*args: Any, **kwargs: Any) -> Refusal:
        reached.add(sys._getframe(1).f_lineno)
        refusal: Refusal = real(*args, **kwargs)
        return refusal

    monkeypatch.setattr(decide_module, "_refuse", spy)
    for name in SCENARIOS:
        _drive("claydon", name)
    source = Path(inspect.getfile(decide_module)).read_text().splitlines()
    missed = sorted(_refusal_sites() - reached)
    assert not missed, [f"decide.py:{n}: {source[n - 1].strip()}" for n in missed]


# -- the clause table itself ----------------------------------------------------------------------


def test_the_clause_table_cites_only_each_schools_own_clauses() -> None:
    # covers: C20
    assert SCHOOL_CODES == CODE
    assert set(CAPABILITY) == set(RULES)
    for preset in PRESETS:
        assert load_preset(preset).school.key == preset
        for rule in RULES:
            assert _own_or_capability(preset, clause_for(preset, rule)), (preset, rule)


def test_a_school_without_a_clause_for_a_rule_cites_the_capability() -> None:
    # covers: C20, C4, WER-05, STJ-11
    assert clause_for("werrington", "ONE_DEVICE") == "C4"
    assert clause_for("claydon", "ONE_DEVICE") == "C4"
    assert clause_for("st-josephs", "ONE_DEVICE") == "STJ-11"
    assert clause_for("oakfield", "ONE_DEVICE") == "C4"  # a school with its own policy file
    assert clause_for("oakfield", "TWO_ADULTS") == "C5"


def test_a_clause_table_citing_another_schools_clause_is_rejected() -> None:
    # covers: C20
    assert mapping_problems({"werrington": {"NAME": "WER-05"}}) == []
    problems = mapping_problems({"werrington": {"ONE_DEVICE": "STJ-11", "NAME": "WER-5"}})
    assert problems == [
        "werrington's ONE_DEVICE cites STJ-11, which is not one of werrington's own clauses "
        "(WER-NN); leave it out to cite C4",
        "werrington's NAME cites WER-5, which is not one of werrington's own clauses (WER-NN); "
        "leave it out to cite C4",
    ]
    assert mapping_problems({"oakfield": {"NAME": "OAK-01"}}) == [
        "oakfield is not a seed school, so it has no clauses of its own"
    ]
    assert mapping_problems({}, {**CAPABILITY, "NAME": "CLA-15"}) == [
        "rule NAME cites CLA-15, which is not a capability ID (C1 to C24)"
    ]


# Where a preset's setting cites clauses in its comment, the refusal protecting that setting cites
# one of them (or the capability); never a clause the preset does not give for it.
RULE_SETTINGS: dict[Rule, tuple[str, ...]] = {
    "TWO_ADULTS": ("staffing.min_staff",),
    "SINGLE_ADULT": ("staffing.single_adult_fallback",),
    "STAFF_LEAVE": ("staffing.staff_may_leave_pupils",),
    "DURATION": ("timing.max_minutes",),
    "NAME": ("identity.name_rule",),
    "ONE_DEVICE": ("identity.one_device_per_pupil",),
    "MUTE": ("entry.mic_on_entry", "entry.pupils_may_unmute_themselves"),
    "CAMERA": ("entry.camera_on_entry", "entry.pupil_camera"),
    "CHAT": ("chat",),
    "RECORDING": ("recording",),
    "ONE_TO_ONE": ("one_to_one",),
    "REMOVAL": ("removal",),
    "CONSENT": ("consent",),
    "EXPECTATIONS": ("expectations",),
}


def _preset_clauses(preset: str, setting: str) -> set[str]:
    """The clauses of this school that the preset file cites for a setting or a whole section."""
    section, _, key = setting.partition(".")
    path = Path(inspect.getfile(load_preset)).parent / "presets" / f"{preset}.toml"
    text, current, found = path.read_text(), "", []
    for line in text.splitlines():
        header = re.match(r"^\[(\w+)\]", line)
        if header:
            current = header.group(1)
            if current == section and not key:
                found.append(line)
            continue
        if current == section and (not key or re.match(rf"^{key}\s*=", line)):
            found.append(line)
    assert found, (preset, setting)
    return set(re.findall(rf"\b{CODE[preset]}-\d\d\b", "\n".join(found)))


@pytest.mark.parametrize("rule", sorted(RULE_SETTINGS))
@pytest.mark.parametrize("preset", PRESETS)
def test_a_refusal_cites_the_clause_the_preset_gives_for_its_setting(
    preset: str, rule: Rule
) -> None:
    # covers: C20, STJ-11, WER-05
    cited = clause_for(preset, rule)
    given = set().union(*(_preset_clauses(preset, s) for s in RULE_SETTINGS[rule]))
    if cited.startswith(f"{CODE[preset]}-"):
        assert cited in given, (preset, rule, cited, given)
    else:
        assert cited == CAPABILITY[rule]


# -- the clause each key refusal cites, school by school -------------------------------------------

SCHOOL_ORDER = ("claydon", "werrington", "st-josephs", "crofton", "s04")
EXPECTED: dict[str, tuple[str, str, str, str, str]] = {
    # scenario: (claydon, werrington, st-josephs, crofton, s04)
    "second-device": ("C4", "C4", "STJ-11", "C4", "C4"),
    "wrong-name": ("CLA-15", "WER-05", "C4", "CRO-15", "S04-05"),
    "not-on-the-class-list": ("CLA-15", "WER-03", "C4", "CRO-11", "S04-05"),
    "admit-not-on-the-class-list": ("CLA-15", "WER-03", "C4", "CRO-11", "S04-05"),
    "admit-not-waiting": ("CLA-04", "WER-03", "C3", "C3", "S04-03"),
    "pupil-admits": ("CLA-04", "WER-03", "C3", "C3", "S04-03"),
    "pupil-admits-all": ("CLA-04", "WER-03", "C3", "C3", "S04-03"),
    "admit-alone-two-adults": ("CLA-02", "C5", "STJ-06", "CRO-04", "S04-11"),
    "admit-alone-single-adult": ("CLA-02", "C5", "C5", "CRO-04", "C5"),
    "staff-leave-pupils-behind": ("CLA-10", "C11", "STJ-07", "CRO-04", "C11"),
    "ended": ("CLA-10", "C11", "STJ-07", "CRO-04", "C11"),  # ended by staff, for everyone
    "pupil-chats-while-off": ("CLA-13", "C8", "C8", "CRO-12", "C8"),
    "staff-chat-while-off": ("CLA-13", "C8", "C8", "CRO-12", "C8"),
    "pupil-switches-the-chat": ("CLA-13", "C8", "C8", "CRO-12", "C8"),
    "pupil-unmutes-themselves": ("CLA-05", "WER-06", "STJ-11", "CRO-13", "S04-06"),
    "pupil-unmutes-another": ("CLA-05", "WER-06", "STJ-11", "CRO-13", "S04-06"),
    "pupil-turns-their-camera-on": ("CLA-11", "WER-11", "C7", "CRO-14", "S04-13"),
    "pupil-turns-off-a-camera": ("CLA-11", "WER-11", "C7", "CRO-14", "S04-13"),
    "removed-rejoins": ("CLA-08", "C10", "STJ-06", "C10", "S04-16"),
    "pupil-removes": ("CLA-08", "C10", "STJ-06", "C10", "S04-16"),
    "no-consent": ("CLA-14", "WER-13", "C17", "CRO-16", "S04-18"),
    "expectations-not-ticked": ("CLA-18", "WER-12", "STJ-11", "C18", "S04-15"),
    "staff-raise-a-hand": ("C9", "C9", "STJ-11", "C9", "S04-17"),
    "pupil-calls-on": ("C9", "C9", "STJ-11", "C9", "S04-17"),
    "pupil-emergency-ends": ("C12", "WER-14", "C12", "C12", "S04-19"),
    "pupil-ends": ("CLA-16", "C21", "STJ-02", "CRO-03", "C21"),
    "pupil-starts-recording": ("CLA-09", "WER-08", "STJ-09", "C13", "S04-10"),
    "pupil-writes-in-the-log": ("CLA-17", "C15", "C15", "C15", "C15"),
    "pupil-raises-a-concern": ("CLA-07", "WER-16", "STJ-08", "C16", "S04-21"),
    "admit-without-parent": ("CLA-02", "WER-09", "STJ-07", "C6", "S04-09"),
    "unmute-a-pupil-without-their-parent": ("CLA-02", "WER-09", "STJ-07", "C6", "S04-09"),
    "staff-unmute-a-held-pupil": ("CLA-02", "C5", "STJ-06", "CRO-04", "S04-11"),
    "pupil-renames": ("CLA-15", "WER-05", "C4", "CRO-15", "S04-05"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("preset", PRESETS)
def test_each_key_refusal_cites_the_clause_it_protects_at_each_school(
    preset: str, name: str
) -> None:
    # covers: C20, C3, C4, C5, C8, C10, C11, C17, CLA-04, CLA-15, WER-03, WER-05, STJ-11, CRO-11
    refusal = _drive(preset, name)
    assert refusal.clause == EXPECTED[name][SCHOOL_ORDER.index(preset)], str(refusal)
