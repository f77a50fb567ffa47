"""The register as an A4 PDF (C14): the session, the pupils, the staff, the holds, the timeline.

Text is set in DejaVu Sans when Debian's fonts-dejavu-core is installed (it covers Welsh,
Polish, Turkish and most other names a school roster holds) and otherwise in the built-in
Helvetica, which only has Latin-1. Either way every character the font lacks is replaced
(’ by ', Ł by L, anything else by ?) before fpdf2 sees it, so no name can stop the report.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace, TTFFont

from safeclass.app.register import Register
from safeclass.app.reports.cells import (
    LOG_HEADINGS,
    duration,
    hhmm,
    hold_reason,
    number,
    session_log_rows,
    summary,
)
from safeclass.app.timeline import TimelineLine

DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")
_REGULAR, _BOLD = "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"

# Stand-ins for punctuation a font may lack (the core fonts have none of these).
_PLAIN = {
    "‘": "'",
    "’": "'",
    "‚": ",",
    "“": '"',
    "”": '"',
    "„": '"',
    "–": "-",
    "—": "-",
    "−": "-",
    "…": "...",
    "•": "-",
    "\u00a0": " ",
    "\u2009": " ",
    "\u202f": " ",
    "Ł": "L",
    "ł": "l",
    "Đ": "D",
    "đ": "d",
    "Ø": "O",
    "ø": "o",
    "ı": "i",
    "ß": "ss",
    "Æ": "AE",
    "æ": "ae",
    "Œ": "OE",
    "œ": "oe",
}

_HEADING = FontFace(emphasis="BOLD", fill_color=(225, 225, 225))
_PUPIL_COLUMNS = (  # mm; 186 in all, the width of A4 inside the margins
    ("Pupil", 38),
    ("Status", 21),
    ("Waiting", 15),
    ("Admitted", 17),
    ("Left", 12),
    ("Minutes", 15),
    ("Late by", 14),
    ("Left early", 13),
    ("Reconn.", 15),
    ("Camera off", 14),
    ("Hands", 12),
)


def register_pdf(
    register: Register,
    timeline: Sequence[TimelineLine],
    *,
    font_dir: Path | None = DEJAVU_DIR,
) -> bytes:
    """The register (and the timeline, on the following pages) as PDF bytes.

    `font_dir` is where DejaVu Sans is looked for; None (or a folder without it) uses Helvetica.
    """
    pdf = _Document(font_dir)
    facts = register.facts
    heading = f"Attendance register: {facts.title or 'session'}"
    pdf.set_title(f"{facts.school} - {heading}" if facts.school else heading)
    pdf.set_creator("safeclass")
    pdf.add_page()
    _title(pdf, register)
    _pupils(pdf, register)
    _removals(pdf, register)
    _staff(pdf, register)
    _holds(pdf, register)
    _session_log(pdf, register)
    if timeline:
        pdf.add_page()
        _timeline(pdf, timeline)
    return bytes(pdf.output())


class _Document(FPDF):
    """A4 portrait with a page-number footer, and text made safe for the chosen font (other
    reports use it too, as `Document`)."""

    def __init__(self, font_dir: Path | None) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.set_margins(12, 12, 12)
        self.set_auto_page_break(auto=True, margin=15)
        self.text_family, self.supported = self._fonts(font_dir)

    def _fonts(self, font_dir: Path | None) -> tuple[str, frozenset[int] | None]:
        if (
            font_dir is not None
            and (font_dir / _REGULAR).is_file()
            and (font_dir / _BOLD).is_file()
        ):
            self.add_font("DejaVu", "", font_dir / _REGULAR)
            self.add_font("DejaVu", "B", font_dir / _BOLD)
            covered: frozenset[int] | None = None
            for key in ("dejavu", "dejavuB"):
                font = self.fonts[key]
                if isinstance(font, TTFFont):
                    codes = frozenset(font.cmap)
                    covered = codes if covered is None else covered & codes
            return "DejaVu", covered or frozenset(range(32, 256))
        return "Helvetica", frozenset(range(32, 256))

    def style(self, size: float, bold: bool = False) -> None:
        self.set_font(self.text_family, "B" if bold else "", size)

    def clean(self, text: str) -> str:
        """`text` with every character the font lacks replaced, and no control characters."""
        supported = self.supported or frozenset()
        out: list[str] = []
        for ch in unicodedata.normalize("NFC", text):
            if ord(ch) in supported:
                out.append(ch)
            elif ch in "\n\r\t":
                out.append(" ")
            elif ch in _PLAIN and all(ord(c) in supported for c in _PLAIN[ch]):
                out.append(_PLAIN[ch])
            else:
                base = "".join(
                    c
                    for c in unicodedata.normalize("NFKD", ch)
                    if not unicodedata.combining(c) and ord(c) in supported
                )
                out.append(base or "?")
        return "".join(out)

    def para(self, text: str, size: float = 10, bold: bool = False, height: float = 5.5) -> None:
        self.style(size, bold)
        self.multi_cell(0, height, self.clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT, align="L")

    def section(self, text: str) -> None:
        self.ln(3)
        self.para(text, size=12, bold=True, height=7)

    def grid(
        self, headings: Sequence[str], widths: Sequence[float], rows: Sequence[Sequence[str]]
    ) -> None:
        self.style(8)
        with self.table(
            col_widths=tuple(widths),
            width=sum(widths),
            align="LEFT",
            text_align="LEFT",
            line_height=4.5,
            headings_style=_HEADING,
            padding=0.8,
        ) as table:
            head = table.row()
            for text in headings:
                head.cell(self.clean(text))
            for values in rows:
                row = table.row()
                for text in values:
                    row.cell(self.clean(text))

    def footer(self) -> None:
        self.set_y(-11)
        self.style(8)
        self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="C")


def _title(pdf: _Document, register: Register) -> None:
    facts = register.facts
    start = facts.planned_start
    if facts.school:
        pdf.para(facts.school, size=16, bold=True, height=8)
    pdf.para(f"Attendance register: {facts.title or 'session'}", size=13, bold=True, height=7)
    when = f"{start:%A} {start.day} {start:%B %Y}, {hhmm(start)}–{hhmm(facts.planned_end)}"
    pdf.para(f"{when} ({facts.timezone})", size=11, height=6)
    pdf.ln(2)
    for sentence in summary(register):
        pdf.para(sentence, size=9, height=4.8)


def _pupils(pdf: _Document, register: Register) -> None:
    pdf.section("Pupils")
    rows = [
        (
            p.name,
            p.status.value,
            hhmm(p.waiting_at),
            hhmm(p.admitted_at),
            hhmm(p.left_at),
            number(p.minutes_present),
            number(p.late_minutes),
            ("yes" if p.left_early else "no") if p.admitted_at is not None else "",
            str(p.reconnections),
            str(p.cameras_turned_off),
            str(p.hands_raised),
        )
        for p in register.pupils
    ]
    headings = [name for name, _ in _PUPIL_COLUMNS]
    widths = [width for _, width in _PUPIL_COLUMNS]
    pdf.grid(headings, widths, rows)
    threshold = int(register.facts.late_after.total_seconds() // 60)
    late = f"more than {threshold} min after it" if threshold else "after it"
    pdf.para(
        "Times are when the pupil first joined the waiting room, was first admitted and last "
        "left; late is counted from the planned start to joining the waiting room, and a pupil "
        f"is late who joined {late} (the policy's setting).",
        size=7,
        height=4,
    )


def _removals(pdf: _Document, register: Register) -> None:
    removed = [p for p in register.pupils if p.removed_by is not None]
    if not removed:
        return
    pdf.section("Removals")
    for p in removed:
        why = f": {p.removal_reason}" if p.removal_reason else " (no reason given)"
        pdf.para(f"{p.name}, removed at {hhmm(p.left_at)} by {p.removed_by}{why}", size=9)


def _staff(pdf: _Document, register: Register) -> None:
    pdf.section("Staff")
    if not register.staff:
        pdf.para("No staff joined.", size=9)
        return
    rows = [
        (
            s.name,
            s.role.value,
            hhmm(s.joined_at),
            hhmm(s.left_at),
            number(s.minutes_present),
            str(s.reconnections),
        )
        for s in register.staff
    ]
    headings = ("Name", "Role", "Joined", "Left", "Minutes present", "Reconnections")
    pdf.grid(headings, (56, 30, 20, 20, 30, 30), rows)


def _holds(pdf: _Document, register: Register) -> None:
    facts = register.facts
    pdf.section("Holds (two-adult and parent rules)")
    if not facts.holds:
        pdf.para("The room was never held.", size=9)
        return
    rows = [
        (
            h.started_at.strftime("%H:%M:%S"),
            h.ended_at.strftime("%H:%M:%S"),
            duration(h.duration),
            hold_reason(h),
        )
        for h in facts.holds
    ]
    pdf.grid(("Held at", "Released at", "For", "Why"), (22, 22, 22, 120), rows)
    pdf.para(f"Total time held: {duration(facts.total_hold)}", size=9)


def _session_log(pdf: _Document, register: Register) -> None:
    """The agenda, the notes and rewards (who, when, which pupil, what), the resources (C15)."""
    pdf.section("Session log: agenda, notes, rewards and resources")
    if not register.has_session_log:
        pdf.para("No agenda, notes, rewards or resources.", size=9)
        return
    rows = session_log_rows(register)
    pdf.grid(LOG_HEADINGS, (14, 26, 30, 30, 86), rows)


def _timeline(pdf: _Document, timeline: Sequence[TimelineLine]) -> None:
    pdf.para("Timeline", size=13, bold=True, height=7)
    rows = [(line.at.strftime("%H:%M:%S"), line.text) for line in timeline]
    pdf.grid(("Time", "What happened"), (18, 168), rows)


Document = _Document
