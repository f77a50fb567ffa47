"""Pupil names (C4): shown names from the roster, clashes told apart, claimed names checked."""

from __future__ import annotations

import unicodedata

import pytest

from safeclass.core.names import (
    claimed_name_matches,
    display_name,
    display_names,
    is_valid_person_name,
)
from safeclass.policy.model import NameRule

INITIAL = NameRule.FIRST_NAME_SURNAME_INITIAL


def nfd(text: str) -> str:
    """The same name as a Mac or some MIS exports write it: letters and accents apart."""
    return unicodedata.normalize("NFD", text)


# -- display_name --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("forename", "surname", "shown"),
    [
        ("Amelia", "Roberts", "Amelia R."),
        ("Zoë-Mae", "O'Neill", "Zoë-Mae O."),
        ("Siân", "Evans", "Siân E."),
        ("Dafydd", "ap Rhys", "Dafydd A."),
        ("Amelia", "roberts", "Amelia R."),
        ("  Mary   Jane ", " Smith", "Mary Jane S."),
        ("Élodie", "Ødegaard", "Élodie Ø."),
    ],
)
def test_shown_name_is_first_name_and_surname_initial(
    forename: str, surname: str, shown: str
) -> None:
    # covers: C4, CLA-15, CRO-15, WER-05, S04-05
    assert display_name(forename, surname, INITIAL) == shown


def test_other_name_rules_show_first_name_or_full_name() -> None:
    # covers: C4, C20
    assert display_name("Amelia", "Roberts", NameRule.FIRST_NAME) == "Amelia"
    assert display_name("Amelia", "Roberts", NameRule.FULL_NAME) == "Amelia Roberts"


def test_a_name_written_with_separate_accents_is_shown_the_same_way() -> None:
    # covers: C4, CLA-15
    assert display_name(nfd("Siân"), nfd("Évans"), INITIAL) == "Siân É."
    assert display_name(nfd("Siân"), nfd("Évans"), INITIAL) == display_name(
        "Siân", "Évans", INITIAL
    )


# -- display_names: clashes ----------------------------------------------------------------------


def test_two_pupils_who_would_share_a_name_get_more_surname_letters() -> None:
    # covers: C4, CLA-15, CRO-11
    shown = display_names(
        [("a", "Amelia", "Roberts"), ("b", "Amelia", "Richards"), ("c", "Oliver", "Smith")],
        INITIAL,
    )
    assert shown == {"a": "Amelia Ro.", "b": "Amelia Ri.", "c": "Oliver S."}


def test_only_the_clashing_pupils_get_longer_names() -> None:
    # covers: C4, CLA-15
    shown = display_names(
        [("a", "Amelia", "Roberts"), ("b", "Amelia", "Rogers"), ("c", "Amelia", "Smith")],
        INITIAL,
    )
    assert shown == {"a": "Amelia Rob.", "b": "Amelia Rog.", "c": "Amelia S."}


def test_pupils_with_the_same_full_name_are_numbered_without_showing_the_surname() -> None:
    # covers: C4, CLA-15, CRO-11
    shown = display_names([("b", "Amelia", "Roberts"), ("a", "Amelia", "Roberts")], INITIAL)
    assert shown == {"a": "Amelia R. (1)", "b": "Amelia R. (2)"}


def test_numbered_twins_still_stand_apart_from_a_pupil_with_a_similar_name() -> None:
    # covers: C4, CLA-15, CRO-11
    rows = [("a", "Amelia", "Roberts"), ("b", "Amelia", "Roberts"), ("c", "Amelia", "Richards")]
    assert display_names(rows, INITIAL) == {
        "a": "Amelia Ro. (1)",
        "b": "Amelia Ro. (2)",
        "c": "Amelia Ri.",
    }
    rows += [("d", "Amelia", "Rogers"), ("e", "Amelia", "Rogers")]
    assert display_names(rows, INITIAL) == {
        "a": "Amelia Rob. (1)",
        "b": "Amelia Rob. (2)",
        "c": "Amelia Ri.",
        "d": "Amelia Rog. (1)",
        "e": "Amelia Rog. (2)",
    }


def test_first_name_only_clashes_are_numbered() -> None:
    # covers: C4, C20
    shown = display_names(
        [("a", "Amelia", "Roberts"), ("b", "Amelia", "Smith")], NameRule.FIRST_NAME
    )
    assert shown == {"a": "Amelia (1)", "b": "Amelia (2)"}


def test_names_without_clashes_are_left_alone() -> None:
    # covers: C4, CLA-15
    rows = [("z", "Zoë-Mae", "O'Neill"), ("s", "Siân", "Evans"), ("o", "Oliver", "O'Brien")]
    assert display_names(rows, INITIAL) == {"z": "Zoë-Mae O.", "s": "Siân E.", "o": "Oliver O."}


# -- is_valid_person_name ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Amelia",
        "Siân",
        "O'Neill",
        "O’Neill",
        "Zoë-Mae",
        "Mary Jane",
        "Jean-Luc",
        "Nguyễn",
        "Ægir",
        "李华",
        nfd("Siân"),
        nfd("Zoë-Mae"),
        "A" * 60,
    ],
)
def test_real_names_are_valid(name: str) -> None:
    # covers: C4, CLA-15, CRO-15
    assert is_valid_person_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "bob123",
        "",
        " ",
        "Amelia R.",
        "Amelia_R",
        "xX_Amelia_Xx",
        "Mary  Jane",
        " Amy",
        "Amy ",
        "-Amy",
        "Amy-",
        "Amy😀",
        "A" * 61,
    ],
)
def test_nicknames_and_malformed_names_are_refused(name: str) -> None:
    # covers: C4, CLA-15, CRO-15
    assert not is_valid_person_name(name)


# -- claimed_name_matches ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "claimed",
    ["Amelia R.", "amelia r", "AMELIA R.", "Amelia", "amelia roberts", "  Amelia   Roberts "],
)
def test_a_claimed_name_matches_whatever_the_case_and_spacing(claimed: str) -> None:
    # covers: C4, CLA-15, WER-05
    assert claimed_name_matches(claimed, "Amelia", "Roberts", "Amelia R.")


@pytest.mark.parametrize(
    ("claimed", "forename", "surname", "shown"),
    [
        ("Zoe-Mae O'Neill", "Zoë-Mae", "O'Neill", "Zoë-Mae O."),
        ("zoë-mae o’neill", "Zoë-Mae", "O'Neill", "Zoë-Mae O."),
        ("Sian E", "Siân", "Evans", "Siân E."),
        (nfd("Siân Evans"), "Siân", "Evans", "Siân E."),
        ("Amelia Ro.", "Amelia", "Roberts", "Amelia Ro."),
    ],
)
def test_a_claimed_name_matches_without_its_accents(
    claimed: str, forename: str, surname: str, shown: str
) -> None:
    # covers: C4, CLA-15, STJ-11
    assert claimed_name_matches(claimed, forename, surname, shown)


@pytest.mark.parametrize("claimed", ["bob123", "Oliver S.", "Amelia S.", "Amelia Smith", "A", ""])
def test_someone_elses_name_does_not_match(claimed: str) -> None:
    # covers: C4, CLA-15, CRO-11, CRO-15
    assert not claimed_name_matches(claimed, "Amelia", "Roberts", "Amelia R.")
