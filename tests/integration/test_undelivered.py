"""Nothing stays undelivered silently (issue 11): an alert to the DSL that waits is seen.

A real server (uvicorn on loopback, the staff's WebSocket clients), real SQLite and PostgreSQL,
and a real SMTP server (aiosmtpd) where delivery happens. On a server with no mail set up, an
emergency end's alert waits in the outbox: the timeline says it is queued and not delivered,
`/healthz` says "undelivered" with the count and the reason, and the staff home tells staff, in
English and in Welsh, to tell the DSL themselves. With a mail server, the timeline says when it
was sent, and `/healthz` and the staff home say nothing is waiting.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import re
from pathlib import Path

import httpx
from typer.testing import CliRunner

from safeclass.cli.main import app as cli_app
from tests.integration.families import MailSink, School, staff_http
from tests.integration.live import LiveServer
from tests.integration.test_dsl_alerts import (
    DSL,
    end_in_emergency,
    lesson,
    live_server,
    with_dsls,
)
from tests.support.rooms import START


async def timeline(db_url: str, session_id: str) -> str:
    runner = CliRunner(env={"COLUMNS": "200"})
    shown = await asyncio.to_thread(
        runner.invoke, cli_app, ["report", "timeline", session_id, "--database-url", db_url]
    )
    assert shown.exit_code == 0, shown.output
    return shown.output


async def staff_home(server: LiveServer, school: School, language: str = "en") -> str:
    async with staff_http(server, school.teacher_cookie) as http:
        page = await http.get("/staff", headers={"Accept-Language": language})
    assert page.status_code == 200, page.text
    main = page.text[page.text.index("<main") : page.text.index("</main>")]
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", main).split()))


async def health(server: LiveServer) -> tuple[int, dict[str, object]]:
    """/healthz's status code and answer, without the media's part (not this test's)."""
    async with httpx.AsyncClient(base_url=server.url, timeout=15) as http:
        answer = await http.get("/healthz")
    said = {k: v for k, v in answer.json().items() if not k.startswith("media")}
    assert "status" in said, answer.text
    return answer.status_code, said


# covers: C12, C16, WER-14, S04-19
async def test_an_alert_on_a_server_with_no_mail_is_seen_waiting_not_called_sent(
    db_url: str, tmp_path: Path
):
    server = await live_server(db_url, tmp_path, None)  # no SMTP: nothing can deliver
    server.clock.set(START - dt.timedelta(minutes=3))
    try:
        school = await with_dsls(server.services, DSL)
        assert await health(server) == (200, {"status": "ok", "live_rooms": 0})
        assert "have not been delivered" not in await staff_home(server, school)
        for _ in range(2):
            session_id, teacher, assistant = await lesson(server, school)
            await end_in_emergency(teacher, assistant)

        shown = await timeline(db_url, session_id)
        assert "DSL alert queued: an emergency end; not delivered yet" in shown
        assert "sent to the DSL" not in shown

        status, said = await health(server)
        assert status == 200  # the rooms work: a load balancer keeps this server (docs)
        assert said["status"] == "undelivered"
        assert said["undelivered"] == {
            "dsl_alerts": 2,
            "parent_notices": 0,
            "other": 0,
            "reason": "no way to send them is set up on this server "
            "(email: SAFECLASS_SMTP_HOST; webhook: SAFECLASS_WEBHOOK_URL)",
        }

        english = await staff_home(server, school)
        assert (
            "2 alerts to the safeguarding lead have not been delivered: email is not set up on "
            "this server. Tell the safeguarding lead yourself." in english
        )
        welsh = await staff_home(server, school, "cy")
        assert "2 rybudd i'r arweinydd diogelu heb eu hanfon" in welsh
        assert "Dywedwch wrth yr arweinydd diogelu eich hun." in welsh
    finally:
        await server.stop()


# covers: C12, C16, WER-14, S04-19
async def test_an_alert_the_mail_server_took_is_sent_at_a_time_and_nothing_waits(
    db_url: str, tmp_path: Path, mail: MailSink
):
    server = await live_server(db_url, tmp_path, mail)
    server.clock.set(START - dt.timedelta(minutes=3))
    try:
        school = await with_dsls(server.services, DSL)
        session_id, teacher, assistant = await lesson(server, school)
        await end_in_emergency(teacher, assistant)
        await mail.wait_for(1)

        async def sent() -> str:
            for _ in range(50):
                shown = await timeline(db_url, session_id)
                if "sent to the DSL" in shown:
                    return shown
                await asyncio.sleep(0.1)
            return shown

        shown = await sent()
        assert re.search(r"DSL alert: an emergency end; sent to the DSL at \d\d:\d\d", shown)
        assert "not delivered" not in shown
        server.clock.advance(dt.timedelta(minutes=10))  # long after: still nothing waits
        assert await health(server) == (200, {"status": "ok", "live_rooms": 0})
        assert "have not been delivered" not in await staff_home(server, school)
    finally:
        await server.stop()


# covers: C12, WER-14, S04-19
async def test_an_alert_the_mail_server_refuses_is_reported_once_it_has_waited(
    db_url: str, tmp_path: Path, mail: MailSink
):
    server = await live_server(db_url, tmp_path, mail, every=3600)
    server.clock.set(START - dt.timedelta(minutes=3))
    outbox = server.services.outbox
    assert outbox is not None
    try:
        school = await with_dsls(server.services, DSL)
        mail.stop()  # the school's mail server is down
        session_id, teacher, assistant = await lesson(server, school)
        await end_in_emergency(teacher, assistant)
        await outbox.run_once()
        assert (await health(server))[1]["status"] == "ok"  # a fresh retry is not yet a worry
        server.clock.advance(dt.timedelta(minutes=3))
        status, said = await health(server)
        assert (status, said["status"]) == (200, "undelivered")
        assert said["undelivered"] == {
            "dsl_alerts": 1,
            "parent_notices": 0,
            "other": 0,
            "reason": "the mail server or the webhook did not take them",
        }
        shown = await timeline(db_url, session_id)
        assert "not delivered yet (the mail server did not take it yet" in shown
        assert (
            "1 alert to the safeguarding lead has not been delivered: the mail server did not "
            "take it. Tell the safeguarding lead yourself." in await staff_home(server, school)
        )
    finally:
        await server.stop()
