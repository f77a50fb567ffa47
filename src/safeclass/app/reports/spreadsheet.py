"""The register as CSV for the school's attendance spreadsheet (C14, S04-03).

One header row, then one row per expected pupil; then, when the session has an agenda, notes,
rewards or resources, an empty row and a second section with its own header row (the session
log: time, entry, pupil, by, text). Times are the school's local HH:MM, minutes
are plain numbers, and the date and session title sit on every row so registers from several
sessions can be pasted into one sheet. A cell a spreadsheet would run as a formula (one that
starts, perhaps after spaces, with = + - @, their full-width forms, a tab, a carriage return or
a line feed) gets a leading apostrophe: a removal reason typed by staff, a pupil's or a class's
name from the MIS (`=1+1` is a valid class name) must never become a formula on the office
computer. Every CSV safeclass writes goes through `safe_cell`.
"""

from __future__ import annotations

import csv
import io

from safeclass.app.register import Register
from safeclass.app.reports.cells import LOG_HEADINGS, PUPIL_HEADINGS, pupil_cells, session_log_rows

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def register_csv(register: Register) -> str:
    """The register as CSV text (RFC 4180 line endings)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("Date", "Session", *PUPIL_HEADINGS))
    facts = register.facts
    date = facts.planned_start.date().isoformat()
    for row in register.pupils:
        writer.writerow(safe_cell(cell) for cell in (date, facts.title, *pupil_cells(row)))
    if register.has_session_log:
        # the session log (C15) as a section of its own below the pupils, after an empty row:
        # the pupils' columns above stay as they always were
        writer.writerow(())
        writer.writerow(("Date", "Session", *LOG_HEADINGS))
        for entry in session_log_rows(register):
            writer.writerow(safe_cell(cell) for cell in (date, facts.title, *entry))
    return out.getvalue()


def safe_cell(value: str) -> str:
    """`value`, defused if a spreadsheet would read it as a formula."""
    return "'" + value if value.lstrip(" ").startswith(FORMULA_STARTS) else value
