"""Family endpoints under repetition and guessing: reports, passes, and made-up links (C2, C23).

A real server on loopback with a real SMTP server beside it, on SQLite and PostgreSQL. The test
server believes X-Forwarded-For from loopback (uvicorn's default, which `safeclass serve` turns
off unless a proxy is named), so a test can be a family at home and a guesser elsewhere.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
import websockets
from sqlalchemy import func, select

from safeclass.adapters.store.tables import Notification, ParentReport, PupilPass
from tests.integration.families import MailSink, School, assert_kind, eventually, schedule
from tests.integration.live import LiveServer
from tests.integration.test_invitations import (
    OPENING,
    links_by_pupil,
    pupil_cookie_from,
    school,
    server,
)

__all__ = ["school", "server"]  # the fixtures, shared with test_invitations

GUESSER = {"X-Forwarded-For": "203.0.113.66"}
FAMILY = {"X-Forwarded-For": "198.51.100.7"}


async def count(server: LiveServer, what: object) -> int:
    async with server.services.engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(what))).scalar_one())  # type: ignore[arg-type]


async def staff_reports(server: LiveServer) -> int:
    async with server.services.engine.connect() as conn:
        return int(
            (
                await conn.execute(select(func.count()).where(Notification.kind == "parent_report"))
            ).scalar_one()
        )


# covers: C23, CRO-16
async def test_a_parent_sending_the_same_report_again_and_again_emails_the_staff_once(
    server: LiveServer, school: School, mail: MailSink
):
    session_id = await schedule(server, school)
    tokens = await links_by_pupil(server, school, mail, session_id)
    report = f"/join/{tokens['Oliver']}/absence"
    async with httpx.AsyncClient(base_url=server.url) as browser:
        first = await browser.post(report, data={"reason": "absent", "message": "A cold."})
        assert "will see this on the lesson" in first.text
        for _ in range(30):
            again = await browser.post(report, data={"reason": "absent", "message": "A  cold. "})
            assert again.status_code == 200
            assert "The school already has this message from you" in again.text
            assert_kind(again.text)
        # something new is told: a different answer, then a different message
        stuck = await browser.post(report, data={"reason": "cannot_get_in"})
        assert "will see this on the lesson" in stuck.text
        more = await browser.post(report, data={"reason": "absent", "message": "Now a fever."})
        assert "will see this on the lesson" in more.text
        # a fourth new message is kept but not emailed: the staff have heard three already
        kept = await browser.post(report, data={"reason": "absent", "message": "Still ill."})
        assert kept.status_code == 200
        assert "We have not emailed the staff about it again." in kept.text
        assert "please phone the school" in kept.text
        assert_kind(kept.text)
    assert await staff_reports(server) == 3 * 2  # three reports, to the teacher and assistant
    assert await count(server, ParentReport) == 4  # each different report is kept once

    async def delivered() -> bool:
        subjects = [str(m["Subject"]) for m in mail.received]
        return sum("Oliver S." in s and "[safeclass]" in s for s in subjects) == 6

    await eventually(delivered)
    await asyncio.sleep(0.3)  # the outbox runs every 0.1 s: nothing more is on its way
    assert await delivered()


# covers: C2, STJ-11
async def test_opening_a_link_again_in_the_same_browser_reuses_its_pass(
    server: LiveServer, school: School, mail: MailSink
):
    session_id = await schedule(server, school)
    tokens = await links_by_pupil(server, school, mail, session_id)
    server.clock.set(OPENING)
    async with httpx.AsyncClient(base_url=server.url) as browser:
        first = await browser.get(f"/join/{tokens['Amelia']}", follow_redirects=False)
        name, _, value = pupil_cookie_from(first).partition("=")
        for _ in range(50):
            again = await browser.get(f"/join/{tokens['Amelia']}", follow_redirects=False)
            assert again.status_code == 303
            assert again.headers["location"] == f"/room/{session_id}"
            assert browser.cookies[name] == value
        page = await browser.get(f"/room/{session_id}")
        assert "Hello, Amelia R.!" in page.text
    assert await count(server, PupilPass) == 1


# covers: C2, STJ-11, WER-02
async def test_a_link_opens_on_at_most_six_devices_and_then_says_so_kindly(
    server: LiveServer, school: School, mail: MailSink
):
    session_id = await schedule(server, school)
    tokens = await links_by_pupil(server, school, mail, session_id)
    server.clock.set(OPENING)
    link = f"{server.url}/join/{tokens['Isla']}"

    async def open_on_new_device() -> httpx.Response:
        async with httpx.AsyncClient() as device:
            return await device.get(link, follow_redirects=False)

    opened = await asyncio.gather(*(open_on_new_device() for _ in range(20)))
    assert sorted(r.status_code for r in opened) == [303] * 6 + [403] * 14
    full = next(r for r in opened if r.status_code == 403)
    assert "This link is already open on 6 devices" in full.text
    assert "ask school to send a new link" in full.text
    assert "set-cookie" not in full.headers
    assert_kind(full.text)
    async with server.services.engine.connect() as conn:
        live = (
            await conn.execute(
                select(func.count()).where(
                    PupilPass.pupil_id == school.pupils["Isla"], PupilPass.revoked_at.is_(None)
                )
            )
        ).scalar_one()
    assert live == 6
    # a device that already holds a pass still gets in
    holder = next(r for r in opened if r.status_code == 303)
    async with httpx.AsyncClient(headers={"Cookie": pupil_cookie_from(holder)}) as device:
        assert (await device.get(link, follow_redirects=False)).status_code == 303


# covers: C2, WER-02, C23
async def test_made_up_links_and_cookies_from_one_address_are_slowed_but_families_are_not(
    server: LiveServer, school: School, mail: MailSink
):
    session_id = await schedule(server, school)
    tokens = await links_by_pupil(server, school, mail, session_id)
    server.clock.set(OPENING)
    async with httpx.AsyncClient(base_url=server.url, headers=GUESSER) as guesser:
        statuses = [(await guesser.get(f"/join/guess{i}")).status_code for i in range(8)]
        statuses.append((await guesser.get("/join/guess8/absence")).status_code)
        statuses.append(
            (await guesser.post("/join/guess9/absence", data={"reason": "absent"})).status_code
        )
        assert statuses == [404] * 10
        guesser.cookies.set(f"sc_pupil_{session_id}", "x")
        slowed = await guesser.get(f"/room/{session_id}")
        guesser.cookies.clear()
        assert slowed.status_code == 429
        assert 0 < int(slowed.headers["retry-after"]) <= 60
        assert "Please wait a minute" in slowed.text
        assert_kind(slowed.text)
        # refused before looking: even a real link teaches the guesser nothing now
        real = await guesser.get(f"/join/{tokens['Amelia']}", follow_redirects=False)
        assert real.status_code == 429
    async with httpx.AsyncClient(base_url=server.url, headers=FAMILY) as family:
        # a family elsewhere opens its link, again and again, and is never slowed
        for _ in range(15):
            opened = await family.get(f"/join/{tokens['Oliver']}", follow_redirects=False)
            assert opened.status_code == 303
            assert (await family.get(f"/room/{session_id}")).status_code == 200
            assert (await family.get(f"/join/{tokens['Oliver']}/absence")).status_code == 200
    server.clock.advance(dt.timedelta(minutes=1))
    async with httpx.AsyncClient(base_url=server.url, headers=GUESSER) as guesser:
        assert (await guesser.get("/join/guess-again")).status_code == 404


# covers: C2, WER-02, S04-02
async def test_made_up_pupil_cookies_at_the_rooms_socket_are_slowed_like_made_up_links(
    server: LiveServer, school: School, mail: MailSink
):
    session_id = await schedule(server, school)
    tokens = await links_by_pupil(server, school, mail, session_id)
    server.clock.set(OPENING)
    url = f"ws://127.0.0.1:{server.port}/ws/sessions/{session_id}"
    origin = server.settings.origin

    async def knock(cookie: str, address: str) -> str:
        headers = {"Cookie": cookie, "X-Forwarded-For": address}
        try:
            async with websockets.connect(url, additional_headers=headers, origin=origin) as ws:
                await ws.recv()
                return "open"
        except websockets.InvalidStatus as exc:
            return str(exc.response.status_code)
        except websockets.ConnectionClosed as exc:
            return exc.rcvd.reason if exc.rcvd else "closed"

    guesses = [
        await knock(f"sc_pupil_{session_id}=guess{i}", GUESSER["X-Forwarded-For"])
        for i in range(10)
    ]
    assert guesses == ["403"] * 10  # not signed in, or the link is not valid
    async with httpx.AsyncClient(base_url=server.url, headers=FAMILY) as family:
        opened = await family.get(f"/join/{tokens['Oliver']}", follow_redirects=False)
        assert opened.status_code == 303
        cookie = pupil_cookie_from(opened)
    # the guesser's address is now refused before any lookup: even a real pass opens nothing
    assert await knock(cookie, GUESSER["X-Forwarded-For"]) == "403"
    async with httpx.AsyncClient(base_url=server.url, headers=GUESSER) as guesser:
        # and it is slowed at the link pages too: one count for every door
        assert (await guesser.get("/join/one-more-guess")).status_code == 429
    # the family, elsewhere, opens its room's socket as usual
    assert await knock(cookie, FAMILY["X-Forwarded-For"]) == "open"
