"""A parent stops their child joining live lessons from their link (C17, C23; issue 11, point 6).

Through a real server, a real SMTP server (aiosmtpd) and real room sockets: before a lesson, the
withdrawal is on the staff's lesson page and class page with when and by whom, in the pupil's
consent history, and in one email to each of the lesson's staff; the waiting room then turns the
child away kindly. During a lesson, the child's socket is closed with the reason within seconds,
the staff's view drops them and says why, and the room's log has it. Withdrawing again changes
nothing and emails nobody; a made-up link is slowed like everywhere else.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from safeclass.adapters.store import pupil_records
from safeclass.adapters.store.roster_import import StoreRoster
from safeclass.app.clock import AdjustableClock
from safeclass.app.roster import parse_roster
from safeclass.app.roster_import import import_roster
from safeclass.core import Consent
from tests.integration.families import (
    MailSink,
    School,
    assert_kind,
    family_token,
    make_school,
    schedule,
)
from tests.integration.family_pages import WELSH, browser, main_text
from tests.integration.live import Client, Lesson, LiveServer, running
from tests.support.rooms import START

BY_LINK = "parent, by link"


@pytest.fixture
async def server(db_url: str, tmp_path: Path, mail: MailSink) -> AsyncIterator[LiveServer]:
    # the consent watch looks only every 30 s here: what happens at once is the route's doing
    live = LiveServer(
        db_url,
        tmp_path,
        AdjustableClock(START - dt.timedelta(minutes=30)),
        smtp_host="127.0.0.1",
        smtp_port=mail.port,
        revocations_every_seconds=30.0,
    )
    async with running(live) as started:
        yield started


@pytest.fixture
async def school(server: LiveServer) -> School:
    return await make_school(server.services, "claydon")


async def _history(server: LiveServer, school: School, forename: str) -> list[Any]:
    async with server.services.engine.connect() as conn:
        return await pupil_records.consent_history(conn, school.id, school.pupils[forename])


async def _staff_addresses(server: LiveServer, school: School) -> list[str]:
    from sqlalchemy import select

    from safeclass.adapters.store.tables import Staff

    async with server.services.engine.connect() as conn:
        found = await conn.execute(
            select(Staff.email).where(Staff.id.in_([school.teacher_id, school.assistant_id]))
        )
        return sorted(found.scalars())


# covers: C17, C23, CRO-16, CLA-14
async def test_a_withdrawal_before_the_lesson_reaches_the_staff_the_history_and_the_door(
    server: LiveServer, school: School, mail: MailSink
):
    session_id = await schedule(server, school, starts_at=START)
    token = await family_token(server, school, session_id, "Isla")
    async with browser(server) as family:
        form = main_text((await family.get(f"/join/{token}/absence")).text)
        assert "Stop my child joining live lessons" in form
        assert "should not take part" not in form  # asking is replaced by doing
        confirm = await family.get(f"/join/{token}/withdraw")
        assert confirm.status_code == 200
        asked = main_text(confirm.text)
        assert "Stop Isla J. joining live lessons?" in asked, asked
        assert (
            "Isla J. cannot join this or any live lesson until the school hears from you again."
            in asked
        )
        assert "If Isla J. is in a lesson now, they leave it at once." in asked
        assert "Only the school can let Isla J. join live lessons again." in asked
        assert confirm.headers["Cache-Control"].startswith("no-store")
        assert confirm.headers["Referrer-Policy"] == "no-referrer"
        assert await _history(server, school, "Isla") == []  # asking changes nothing

        done = await family.post(f"/join/{token}/withdraw")
        assert done.status_code == 200
        said = main_text(done.text)
        assert_kind(said)
        assert "Isla J. will not join live lessons" in said, said
        assert (
            "Mrs Khan (teacher) and Mr Lee (teaching assistant) will see this on the lesson's "
            "page before it starts." in said
        )
        assert "Only the school can let Isla J. join live lessons again." in said

        # the consent history: one row, never overwriting, with when, basis and source
        history = await _history(server, school, "Isla")
        assert [(h.basis, h.source, h.session_id) for h in history] == [
            (Consent.REFUSED, BY_LINK, session_id)
        ]
        # when: the server's clock (it runs on from 09:30)
        assert abs(history[0].changed_at - (START - dt.timedelta(minutes=30))) < dt.timedelta(
            minutes=1
        )
        assert history[0].recorded_at == history[0].changed_at

        # one email to each of the lesson's staff, with nothing but the name and the lesson
        staff = await _staff_addresses(server, school)
        arrived = await mail.wait_for(2)
        assert sorted(m["To"] for m in arrived) == staff
        message = arrived[0]
        assert "Isla J.'s parent has withdrawn consent for live lessons" in message["Subject"]
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        assert f"/staff/sessions/{session_id}" in str(body.get_content())

        # the link no longer lets the child in: a kind page, and the door says why
        opened = await family.get(f"/join/{token}", follow_redirects=False)
        assert opened.status_code == 403
        assert "Isla J. is not taking part in live sessions." in main_text(opened.text)
        assert_kind(main_text(opened.text))

    # the lesson's page: at the top with the others' reports, and beside the pupil, with when
    async with browser(server, school.teacher_cookie) as teacher:
        lesson = main_text((await teacher.get(f"/staff/sessions/{session_id}")).text)
        top = lesson[lesson.index("Told by families") : lesson.index("Class list")]
        assert "Isla J. : Has withdrawn consent, so cannot join live lessons" in top
        assert "(at 09:30)" in top
        assert "The family left no note." not in top
        beside = lesson[lesson.index("Class list") :]
        isla = beside[beside.index("Isla J.") :]
        assert (
            isla.index("Does not take part: the parent withdrew consent through the link (09:30)")
            < 100
        ), isla
        assert "Their family says" not in isla[: isla.index("Noah")]  # said once, not twice
        assert "1 pupil takes part" not in lesson  # Noah and Isla are out; Amelia and Oliver in
        assert "2 pupils take part" in lesson
        klass = main_text((await teacher.get(f"/staff/classes/{school.class_id}")).text)
        assert "the parent withdrew consent through the link (" in klass
        assert "09:30)" in klass
        home = main_text((await teacher.get("/staff")).text)
        assert "1 family has told the school something about today's lessons." in home

    # the waiting room: a device that opened the link before is turned away, kindly
    server.clock.set(START - dt.timedelta(minutes=2))
    lesson_room = Lesson(server, session_id, school.id)
    try:
        child = await lesson_room.pupil(school.pupils["Isla"], join=False)
        reply = await child.send("join", acknowledged_expectations=True)
        assert reply["type"] == "refused"
        assert reply["message"].startswith(
            "Isla J. is not taking part in live sessions: their family has said no"
        ), reply
    finally:
        await lesson_room.close()


# covers: C17, C23, CRO-16, CLA-14
async def test_a_withdrawal_during_a_live_lesson_takes_the_child_out_within_seconds(
    server: LiveServer, school: School, mail: MailSink
):
    session_id = await schedule(server, school, starts_at=START)
    token = await family_token(server, school, session_id, "Isla")
    server.clock.set(START - dt.timedelta(minutes=2))
    room = Lesson(server, session_id, school.id)
    try:
        teacher = await Client(server, session_id, school.teacher_cookie, "teacher").connect()
        assistant = await Client(server, session_id, school.assistant_cookie, "ta").connect()
        room.clients += [teacher, assistant]
        for adult in (teacher, assistant):
            assert (await adult.send("join"))["type"] == "ok"
        isla = await room.pupil(school.pupils["Isla"])
        oliver = await room.pupil(school.pupils["Oliver"])
        assert (await teacher.send("admit_all"))["type"] == "ok"
        for child in (isla, oliver):
            await child.wait_for(
                lambda m: (
                    m["type"] == "state" and (m["view"]["me"] or {}).get("status") == "admitted"
                )
            )
        seen = len(teacher.messages)

        async with browser(server) as family:
            asked_at = asyncio.get_running_loop().time()
            done = await family.post(f"/join/{token}/withdraw")
            assert done.status_code == 200
            assert "Isla J. will not join live lessons" in main_text(done.text)

        # the child's socket is closed with the reason, within seconds (the watch is 30 s away)
        await asyncio.wait_for(isla.closed.wait(), 3)
        assert asyncio.get_running_loop().time() - asked_at < 3
        assert isla.close_code == 4004
        assert "not taking part" in isla.close_reason
        # the staff's view drops her and says why; Oliver stays
        isla_id = school.pupils["Isla"]
        told = await teacher.wait_for(
            lambda m: any(
                e["type"] == "ConsentChanged" and e.get("source") == BY_LINK
                for e in m.get("events", [])
            ),
            start=seen,
        )
        view = told["view"]
        expected = {p["id"]: p for p in view["expected"]}
        assert expected[isla_id]["consent"] == "refused"
        assert not expected[isla_id]["may_take_part"]
        assert isla_id not in [p["id"] for p in view["waiting"]]
        status = {p["id"]: p["status"] for p in view["people"]}
        assert status.get(isla_id) != "admitted"
        assert status[school.pupils["Oliver"]] == "admitted"
        assert not oliver.closed.is_set()

        # the room's log has it, with the source
        entries = await server.services.event_log.read(session_id)
        changed = [e for e in entries if e.type == "ConsentChanged"]
        assert len(changed) == 1
        assert changed[0].payload == {"pupil": isla_id, "consent": "refused", "source": BY_LINK}
        assert [e.type for e in entries].count("PupilWithdrawn") == 1
        # the history has it too, and the staff have their email
        history = await _history(server, school, "Isla")
        assert [(h.basis, h.source) for h in history] == [(Consent.REFUSED, BY_LINK)]
        await mail.wait_for(2)
    finally:
        await room.close()


# covers: C23, CRO-16
async def test_withdrawing_again_changes_nothing_and_emails_nobody(
    server: LiveServer, school: School, mail: MailSink
):
    session_id = await schedule(server, school, starts_at=START)
    token = await family_token(server, school, session_id, "Oliver")
    async with browser(server) as family:
        first = await asyncio.gather(
            family.post(f"/join/{token}/withdraw"), family.post(f"/join/{token}/withdraw")
        )
        assert sorted(r.status_code for r in first) == [200, 200]
        await mail.wait_for(2)
        for _ in range(5):
            again = await family.post(f"/join/{token}/withdraw")
            assert again.status_code == 200
            said = main_text(again.text)
            assert "already say Oliver S. does not join live lessons" in said, said
            assert "we have not told the staff again" in said
        # the family's page says so instead of offering the button again
        form = main_text((await family.get(f"/join/{token}/absence")).text)
        assert "Oliver S. does not join live lessons now." in form
        # the report form still works, and still counts its own limits
        told = await family.post(f"/join/{token}/absence", data={"reason": "cannot_get_in"})
        assert told.status_code == 200
        # a withdrawal cannot be slipped in as a report, nor the old "should not take part"
        for reason in ("withdrew_consent", "not_taking_part"):
            sent = await family.post(f"/join/{token}/absence", data={"reason": reason})
            assert sent.status_code == 400
    await asyncio.sleep(1.0)  # anything more would have been sent by now
    assert len(mail.received) == 4  # the withdrawal once and the report once, to each of two
    assert len(await _history(server, school, "Oliver")) == 1
    async with browser(server, school.teacher_cookie) as teacher:
        lesson = main_text((await teacher.get(f"/staff/sessions/{session_id}")).text)
        top = lesson[lesson.index("Told by families") : lesson.index("Class list")]
        assert top.count("Has withdrawn consent") == 1


# covers: C23, C2
async def test_made_up_links_to_the_withdrawal_are_slowed_per_address_and_change_nothing(
    server: LiveServer, school: School, mail: MailSink
):
    """A guesser at another address is slowed after ten made-up links in a minute, before
    anything is looked up; the family at home is not, and their withdrawal goes through."""
    session_id = await schedule(server, school, starts_at=START)
    token = await family_token(server, school, session_id, "Amelia")
    guessing = {"X-Forwarded-For": "203.0.113.66"}  # the test server believes loopback's
    async with browser(server, headers=guessing) as guesser:
        answers = [
            (await guesser.post(f"/join/made-up-{i:02d}-xxxxxxxxxxxxxxxxxxxx/withdraw")).status_code
            for i in range(12)
        ]
        assert answers[0] == 404
        assert answers[-1] == 429
        # slowed before anything is looked up: even a real link from that address waits
        slowed = await guesser.post(f"/join/{token}/withdraw")
        assert slowed.status_code == 429
        assert slowed.headers["Retry-After"]
    assert await _history(server, school, "Amelia") == []
    assert mail.received == []
    async with browser(server) as family:  # at home: another address, never slowed
        assert (await family.post(f"/join/{token}/withdraw")).status_code == 200
    assert [h.source for h in await _history(server, school, "Amelia")] == [BY_LINK]


# covers: C18, C23
async def test_the_withdrawal_in_welsh(server: LiveServer, school: School, mail: MailSink):
    session_id = await schedule(server, school, starts_at=START)
    token = await family_token(server, school, session_id, "Amelia")
    async with browser(server, headers=WELSH) as family:
        form = main_text((await family.get(f"/join/{token}/absence")).text)
        assert "Atal fy mhlentyn rhag ymuno â gwersi byw" in form
        asked = main_text((await family.get(f"/join/{token}/withdraw")).text)
        assert "Atal Amelia R. rhag ymuno â gwersi byw?" in asked
        done = main_text((await family.post(f"/join/{token}/withdraw")).text)
        assert "Fydd Amelia R. ddim yn ymuno â gwersi byw" in done, done
    async with browser(server, school.teacher_cookie, WELSH) as teacher:
        lesson = main_text((await teacher.get(f"/staff/sessions/{session_id}")).text)
        assert "Wedi tynnu caniatâd yn ôl" in lesson
        assert "tynnodd y rhiant ganiatâd yn ôl drwy'r ddolen (09:30)" in lesson


# covers: C17, C23, CRO-16, S04-18
async def test_an_older_mis_export_does_not_undo_a_parents_withdrawal(
    server: LiveServer, school: School
):
    session_id = await schedule(server, school, starts_at=START)
    token = await family_token(server, school, session_id, "Amelia")
    async with browser(server) as family:
        assert (await family.post(f"/join/{token}/withdraw")).status_code == 200
    header = "Legal Forename,Legal Surname,Reg Group,DOB,Consent,Consent Date"
    stale = parse_roster(f"{header}\nAmelia,Roberts,2B,,given,2026-09-01\n".encode(), "mis.csv")
    roster = StoreRoster(server.services.engine)
    summary = await import_roster(roster, school.key, stale, now=server.clock.now())
    assert summary.consent_kept == (
        "line 2: Amelia Roberts stays 'refused' (a parent withdrew consent through their "
        "child's link after the file's consent date)",
    )
    history = await _history(server, school, "Amelia")
    assert [(h.basis, h.source) for h in history] == [(Consent.REFUSED, BY_LINK)]
    # the school heard from the family again: a consent dated after the withdrawal is recorded
    fresh = parse_roster(f"{header}\nAmelia,Roberts,2B,,given,2026-11-25\n".encode(), "mis.csv")
    await import_roster(roster, school.key, fresh, now=server.clock.now())
    history = await _history(server, school, "Amelia")
    assert [(h.basis, h.source) for h in history] == [
        (Consent.REFUSED, BY_LINK),
        (Consent.GIVEN, "roster import mis.csv"),
    ]
