"""The session log beyond attendance, without I/O (C15, CLA-17, CRO-09, CRO-10): the agenda goes
on record as the waiting room opens (and replays), notes and rewards reach the register with who,
when and about whom, only staff may write them, and what a resource may be (a web address, one
of a few file kinds whose first bytes match) is decided before anything is kept.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from safeclass.app import resources
from safeclass.app.register import ResourceLine, build_register
from safeclass.app.reports.cells import session_log_rows
from safeclass.app.reports.spreadsheet import register_csv
from safeclass.core import Refusal, RefusalCode, Role, apply_all, new_room
from safeclass.core import commands as c
from safeclass.core import events as ev
from safeclass.core.timers import SCHEDULE
from tests.support.rooms import START, Driver, make_room


def _with_agenda(agenda: str) -> Driver:
    room = make_room("claydon", pupils=3)
    plan = dataclasses.replace(room.plan, agenda=agenda)
    return Driver(new_room(plan, room.policy), START - dt.timedelta(minutes=10))


# covers: C15, CLA-17
def test_the_agenda_goes_on_record_as_the_waiting_room_opens_and_replays():
    d = _with_agenda("Counting in fives")
    d.at(-5).ok(c.Tick())
    opened = [type(e) for e in d.log]
    assert opened[:2] == [ev.WaitingRoomOpened, ev.LogNoteAdded]
    note = d.log[1]
    assert isinstance(note, ev.LogNoteAdded)
    assert (note.kind, note.by, note.text, note.pupil) == (
        c.NoteKind.AGENDA,
        SCHEDULE,
        "Counting in fives",
        None,
    )
    replayed = apply_all(new_room(d.state.plan, d.state.policy), d.log)
    assert replayed == d.state


# covers: C15
def test_no_agenda_no_note():
    d = _with_agenda("   ")
    d.at(-5).ok(c.Tick())
    assert not any(isinstance(e, ev.LogNoteAdded) for e in d.log)


# covers: C15, CLA-17, CRO-09, CRO-10, C21
def test_notes_and_rewards_reach_the_register_and_only_staff_may_write_them():
    d = _with_agenda("Counting in fives")
    d.at(-4).ok(c.RequestToJoin("t1", Role.TEACHER, "dev-t1", staff_name="Mrs Khan"))
    d.ok(c.RequestToJoin("t2", Role.ASSISTANT, "dev-t2", staff_name="Mr Lee"))
    d.pupil_join("p1")
    d.at(1).ok(c.Admit("t1", ("p1",)))
    d.at(2).ok(c.AddLogNote("t1", c.NoteKind.REWARD, "Counted to 50", pupil="p1"))
    d.at(3).ok(c.AddLogNote("t2", c.NoteKind.INCIDENT, "Sound dropped for all"))
    refused = d.do(c.AddLogNote("p1", c.NoteKind.REWARD, "I am great", pupil="p1"))
    assert isinstance(refused, Refusal) and refused.code is RefusalCode.NOT_PERMITTED
    the_day_before = START - dt.timedelta(hours=20)
    offered = ResourceLine("Counting sheet", "sheet.pdf", "Mrs Khan", the_day_before)
    register = build_register(d.state.plan, d.log, "Europe/London", resources=[offered])
    assert register.agenda == "Counting in fives"
    assert [(n.kind, n.by, n.pupil, n.text) for n in register.notes] == [
        (c.NoteKind.REWARD, "Mrs Khan", register.pupils[0].name, "Counted to 50"),
        (c.NoteKind.INCIDENT, "Mr Lee", None, "Sound dropped for all"),
    ]
    rows = session_log_rows(register)
    assert [row[1] for row in rows] == ["resource added", "agenda", "reward", "incident"]
    assert rows[0] == (
        "23 Nov 14:00",
        "resource added",
        "",
        "Mrs Khan",
        "Counting sheet (sheet.pdf)",
    )
    assert rows[2] == ("10:02", "reward", register.pupils[0].name, "Mrs Khan", "Counted to 50")
    text = register_csv(register)
    assert "\r\n\r\nDate,Session,Time,Entry,Pupil,By,Text\r\n" in text


# covers: C14
def test_a_register_without_a_session_log_gives_the_csv_it_always_did():
    d = Driver(make_room("claydon", pupils=2))
    d.at(-4).ok(c.RequestToJoin("t1", Role.TEACHER, "dev-t1", staff_name="Mrs Khan"))
    register = build_register(d.state.plan, d.log, "Europe/London")
    assert not register.has_session_log
    assert len(register_csv(register).strip().split("\r\n")) == 3  # the header and two pupils


# covers: C15, C21
@pytest.mark.parametrize(
    ("name", "data", "ok"),
    [
        ("sheet.pdf", b"%PDF-1.7 ...", True),
        ("photo.JPG", b"\xff\xd8\xff\xe0...", True),
        ("picture.png", b"\x89PNG\r\n\x1a\n...", True),
        ("words.txt", "Siân's words".encode(), True),
        ("slides.pptx", b"PK\x03\x04...", True),
        ("letter.docx", b"PK\x03\x04...", True),
        ("page.html", b"<html>", False),
        ("sheet.pdf", b"<html><script>", False),  # not what its name says
        ("words.txt", b"\x00\x01binary", False),
        ("run.exe", b"MZ", False),
        ("image.svg", b"<svg onload=alert(1)>", False),
        ("noextension", b"%PDF-", False),
    ],
)
def test_only_a_few_kinds_of_file_are_kept_and_they_must_be_what_they_say(
    name: str, data: bytes, ok: bool
):
    if ok:
        assert resources.check_file("", name, data)[1] == name
    else:
        with pytest.raises(resources.ResourceRefusedError) as refused:
            resources.check_file("", name, data)
        assert refused.value.codes == [("file", "file_type")]


# covers: C15
def test_a_file_too_large_or_missing_is_refused():
    too_big = b"%PDF-" + bytes(resources.MAX_BYTES)
    with pytest.raises(resources.ResourceRefusedError) as big:
        resources.check_file("", "big.pdf", too_big)
    with pytest.raises(resources.ResourceRefusedError) as empty:
        resources.check_file("", "", b"")
    assert big.value.codes == [("file", "file_large")]
    assert empty.value.codes == [("file", "file_missing")]


# covers: C15, C21
@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://www.bbc.co.uk/bitesize", True),
        ("http://example.org/a?b=c", True),
        ("javascript:alert(1)", False),
        ("data:text/html,<script>", False),
        ("file:///etc/passwd", False),
        ("www.example.org", False),
        ("https://", False),
        ("https://exa mple.org", False),
    ],
)
def test_a_link_is_an_http_or_https_address(url: str, ok: bool):
    if ok:
        assert resources.check_link("", url) == (url, url)
    else:
        with pytest.raises(resources.ResourceRefusedError):
            resources.check_link("", url)


# covers: C15
def test_a_files_name_keeps_no_folders_or_odd_characters():
    assert resources.safe_name("../../etc/passwd") == "passwd"
    assert resources.safe_name("C:\\Users\\me\\Counting sheet.pdf") == "Counting sheet.pdf"
    assert resources.safe_name('a"b<c>.pdf') == "a-b-c-.pdf"
    assert resources.safe_name("...") == "file"
