"""Reading MIS roster exports: the real-world mess a school's CSV brings, and every row checked."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path

import pytest

from safeclass.app.roster import (
    COLUMNS,
    CONSENT_WORDS,
    Column,
    Roster,
    RosterFileError,
    parse_consent,
    parse_date,
    parse_roster,
)
from safeclass.core import Consent

DOCS = Path(__file__).resolve().parents[2] / "docs" / "roster.md"
TODAY = dt.date(2026, 11, 24)
HEADER = "forename,surname,class,mis_id,date_of_birth,guardian_email,consent"


def csv_bytes(*lines: str, bom: bool = False, crlf: bool = False) -> bytes:
    """A CSV file as an MIS would write it: UTF-8, maybe with a BOM and Windows line endings."""
    text = ("\r\n" if crlf else "\n").join(lines) + ("\r\n" if crlf else "\n")
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def read(*lines: str, **kwargs: bool) -> Roster:
    return parse_roster(csv_bytes(*lines, **kwargs), source="pupils.csv", today=TODAY)


def problems(roster: Roster) -> list[str]:
    return [str(p) for p in roster.problems]


def refusal(data: bytes) -> str:
    with pytest.raises(RosterFileError) as caught:
        parse_roster(data, source="pupils.csv", today=TODAY)
    assert caught.value.source == "pupils.csv"
    return caught.value.message


# --- a good file --------------------------------------------------------------------------------


def test_a_typical_mis_export_is_read_with_every_column() -> None:
    # covers: C4, C17, S04-18
    roster = read(
        "Forename,Surname,Class,UPN,DOB,Parent Name,Parent Email,Contact Phone,Consent,"
        "Consent Date",
        "Amelia,Roberts,2B,A123456789012,05/09/2018,Jo Roberts,jo@example.org,07700 900123,"
        "given,2026-09-01",
    )
    assert roster.ok, problems(roster)
    (row,) = roster.rows
    assert (row.line, row.forename, row.surname, row.class_name) == (2, "Amelia", "Roberts", "2B")
    assert row.mis_id == "A123456789012"
    assert row.date_of_birth == dt.date(2018, 9, 5)
    assert (row.guardian_name, row.guardian_email) == ("Jo Roberts", "jo@example.org")
    assert row.guardian_phone == "07700 900123"
    assert row.consent is Consent.GIVEN
    assert row.consent_date == dt.date(2026, 9, 1)
    assert roster.columns["mis_id"] == "UPN"


def test_only_forename_surname_and_class_are_needed_and_blank_consent_means_implied() -> None:
    # covers: C17, CLA-14, WER-13
    roster = read("forename,surname,class", "Amelia,Roberts,2B")
    (row,) = roster.rows
    assert row.consent is Consent.IMPLIED
    assert (row.mis_id, row.date_of_birth, row.has_guardian) == (None, None, False)


def test_a_utf8_bom_and_windows_line_endings_are_read_as_plain_text() -> None:
    roster = read(HEADER, "Siân,O'Neill,2B,,,,", "Zoë-Mae,Smith,2B,,,,", bom=True, crlf=True)
    assert roster.ok, problems(roster)
    assert [r.forename for r in roster.rows] == ["Siân", "Zoë-Mae"]
    assert [r.line for r in roster.rows] == [2, 3]
    assert roster.columns["forename"] == "forename"  # the BOM is not part of the first header


def test_old_mac_line_endings_are_read_too() -> None:
    roster = parse_roster(b"forename,surname,class\rAmelia,Roberts,2B\rBen,Ali,2B\r")
    assert [r.line for r in roster.rows] == [2, 3]


@pytest.mark.parametrize(
    ("forename", "surname"),
    [
        ("Siân", "O'Neill"),
        ("Zoë-Mae", "Smith"),
        ("Darcy", "D’Arcy"),  # a curly apostrophe, as Word and Excel type it
        ("Mary Jane", "Smith-Jones"),
        ("Łukasz", "Wójcik"),
        ("Nguyễn", "Thị"),
        ("Aoife", "Ní Bhriain"),
    ],
)
def test_names_with_apostrophes_hyphens_and_accents_are_valid(forename: str, surname: str) -> None:
    # covers: C4, CLA-15, CRO-15
    roster = read("forename,surname,class", f"{forename},{surname},2B")
    assert roster.ok, problems(roster)
    assert (roster.rows[0].forename, roster.rows[0].surname) == (forename, surname)


def test_accents_written_as_combining_marks_are_joined_into_letters() -> None:
    # A Mac export writes "ë" as "e" + U+0308; the stored name is the composed form.
    decomposed = unicodedata.normalize("NFD", "Zoë-Mae")
    assert decomposed != "Zoë-Mae"
    roster = read("forename,surname,class", f"{decomposed},Smith,2B")
    assert roster.rows[0].forename == "Zoë-Mae"


def test_spaces_around_and_inside_cells_are_tidied() -> None:
    roster = read("forename,surname,class", "  Amelia  , Roberts   Smith , 2B ")
    row = roster.rows[0]
    assert (row.forename, row.surname, row.class_name) == ("Amelia", "Roberts Smith", "2B")


def test_extra_columns_are_ignored_and_listed_in_a_note() -> None:
    roster = read(
        "Forename,Gender,Surname,Class,Year Group,Ethnicity", "Amelia,F,Roberts,2B,Year 2,WBRI"
    )
    assert roster.ok
    assert roster.rows[0].surname == "Roberts"
    assert roster.ignored_columns == ("Gender", "Year Group", "Ethnicity")
    assert any("'Gender'" in note and "'Ethnicity'" in note for note in roster.notes)


@pytest.mark.parametrize(
    "header",
    [
        "First Name,Last Name,Reg Group",
        "LEGAL FORENAME,LEGAL SURNAME,REGISTRATION GROUP",
        "legal_forename,legal_surname,reg_group",
        "Pupil Forename,Pupil Surname,Form",
        "first_name;last_name;class",
        "Forename\tSurname\tTutor Group",
    ],
)
def test_headers_match_whatever_the_case_spacing_and_usual_mis_names(header: str) -> None:
    delimiter = ";" if ";" in header else "\t" if "\t" in header else ","
    roster = read(header, delimiter.join(["Amelia", "Roberts", "2B"]))
    assert roster.ok, problems(roster)
    assert roster.rows[0].class_name == "2B"


def test_guardian_and_id_columns_are_found_under_their_mis_names() -> None:
    roster = read(
        "Adno,Forename,Surname,Reg Group,Date of Birth,Primary Contact Email,Parent/Carer Name",
        "001234,Amelia,Roberts,2B,2018-09-05,jo@example.org,Jo Roberts",
    )
    row = roster.rows[0]
    assert (row.mis_id, row.guardian_email, row.guardian_name) == (
        "001234",
        "jo@example.org",
        "Jo Roberts",
    )


def test_a_semicolon_separated_export_from_european_excel_is_read() -> None:
    roster = read("Forename;Surname;Class;Consent", "Amelia;Roberts;2B;opted out")
    assert roster.rows[0].consent is Consent.REFUSED


def test_a_windows_1252_export_is_read_with_a_note_to_check_accents() -> None:
    data = "forename,surname,class\r\nSiân,O'Neill,2B\r\n".encode("cp1252")
    roster = parse_roster(data, source="pupils.csv")
    assert roster.rows[0].forename == "Siân"
    assert any("Windows-1252" in note for note in roster.notes)


def test_a_utf16_export_is_read() -> None:
    data = "forename\tsurname\tclass\r\nZoë-Mae\tSmith\t2B\r\n".encode("utf-16")
    assert parse_roster(data).rows[0].forename == "Zoë-Mae"


def test_blank_lines_and_empty_excel_rows_are_skipped_and_lines_keep_their_numbers() -> None:
    roster = read("forename,surname,class", "", "Amelia,Roberts,2B", ",,", "", "Ben,4li,2B", ",,")
    assert [r.line for r in roster.rows] == [3]
    assert problems(roster) == [
        "line 6, surname: '4li' contains a digit; a pupil's own name has only letters"
    ]


def test_a_quoted_cell_over_two_lines_keeps_the_following_line_numbers_right() -> None:
    roster = read(
        "forename,surname,class,guardian_name",
        'Amelia,Roberts,2B,"Jo',
        'Roberts"',
        "Ben,4li,2B,",
    )
    assert problems(roster) == [
        "line 4, surname: '4li' contains a digit; a pupil's own name has only letters"
    ]
    assert roster.rows[0].guardian_name == "Jo Roberts"


def test_a_title_line_above_the_header_is_skipped_with_a_note() -> None:
    roster = read(
        "Pupil list printed 24/11/2026,,", ",,", "Forename,Surname,Reg Group", "Amy,Li,2B"
    )
    assert [(r.line, r.forename) for r in roster.rows] == [(4, "Amy")]
    assert "skipped 1 line(s) above the header on line 3" in roster.notes


# --- files refused as a whole -------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [b"", b"\xef\xbb\xbf", b"\r\n\r\n", b" \n", b",,,\r\n,,,\r\n", b'""\n'],
    ids=["nothing", "only-a-bom", "blank-lines", "a-space", "empty-cells", "empty-quotes"],
)
def test_an_empty_file_is_refused_saying_what_it_should_hold(data: bytes) -> None:
    message = refusal(data)
    assert "the file is empty" in message
    assert "forename, surname, class" in message


def test_a_header_without_pupil_rows_is_refused() -> None:
    message = refusal(csv_bytes("forename,surname,class", "", ",,"))
    assert message == "no pupils: the header on line 1 has no rows below it"


def test_a_wrong_header_names_the_missing_columns_and_what_was_found() -> None:
    message = refusal(csv_bytes("Name,DOB,Year Group", "Amelia Roberts,2018-09-05,2"))
    assert "no column for forename, surname, class" in message
    assert "found 'Name', 'DOB', 'Year Group'" in message
    assert "forename (or first name" in message
    assert "class (or reg group, registration group" in message


def test_a_file_without_a_header_row_is_refused_showing_the_first_row() -> None:
    message = refusal(csv_bytes("Amelia,Roberts,2B", "Ben,Ali,2B"))
    assert "no column for forename, surname, class" in message
    assert "found 'Amelia', 'Roberts', '2B'" in message


def test_a_header_missing_only_the_class_names_only_the_class() -> None:
    message = refusal(csv_bytes("First Name,Last Name,Year", "Amelia,Roberts,2"))
    assert "no column for class;" in message


def test_two_columns_for_the_same_field_are_refused() -> None:
    message = refusal(csv_bytes("First Name,Forename,Surname,Class", "Amy,Amelia,Roberts,2B"))
    assert message == (
        "the header has two columns for forename: 'First Name' (column 1) and 'Forename' "
        "(column 2); remove one"
    )


def test_a_binary_file_is_refused() -> None:
    assert "not a text file" in refusal(b"PK\x03\x04\x00\x00binary")


# --- rows refused, each by line and field -------------------------------------------------------


def test_every_bad_row_is_reported_by_line_and_field() -> None:
    # covers: C4, C17, CLA-15
    roster = read(
        HEADER,
        "Amelia,Roberts,2B,,2018-09-05,jo@example.org,given",  # line 2: good
        "B3n,Ali,2B,,,,",  # 3: a digit in a name
        ",Ali,2B,,,,",  # 4: no forename
        "Chloe,Smith,,,,,",  # 5: no class
        "Dan,Jones,2B,,31/02/2018,,",  # 6: no such date
        "Eve,Khan,2B,,,not-an-email,",  # 7: bad email
        "Finn,Lee,2B,,,,maybe",  # 8: unknown consent value
        "Gus,O'Brien,2B,,2030-01-01,,",  # 9: born in the future
        "Hal,Smith!,2B,,,,",  # 10: a character names do not have
    )
    assert [r.line for r in roster.rows] == [2]
    assert problems(roster) == [
        "line 3, forename: 'B3n' contains a digit; a pupil's own name has only letters",
        "line 4, forename: is empty",
        "line 5, class: is empty",
        "line 6, date_of_birth: '31/02/2018' is not a date (write YYYY-MM-DD or DD/MM/YYYY)",
        "line 7, guardian_email: 'not-an-email' is not an email address",
        "line 8, consent: 'maybe' is not a consent value (use implied, given or refused; yes, "
        "no, opted in and opted out are also understood)",
        "line 9, date_of_birth: '2030-01-01' is in the future",
        "line 10, surname: 'Smith!' contains '!'; names may have letters, spaces, hyphens, "
        "apostrophes",
    ]
    assert roster.bad_lines == (3, 4, 5, 6, 7, 8, 9, 10)


def test_a_row_with_several_problems_reports_each_of_them() -> None:
    roster = read(HEADER, "B3n,,2B,,13/13/2018,x@y,")
    assert [p.field for p in roster.problems] == [
        "forename",
        "surname",
        "date_of_birth",
        "guardian_email",
    ]
    assert roster.bad_lines == (2,)


def test_a_comma_inside_an_unquoted_name_is_caught_not_shifted_into_the_next_column() -> None:
    roster = read("forename,surname,class", "Amelia,Roberts, Jr,2B")
    assert problems(roster)[0].startswith(
        "line 2, row: has 4 cells but the header has 3 (a comma inside a name without quotes?)"
    )


def test_trailing_empty_cells_from_excel_are_not_a_problem() -> None:
    assert read("forename,surname,class", "Amelia,Roberts,2B,,,").ok


def test_a_short_row_is_read_with_the_missing_cells_blank() -> None:
    roster = read("forename,surname,class,guardian_email", "Amelia,Roberts,2B")
    assert roster.ok
    assert roster.rows[0].guardian_email is None


def test_two_email_addresses_in_one_cell_are_refused() -> None:
    roster = read("forename,surname,class,parent email", "Amelia,Roberts,2B,a@x.org; b@y.org")
    assert problems(roster) == [
        "line 2, guardian_email: 'a@x.org; b@y.org' holds more than one address; keep one"
    ]


@pytest.mark.parametrize("phone", ["07700 900123", "+44 7700 900123", "(01632) 960 001"])
def test_usual_phone_numbers_are_accepted(phone: str) -> None:
    assert read("forename,surname,class,contact phone", f'Amelia,Roberts,2B,"{phone}"').ok


@pytest.mark.parametrize("phone", ["call mum", "123", "0770090012345678901"])
def test_a_phone_cell_that_is_not_a_number_is_refused(phone: str) -> None:
    roster = read("forename,surname,class,contact phone", f"Amelia,Roberts,2B,{phone}")
    assert [p.field for p in roster.problems] == ["guardian_phone"]


def test_an_mis_id_with_spaces_is_refused() -> None:
    roster = read("forename,surname,class,upn", "Amelia,Roberts,2B,A12 345")
    assert [p.field for p in roster.problems] == ["mis_id"]


def test_a_name_longer_than_the_roster_allows_is_refused() -> None:
    roster = read("forename,surname,class", f"{'A' * 61},Roberts,2B")
    assert problems(roster) == ["line 2, forename: is longer than 60 characters"]


@pytest.mark.parametrize("name", ["Mary--Jane", "-Amelia", "O''Neill", "Amelia-"])
def test_a_misplaced_hyphen_or_apostrophe_is_refused(name: str) -> None:
    roster = read("forename,surname,class", f"{name},Roberts,2B")
    assert problems(roster) == [
        f"line 2, forename: '{name}' has a space, hyphen or apostrophe in the wrong place"
    ]


# --- duplicates ---------------------------------------------------------------------------------


def test_a_duplicate_pupil_is_reported_on_the_second_line_naming_the_first() -> None:
    roster = read(
        "forename,surname,class,date_of_birth",
        "Siân,O'Neill,2B,2018-09-05",
        "Ben,Ali,2B,2018-01-01",
        "SIAN,O’NEILL, 2b ,05/09/2018",  # the same child: case, accents, apostrophe, spacing
    )
    assert [r.line for r in roster.rows] == [2, 3]
    assert problems(roster) == [
        "line 4, pupil: SIAN O’NEILL (2b) is already on line 2; each pupil must appear once"
    ]


def test_a_repeated_mis_id_is_a_duplicate_even_with_a_different_name() -> None:
    roster = read("forename,surname,class,upn", "Amelia,Roberts,2B,A1", "Amy,Roberts,2C,a1")
    assert problems(roster) == [
        "line 3, mis_id: 'a1' is already on line 2 (Amelia Roberts); each pupil must appear once"
    ]


def test_twins_with_the_same_name_but_different_mis_ids_are_two_pupils() -> None:
    roster = read("forename,surname,class,upn", "Sam,Lee,2B,A1", "Sam,Lee,2B,A2")
    assert roster.ok
    assert len(roster.rows) == 2


def test_same_name_in_the_same_class_with_different_birth_dates_are_two_pupils() -> None:
    roster = read("forename,surname,class,dob", "Sam,Lee,2B,2018-01-01", "Sam,Lee,2B,2018-06-01")
    assert roster.ok


def test_same_name_in_different_classes_are_two_pupils() -> None:
    assert read("forename,surname,class", "Sam,Lee,2B", "Sam,Lee,3C").ok


def test_a_bad_row_does_not_hide_a_later_duplicate_of_a_good_one() -> None:
    roster = read("forename,surname,class", "Sam,Lee,2B", "S4m,Lee,2B", "Sam,Lee,2B")
    assert [(p.line, p.field) for p in roster.problems] == [(3, "forename"), (4, "pupil")]


# --- consent and dates --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "consent"),
    [
        ("", Consent.IMPLIED),
        ("Implied", Consent.IMPLIED),
        ("given", Consent.GIVEN),
        ("YES", Consent.GIVEN),
        ("Y", Consent.GIVEN),
        ("Opted In", Consent.GIVEN),
        ("TRUE", Consent.GIVEN),
        ("refused", Consent.REFUSED),
        ("No", Consent.REFUSED),
        ("opted out", Consent.REFUSED),
        ("Opted-Out", Consent.REFUSED),
        ("opt_out", Consent.REFUSED),
        ("Withdrawn", Consent.REFUSED),
        ("  declined ", Consent.REFUSED),
    ],
)
def test_consent_words_are_understood_whatever_their_case(cell: str, consent: Consent) -> None:
    # covers: C17, CRO-16, S04-18
    assert parse_consent(cell) is consent


@pytest.mark.parametrize("cell", ["maybe", "1", "ok?", "yes please"])
def test_a_consent_cell_that_means_nothing_certain_is_not_guessed(cell: str) -> None:
    assert parse_consent(cell) is None


def test_every_consent_word_maps_to_one_of_the_three_bases() -> None:
    assert set(CONSENT_WORDS.values()) == set(Consent)


@pytest.mark.parametrize(
    ("cell", "date"),
    [
        ("2018-09-05", dt.date(2018, 9, 5)),
        ("05/09/2018", dt.date(2018, 9, 5)),  # UK order: day first
        ("5/9/2018", dt.date(2018, 9, 5)),
        ("29/02/2020", dt.date(2020, 2, 29)),
    ],
)
def test_dates_are_read_in_iso_and_uk_order(cell: str, date: dt.date) -> None:
    assert parse_date(cell) == date


@pytest.mark.parametrize(
    "cell", ["29/02/2019", "09/05/18", "2018/09/05", "5 Sept 2018", "13/13/2018"]
)
def test_impossible_or_ambiguous_dates_are_refused(cell: str) -> None:
    assert parse_date(cell) is None


def test_a_consent_date_is_read_with_the_consent() -> None:
    roster = read("forename,surname,class,consent,consent date", "Amelia,Roberts,2B,no,01/09/2026")
    row = roster.rows[0]
    assert (row.consent, row.consent_date) == (Consent.REFUSED, dt.date(2026, 9, 1))


# --- the documentation --------------------------------------------------------------------------


@pytest.mark.parametrize("column", COLUMNS, ids=lambda c: c.name)
def test_every_column_and_its_other_names_are_documented(column: Column) -> None:
    text = DOCS.read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith(f"| `{column.name}` |")]
    assert len(rows) == 1, f"docs/roster.md should have one table row for `{column.name}`"
    assert ("| yes |" in rows[0]) is column.required
    for alias in column.aliases:
        assert f"`{alias}`" in rows[0], f"{column.name}: '{alias}' is not documented"


def test_the_docs_describe_the_commands_and_the_consent_rule() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for command in ("roster import", "school add", "school list"):
        assert re.search(rf"`safeclass {command}\b", text), command
    assert "--skip-bad" in text
    assert "never overwrites" in text
