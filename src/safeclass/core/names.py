"""Pupil names: the shown name is always built from the roster by the policy's name rule (C4).

A participant never chooses their name. These functions derive it ("Amelia R." under CLA-15),
tell apart two pupils who would share it, and check a name the client claims against it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from safeclass.policy.model import NameRule

_NAME = re.compile(r"^[^\W\d_]+(?:(?:[ '’\-]|[ ]?[’'][ ]?)[^\W\d_]+)*$")
MAX_NAME_CHARS = 60


def is_valid_person_name(name: str) -> bool:
    """Letters (any script), with single spaces, hyphens and apostrophes between them."""
    name = unicodedata.normalize("NFC", name)  # "Siân" typed as "a" + a combining circumflex
    return 0 < len(name) <= MAX_NAME_CHARS and bool(_NAME.match(name))


def display_name(forename: str, surname: str, rule: NameRule, surname_letters: int = 1) -> str:
    """The name shown for a pupil: "Zoë-Mae O." for Zoë-Mae O'Neill under the default rule."""
    forename, surname = (
        " ".join(unicodedata.normalize("NFC", n).split()) for n in (forename, surname)
    )
    if rule is NameRule.FIRST_NAME:
        return forename
    if rule is NameRule.FULL_NAME:
        return f"{forename} {surname}"
    letters = "".join(ch for ch in surname if ch.isalpha())[:surname_letters]
    return f"{forename} {letters[:1].upper()}{letters[1:].lower()}."


def display_names(pupils: Iterable[tuple[str, str, str]], rule: NameRule) -> dict[str, str]:
    """Shown names for a class, keyed by pupil id, with more surname letters where two clash.

    `pupils` holds (pupil_id, forename, surname). Two "Amelia R."s become "Amelia Ro." and
    "Amelia Ri." so staff can tell who is waiting; identical full names keep a numeral.
    """
    rows = list(pupils)
    letters = dict.fromkeys((pid for pid, _, _ in rows), 1)
    for _ in range(MAX_NAME_CHARS):
        shown = {pid: display_name(f, s, rule, letters[pid]) for pid, f, s in rows}
        clashes = _clashing(shown)
        if not clashes or rule is not NameRule.FIRST_NAME_SURNAME_INITIAL:
            break
        grew = False
        for pid, _, surname in rows:
            if pid in clashes and letters[pid] < len(surname):
                letters[pid] += 1
                grew = True
        if not grew:
            break
    groups = [
        sorted(pid for pid, n in shown.items() if n == name)
        for name in sorted(set(_clashing(shown).values()))
    ]
    taken = set(shown.values())
    for same in groups:
        name = shown[same[0]]
        if rule is NameRule.FIRST_NAME_SURNAME_INITIAL:
            # No surname letter tells them apart: number the shortest name that tells them
            # from everyone else ("Amelia Ro. (1)"), rather than show the whole surname.
            forename, surname = next((f, s) for pid, f, s in rows if pid == same[0])
            others = [(f, s) for pid, f, s in rows if pid not in same]
            name = next(
                (
                    short
                    for k in range(1, letters[same[0]] + 1)
                    if (short := display_name(forename, surname, rule, k)) not in taken
                    and all(display_name(f, s, rule, k) != short for f, s in others)
                ),
                name,
            )
        taken.add(name)
        for index, pid in enumerate(same, start=1):
            shown[pid] = f"{name} ({index})"
    return shown


def _clashing(shown: dict[str, str]) -> dict[str, str]:
    seen: dict[str, int] = {}
    for name in shown.values():
        seen[name] = seen.get(name, 0) + 1
    return {pid: name for pid, name in shown.items() if seen[name] > 1}


def normalise(name: str) -> str:
    """Case-, accent- and spacing-insensitive form, for comparing a claimed name."""
    decomposed = unicodedata.normalize("NFKD", name.replace("’", "'"))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.casefold().replace(".", " ").split())


def claimed_name_matches(claimed: str, forename: str, surname: str, shown: str) -> bool:
    """Whether a name typed or sent by a client is this pupil's (shown, first, or full name)."""
    wanted = normalise(claimed)
    accepted = {normalise(shown), normalise(forename), normalise(f"{forename} {surname}")}
    accepted.add(normalise(f"{forename} {surname[:1]}"))
    return wanted in accepted
