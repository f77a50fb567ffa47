"""Parents told, and the DSL alerted, by email and by the school's signed webhook (issue 11).

Where a user meets it: a real server (uvicorn on loopback, WebSocket clients as the staff's and
pupils' pages), a real SMTP server (aiosmtpd) as the families' and the DSL's mail, and a real
webhook receiver on loopback as the school's messaging platform (Class Dojo, Tapestry), reading
what arrived. A removal reaches the family only after the end (STJ-06, S04-16), a camera turned
off reaches them (S04-16), an absence reaches the family of a pupil who never came and not the
one who had said so (CRO-16); a DSL alert reaches the DSL both ways within a second, with no
detail (WER-14, S04-19); signatures verify and a tampered body does not; a platform that fails
twice gets the notice once, under one delivery id; a server killed between queueing and sending
sends each notice exactly once after restart; and with no way to send, staff are told.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import json
import re
import signal
import time
import types
from pathlib import Path
from typing import Any

import httpx
from bench.server_process import ServerProcess
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from safeclass.adapters.notify.webhook import verify
from safeclass.adapters.store import connect, school_records
from safeclass.adapters.store.tables import Notification, Pupil
from safeclass.app import invitations
from safeclass.app.clock import AdjustableClock, SystemClock
from safeclass.cli.main import app as cli_app
from tests.integration.families import (
    MailSink,
    School,
    eventually,
    family_token,
    make_school,
    parent_email,
    parts,
    staff_http,
)
from tests.integration.hooks import SECRET, Hooks
from tests.integration.live import Client, LiveServer, free_port, pupil_cookie
from tests.integration.test_dsl_alerts import Served, end_in_emergency, lesson, starting_now
from tests.support.rooms import START

FAMILIES = [
    ("Amelia", "Roberts", None),  # removed
    ("Oliver", "Smith", None),  # camera turned off
    ("Isla", "Jones", None),  # never comes
    ("Jack", "Evans", None),  # never comes; the family said so through their link
    ("Noah", "O'Neill", "refused"),  # opted out: nobody expects him
]
DSL = "dsl@s04.test"


async def notices_server(
    db_url: str,
    tmp_path: Path,
    mail: MailSink | None,
    hooks: Hooks | None,
    every: float = 5.0,
    **settings: Any,
) -> LiveServer:
    if mail is not None:
        settings |= {"smtp_host": "127.0.0.1", "smtp_port": mail.port}
    if hooks is not None:
        settings |= {"webhook_url": hooks.url, "webhook_secret": SECRET}
    server = await LiveServer(
        db_url,
        tmp_path,
        AdjustableClock(START - dt.timedelta(minutes=3)),
        outbox_every_seconds=every,
        **settings,
    ).start()
    return server


async def s04_school(services: Any, preset: str = "s04") -> School:
    """A school on the S04 protocol (camera-off and absence notices on), with MIS ids and a DSL."""
    school = await make_school(services, preset, FAMILIES)
    async with services.engine.begin() as conn:
        for forename, pupil_id in school.pupils.items():
            await conn.execute(
                update(Pupil).where(Pupil.id == pupil_id).values(mis_id=f"MIS-{forename}")
            )
        await school_records.add_staff(conn, school.id, name="Ms Patel", email=DSL, role="dsl")
    return school


async def pupil_joins(server: Any, school: School, session_id: str, forename: str) -> Client:
    cookie = await pupil_cookie(server.services, school.id, session_id, school.pupils[forename])
    client = await Client(server, session_id, cookie, forename).connect()
    reply = await client.send("join", acknowledged_expectations=True)
    assert reply["type"] == "ok", reply
    return client


async def timeline(db_url: str, session_id: str) -> str:
    runner = CliRunner(env={"COLUMNS": "250"})
    shown = await asyncio.to_thread(
        runner.invoke, cli_app, ["report", "timeline", session_id, "--database-url", db_url]
    )
    assert shown.exit_code == 0, shown.output
    return shown.output


async def end(teacher: Client) -> None:
    """The teacher ends the lesson: everyone is disconnected at once, the teacher too."""
    await teacher.send_raw(json.dumps({"type": "end"}))
    await asyncio.wait_for(teacher.closed.wait(), 5)


def tampered(body: bytes) -> bytes:
    return body.replace(b'"reason":"', b'"reason":"x', 1)


# covers: STJ-06, S04-16, C10, CRO-16, C23, C14
async def test_families_hear_of_removal_camera_off_and_absence_by_email_and_webhook_at_the_end(
    db_url: str, tmp_path: Path, mail: MailSink
):
    hooks = await Hooks().start()
    server = await notices_server(db_url, tmp_path, mail, hooks, every=3600)
    try:
        school = await s04_school(server.services)
        pupils = school.pupils
        session_id, teacher, assistant = await lesson(server, school)
        # Jack's family told the school through their link that he would not be there
        token = await family_token(server, school, session_id, "Jack")
        _, reported = await invitations.report_to_school(
            server.services.invitations,
            token,
            server.clock.now(),
            invitations.ReportReason.ABSENT,
            "He is unwell today",
        )
        assert reported is not None
        outbox = server.services.outbox
        assert outbox is not None
        await outbox.run_once()
        await mail.wait_for(2)  # the lesson's staff are told of the family's report
        assert all(str(m["To"]).endswith("@school.test") for m in mail.received)
        mail.received.clear()
        mail.arrived.clear()

        amelia = await pupil_joins(server, school, session_id, "Amelia")
        oliver = await pupil_joins(server, school, session_id, "Oliver")
        admitted = await teacher.send("admit", pupils=[pupils["Amelia"], pupils["Oliver"]])
        assert admitted["type"] == "ok", admitted
        assert (await teacher.send("camera_on", target=pupils["Oliver"]))["type"] == "ok"
        assert (await teacher.send("camera_off", target=pupils["Oliver"]))["type"] == "ok"
        removed = await teacher.send("remove", pupil=pupils["Amelia"], reason="kept shouting")
        assert removed["type"] == "ok", removed
        await asyncio.sleep(0.5)
        await outbox.run_once()
        assert mail.received == [] and hooks.arrived == []  # not before the end (STJ-06)

        server.clock.set(START + dt.timedelta(minutes=20))  # the lesson is on: absent is absent
        ended_at = time.monotonic()
        await end(teacher)
        # Amelia's, Oliver's and Isla's families, each once by email and once by webhook
        await mail.wait_for(3)
        await hooks.wait_for(3)
        # at the end itself, not at the outbox's next look (it never looks again here)
        assert max(hooks.arrived[-1].at, mail.arrived[-1]) - ended_at < 5.0
        await asyncio.sleep(0.5)  # nothing more comes
        assert len(mail.received) == 3 and len(hooks.arrived) == 3

        by_email = {m["To"]: m for m in mail.received}
        assert set(by_email) == {parent_email(n) for n in ("Amelia", "Oliver", "Isla")}
        removal, _ = parts(by_email[parent_email("Amelia")])
        assert "Amelia was asked to leave today's live session (Year 2 Maths" in removal
        assert "shouting" not in removal  # what happened, no more
        camera, _ = parts(by_email[parent_email("Oliver")])
        assert "Oliver's camera was turned off by staff in today's live session" in camera
        absent, _ = parts(by_email[parent_email("Isla")])
        assert "Isla did not join today's live session (Year 2 Maths" in absent
        assert "please let the school know" in absent

        for arrived in hooks.arrived:
            assert arrived.verifies()
            assert not verify(SECRET, tampered(arrived.body), arrived.signature, arrived.timestamp)
            assert not arrived.verifies("another school's secret")
        said = {a.payload["pupil"]["mis_id"]: a.payload for a in hooks.arrived}
        assert set(said) == {"MIS-Amelia", "MIS-Oliver", "MIS-Isla"}  # not Jack, not Noah
        amelia_hook = said["MIS-Amelia"]
        assert amelia_hook["type"] == "safeclass.parent_notice"
        assert amelia_hook["reason"] == "removed"
        assert amelia_hook["session"]["title"] == "Year 2 Maths"
        assert amelia_hook["session"]["starts_at"] == START.isoformat()
        assert amelia_hook["pupil"]["shown_name"] == "Amelia R."
        assert "shouting" not in str(amelia_hook)
        assert "Amelia was asked to leave" in amelia_hook["message"]["text"]
        assert said["MIS-Oliver"]["reason"] == "camera_turned_off"
        assert said["MIS-Isla"]["reason"] == "absent"
        assert len({a.payload["id"] for a in hooks.arrived}) == 3

        async def told() -> bool:
            shown = await timeline(db_url, session_id)
            return shown.count("by email and by the school's messaging webhook") == 3

        await eventually(told, timeout=15)
        shown = await timeline(db_url, session_id)
        assert re.search(
            r"Parent of Amelia R\. to be told \(removal\) at the end of the session; told at "
            r"\d\d:\d\d by email and by the school's messaging webhook",
            shown,
        )
        assert "Parent of Isla J. to be told (absence: never came); told at" in shown
        assert "Jack" not in shown
        for client in (amelia, oliver, teacher, assistant):
            await client.close()
    finally:
        await server.stop()
        await hooks.stop()


# covers: WER-14, S04-19, C12, C16
async def test_a_dsl_alert_reaches_the_dsl_by_email_and_webhook_within_a_second(
    db_url: str, tmp_path: Path, mail: MailSink
):
    hooks = await Hooks().start()
    staff_hooks = await Hooks().start()  # the school's separate webhook for staff alerts
    server = await notices_server(
        db_url,
        tmp_path,
        mail,
        hooks,
        staff_webhook_url=staff_hooks.url,
        staff_webhook_secret="the-staff-channel-secret",  # noqa: S106 - a test secret
    )
    try:
        school = await s04_school(server.services)
        session_id, teacher, assistant = await lesson(server, school)
        ended_at = time.monotonic()
        await end_in_emergency(teacher, assistant, "a stranger on a pupil's screen")
        (alert,) = await mail.wait_for(1)
        (arrived,) = await staff_hooks.wait_for(1)
        assert mail.arrived[0] - ended_at < 1.0 and arrived.at - ended_at < 1.0
        assert alert["To"] == DSL
        assert arrived.verifies("the-staff-channel-secret")
        payload = arrived.payload
        assert payload["type"] == "safeclass.dsl_alert"
        assert payload["reason"] == "emergency_end"
        assert payload["raised_by"] == "Mrs Khan"
        assert payload["link"] == f"{server.url}/room/{session_id}"
        assert payload["session"]["title"] == "Year 2 Maths"
        assert "pupil" not in payload and "stranger" not in arrived.body.decode()
        await asyncio.sleep(0.3)
        assert hooks.arrived == []  # the school's (families') platform hears nothing of it
    finally:
        await server.stop()
        await hooks.stop()
        await staff_hooks.stop()


# covers: WER-14, S04-19, C12
async def test_on_a_server_with_only_the_schools_webhook_the_dsl_alert_goes_there(
    db_url: str, tmp_path: Path
):
    hooks = await Hooks().start()
    server = await notices_server(db_url, tmp_path, None, hooks)  # no SMTP, no staff webhook
    try:
        school = await s04_school(server.services, "claydon")  # absence notices off
        session_id, teacher, assistant = await lesson(server, school)
        server.clock.set(START + dt.timedelta(minutes=5))
        await end_in_emergency(teacher, assistant)
        (arrived,) = await hooks.wait_for(1)
        assert arrived.verifies()
        assert arrived.payload["type"] == "safeclass.dsl_alert"
        assert arrived.payload["reason"] == "emergency_end"
        await asyncio.sleep(0.3)
        assert len(hooks.arrived) == 1  # Claydon does not tell families of an absence
        async with server.services.engine.connect() as conn:
            channels = (
                await conn.execute(
                    select(Notification.channel).where(Notification.session_id == session_id)
                )
            ).scalars()
            assert list(channels) == ["webhook"]  # no email row to wait for ever
        async with httpx.AsyncClient(base_url=server.url) as http:
            assert (await http.get("/healthz")).json()["status"] == "ok"
    finally:
        await server.stop()
        await hooks.stop()


# covers: S04-16, C10, C12
async def test_a_platform_that_fails_twice_gets_the_notice_once_with_one_delivery_id(
    db_url: str, tmp_path: Path, mail: MailSink
):
    hooks = await Hooks().start()
    hooks.answers = [500, 503]  # down, still down, then up
    server = await notices_server(db_url, tmp_path, mail, hooks, every=3600)  # passes by hand
    outbox = server.services.outbox
    assert outbox is not None
    try:
        school = await s04_school(server.services, "s04")
        session_id, teacher, assistant = await lesson(server, school)
        amelia = await pupil_joins(server, school, session_id, "Amelia")
        await teacher.send("admit", pupils=[school.pupils["Amelia"]])
        await teacher.send("camera_on", target=school.pupils["Amelia"])
        await teacher.send("camera_off", target=school.pupils["Amelia"])
        await end(teacher)
        for _ in range(3):
            await outbox.run_once()
            server.clock.advance(dt.timedelta(minutes=5))
        first, second, third = hooks.arrived
        assert [a.status for a in hooks.arrived] == [500, 503, 204]
        assert first.payload["id"] == second.payload["id"] == third.payload["id"]
        assert all(a.verifies() for a in hooks.arrived)
        assert len(hooks.taken_for(school.pupils["Amelia"])) == 1
        # the email went once, at the first try: the webhook's retries never send it again
        assert [m["To"] for m in mail.received].count(parent_email("Amelia")) == 1
        async with server.services.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(Notification.channel, Notification.status, Notification.attempts)
                    .where(
                        Notification.session_id == session_id,
                        Notification.kind == "parent_camera_turned_off",
                    )
                    .order_by(Notification.channel)
                )
            ).all()
        assert [tuple(r) for r in rows] == [("email", "sent", 1), ("webhook", "sent", 3)]
        await amelia.close()
        await teacher.close()
        await assistant.close()
    finally:
        await server.stop()
        await hooks.stop()


async def page_text(server: LiveServer, school: School, path: str) -> str:
    async with staff_http(server, school.teacher_cookie) as http:
        page = await http.get(path)
    assert page.status_code == 200, page.text
    main = page.text[page.text.index("<main") : page.text.index("</main>")]
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", main).split()))


# covers: STJ-06, S04-16, C10
async def test_with_no_way_to_send_the_families_notices_wait_and_staff_are_told(
    db_url: str, tmp_path: Path
):
    server = await notices_server(db_url, tmp_path, None, None)  # no SMTP, no webhook
    try:
        school = await s04_school(server.services)
        session_id, teacher, assistant = await lesson(server, school)
        amelia = await pupil_joins(server, school, session_id, "Amelia")
        await teacher.send("admit", pupils=[school.pupils["Amelia"]])
        await teacher.send("remove", pupil=school.pupils["Amelia"])
        async with httpx.AsyncClient(base_url=server.url) as http:
            assert (await http.get("/healthz")).json()["status"] == "ok"  # held: not late yet
        server.clock.set(START + dt.timedelta(minutes=20))
        await end(teacher)

        async with httpx.AsyncClient(base_url=server.url) as http:
            answer = await http.get("/healthz")
        assert answer.status_code == 200
        said = answer.json()
        assert said["status"] == "undelivered"
        # Amelia (removed); Oliver, Isla and Jack, who never came (no family said so here)
        assert said["undelivered"]["parent_notices"] == 4
        assert said["undelivered"]["reason"].startswith("no way to send them is set up")

        page = await page_text(server, school, f"/staff/sessions/{session_id}")
        assert "Some messages from this lesson have not been delivered." in page
        assert "To Amelia R.'s family: asked to leave the lesson." in page
        assert "To Isla J.'s family: did not come to the lesson." in page
        assert "Tell them yourself." in page
        home = await page_text(server, school, "/staff")
        assert "4 messages to pupils' families have not been delivered." in home
        assert "The lesson's page says whose: tell the family yourself." in home

        shown = await timeline(db_url, session_id)
        assert (
            "Parent of Amelia R. to be told (removal) at the end of the session; not told yet"
            in shown
        )
        assert "told at" not in shown
        await amelia.close()
        await teacher.close()
        await assistant.close()
    finally:
        await server.stop()


# -- a real server process, killed between queueing and sending ---------------------------------


def serve(db_url: str, tmp_path: Path, mail: MailSink, hooks: Hooks, name: str) -> Served:
    env = {
        "SAFECLASS_SMTP_HOST": "127.0.0.1",
        "SAFECLASS_SMTP_PORT": str(mail.port),
        "SAFECLASS_WEBHOOK_URL": hooks.url,
        "SAFECLASS_WEBHOOK_SECRET": SECRET,
        "SAFECLASS_OUTBOX_RETRY_SECONDS": "1",  # the first retry after a second, not 30
    }
    process = ServerProcess(tmp_path / name, db_url, free_port(), media=False, env=env)
    return Served(process, db_url, tmp_path)


async def parent_rows(engine: AsyncEngine, session_id: str) -> list[Any]:
    async with engine.connect() as conn:
        return list(
            await conn.execute(
                select(Notification)
                .where(
                    Notification.session_id == session_id,
                    Notification.kind.like("parent_%"),
                )
                .order_by(Notification.id)
            )
        )


# covers: STJ-06, S04-16, C10, CLA-17
async def test_a_server_killed_before_the_removal_notice_went_sends_it_once_after_restart(
    db_url: str, tmp_path: Path
):
    mail = MailSink()  # the families' mail server is down when the session ends
    hooks = await Hooks().start()
    hooks.refusing = True  # and so is the platform, until the server has been killed
    engine = connect(db_url)
    first = serve(db_url, tmp_path, mail, hooks, "first")
    second: Served | None = None
    try:
        await first.process.ready()
        services = types.SimpleNamespace(engine=engine, clock=SystemClock())
        school = await make_school(services, "st-josephs", FAMILIES[:1])  # STJ-06: at the end
        amelia_id = school.pupils["Amelia"]
        async with engine.begin() as conn:
            await school_records.add_staff(conn, school.id, name="Ms Patel", email=DSL, role="dsl")
        session_id = await starting_now(engine, school)
        teacher = await Client(first, session_id, school.teacher_cookie, "teacher").connect()
        assistant = await Client(first, session_id, school.assistant_cookie, "assistant").connect()
        assert (await teacher.send("join"))["type"] == "ok"
        assert (await assistant.send("join"))["type"] == "ok"
        cookie = await pupil_cookie(services, school.id, session_id, amelia_id)  # type: ignore[arg-type]
        amelia = await Client(first, session_id, cookie, "amelia").connect()
        assert (await amelia.send("join", acknowledged_expectations=True))["type"] == "ok"
        assert (await teacher.send("admit", pupils=[amelia_id]))["type"] == "ok"
        assert (await teacher.send("remove", pupil=amelia_id))["type"] == "ok"
        held = await parent_rows(engine, session_id)  # written with the removal, not yet due
        assert sorted((r.channel, r.status) for r in held) == [
            ("email", "held_until_end"),
            ("webhook", "held_until_end"),
        ]
        await end(teacher)

        async def tried() -> bool:  # due at the end, and each channel refused once
            rows = await parent_rows(engine, session_id)
            return len(rows) == 2 and all(r.attempts >= 1 and r.last_error for r in rows)

        await eventually(tried, timeout=15)
        first.process.proc.send_signal(signal.SIGKILL)  # no chance to send, flush or close
        first.process.proc.wait(timeout=10)
        for client in (teacher, assistant, amelia):
            await client.close()
        assert {r.status for r in await parent_rows(engine, session_id)} == {"pending"}
        assert mail.received == [] and hooks.taken == []

        mail.start()
        hooks.refusing = False
        second = serve(db_url, tmp_path, mail, hooks, "second")
        await second.process.ready()

        async def delivered() -> bool:
            return {r.status for r in await parent_rows(engine, session_id)} == {"sent"}

        # a row claimed at the kill waits out its lease (60 s) before it is tried again
        await eventually(delivered, timeout=90)
        await asyncio.sleep(2)  # and nothing more comes
        assert [m["To"] for m in mail.received] == [parent_email("Amelia")]
        (taken,) = hooks.taken
        assert taken.verifies()
        assert taken.payload["reason"] == "removed"
        assert taken.payload["pupil"]["id"] == amelia_id
        # every try of it, refused or taken, carried the one delivery id
        assert {a.payload["id"] for a in hooks.arrived} == {taken.payload["id"]}
    finally:
        for served in (first, second):
            if served is not None:
                served.process.stop()
        mail.stop()
        await hooks.stop()
        await engine.dispose()
