"""Reading a roster exported from the school's MIS (CSV), checking every row before any is written.

Pure: bytes in, a `Roster` out; no database. `safeclass roster import` and `import_roster` use it.

Columns (the header row names them; case, spaces, underscores and dots do not matter, and the
usual MIS spellings are understood, see `COLUMNS`):

- `forename` (required): the pupil's legal first name ("First Name", "Legal Forename").
- `surname` (required): the pupil's legal surname ("Last Name", "Legal Surname").
- `class` (required): the class or registration group ("Reg Group", "Form").
- `mis_id`: the MIS's own id for the pupil (UPN, admission number). When present it is what
  identifies the pupil, so a changed name or class updates the same pupil; otherwise forename,
  surname, class and date of birth do (case-, accent- and spacing-insensitively).
- `date_of_birth`: YYYY-MM-DD or DD/MM/YYYY.
- `guardian_name`, `guardian_email`, `guardian_phone`: one parent or carer to contact.
- `consent`: implied, given or refused (yes/no, opted in/opted out and similar are understood);
  blank means implied (CLA-14, WER-13, S04-18).
- `consent_date`: when consent was given or refused, YYYY-MM-DD or DD/MM/YYYY.

Other columns are ignored and listed as a note. A UTF-8 byte-order mark, Windows line endings,
blank lines, semicolon- or tab-separated files and Excel's Windows-1252 "CSV" are all read.
A file without a header naming the three required columns, or with no pupil rows, is refused as
a whole (`RosterFileError`); every other problem is reported by line and column (`RowProblem`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from safeclass.core import Consent
from safeclass.core.names import MAX_NAME_CHARS, is_valid_person_name, normalise


@dataclass(frozen=True, slots=True)
class Column:
    """One roster column: its field name, whether it must be there, what else it may be called."""

    name: str
    required: bool
    aliases: tuple[str, ...]
    meaning: str


def _words(spellings: str) -> tuple[str, ...]:
    return tuple(word.strip() for word in spellings.split("|"))


COLUMNS: tuple[Column, ...] = (
    Column(
        "forename",
        True,
        _words("first name|firstname|given name|legal forename|legal first name|pupil forename"),
        "The pupil's legal first name.",
    ),
    Column(
        "surname",
        True,
        _words("last name|lastname|family name|legal surname|legal last name|pupil surname"),
        "The pupil's legal surname.",
    ),
    Column(
        "class",
        True,
        _words("reg group|registration group|class name|form|form group|tutor group|reg"),
        "The pupil's class or registration group, e.g. 2B.",
    ),
    Column(
        "mis_id",
        False,
        _words("upn|adno|mis id|admission number|admission no|pupil id|student id"),
        "The MIS's own id for the pupil (UPN or admission number); identifies the pupil.",
    ),
    Column(
        "date_of_birth",
        False,
        _words("dob|date of birth|birth date|birthdate"),
        "YYYY-MM-DD or DD/MM/YYYY.",
    ),
    Column(
        "guardian_name",
        False,
        _words(
            "parent name|guardian name|carer name|parent carer name|contact name"
            "|primary contact name"
        ),
        "A parent or carer's name.",
    ),
    Column(
        "guardian_email",
        False,
        _words(
            "parent email|guardian email|carer email|parent carer email|contact email"
            "|primary contact email"
        ),
        "Where the pupil's invitation links and notices go.",
    ),
    Column(
        "guardian_phone",
        False,
        _words(
            "parent phone|guardian phone|carer phone|contact phone|contact telephone"
            "|parent mobile|guardian mobile|contact mobile|primary contact phone"
        ),
        "A parent or carer's phone number.",
    ),
    Column(
        "consent",
        False,
        _words("consent status|digital consent|online consent|live lesson consent"),
        "implied, given or refused; yes/no and opted in/opted out are understood; blank = implied.",
    ),
    Column(
        "consent_date",
        False,
        _words("consent date|date of consent"),
        "When consent was given or refused: YYYY-MM-DD or DD/MM/YYYY.",
    ),
)
REQUIRED = tuple(c.name for c in COLUMNS if c.required)

# What a consent cell may say (case, spaces, hyphens and underscores do not matter).
CONSENT_WORDS: Mapping[str, Consent] = {
    **dict.fromkeys(
        _words("|implied|implied consent|assumed|pending|not yet given|unknown"),
        Consent.IMPLIED,
    ),
    **dict.fromkeys(
        _words("given|consent given|yes|y|true|consented|granted|agreed|opted in|opt in|optin"),
        Consent.GIVEN,
    ),
    **dict.fromkeys(
        _words(
            "refused|consent refused|no|n|false|opted out|opt out|optout|optedout|withdrawn"
            "|consent withdrawn|declined|not given|denied"
        ),
        Consent.REFUSED,
    ),
}

MAX_CLASS_CHARS = 100
HEADER_SEARCH_ROWS = 5
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}$"
)
_PHONE = re.compile(r"^\+?[0-9 ()./-]+$")
_MIS_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/_.-]{0,63}$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_UK_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_GUARDIAN_NAME = re.compile(r"^[^\W\d_]+(?:[^\W\d_]|[ .,'’&()/-])*$")


class RosterFileError(ValueError):
    """A roster that cannot be read at all: empty, not text, or without the required columns."""

    def __init__(self, source: str, message: str) -> None:
        self.source = source
        self.message = message
        super().__init__(f"{source}: {message}")


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One thing wrong with one row: the line of the file, the column, and what is wrong."""

    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, {self.field}: {self.message}"


@dataclass(frozen=True, slots=True)
class RosterRow:
    """One pupil as the file has them, cleaned (spacing, Unicode form) and checked."""

    line: int
    forename: str
    surname: str
    class_name: str
    mis_id: str | None = None
    date_of_birth: dt.date | None = None
    guardian_name: str | None = None
    guardian_email: str | None = None
    guardian_phone: str | None = None
    consent: Consent = Consent.IMPLIED
    consent_date: dt.date | None = None

    @property
    def natural_key(self) -> tuple[str, str, str, dt.date | None]:
        """Who the pupil is without an MIS id: names, class and birth date, loosely compared."""
        return pupil_key(self.forename, self.surname, self.class_name, self.date_of_birth)

    @property
    def has_guardian(self) -> bool:
        return any((self.guardian_name, self.guardian_email, self.guardian_phone))

    @property
    def full_name(self) -> str:
        return f"{self.forename} {self.surname}"


@dataclass(frozen=True, slots=True)
class Roster:
    """A read roster: the good rows, every problem, and notes about how the file was read."""

    source: str
    rows: tuple[RosterRow, ...]
    problems: tuple[RowProblem, ...] = ()
    columns: Mapping[str, str] = field(default_factory=dict)  # field -> header as written
    ignored_columns: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def bad_lines(self) -> tuple[int, ...]:
        return tuple(sorted({p.line for p in self.problems}))


def pupil_key(
    forename: str, surname: str, class_name: str, date_of_birth: dt.date | None
) -> tuple[str, str, str, dt.date | None]:
    """The identity of a pupil without an MIS id (the same in the file and in the store)."""
    return (normalise(forename), normalise(surname), class_key(class_name), date_of_birth)


def class_key(name: str) -> str:
    """Classes "2b" and "2B " are the same class."""
    return " ".join(name.split()).casefold()


def read_roster(path: Path, today: dt.date | None = None) -> Roster:
    """Read and check a roster file (OSError if it cannot be opened)."""
    return parse_roster(path.read_bytes(), source=path.name, today=today)


def parse_roster(
    data: bytes | str, source: str = "<roster>", today: dt.date | None = None
) -> Roster:
    """Check every row of a roster export; raise RosterFileError if the file is unusable.

    `today`, when given, lets dates in the future be refused (a birth date typed as this year).
    """
    text, notes = _decode(data, source)
    records = list(_records(text, source))
    if not records:
        raise RosterFileError(
            source,
            "the file is empty; it needs a header row naming at least "
            + ", ".join(REQUIRED)
            + ", then one row per pupil",
        )
    start = _header_index(records)
    if start:
        notes.append(f"skipped {start} line(s) above the header on line {records[start][0]}")
    header_line, header = records[start]
    columns, ignored = _map_header(header, header_line, source)
    if ignored:
        notes.append("ignored columns: " + ", ".join(f"'{h}'" for h in ignored))

    rows: list[RosterRow] = []
    problems: list[RowProblem] = []
    seen_ids: dict[str, RosterRow] = {}
    seen_keys: dict[tuple[str, str, str, dt.date | None], RosterRow] = {}
    for line, cells in records[start + 1 :]:
        row, row_problems = _check_row(line, cells, columns, len(header), today)
        problems.extend(row_problems)
        if row is None:
            continue
        duplicate = _duplicate_of(row, seen_ids, seen_keys)
        if duplicate is not None:
            problems.append(duplicate)
            continue
        if row.mis_id:
            seen_ids[row.mis_id.casefold()] = row
        seen_keys[row.natural_key] = row
        rows.append(row)
    if len(records) == start + 1:
        raise RosterFileError(
            source, f"no pupils: the header on line {header_line} has no rows below it"
        )
    problems.sort(key=lambda p: p.line)
    named = {name: header[index].strip() for name, index in columns.items()}
    return Roster(source, tuple(rows), tuple(problems), named, tuple(ignored), tuple(notes))


def parse_consent(value: str) -> Consent | None:
    """The consent a cell means, or None if it is not a consent value."""
    word = " ".join(value.replace("-", " ").replace("_", " ").split()).casefold()
    return CONSENT_WORDS.get(word)


def parse_date(value: str) -> dt.date | None:
    """A date written YYYY-MM-DD or DD/MM/YYYY (UK order), or None."""
    iso = _ISO_DATE.match(value)
    uk = _UK_DATE.match(value)
    try:
        if iso:
            return dt.date(int(iso[1]), int(iso[2]), int(iso[3]))
        if uk:
            return dt.date(int(uk[3]), int(uk[2]), int(uk[1]))
    except ValueError:  # 31/02/2016
        return None
    return None


def is_valid_email(value: str) -> bool:
    return len(value) <= 320 and bool(_EMAIL.match(value))


def name_problem(name: str) -> str | None:
    """Why a forename or surname cannot be used (C4: CLA-15, CRO-15), or None if it can."""
    if not name:
        return "is empty"
    if is_valid_person_name(name):
        return None
    if len(name) > MAX_NAME_CHARS:
        return f"is longer than {MAX_NAME_CHARS} characters"
    if any(ch.isdigit() for ch in name):
        return f"'{name}' contains a digit; a pupil's own name has only letters"
    odd = sorted({ch for ch in name if not ch.isalpha() and ch not in " '’-"})
    if odd:
        shown = " ".join(repr(ch) for ch in odd)
        return f"'{name}' contains {shown}; names may have letters, spaces, hyphens, apostrophes"
    return f"'{name}' has a space, hyphen or apostrophe in the wrong place"


def _decode(data: bytes | str, source: str) -> tuple[str, list[str]]:
    if isinstance(data, str):
        return data.removeprefix("\ufeff"), []
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), []
        except UnicodeDecodeError:
            raise RosterFileError(source, "the file says it is UTF-16 but is not") from None
    if b"\x00" in data:
        raise RosterFileError(source, "this is not a text file; export the roster as CSV")
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        # Excel's "CSV (Comma delimited)" on Windows saves Windows-1252, not UTF-8.
        text = data.decode("cp1252", errors="replace")
        return text, ["read as Windows-1252 (the file is not UTF-8); check accented names"]


def _delimiter(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _records(text: str, source: str) -> Iterator[tuple[int, list[str]]]:
    """(first line, cells) of every record that is not blank, the header first."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    start = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            message = f"line {reader.line_num}: cannot be read as CSV: {exc}"
            raise RosterFileError(source, message) from None
        line, start = start, reader.line_num + 1
        if any(cell.strip() for cell in cells):
            yield line, cells


def _header_word(cell: str) -> str:
    cell = cell.replace("\ufeff", "").replace("_", " ").replace("-", " ").replace(".", " ")
    cell = cell.replace("/", " ")
    return " ".join(cell.split()).casefold()


_ALIASES: Mapping[str, str] = {
    _header_word(spelling): column.name
    for column in COLUMNS
    for spelling in (column.name, *column.aliases)
}


def _header_index(records: list[tuple[int, list[str]]]) -> int:
    """Where the header is: the first of the first few rows naming every required column.

    Some MIS reports put a title ("Pupil list, printed 24/11/2026") above the header.
    """
    for index, (_, cells) in enumerate(records[:HEADER_SEARCH_ROWS]):
        named = {_ALIASES.get(_header_word(cell)) for cell in cells}
        if named.issuperset(REQUIRED):
            return index
    return 0


def _map_header(header: list[str], line: int, source: str) -> tuple[dict[str, int], list[str]]:
    columns: dict[str, int] = {}
    ignored: list[str] = []
    for index, cell in enumerate(header):
        name = _ALIASES.get(_header_word(cell))
        if name is None:
            if cell.strip():
                ignored.append(cell.strip())
            continue
        if name in columns:
            first = header[columns[name]].strip()
            raise RosterFileError(
                source,
                f"the header has two columns for {name}: '{first}' (column {columns[name] + 1}) "
                f"and '{cell.strip()}' (column {index + 1}); remove one",
            )
        columns[name] = index
    missing = [name for name in REQUIRED if name not in columns]
    if missing:
        found = ", ".join(f"'{c.strip()}'" for c in header if c.strip()) or "nothing"
        accepted = "; ".join(
            f"{c.name} (or {', '.join(c.aliases[:4])})" for c in COLUMNS if c.name in missing
        )
        raise RosterFileError(
            source,
            f"the header on line {line} has no column for {', '.join(missing)}; found {found}. "
            f"Expected: {accepted}",
        )
    return columns, ignored


def _check_row(
    line: int,
    cells: list[str],
    columns: Mapping[str, int],
    width: int,
    today: dt.date | None,
) -> tuple[RosterRow | None, list[RowProblem]]:
    problems: list[RowProblem] = []

    def cell(name: str) -> str:
        index = columns.get(name)
        if index is None or index >= len(cells):
            return ""
        return " ".join(unicodedata.normalize("NFC", cells[index]).split())

    def bad(name: str, message: str) -> None:
        problems.append(RowProblem(line, name, message))

    extra = [c for c in cells[width:] if c.strip()]
    if extra:
        bad(
            "row",
            f"has {len(cells)} cells but the header has {width} (a comma inside a name "
            "without quotes?)",
        )
    forename, surname, class_name = cell("forename"), cell("surname"), cell("class")
    for name, value in (("forename", forename), ("surname", surname)):
        why = name_problem(value)
        if why:
            bad(name, why)
    if not class_name:
        bad("class", "is empty")
    elif len(class_name) > MAX_CLASS_CHARS:
        bad("class", f"is longer than {MAX_CLASS_CHARS} characters")

    mis_id = cell("mis_id") or None
    if mis_id and not _MIS_ID.match(mis_id):
        bad("mis_id", f"'{mis_id}' is not an MIS id (letters and digits, up to 64)")
    born = _date(cell("date_of_birth"), "date_of_birth", today, bad)
    consent_date = _date(cell("consent_date"), "consent_date", today, bad)

    guardian_name = cell("guardian_name") or None
    if guardian_name and (len(guardian_name) > 200 or not _GUARDIAN_NAME.match(guardian_name)):
        bad("guardian_name", f"'{guardian_name}' is not a name (letters, no digits)")
    email = cell("guardian_email") or None
    if email and re.search(r"[,;\s]", email) and "@" in email:
        bad("guardian_email", f"'{email}' holds more than one address; keep one")
    elif email and not is_valid_email(email):
        bad("guardian_email", f"'{email}' is not an email address")
    phone = cell("guardian_phone") or None
    digits = sum(ch.isdigit() for ch in phone or "")
    if phone and not (_PHONE.match(phone) and 7 <= digits <= 15 and len(phone) <= 40):
        bad("guardian_phone", f"'{phone}' is not a phone number")

    raw_consent = cell("consent")
    consent = parse_consent(raw_consent)
    if consent is None:
        bad(
            "consent",
            f"'{raw_consent}' is not a consent value (use implied, given or refused; "
            "yes, no, opted in and opted out are also understood)",
        )
    if problems:
        return None, problems
    return (
        RosterRow(
            line=line,
            forename=forename,
            surname=surname,
            class_name=class_name,
            mis_id=mis_id,
            date_of_birth=born,
            guardian_name=guardian_name,
            guardian_email=email,
            guardian_phone=phone,
            consent=consent or Consent.IMPLIED,
            consent_date=consent_date,
        ),
        [],
    )


def _date(
    value: str, name: str, today: dt.date | None, bad: Callable[[str, str], None]
) -> dt.date | None:
    if not value:
        return None
    parsed = parse_date(value)
    if parsed is None:
        bad(name, f"'{value}' is not a date (write YYYY-MM-DD or DD/MM/YYYY)")
    elif parsed.year < 1900:
        bad(name, f"'{value}' is before 1900")
        return None
    elif today is not None and parsed > today:
        bad(name, f"'{value}' is in the future")
        return None
    return parsed


def _duplicate_of(
    row: RosterRow,
    seen_ids: Mapping[str, RosterRow],
    seen_keys: Mapping[tuple[str, str, str, dt.date | None], RosterRow],
) -> RowProblem | None:
    """The second occurrence of a pupil, naming the line of the first."""
    if row.mis_id:
        first = seen_ids.get(row.mis_id.casefold())
        if first is not None:
            return RowProblem(
                row.line,
                "mis_id",
                f"'{row.mis_id}' is already on line {first.line} ({first.full_name}); "
                "each pupil must appear once",
            )
    first = seen_keys.get(row.natural_key)
    # Two pupils with the same name, class and birth date but different MIS ids are twins
    # the MIS tells apart; without ids on both rows they are the same pupil listed twice.
    if first is not None and not (row.mis_id and first.mis_id):
        return RowProblem(
            row.line,
            "pupil",
            f"{row.full_name} ({row.class_name}) is already on line {first.line}; "
            "each pupil must appear once",
        )
    return None
