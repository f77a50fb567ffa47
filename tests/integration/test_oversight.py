"""The head teacher's view (C19): attendance and punctuality by week, class and pupil, behaviour,
the policy's review date, and the CSVs, on a real server over real HTTP (SQLite and PostgreSQL).

Three ended lessons are driven through the core and written to their logs: two of class 2B a
week apart and one of class "+3C" (a name a spreadsheet would run as a formula). Late means
more than Claydon's 5 minutes (the default `timing.late_after_minutes`) after the planned start.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from safeclass.adapters.store import EventLog, pupil_records, school_records
from safeclass.adapters.store.deliveries import StoreDeliveries
from safeclass.adapters.store.records import StoreRecords
from safeclass.adapters.store.resources import StoreResources
from safeclass.adapters.store.sessions import create_session, load_session
from safeclass.adapters.store.tables import (
    AttendanceMark,
    AttendanceStamp,
    PolicyVersion,
    SessionEvent,
    SessionLogHead,
)
from safeclass.app import oversight
from safeclass.app.clock import AdjustableClock
from safeclass.app.reports.loading import session_report
from safeclass.app.room_log import entries_for
from safeclass.core import Role, SessionKind, new_room
from safeclass.core import commands as c
from safeclass.policy import loads
from safeclass.policy.loading import preset_path
from safeclass.web import oversight_page
from tests.integration.families import MailSink, School, eventually, make_school, staff_http
from tests.integration.live import LiveServer, running, seeded_lesson, staff_cookie
from tests.support.keys import TEST_CHAIN_KEY
from tests.support.rooms import START, Driver

WEEK_ONE = dt.datetime(2026, 11, 24, 10, 0, tzinfo=dt.UTC)  # a Tuesday; London is on UTC
WEEK_TWO = WEEK_ONE + dt.timedelta(days=7)
CONCERN_TEXT = "Saw a bruise on her arm when she reached for the pencil"
PERIOD = "from=2026-11-23&to=2026-12-06"
PCT = ["Attended (%)"]


@dataclass
class World:
    server: LiveServer
    school: School
    head: str  # the head's cookie
    sessions: list[str]
    freya: str  # the pupil of +3C


async def lesson(
    server: LiveServer,
    school_id: str,
    class_id: str,
    pupils: dict[str, str],
    starts_at: dt.datetime,
    script: list[tuple[float, c.Command]],
) -> str:
    """A lesson of `class_id` at `starts_at`, run through the core by `script` (minutes after
    the start, command) and written to its log; ended by the clock at 30 minutes."""
    async with server.services.engine.begin() as conn:
        version = (
            await conn.execute(select(PolicyVersion.id).where(PolicyVersion.school_id == school_id))
        ).scalar_one()
        sid = await create_session(
            conn,
            school_id=school_id,
            policy_version_id=version,
            kind=SessionKind.CLASS,
            title="Maths" if len(pupils) > 1 else "Reading",
            starts_at=starts_at,
            minutes=30,
            pupils=[(pid, name) for name, pid in pupils.items()],
            class_id=class_id,
        )
    stored = await load_session(server.services.engine, sid)
    d = Driver(new_room(stored.plan, stored.policy))
    for minutes, command in [*script, (30, c.Tick())]:
        d.now = starts_at + dt.timedelta(minutes=minutes)
        d.ok(command)
    await EventLog(server.services.engine, TEST_CHAIN_KEY).append(sid, entries_for(d.log))
    return sid


def join(pid: str) -> c.Command:
    return c.RequestToJoin(pid, Role.PUPIL, f"dev-{pid}", acknowledged_expectations=True)


@pytest.fixture
async def world(db_url: str, tmp_path: Path, mail: MailSink) -> AsyncIterator[World]:
    clock = AdjustableClock(WEEK_TWO + dt.timedelta(days=3))
    server = LiveServer(db_url, tmp_path, clock)
    await server.start()
    try:
        school = await make_school(server.services)
        _, head = await staff_cookie(server.services, school.id, "head", "Mrs Head")
        async with server.services.engine.begin() as conn:
            other, _ = await school_records.upsert_class(conn, school.id, "+3C")
            freya = await pupil_records.add_pupil(
                conn, school.id, forename="Freya", surname="Wilson", class_id=other.id
            )
        p = school.pupils
        t1, t2 = school.teacher_id, school.assistant_id
        staff = [
            (-4.0, c.RequestToJoin(t1, Role.TEACHER, "dev-t1", staff_name="Mrs Khan")),
            (-4.0, c.RequestToJoin(t2, Role.ASSISTANT, "dev-t2", staff_name="Mr Lee")),
        ]
        two_b = {"Amelia R.": p["Amelia"], "Oliver S.": p["Oliver"], "Isla J.": p["Isla"]}
        two_b["Noah O."] = p["Noah"]  # opted out: "other"
        first = await lesson(
            server,
            school.id,
            school.class_id,
            two_b,
            WEEK_ONE,
            [
                *staff,
                (-2, join(p["Amelia"])),  # on time
                (0.5, c.AdmitAllExpected(t1)),
                (3, join(p["Isla"])),  # 3 minutes: within Claydon's 5, not late
                (3.5, c.Admit(t1, (p["Isla"],))),
                (7, join(p["Oliver"])),  # 7 minutes: late
                (7.5, c.Admit(t2, (p["Oliver"],))),
                (9, c.AddLogNote(t1, c.NoteKind.INCIDENT, "Threw a pencil", p["Oliver"])),
                (10, c.AddLogNote(t2, c.NoteKind.REWARD, "Lovely reading", p["Amelia"])),
                (11, c.RaiseConcern(t1, CONCERN_TEXT, pupil=p["Amelia"])),
                (12, c.Remove(t1, p["Isla"], "=kept unmuting")),
            ],
        )
        second = await lesson(
            server,
            school.id,
            school.class_id,
            two_b,
            WEEK_TWO,
            [
                *staff,
                (-1, join(p["Oliver"])),  # on time; Amelia is absent
                (0.5, c.AdmitAllExpected(t1)),
                (6, join(p["Isla"])),  # 6 minutes: late
                (6.5, c.Admit(t1, (p["Isla"],))),
            ],
        )
        third = await lesson(
            server,
            school.id,
            other.id,
            {"Freya W.": freya},
            WEEK_ONE + dt.timedelta(hours=1),
            [*staff, (10, join(freya)), (10.5, c.Admit(t1, (freya,)))],  # late by 10
        )
        yield World(server, school, head, [first, second, third], freya)
    finally:
        await server.stop()


async def get(world: World, path: str, cookie: str | None = None) -> tuple[int, str]:
    async with staff_http(world.server, cookie or world.head) as http:
        response = await http.get(path)
    return response.status_code, response.content.decode("utf-8-sig")


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


# covers: C19, CRO-02, STJ-11, C14
async def test_late_means_more_than_the_policys_minutes_after_the_planned_start_by_week(
    world: World,
):
    status, text = await get(world, f"/staff/oversight/weeks.csv?{PERIOD}")
    assert status == 200
    assert rows(text) == [
        [
            "Week beginning",
            "Sessions",
            "Pupils expected",
            "On time",
            "Late",
            "Absent",
            "Other",
            *PCT,
        ],
        # Amelia, Isla (3 min) on time; Oliver (7 min) and Freya (10 min) late; Noah opted out
        ["2026-11-23", "2", "5", "2", "2", "0", "1", "80"],
        # Oliver on time; Isla (6 min) late; Amelia absent; Noah opted out
        ["2026-11-30", "1", "4", "1", "1", "1", "1", "50"],
    ]


# covers: C19, CRO-02
async def test_attendance_by_class_and_by_pupil_with_the_csv_defused(world: World):
    _, text = await get(world, f"/staff/oversight/classes.csv?{PERIOD}")
    assert rows(text)[1:] == [
        ["'+3C", "1", "1", "0", "1", "0", "0", "100"],  # a formula-like class name, defused
        ["2B", "2", "8", "3", "2", "1", "2", "62"],
    ]
    _, text = await get(world, f"/staff/oversight/pupils.csv?{PERIOD}")
    by_name = {row[0]: row[1:] for row in rows(text)[1:]}
    assert by_name["Amelia Roberts"] == ["2B", "2", "2", "1", "0", "1", "0", "50"]
    assert by_name["Isla Jones"] == ["2B", "2", "2", "1", "1", "0", "0", "100"]
    assert by_name["Freya Wilson"] == ["'+3C", "1", "1", "0", "1", "0", "0", "100"]
    # one class only
    _, text = await get(
        world, f"/staff/oversight/classes.csv?{PERIOD}&class={world.school.class_id}"
    )
    assert [row[0] for row in rows(text)[1:]] == ["2B"]


# covers: C19, C14
async def test_stored_figures_equal_what_each_register_says(world: World):
    engine = world.server.services.engine
    await get(world, f"/staff/oversight?{PERIOD}")  # computes and stores the rows
    for sid in world.sessions:
        report = await session_report(
            engine,
            StoreRecords(engine),
            EventLog(engine),
            sid,
            resources=StoreResources(engine),
            deliveries=StoreDeliveries(engine),
        )
        async with engine.connect() as conn:
            stored = {
                row.pupil_id: row
                for row in (
                    await conn.execute(
                        select(AttendanceMark.__table__).where(AttendanceMark.session_id == sid)
                    )
                ).all()
            }
        assert set(stored) == {p.pupil_id for p in report.register.pupils}
        for pupil in report.register.pupils:
            mark = stored[pupil.pupil_id]
            assert mark.status == pupil.status.value
            late = None if pupil.late_by is None else round(pupil.late_by.total_seconds())
            assert mark.late_seconds == late
            assert mark.seconds_present == round(pupil.present.total_seconds())
            assert mark.left_early == pupil.left_early


# covers: C19, CRO-02, CRO-09, C16
async def test_behaviour_is_counted_and_listed_but_a_concern_only_counted(world: World):
    status, page = await get(world, f"/staff/oversight?{PERIOD}")
    assert status == 200
    assert "Threw a pencil" in page and "Lovely reading" in page
    assert "=kept unmuting" in page  # the removal's reason
    assert "1 safeguarding concern was raised in this period" in page
    assert CONCERN_TEXT not in page  # the DSL's alone (staff_roles.may_read_concern)
    assert '<svg class="chart" id="chart-weeks"' in page
    assert '<title id="chart-weeks-title">Attendance by week</title>' in page
    assert "style=" not in page  # nothing the CSP would block
    _, text = await get(world, f"/staff/oversight/behaviour.csv?{PERIOD}")
    table = rows(text)
    assert table[0] == ["Class", *[m.value for m in oversight.MARK_ORDER]]
    assert table[-1] == ["All", "1", "0", "1", "0", "1", "0", "1"]
    assert CONCERN_TEXT not in text


# covers: C19
async def test_a_pupils_own_history_lists_each_lesson(world: World):
    isla = world.school.pupils["Isla"]
    status, page = await get(world, f"/staff/oversight/pupils/{isla}?{PERIOD}")
    assert status == 200
    assert "Isla Jones" in page
    assert "On time 1, late 1, absent 0, other 0." in page
    assert "Removed" in page and "Attended" in page
    status, _ = await get(world, f"/staff/oversight/pupils/not-a-pupil?{PERIOD}")
    assert status == 404


# covers: C19, C21
async def test_only_the_head_may_oversee(world: World):
    status, page = await get(world, "/staff/oversight", world.school.teacher_cookie)
    assert status == 403
    assert "Your account cannot do this" in page
    status, _ = await get(world, "/staff/oversight/weeks.csv", world.school.teacher_cookie)
    assert status == 403


async def adopt(world: World, version: int, review: dt.date) -> None:
    """A new version of Claydon's policy, due for review on `review`."""
    text = preset_path("claydon").read_text("utf-8")
    text = text.replace("version = 1", f"version = {version}", 1)
    text = text.replace("review = 2022-01-04", f"review = {review.isoformat()}", 1)
    async with world.server.services.engine.begin() as conn:
        await school_records.add_policy_version(conn, world.school.id, loads(text), text)


# covers: C19, C20, CRO-17
async def test_the_review_date_is_warned_of_ahead_and_flagged_once_past(world: World):
    today = world.server.clock.now().date()  # Friday 4 December 2026
    await adopt(world, 2, today + dt.timedelta(days=31))
    _, page = await get(world, "/staff/oversight")
    assert "due for review" not in page
    assert "overdue" not in page
    await adopt(world, 3, dt.date(2026, 12, 29))  # 25 days ahead: warned
    for path in ("/staff/oversight", "/staff"):
        _, page = await get(world, path)
        assert "The policy is due for review on 29 December 2026." in page
    _, page = await get(world, "/staff", world.school.teacher_cookie)
    assert "due for review" not in page  # the head's to act on, not every teacher's
    world.server.clock.set(dt.datetime(2026, 12, 30, 9, 0, tzinfo=dt.UTC))
    _, world.head = await staff_cookie(world.server.services, world.school.id, "head", "Mr Head")
    for path in ("/staff/oversight", "/staff"):
        _, page = await get(world, path)
        assert "The policy&#39;s review is overdue since 29 December 2026." in page
    _, page = await get(world, "/staff/oversight?lang=cy")
    assert "29 Rhagfyr 2026" in page


# covers: C19, C14
async def test_a_room_that_ends_keeps_its_rows_at_once(db_url: str, tmp_path: Path):
    """The live room's end stores the session's rows, so the head's page never waits for a
    replay of it; they agree with the register."""
    clock = AdjustableClock(START - dt.timedelta(minutes=3))
    server = LiveServer(db_url, tmp_path, clock)
    async with running(server), seeded_lesson(server, pupils=3) as room:
        teacher = await room.staff("teacher")
        await room.staff("assistant", "Mr Lee")
        await room.pupil("p1")
        assert (await teacher.send("admit_all"))["type"] == "ok"
        clock.advance(dt.timedelta(minutes=8))
        await room.pupil("p2")  # 5 minutes after the start and more: late
        assert (await teacher.send("admit_all"))["type"] == "ok"
        assert (await teacher.send("end"))["type"] in ("ok", "ended")
        engine = server.services.engine

        async def kept() -> bool:
            async with engine.connect() as conn:
                stamp = (
                    await conn.execute(
                        select(AttendanceStamp.late, AttendanceStamp.on_time).where(
                            AttendanceStamp.session_id == room.session_id
                        )
                    )
                ).first()
            return stamp is not None and tuple(stamp) == (1, 1)

        await eventually(kept)
        report = await session_report(
            engine,
            StoreRecords(engine),
            EventLog(engine),
            room.session_id,
            resources=StoreResources(engine),
            deliveries=StoreDeliveries(engine),
        )
        assert report.register.late == 1


# covers: C19
async def test_a_log_deleted_takes_its_rows_with_it(world: World):
    """Retention deletes a session's log with its rows; rows left behind by any other deletion
    are dropped by the next view, so no figure outlives its log."""
    await get(world, f"/staff/oversight?{PERIOD}")  # the rows are kept
    engine = world.server.services.engine
    third = world.sessions[2]  # +3C's lesson
    async with engine.begin() as conn:
        await conn.execute(delete(SessionEvent).where(SessionEvent.session_id == third))
        await conn.execute(delete(SessionLogHead).where(SessionLogHead.session_id == third))
    _, text = await get(world, f"/staff/oversight/classes.csv?{PERIOD}")
    assert [row[0] for row in rows(text)[1:]] == ["2B"]
    async with engine.connect() as conn:
        left = await conn.execute(
            select(AttendanceMark.pupil_id).where(AttendanceMark.session_id == third)
        )
        assert left.all() == []


# covers: C19
async def test_a_page_asked_for_before_the_rows_are_kept_answers_at_once_and_finishes_later(
    world: World, monkeypatch: pytest.MonkeyPatch
):
    """Just after an upgrade no ended session has its rows yet: the page says how many are still
    being added up, a task of its own finishes them, and the next page has every figure."""
    monkeypatch.setattr(oversight_page, "PAGE_BUDGET_S", 0.0)
    _, page = await get(world, f"/staff/oversight?{PERIOD}")
    assert "3 more lessons are still being added up. Reload this page in a minute." in page
    await oversight.FINISHING.task(world.school.id)
    _, page = await get(world, f"/staff/oversight?{PERIOD}")
    assert "still being added up" not in page
    assert "3 lessons from 23 November 2026 to 6 December 2026." in page
