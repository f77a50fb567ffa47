"""Every CSV safeclass writes is safe to open in a spreadsheet (C14): no cell runs as a formula.

Names come from the MIS and titles from staff, and may start with `=`: a class named `=1+1` is
a valid class name. The one CSV export is the attendance register (`safeclass report register
--format csv`); the roster is only imported. This test imports a roster with a class named like
a formula through the real CLI, schedules sessions for it titled like formulas (plain, after a
space, after a tab, full-width), and reads each register's CSV as a spreadsheet would.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import uuid
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner, Result

from safeclass.adapters.store import school_records
from safeclass.adapters.store.tables import Staff
from safeclass.adapters.store.timetable import StoreTimetable
from safeclass.app import timetable
from safeclass.app.reports.spreadsheet import FORMULA_STARTS
from safeclass.cli.main import app
from safeclass.core import SessionKind
from safeclass.policy import loads
from safeclass.policy.loading import preset_path
from tests.support.rooms import START

runner = CliRunner(env={"FORCE_COLOR": None, "TTY_COMPATIBLE": None, "COLUMNS": "200"})

HOSTILE = ("=1+1", "+SUM(A1)", "-2+3", "@A1", " =1+1", "\t=1", "＝1+1")


async def cli(*args: str) -> Result:
    result = await asyncio.to_thread(runner.invoke, app, list(args))
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception), result.exception
    return result


def runs_as_formula(cell: str) -> bool:
    """What a spreadsheet would run: a cell starting (maybe after spaces) with a formula sign."""
    return cell.lstrip(" ").startswith(FORMULA_STARTS)


# covers: C14, S04-03
async def test_the_register_csv_defuses_a_class_pupils_and_title_named_like_formulas(
    engine: AsyncEngine, db_url: str, tmp_path: Path
):
    text = preset_path("claydon").read_text("utf-8")
    now = dt.datetime.now(dt.UTC)
    async with engine.begin() as conn:
        school = await school_records.create_school(conn, loads(text), text, key="claydon-csv")
        staff_id = str(uuid.uuid4())
        await conn.execute(
            insert(Staff).values(
                id=staff_id,
                school_id=school.id,
                name="=Mrs Khan",
                email="khan@claydon.test",
                role="teacher",
                active=True,
                created_at=now,
            )
        )
    roster = tmp_path / "roster.csv"
    with roster.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["forename", "surname", "class", "guardian_email", "consent"])
        for i, name in enumerate(("Amelia", "Oliver", "Isla")):
            writer.writerow([name, "Roberts", "=1+1", f"parent{i}@family.test", ""])
    imported = await cli(
        "roster", "import", str(roster), "--school", "claydon-csv", "--database-url", db_url
    )
    assert imported.exit_code == 0, imported.output  # a class named =1+1 is a valid class
    async with engine.connect() as conn:
        [klass] = [c for c in await school_records.list_classes(conn, school.id)]
    assert klass.name == "=1+1"
    teacher = timetable_actor(staff_id, school.id)
    for title in HOSTILE:
        session_id = await timetable.schedule(
            StoreTimetable(engine),
            teacher,
            timetable.SessionRequest(
                kind=SessionKind.CLASS,
                title=title,
                starts_at=START,
                minutes=30,
                class_id=klass.id,
            ),
            START - dt.timedelta(days=1),
        )
        result = await cli(
            "report", "register", session_id, "--format", "csv", "--database-url", db_url
        )
        assert result.exit_code == 0, result.output
        rows = list(csv.reader(io.StringIO(result.stdout)))
        assert len(rows) == 1 + 3
        cells = [cell for row in rows for cell in row]
        assert [cell for cell in cells if runs_as_formula(cell)] == [], title
        assert {row[1] for row in rows[1:]} == {"'" + title.strip()}, title


class timetable_actor:  # noqa: N801 - a plain record, named as the use case calls it
    def __init__(self, staff_id: str, school_id: str) -> None:
        self.staff_id, self.school_id, self.role = staff_id, school_id, "teacher"
