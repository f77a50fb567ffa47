"""The register as PDF: produced for any name, in DejaVu Sans or the built-in Helvetica (C14)."""

from __future__ import annotations

import re
import shutil
import subprocess
import zlib
from pathlib import Path

import pytest

from safeclass.app.register import Register, build_register
from safeclass.app.reports import register_pdf
from safeclass.app.reports.pdf import DEJAVU_DIR
from safeclass.app.timeline import TimelineLine, build_timeline
from safeclass.core import commands as c
from tests.support.lessons import claydon_lesson
from tests.support.rooms import Driver, make_room

LONDON = "Europe/London"

# Names a Welsh, Polish, Turkish or Serbian family may well have, and a removal reason typed
# on a phone (curly apostrophe, an emoji, Chinese): none may stop the report.
ODD_ROSTER = [
    ("p1", "Siân", "Ap Rhys"),
    ("p2", "Zoë-Mae", "O’Neill"),
    ("p3", "Łucja", "Wiśniewska"),
    ("p4", "Şule", "Çelik"),
    ("p5", "Đorđe", "Marković"),
]


def lesson_report(d: Driver) -> tuple[Register, list[TimelineLine]]:
    names = {pid: p.shown_name for pid, p in d.state.plan.expected.items()}
    register = build_register(d.state.plan, d.log, LONDON, policy=d.state.policy)
    return register, build_timeline(d.log, LONDON, names)


def odd_names_lesson() -> Driver:
    d = Driver(make_room("claydon", roster=ODD_ROSTER))
    d.class_in(["p1", "p2", "p3", "p4", "p5"])
    d.at(5).ok(c.Remove("t1", "p5", "didn’t stop 😀 — 不要"))
    d.at(30).ok(c.Tick())
    return d


def _streams(pdf: bytes) -> list[bytes]:
    out = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            out.append(zlib.decompress(stream))
        except zlib.error:
            out.append(stream)
    return out


def _unescape(literal: bytes) -> bytes:
    """A PDF literal string's bytes (backslash escapes resolved)."""
    simple = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}

    def resolve(match: re.Match[bytes]) -> bytes:
        code = match.group(1)
        if code[:1].isdigit():
            return bytes([int(code, 8) & 0xFF])
        return simple.get(code, code)

    return re.sub(rb"\\([0-7]{1,3}|.)", resolve, literal, flags=re.S)


def _shown_strings(streams: list[bytes]) -> list[bytes]:
    return [
        _unescape(literal)
        for stream in streams
        if b"begincmap" not in stream
        for literal in re.findall(rb"\(((?:[^()\\]|\\.)*)\) Tj", stream, re.S)
    ]


def core_font_text(pdf: bytes) -> str:
    """The text drawn with the built-in fonts, whose strings are plain Latin-1 in the PDF."""
    return "\n".join(s.decode("latin-1") for s in _shown_strings(_streams(pdf)))


def embedded_font_text(pdf: bytes) -> str:
    """The text drawn with embedded fonts, read through each font's ToUnicode map.

    fpdf2 writes two-byte glyph codes; every string is decoded with every font's map, so the
    text of each font appears once correctly (and once as noise, which no assertion matches).
    """
    streams = _streams(pdf)
    maps = [
        {
            int(code, 16): bytes.fromhex(unicode.decode()).decode("utf-16-be")
            for code, unicode in re.findall(
                rb"<([0-9A-F]{4})> <([0-9A-F]+)>", stream.split(b"endcodespacerange")[1]
            )
        }
        for stream in streams
        if b"begincmap" in stream
    ]
    return "\n".join(
        "".join(cmap.get(int.from_bytes(raw[i : i + 2], "big"), "?") for i in range(0, len(raw), 2))
        for raw in _shown_strings(streams)
        for cmap in maps
    )


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """The PDF's text: by pdftotext when installed, else through the fonts' ToUnicode maps."""
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        return embedded_font_text(pdf)
    path = tmp_path / "register.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        [pdftotext, str(path), "-"], check=True, capture_output=True, text=True
    ).stdout


# covers: C14, CLA-17, S04-03
def test_register_pdf_is_a_pdf_document():
    pdf = register_pdf(*lesson_report(claydon_lesson()))
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")


# covers: C14, CLA-17, S04-03, C5
def test_register_pdf_in_helvetica_names_every_pupil_with_accents_and_the_hold():
    pdf = register_pdf(*lesson_report(claydon_lesson()), font_dir=None)
    text = core_font_text(pdf)
    for name in ("Amelia R.", "Siân O.", "Zoë-Mae E.", "Noah K.", "Mrs Khan", "Mr Lee"):
        assert name in text
    assert "Claydon Primary School" in text
    assert "Attendance register: Year 2 Maths" in text
    assert "Tuesday 24 November 2026, 10:00-10:30 (Europe/London)" in text
    assert "Room held 1 time, 40 s in all" in text
    assert "1 of 2 required staff present" in text
    assert "Room released (held for 40 s)" in text  # the timeline, on the following pages
    assert "Leo B., removed at 10:12 by Mr Lee: kept unmuting after two reminders" in text


# covers: C14, C4, CLA-15
def test_names_outside_latin_1_are_substituted_in_helvetica_rather_than_crashing():
    pdf = register_pdf(*lesson_report(odd_names_lesson()), font_dir=None)
    text = core_font_text(pdf)
    assert pdf.startswith(b"%PDF-")
    for name in ("Siân A.", "Zoë-Mae O.", "Lucja W.", "Sule Ç.", "Dorde M."):
        assert name in text
    assert "didn't stop ? - ??" in text


# covers: C14, C4, CLA-15
def test_names_outside_latin_1_render_in_dejavu_when_it_is_installed(tmp_path: Path):
    if not (DEJAVU_DIR / "DejaVuSans.ttf").is_file():
        pytest.skip("fonts-dejavu-core is not installed")
    pdf = register_pdf(*lesson_report(odd_names_lesson()))
    assert pdf.startswith(b"%PDF-")
    assert b"DejaVu" in pdf
    text = pdf_text(pdf, tmp_path)
    for name in ("Siân A.", "Zoë-Mae O.", "Łucja W.", "Şule Ç.", "Đorđe M."):
        assert name in text
    assert "didn’t stop" in text


# covers: C14, CLA-17, S04-03, C5
def test_register_pdf_in_dejavu_names_every_pupil_and_the_hold(tmp_path: Path):
    if not (DEJAVU_DIR / "DejaVuSans.ttf").is_file():
        pytest.skip("fonts-dejavu-core is not installed")
    text = pdf_text(register_pdf(*lesson_report(claydon_lesson())), tmp_path)
    for name in ("Amelia R.", "Siân O.", "Zoë-Mae E.", "Noah K.", "Mrs Khan", "Mr Lee"):
        assert name in text
    assert "Room held 1 time, 40 s in all" in text
    assert "Room released (held for 40 s)" in text


# covers: C14
def test_register_pdf_of_a_session_nobody_came_to_is_still_a_document():
    d = Driver(make_room("claydon", pupils=2))
    register, timeline = lesson_report(d)
    assert register_pdf(register, timeline).startswith(b"%PDF-")
    assert register_pdf(register, timeline, font_dir=None).startswith(b"%PDF-")
