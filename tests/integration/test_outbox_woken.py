"""What a family or the school's staff are told through the outbox leaves at once, not at the
outbox's next look: the outbox here looks only once an hour, so only being woken sends it."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from safeclass.app.clock import AdjustableClock
from tests.integration.families import MailSink, School, make_school, schedule, staff_http
from tests.integration.live import LiveServer, running
from tests.integration.test_invitations import OPENING, links_by_pupil
from tests.support.rooms import START


@pytest.fixture
async def server(db_url: str, tmp_path: Path, mail: MailSink) -> AsyncIterator[LiveServer]:
    live = LiveServer(
        db_url,
        tmp_path,
        AdjustableClock(START - dt.timedelta(days=1)),
        smtp_host="127.0.0.1",
        smtp_port=mail.port,
        outbox_every_seconds=3600,
    )
    async with running(live) as started:
        yield started


@pytest.fixture
async def school(server: LiveServer) -> School:
    return await make_school(server.services, "claydon")


# covers: C23, CRO-16
async def test_a_parents_absence_report_reaches_the_staff_at_once(
    server: LiveServer, school: School, mail: MailSink
):
    session_id = await schedule(server, school)
    tokens = await links_by_pupil(server, school, mail, session_id)
    server.clock.set(OPENING)
    before = len(mail.received)
    async with httpx.AsyncClient(base_url=server.url) as family:
        told = await family.post(f"/join/{tokens['Isla']}/absence", data={"reason": "absent"})
    assert "will see this on the lesson" in told.text
    arrived = (await mail.wait_for(before + 1, timeout=3))[before:]
    assert arrived and all("Isla" in m.as_string() for m in arrived)


# covers: C1, CLA-03
async def test_the_parents_hear_of_a_cancelled_session_at_once(
    server: LiveServer, school: School, mail: MailSink
):
    session_id = await schedule(server, school)
    await links_by_pupil(server, school, mail, session_id)
    before = len(mail.received)
    async with staff_http(server, school.teacher_cookie) as http:
        response = await http.post(f"/api/sessions/{session_id}/cancel")
    assert response.json()["parents_told"] == 3
    arrived = (await mail.wait_for(before + 3, timeout=3))[before:]
    assert len(arrived) == 3
