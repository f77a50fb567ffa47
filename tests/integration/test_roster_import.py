"""Roster import on SQLite and PostgreSQL: create, re-import, update in place, refuse, skip, CLI."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner, Result

from safeclass.adapters.store import connect
from safeclass.adapters.store import pupil_records as pupils
from safeclass.adapters.store import school_records as schools
from safeclass.adapters.store.pupil_records import PupilRecord
from safeclass.adapters.store.roster_import import StoreRoster
from safeclass.adapters.store.school_records import RecordsError, SchoolNotFoundError
from safeclass.adapters.store.tables import ConsentRecord, Guardian, Pupil, SchoolClass
from safeclass.app.roster import Roster, parse_roster
from safeclass.app.roster_import import ImportSummary, Outcome, RosterRefusedError, import_roster
from safeclass.cli.main import app
from safeclass.core import Consent
from safeclass.policy import loads
from safeclass.policy.loading import preset_path

NOW = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(days=7)
HEADER = "UPN,Legal Forename,Legal Surname,Reg Group,DOB,Parent Email,Consent,Year"
CLASS_2B = [
    HEADER,
    "A1,Siân,O'Neill,2B,05/09/2018,rhian@example.org,given,2",
    "A2,Zoë-Mae,D’Arcy,2B,2018-11-30,,opted out,2",
    "A3,Amelia,Roberts,2B,2018-01-15,jo@example.org,,2",
]
TABLES = (Pupil, Guardian, ConsentRecord, SchoolClass)


def csv_bytes(*lines: str, bom: bool = True, crlf: bool = True) -> bytes:
    """As Excel saves "CSV UTF-8" on Windows: a byte-order mark and CRLF line endings."""
    end = "\r\n" if crlf else "\n"
    return (b"\xef\xbb\xbf" if bom else b"") + (end.join(lines) + end).encode("utf-8")


def roster(*lines: str, name: str = "class-2b.csv") -> Roster:
    return parse_roster(csv_bytes(*lines), source=name)


async def add_school(engine: AsyncEngine, preset: str = "claydon") -> schools.SchoolRecord:
    text = preset_path(preset).read_text(encoding="utf-8")
    async with engine.begin() as conn:
        return await schools.create_school(conn, loads(text), text, now=NOW)


async def snapshot(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the roster's tables, in a fixed order, to compare before and after."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    async with engine.connect() as conn:
        for table in TABLES:
            columns = list(table.__table__.columns)
            rows = await conn.execute(select(*columns))
            found[table.__tablename__] = sorted(tuple(r) for r in rows)
    return found


async def pupils_by_name(engine: AsyncEngine, school_id: str) -> dict[str, PupilRecord]:
    async with engine.connect() as conn:
        return {p.forename: p for p in await pupils.list_pupils(conn, school_id)}


async def run_import(
    engine: AsyncEngine, data: Roster, now: dt.datetime = NOW, key: str = "claydon", **kw: Any
) -> ImportSummary:
    return await import_roster(StoreRoster(engine), key, data, now=now, **kw)


# --- a first import -----------------------------------------------------------------------------


async def test_an_import_creates_pupils_guardians_classes_and_consent(engine: AsyncEngine) -> None:
    # covers: C4, C17, CLA-14, WER-13, S04-18
    school = await add_school(engine)
    summary = await run_import(engine, roster(*CLASS_2B))
    assert (summary.created, summary.updated, summary.unchanged, summary.skipped_rows) == (
        3,
        0,
        0,
        0,
    )
    assert summary.classes_created == ("2B",)
    found = await pupils_by_name(engine, school.id)
    assert set(found) == {"Siân", "Zoë-Mae", "Amelia"}
    sian = found["Siân"]
    assert (sian.surname, sian.class_name, sian.mis_id) == ("O'Neill", "2B", "A1")
    assert sian.date_of_birth == dt.date(2018, 9, 5)
    assert [g.email for g in sian.guardians] == ["rhian@example.org"]
    assert sian.consent == pupils.ConsentState(Consent.GIVEN, NOW, "roster import class-2b.csv")
    assert found["Zoë-Mae"].surname == "D’Arcy"
    assert found["Zoë-Mae"].consent_basis is Consent.REFUSED
    assert found["Zoë-Mae"].guardians == ()
    assert found["Amelia"].consent_basis is Consent.IMPLIED  # a blank cell: implied
    async with engine.connect() as conn:
        class_id = sian.class_id
        assert class_id is not None
        shown = [p.display_name for p in await pupils.pupils_of_class(conn, school.id, class_id)]
    assert shown == ["Zoë-Mae D.", "Siân O.", "Amelia R."]


async def test_a_consent_date_in_the_file_is_the_date_recorded(engine: AsyncEngine) -> None:
    # covers: C17
    school = await add_school(engine)
    await run_import(
        engine, roster("forename,surname,class,consent,consent date", "Ben,Ali,2B,no,01/09/2026")
    )
    consent = (await pupils_by_name(engine, school.id))["Ben"].consent
    assert consent is not None
    assert (consent.basis, consent.recorded_at) == (
        Consent.REFUSED,
        dt.datetime(2026, 9, 1, tzinfo=dt.UTC),
    )


async def test_progress_is_reported_for_every_row(engine: AsyncEngine) -> None:
    await add_school(engine)
    ticks: list[int] = []
    await run_import(engine, roster(*CLASS_2B), progress=ticks.append)
    assert sum(ticks) == 3


# --- importing again ----------------------------------------------------------------------------


async def test_reimporting_the_same_file_changes_no_row(engine: AsyncEngine) -> None:
    # covers: C17, S04-18
    await add_school(engine)
    await run_import(engine, roster(*CLASS_2B))
    before = await snapshot(engine)
    summary = await run_import(engine, roster(*CLASS_2B), now=LATER)
    assert (summary.created, summary.updated, summary.unchanged) == (0, 0, 3)
    assert summary.classes_created == ()
    assert await snapshot(engine) == before  # every column, updated_at and consent dates too


async def test_reimporting_a_file_without_mis_ids_changes_no_row_either(
    engine: AsyncEngine,
) -> None:
    await add_school(engine)
    lines = ["forename,surname,class,parent email", "Siân,O'Neill,2B,r@x.org", "Ben,Ali,2B,"]
    await run_import(engine, roster(*lines))
    before = await snapshot(engine)
    summary = await run_import(engine, roster(*lines), now=LATER)
    assert summary.unchanged == 2
    assert await snapshot(engine) == before


async def test_a_changed_file_updates_the_same_pupils_in_place(engine: AsyncEngine) -> None:
    # covers: C17, CRO-16
    school = await add_school(engine)
    await run_import(engine, roster(*CLASS_2B))
    first = await pupils_by_name(engine, school.id)
    changed = [
        HEADER,
        "A1,Siân,Jones,3C,05/09/2018,rhian.jones@example.org,given,3",  # surname, class, email
        "A2,Zoë-Mae,D’Arcy,2B,2018-11-30,,given,2",  # the parent now consents
        "A3,Amelia,Roberts,2B,2018-01-15,jo@example.org,refused,2",  # the parent opts out
    ]
    summary = await run_import(engine, roster(*changed), now=LATER)
    assert (summary.created, summary.updated, summary.unchanged) == (0, 3, 0)
    assert {c.line: c.changed for c in summary.changes} == {
        2: ("surname", "class", "guardian"),
        3: ("consent",),
        4: ("consent",),
    }
    assert summary.classes_created == ("3C",)
    now = await pupils_by_name(engine, school.id)
    assert {p.id for p in now.values()} == {p.id for p in first.values()}
    sian = now["Siân"]
    assert (sian.surname, sian.class_name) == ("Jones", "3C")
    assert [g.email for g in sian.guardians] == ["rhian.jones@example.org"]  # replaced, not added
    assert sian.updated_at == LATER
    assert sian.created_at == NOW
    assert now["Zoë-Mae"].consent == pupils.ConsentState(
        Consent.GIVEN, LATER, "roster import class-2b.csv"
    )
    assert now["Amelia"].consent_basis is Consent.REFUSED


async def test_only_the_changed_pupil_is_touched(engine: AsyncEngine) -> None:
    school = await add_school(engine)
    await run_import(engine, roster(*CLASS_2B))
    changed = [*CLASS_2B[:3], CLASS_2B[3].replace("jo@example.org", "jo.r@example.org")]
    summary = await run_import(engine, roster(*changed), now=LATER)
    assert [(c.name, c.outcome) for c in summary.changes] == [
        ("Siân O'Neill", Outcome.UNCHANGED),
        ("Zoë-Mae D’Arcy", Outcome.UNCHANGED),
        ("Amelia Roberts", Outcome.UPDATED),
    ]
    found = await pupils_by_name(engine, school.id)
    assert {name: p.updated_at for name, p in found.items()} == {
        "Siân": NOW,
        "Zoë-Mae": NOW,
        "Amelia": LATER,
    }


async def test_without_mis_ids_a_new_guardian_and_consent_update_the_same_pupil(
    engine: AsyncEngine,
) -> None:
    school = await add_school(engine)
    await run_import(engine, roster("forename,surname,class,dob", "Ben,Ali,2B,2018-01-01"))
    before = await pupils_by_name(engine, school.id)
    summary = await run_import(
        engine,
        roster(
            "first name,last name,class,dob,parent email,parent phone,consent",
            "BEN,ALI,2b,01/01/2018,ali@example.org,07700 900123,yes",
        ),
        now=LATER,
    )
    assert summary.updated == 1
    after = (await pupils_by_name(engine, school.id))["BEN"]
    assert after.id == before["Ben"].id
    assert (after.forename, after.surname, after.class_name) == ("BEN", "ALI", "2B")
    assert [(g.email, g.phone) for g in after.guardians] == [("ali@example.org", "07700 900123")]
    assert after.consent_basis is Consent.GIVEN


async def test_a_blank_guardian_cell_keeps_the_stored_detail_but_a_new_email_replaces_all(
    engine: AsyncEngine,
) -> None:
    school = await add_school(engine)
    header = "upn,forename,surname,class,parent name,parent email,parent phone"
    await run_import(engine, roster(header, "A1,Ben,Ali,2B,Sara Ali,sara@x.org,07700 900123"))
    before = await snapshot(engine)
    summary = await run_import(engine, roster(header, "A1,Ben,Ali,2B,,sara@x.org,"), now=LATER)
    assert summary.unchanged == 1
    assert await snapshot(engine) == before
    await run_import(engine, roster(header, "A1,Ben,Ali,2B,,omar@x.org,"), now=LATER)
    (guardian,) = (await pupils_by_name(engine, school.id))["Ben"].guardians
    assert (guardian.name, guardian.email, guardian.phone) == (None, "omar@x.org", None)


async def test_a_blank_consent_cell_never_overwrites_a_refusal(engine: AsyncEngine) -> None:
    # covers: C17, CRO-16, S04-18 — an opt-out must survive a re-import of an older export
    school = await add_school(engine)
    await run_import(engine, roster(*CLASS_2B))
    older = [line.replace(",opted out,", ",,").replace(",given,", ",implied,") for line in CLASS_2B]
    before = await snapshot(engine)
    summary = await run_import(engine, roster(*older), now=LATER)
    found = await pupils_by_name(engine, school.id)
    assert found["Zoë-Mae"].consent_basis is Consent.REFUSED
    assert found["Siân"].consent_basis is Consent.GIVEN
    assert summary.unchanged == 3
    assert await snapshot(engine) == before
    assert summary.consent_kept == (
        "line 2: Siân O'Neill stays 'given' (the file's consent cell is blank or implied)",
        "line 3: Zoë-Mae D’Arcy stays 'refused' (the file's consent cell is blank or implied)",
    )


async def test_a_refusal_recorded_elsewhere_survives_a_roster_import(engine: AsyncEngine) -> None:
    # covers: C17, CRO-16 — a parent told the school (C23) after the MIS export was taken
    school = await add_school(engine)
    await run_import(engine, roster(*CLASS_2B))
    amelia = (await pupils_by_name(engine, school.id))["Amelia"]
    async with engine.begin() as conn:
        await pupils.set_consent(conn, school.id, amelia.id, Consent.REFUSED, source="parent link")
    await run_import(engine, roster(*CLASS_2B), now=LATER)
    consent = (await pupils_by_name(engine, school.id))["Amelia"].consent
    assert consent is not None
    assert (consent.basis, consent.source) == (Consent.REFUSED, "parent link")


async def test_a_later_export_with_upns_adopts_the_pupils_already_there(
    engine: AsyncEngine,
) -> None:
    school = await add_school(engine)
    await run_import(engine, roster("forename,surname,class", "Siân,O'Neill,2B", "Ben,Ali,2B"))
    before = await pupils_by_name(engine, school.id)
    summary = await run_import(
        engine, roster("upn,forename,surname,class", "A1,Siân,O'Neill,2B", "A2,Ben,Ali,2B")
    )
    assert (summary.created, summary.updated) == (0, 2)
    after = await pupils_by_name(engine, school.id)
    assert {n: p.id for n, p in after.items()} == {n: p.id for n, p in before.items()}
    assert after["Ben"].mis_id == "A2"


async def test_an_export_without_birth_dates_finds_the_pupils_imported_with_them(
    engine: AsyncEngine,
) -> None:
    school = await add_school(engine)
    await run_import(engine, roster("forename,surname,class,dob", "Ben,Ali,2B,2018-01-01"))
    before = await snapshot(engine)
    summary = await run_import(engine, roster("forename,surname,class", "Ben,Ali,2B"), now=LATER)
    assert summary.unchanged == 1
    assert await snapshot(engine) == before
    # a different birth date is a different child of the same name
    summary = await run_import(
        engine, roster("forename,surname,class,dob", "Ben,Ali,2B,2018-06-01"), now=LATER
    )
    assert summary.created == 1
    assert len(await pupils_by_name(engine, school.id)) == 1  # keyed by forename: both "Ben"
    async with engine.connect() as conn:
        assert await pupils.count_pupils(conn, school.id) == 2


async def test_pupils_missing_from_a_later_file_are_kept(engine: AsyncEngine) -> None:
    school = await add_school(engine)
    await run_import(engine, roster(*CLASS_2B))
    summary = await run_import(engine, roster(*CLASS_2B[:2]), now=LATER)
    assert summary.unchanged == 1
    assert len(await pupils_by_name(engine, school.id)) == 3


# --- refusals -----------------------------------------------------------------------------------


BAD = [
    "forename,surname,class,parent email",
    "Siân,O'Neill,2B,r@x.org",
    "B0b,Smith,2B,",
    "Ben,Ali,2B,not-an-email",
    "Siân,O’Neill,2b,",
]


async def test_a_roster_with_bad_rows_writes_nothing(engine: AsyncEngine) -> None:
    await add_school(engine)
    before = await snapshot(engine)
    with pytest.raises(RosterRefusedError) as caught:
        await run_import(engine, roster(*BAD))
    assert str(caught.value) == "class-2b.csv: 3 rows cannot be imported; nothing was written"
    assert [(p.line, p.field) for p in caught.value.problems] == [
        (3, "forename"),
        (4, "guardian_email"),
        (5, "pupil"),
    ]
    assert await snapshot(engine) == before


async def test_skip_bad_writes_the_good_rows_only_and_lists_the_others(engine: AsyncEngine) -> None:
    school = await add_school(engine)
    summary = await run_import(engine, roster(*BAD), skip_bad=True)
    assert (summary.created, summary.skipped_rows) == (1, 3)
    assert [p.line for p in summary.skipped] == [3, 4, 5]
    assert list(await pupils_by_name(engine, school.id)) == ["Siân"]


async def test_an_unknown_school_gets_nothing(engine: AsyncEngine) -> None:
    await add_school(engine)
    before = await snapshot(engine)
    with pytest.raises(SchoolNotFoundError):
        await run_import(engine, roster(*CLASS_2B), key="nowhere")
    assert await snapshot(engine) == before


async def test_a_failure_midway_leaves_nothing_of_the_import_written(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await add_school(engine)
    await run_import(engine, roster(*CLASS_2B[:2]))
    before = await snapshot(engine)

    async def failing_add_pupils(*args: Any, **kwargs: Any) -> list[str]:
        raise RecordsError("the database went away")

    # Siân's consent is updated first, then adding the new pupils fails.
    monkeypatch.setattr(pupils, "add_pupils", failing_add_pupils)
    changed = [CLASS_2B[0], CLASS_2B[1].replace(",given,", ",refused,"), *CLASS_2B[2:]]
    with pytest.raises(RecordsError):
        await run_import(engine, roster(*changed, "A4,Ben,Ali,3C,,,,"), now=LATER)
    assert await snapshot(engine) == before  # no class 3C, no new pupils, Siân's consent as it was


async def test_a_class_name_taken_by_a_group_refuses_the_import(engine: AsyncEngine) -> None:
    school = await add_school(engine)
    async with engine.begin() as conn:
        await schools.upsert_class(conn, school.id, "Phonics", is_group=True)
    before = await snapshot(engine)
    with pytest.raises(RecordsError, match="already a group"):
        await run_import(engine, roster("forename,surname,class", "Ben,Ali,phonics"))
    assert await snapshot(engine) == before


# --- one school's roster never reaches another ----------------------------------------------------


async def test_an_import_reaches_one_school_only(engine: AsyncEngine) -> None:
    # covers: C21
    a = await add_school(engine, "claydon")
    b = await add_school(engine, "crofton")
    await run_import(engine, roster(*CLASS_2B), key="claydon")
    assert await pupils_by_name(engine, b.id) == {}
    summary = await run_import(engine, roster(*CLASS_2B), key="crofton")
    # the same UPNs at another school are other children: new records, not a's
    assert summary.created == 3
    a_ids = {p.id for p in (await pupils_by_name(engine, a.id)).values()}
    b_ids = {p.id for p in (await pupils_by_name(engine, b.id)).values()}
    assert len(a_ids | b_ids) == 6
    async with engine.connect() as conn:
        a_classes = {c.id for c in await schools.list_classes(conn, a.id)}
        b_classes = {c.id for c in await schools.list_classes(conn, b.id)}
    assert a_classes.isdisjoint(b_classes)


async def test_two_imports_at_once_into_one_school_create_each_pupil_once(
    engine: AsyncEngine,
) -> None:
    school = await add_school(engine)
    results = await asyncio.gather(
        run_import(engine, roster(*CLASS_2B)), run_import(engine, roster(*CLASS_2B))
    )
    assert sorted(r.created for r in results) == [0, 3]
    assert len(await pupils_by_name(engine, school.id)) == 3


# --- the command line ---------------------------------------------------------------------------

runner = CliRunner(env={"FORCE_COLOR": None, "TTY_COMPATIBLE": None, "COLUMNS": "200"})


def cli(*args: str) -> Result:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception), result.exception
    return result


def count_pupils(url: str) -> int:
    async def count() -> int:
        engine = connect(url)
        try:
            async with engine.connect() as conn:
                return len((await conn.execute(select(Pupil.id))).all())
        finally:
            await engine.dispose()

    return asyncio.run(count())


def write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_the_cli_refuses_bad_rows_with_a_line_numbered_report_and_exit_1(
    db_url: str, tmp_path: Path
) -> None:
    assert cli("school", "add", "--preset", "claydon", "--database-url", db_url).exit_code == 0
    path = write(tmp_path, "pupils.csv", csv_bytes(*BAD))
    result = cli("roster", "import", path, "--school", "claydon", "--database-url", db_url)
    assert result.exit_code == 1
    assert "pupils.csv: 3 rows cannot be imported; nothing was written" in result.stderr
    assert (
        "line 3, forename: 'B0b' contains a digit; a pupil's own name has only letters"
        in result.stderr
    )
    assert "line 4, guardian_email: 'not-an-email' is not an email address" in result.stderr
    assert "line 5, pupil: Siân O’Neill (2b) is already on line 2" in result.stderr
    assert "--skip-bad" in result.stderr
    assert count_pupils(db_url) == 0


def test_the_cli_imports_then_reports_a_reimport_as_unchanged(db_url: str, tmp_path: Path) -> None:
    cli("school", "add", "--preset", "claydon", "--database-url", db_url)
    path = write(tmp_path, "class-2b.csv", csv_bytes(*CLASS_2B))
    first = cli("roster", "import", path, "--school", "claydon", "--database-url", db_url)
    assert first.exit_code == 0, first.output
    assert "Note: ignored columns: 'Year'" in first.stdout
    assert "│ Created            │    3 │" in first.stdout
    assert "New classes: 2B" in first.stdout
    again = cli("roster", "import", path, "--school", "claydon", "--database-url", db_url)
    assert again.exit_code == 0
    assert "│ Unchanged          │    3 │" in again.stdout
    assert "│ Created            │    0 │" in again.stdout
    assert count_pupils(db_url) == 3


def test_the_cli_skips_bad_rows_when_asked_and_lists_them(db_url: str, tmp_path: Path) -> None:
    cli("school", "add", "--preset", "claydon", "--database-url", db_url)
    path = write(tmp_path, "pupils.csv", csv_bytes(*BAD))
    result = cli(
        "roster", "import", path, "--school", "claydon", "--skip-bad", "--database-url", db_url
    )
    assert result.exit_code == 0
    assert "│ Skipped (bad rows) │    3 │" in result.stdout
    assert "line 3, forename: 'B0b' contains a digit" in result.stdout
    assert count_pupils(db_url) == 1


def test_the_cli_lists_changes_and_kept_consent_on_a_changed_file(
    db_url: str, tmp_path: Path
) -> None:
    cli("school", "add", "--preset", "claydon", "--database-url", db_url)
    path = write(tmp_path, "class-2b.csv", csv_bytes(*CLASS_2B))
    cli("roster", "import", path, "--school", "claydon", "--database-url", db_url)
    changed = [
        CLASS_2B[0],
        CLASS_2B[1].replace("O'Neill", "Jones"),
        CLASS_2B[2].replace("opted out", ""),
    ]
    path = write(tmp_path, "class-2b.csv", csv_bytes(*changed))
    result = cli("roster", "import", path, "--school", "claydon", "--database-url", db_url)
    assert result.exit_code == 0
    assert "line 2: Siân Jones (surname)" in result.stdout
    assert "Consent kept: line 3: Zoë-Mae D’Arcy stays 'refused'" in result.stdout


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "pupils.csv: the file is empty"),
        (csv_bytes("Name,DOB", "Amelia Roberts,2018-01-01"), "no column for forename, surname"),
    ],
    ids=["empty", "wrong-header"],
)
def test_the_cli_refuses_an_unusable_file_in_one_line(
    data: bytes, message: str, tmp_path: Path
) -> None:
    path = write(tmp_path, "pupils.csv", data)
    result = cli("roster", "import", path, "--school", "claydon", "--data-dir", str(tmp_path))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: ")
    assert message in result.stderr


def test_the_cli_names_the_schools_when_the_key_is_unknown(tmp_path: Path) -> None:
    data_dir = str(tmp_path / "data")
    cli("school", "add", "--preset", "claydon", "--data-dir", data_dir)
    path = write(tmp_path, "class-2b.csv", csv_bytes(*CLASS_2B))
    result = cli("roster", "import", path, "--school", "claydn", "--data-dir", data_dir)
    assert result.exit_code == 1
    assert "no school with key 'claydn'; schools: claydon" in result.stderr


def test_the_cli_says_a_missing_file_is_missing(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.csv")
    result = cli("roster", "import", missing, "--school", "claydon", "--data-dir", str(tmp_path))
    assert result.exit_code == 1
    assert "cannot read" in result.stderr
    assert "No such file or directory" in result.stderr


def test_a_new_install_adds_a_school_lists_it_and_imports_into_it(tmp_path: Path) -> None:
    data_dir = str(tmp_path / "fresh")
    nothing = cli("school", "list", "--data-dir", data_dir)  # reading makes nothing
    assert "No safeclass data here: run ./scripts/demo, or pass --data-dir" in nothing.stderr
    assert not (tmp_path / "fresh").exists()
    added = cli("school", "add", "--preset", "crofton", "--data-dir", data_dir)
    assert added.exit_code == 0
    assert added.stdout.startswith("Added school 'crofton': Crofton Junior School")
    second = cli(
        "school",
        "add",
        "--preset",
        "crofton",
        "--key",
        "crofton-2",
        "--name",
        "Crofton Two",
        "--data-dir",
        data_dir,
    )
    assert second.exit_code == 0
    dup = cli("school", "add", "--preset", "crofton", "--data-dir", data_dir)
    assert dup.exit_code == 1
    assert "a school with key 'crofton' already exists; choose another with --key" in dup.stderr
    path = write(tmp_path, "class-2b.csv", csv_bytes(*CLASS_2B))
    imported = cli("roster", "import", path, "--school", "crofton-2", "--data-dir", data_dir)
    assert imported.exit_code == 0
    listing = cli("school", "list", "--data-dir", data_dir).stdout
    assert "crofton-2" in listing
    assert "Crofton Two" in listing
    rows = {line.split("│")[1].strip(): line for line in listing.splitlines() if "│" in line}
    assert rows["crofton"].rstrip("│ ").endswith("0")
    assert rows["crofton-2"].rstrip("│ ").endswith("3")


def test_school_add_from_a_policy_file_and_its_errors(tmp_path: Path) -> None:
    data_dir = str(tmp_path / "data")
    good = tmp_path / "ours.toml"
    good.write_text(
        preset_path("claydon")
        .read_text(encoding="utf-8")
        .replace('key = "claydon"', 'key = "ours"'),
        encoding="utf-8",
    )
    assert cli("school", "add", "--policy", str(good), "--data-dir", data_dir).exit_code == 0
    bad = tmp_path / "bad.toml"
    bad.write_text(good.read_text().replace("min_staff = 2 ", "min_staf = 2 ", 1))
    result = cli("school", "add", "--policy", str(bad), "--data-dir", data_dir)
    assert result.exit_code == 1
    assert "did you mean 'min_staff'?" in result.stderr
    typo = cli("school", "add", "--preset", "claydn", "--data-dir", data_dir)
    assert typo.exit_code == 1
    assert "did you mean 'claydon'?" in typo.stderr
    both = cli(
        "school", "add", "--preset", "claydon", "--policy", str(good), "--data-dir", data_dir
    )
    assert both.exit_code == 2
    neither = cli("school", "add", "--data-dir", data_dir)
    assert neither.exit_code == 2
