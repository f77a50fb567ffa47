"""Concerns for CPOMS and MyConcern (C16): CSV to import, PDF to keep, one concern or a range.

Both carry what those systems keep of a concern, one row per pupil it is about: the pupil (the
MIS's id and name), when it happened and when it was recorded, who recorded it, the category,
the account in the writer's words, the people present (staff and pupils in the room at the
time, from the session's log), the actions and additions since, when the DSL's alert was
delivered (or "not delivered yet"), and the hashes that prove it: the last of the concern's
own chain, and its `ConcernRaised` entry in the session's log. Times are the school's. Every
CSV cell goes through `safe_cell`: an account or a name never becomes a spreadsheet formula.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from safeclass.app import concerns
from safeclass.app.event_store import EventStore
from safeclass.app.reports.pdf import DEJAVU_DIR, Document
from safeclass.app.reports.spreadsheet import safe_cell
from safeclass.app.school_records import SchoolRecords

HEADINGS = (
    "Concern reference",
    "Pupil MIS id",
    "Pupil",
    "Time of the event",
    "Time recorded",
    "Recorded by",
    "Category",
    "Account",
    "People present",
    "Actions",
    "DSL alerted at",
    "Session",
    "Session log entry",
    "Record hash",
)
NOT_DELIVERED = "not delivered yet"


@dataclass(frozen=True, slots=True)
class ExportedConcern:
    """One concern, as its export says it (times already in the school's zone)."""

    record: concerns.ConcernRecord
    happened: str
    recorded: str
    present: list[str]
    actions: list[str]
    alerted: str
    log_entry: str


def _when(at: dt.datetime | None, zone: ZoneInfo) -> str:
    return "" if at is None else at.astimezone(zone).strftime("%Y-%m-%d %H:%M")


async def gather(
    school_records: SchoolRecords,
    log: EventStore,
    records: Sequence[concerns.ConcernRecord],
    timezone: str,
) -> list[ExportedConcern]:
    """What the export says of each concern (the people present are read from each log)."""
    zone = ZoneInfo(timezone)
    out = []
    for c in records:
        present = await concerns.people_present(school_records, log, c.session_id, c.happened_at)
        actions = [
            f"{_when(e.happened_at or e.at, zone)} {e.by_name} ({_KINDS.get(e.kind, e.kind)})"
            + (f": {e.text}" if e.text else "")
            for e in c.added
        ]
        out.append(
            ExportedConcern(
                c,
                _when(c.happened_at, zone),
                _when(c.raised_at, zone),
                present,
                actions,
                _when(c.alerted_at, zone) if c.alerted_at is not None else NOT_DELIVERED,
                f"{c.event_seq} {c.event_hash}" if c.event_seq is not None else "",
            )
        )
    return out


_KINDS = {
    concerns.ADDITION: "added",
    concerns.ACTION: "action taken",
    concerns.READ: "read by the DSL",
}


def _rows(exported: Sequence[ExportedConcern]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for x in exported:
        c = x.record
        for pupil in c.pupils or [concerns.PupilRef("", "", "")]:
            rows.append(
                (
                    c.id,
                    pupil.mis_id,
                    pupil.name,
                    x.happened,
                    x.recorded,
                    c.raised_by_name,
                    c.category,
                    c.summary,
                    "; ".join(x.present),
                    " | ".join(x.actions),
                    x.alerted,
                    c.session_title,
                    x.log_entry,
                    c.last_hash,
                )
            )
    return rows


def concerns_csv(exported: Sequence[ExportedConcern]) -> str:
    """The concerns as CSV (RFC 4180 line endings), one row per pupil of each concern."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADINGS)
    for row in _rows(exported):
        writer.writerow(safe_cell(cell) for cell in row)
    return out.getvalue()


def concerns_pdf(
    exported: Sequence[ExportedConcern],
    school: str,
    heading: str,
    *,
    font_dir: Path | None = DEJAVU_DIR,
) -> bytes:
    """The concerns as an A4 PDF: one concern after another, every field in words."""
    pdf = Document(font_dir)
    pdf.set_title(f"{school} - {heading}")
    pdf.set_creator("safeclass")
    pdf.add_page()
    pdf.para(school, size=16, bold=True, height=8)
    pdf.para(heading, size=13, bold=True, height=7)
    pdf.para("Confidential: safeguarding records. Keep them as your school's policy says.", size=9)
    if not exported:
        pdf.para("No concerns were recorded in this time.", size=10)
    for x in exported:
        c = x.record
        pdf.section(f"{c.category or 'Concern'}: {', '.join(p.name for p in c.pupils) or '-'}")
        facts = [
            ("Reference", c.id),
            ("Pupil MIS ids", ", ".join(p.mis_id or "-" for p in c.pupils)),
            ("Time of the event", x.happened),
            ("Time recorded", x.recorded),
            ("Recorded by", c.raised_by_name),
            ("Session", c.session_title or "-"),
            ("People present", "; ".join(x.present) or "-"),
            ("DSL alerted at", x.alerted),
            ("Session log entry", x.log_entry or "-"),
            ("Record hash", c.last_hash),
        ]
        pdf.grid(("Field", "Value"), (40, 146), facts)
        pdf.ln(2)
        pdf.para("Account", size=10, bold=True)
        pdf.para(c.summary, size=10)
        if x.actions:
            pdf.para("Actions and additions", size=10, bold=True)
            for line in x.actions:
                pdf.para(line, size=9)
    return bytes(pdf.output())
