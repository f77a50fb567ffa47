"""Per-pupil links end to end: emailed through a real SMTP server, opened, and used in the room.

The server runs on loopback with a real SMTP server (aiosmtpd) beside it; each test reads the
emails that arrived, opens the link in them with httpx as a parent's browser would, and takes
the pupil cookie into the live room over a real WebSocket.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import websockets
from sqlalchemy import select

from safeclass.adapters.store import pupil_records
from safeclass.adapters.store.tables import Base, Invitation, PupilPass
from safeclass.app.clock import AdjustableClock
from safeclass.policy import load_preset
from tests.integration.families import (
    MailSink,
    School,
    assert_kind,
    make_school,
    parent_email,
    parts,
    schedule,
    send_links,
    staff_http,
    token_in,
)
from tests.integration.live import Client, LiveServer
from tests.support.rooms import START

OPENING = START - dt.timedelta(minutes=3)  # the waiting room opened two minutes ago


@pytest.fixture
async def server(db_url: str, tmp_path: Path, mail: MailSink) -> AsyncIterator[LiveServer]:
    live = LiveServer(
        db_url,
        tmp_path,
        AdjustableClock(START - dt.timedelta(days=1)),
        smtp_host="127.0.0.1",
        smtp_port=mail.port,
        smtp_from="Claydon Primary <office@claydon.test>",
        outbox_every_seconds=0.1,
    )
    await live.start()
    try:
        yield live
    finally:
        await live.stop()


@pytest.fixture
async def school(server: LiveServer) -> School:
    return await make_school(server.services, "claydon")


async def links_by_pupil(
    server: LiveServer, school: School, mail: MailSink, session_id: str
) -> dict[str, str]:
    """Send the session's links; each pupil's link token, read from the email received."""
    before = len(mail.received)
    await send_links(server, school, session_id)
    received = (await mail.wait_for(before + 3))[before:]
    return {
        forename: token_in(next(m for m in received if m["To"] == parent_email(forename)))
        for forename in ("Amelia", "Oliver", "Isla")
    }


async def open_link(server: LiveServer, token: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url, follow_redirects=False) as browser:
        return await browser.get(f"/join/{token}")


def pupil_cookie_from(response: httpx.Response) -> str:
    """The pupil-pass cookie the link set (one per session: `sc_pupil_<session>`)."""
    name, value = next((n, v) for n, v in response.cookies.items() if n.startswith("sc_pupil_"))
    return f"{name}={value}"


# covers: C2, C17, WER-02, S04-02, CLA-14, CLA-18, CLA-19
async def test_each_pupil_is_emailed_their_own_link_except_the_one_opted_out(
    server: LiveServer, school: School, mail: MailSink
):
    session_id = await schedule(server, school, title="Year 2 Maths & <Shapes>")
    reply = await send_links(server, school, session_id)
    assert reply["sent"] == 3
    by_name = {r["shown_name"]: r for r in reply["results"]}
    assert by_name["Noah O."]["status"] == "not_taking_part"
    assert by_name["Amelia R."]["channels"] == ["email"]

    messages = await mail.wait_for(3)
    assert sorted(str(m["To"]) for m in messages) == sorted(
        parent_email(n) for n in ("Amelia", "Oliver", "Isla")
    )
    tokens = set()
    for message in messages:
        plain, rich = parts(message)
        token = token_in(message)
        tokens.add(token)
        link = f"{server.url}/join/{token}"
        # the token is nowhere but in the link itself (and its "tell the school" page)
        for body in (plain, rich):
            assert body.count(token) == body.count(f"{link}")
        assert all(token not in str(value) for value in message.values())
        assert link in plain and f'href="{link}"' in rich
        assert "Tuesday 24 November, 10:00–10:30" in plain
        assert "Year 2 Maths & <Shapes>" in plain
        assert "Year 2 Maths &amp; &lt;Shapes&gt;" in rich and "<Shapes>" not in rich
        policy = load_preset("claydon")
        assert all(rule in plain for rule in policy.expectations.parent)
    amelia = next(m for m in messages if m["To"] == parent_email("Amelia"))
    assert str(amelia["Subject"]).startswith("Amelia R.'s live session: Year 2 Maths")
    assert "Amelia R." in parts(amelia)[1]
    assert len(tokens) == 3
    assert all(len(t) >= 43 for t in tokens)  # 256 random bits, well over 128

    async with server.services.engine.connect() as conn:
        invited = (
            await conn.execute(
                select(Invitation.pupil_id).where(Invitation.session_id == session_id)
            )
        ).scalars()
        assert set(invited) == {school.pupils[n] for n in ("Amelia", "Oliver", "Isla")}
        # only hashes are kept: no raw token appears in any row of any table
        for table in Base.metadata.sorted_tables:
            for row in await conn.execute(select(table)):
                assert not any(token in str(row) for token in tokens), table.name
    async with staff_http(server, school.teacher_cookie) as http:
        pupils = (await http.get(f"/api/sessions/{session_id}")).json()["pupils"]
    assert {p["shown_name"]: p["link"] for p in pupils} == {
        "Amelia R.": "sent",
        "Isla J.": "sent",
        "Noah O.": "not_taking_part",
        "Oliver S.": "sent",
    }
    # sending again sends nothing new: everyone already has their link
    again = await send_links(server, school, session_id)
    assert {r["status"] for r in again["results"]} == {"already_sent", "not_taking_part"}


# covers: C2, C3, STJ-11, WER-02, WER-03, S04-02, C4
async def test_an_emailed_link_opens_the_waiting_room_on_one_device_at_a_time(
    server: LiveServer, school: School, mail: MailSink
):
    session_id = await schedule(server, school)
    tokens = await links_by_pupil(server, school, mail, session_id)
    server.clock.set(OPENING)

    response = await open_link(server, tokens["Amelia"])
    assert response.status_code == 303
    assert response.headers["location"] == f"/room/{session_id}"
    assert tokens["Amelia"] not in response.headers["location"]
    set_cookie = response.headers["set-cookie"]
    assert set_cookie.startswith(f"sc_pupil_{session_id}=")
    assert "HttpOnly" in set_cookie and "SameSite=lax" in set_cookie and "Path=/" in set_cookie
    assert "Secure" not in set_cookie  # plain http on loopback; https turns it on
    assert response.headers["cache-control"] == "no-store"
    first_cookie = pupil_cookie_from(response)
    assert tokens["Amelia"] not in first_cookie  # the cookie is a new pass, not the link

    async with httpx.AsyncClient(base_url=server.url, headers={"Cookie": first_cookie}) as b:
        page = await b.get(f"/room/{session_id}")
    assert page.status_code == 200
    assert "Hello, Amelia R.!" in page.text and "Join the class" in page.text

    teacher = await Client(server, session_id, school.teacher_cookie, "teacher").connect()
    pupil = await Client(server, session_id, first_cookie, "amelia").connect()
    second = None
    try:
        assert (await teacher.send("join"))["type"] == "ok"
        assert (await pupil.send("join", acknowledged_expectations=True))["type"] == "ok"
        amelia = school.pupils["Amelia"]
        await teacher.wait_for(lambda m: m["type"] == "state" and amelia in m["view"]["waiting"])
        assert pupil.view()["me"]["status"] == "waiting"

        # the same link forwarded to a second device: its own pass, but not a second Amelia
        forwarded = await open_link(server, tokens["Amelia"])
        assert forwarded.status_code == 303
        second_cookie = pupil_cookie_from(forwarded)
        assert second_cookie != first_cookie
        second = await Client(server, session_id, second_cookie, "forwarded").connect()
        refused = await second.send("join", acknowledged_expectations=True)
        assert refused["type"] == "refused"
        assert refused["message"] == (
            "Amelia R. is already connected on another device; close it first"
        )
        assert refused["clause"] == "C4"  # Claydon's own protocol has no device clause
        assert second.view()["me"] is None  # it saw nobody in the room
        assert teacher.view()["waiting"] == [amelia]
    finally:
        for client in (teacher, pupil, second):
            if client is not None:
                await client.close()
    async with server.services.engine.connect() as conn:
        passes = (
            await conn.execute(select(PupilPass.pupil_id).where(PupilPass.session_id == session_id))
        ).scalars()
        assert list(passes) == [amelia, amelia]  # one per device


# covers: C2, WER-02, S04-02
async def test_a_revoked_or_replaced_link_shows_a_kind_page(
    server: LiveServer, school: School, mail: MailSink
):
    session_id = await schedule(server, school)
    tokens = await links_by_pupil(server, school, mail, session_id)
    server.clock.set(OPENING)
    # Amelia is waiting when her link is revoked: her device is closed at once
    opened = await open_link(server, tokens["Amelia"])
    amelia = await Client(server, session_id, pupil_cookie_from(opened), "amelia").connect()
    assert (await amelia.send("join", acknowledged_expectations=True))["type"] == "ok"
    async with staff_http(server, school.teacher_cookie) as http:
        revoked = await http.post(
            f"/api/sessions/{session_id}/invitations/{school.pupils['Amelia']}/revoke"
        )
        assert revoked.json() == {"pupil_id": school.pupils["Amelia"], "devices_closed": 1}
        await amelia.closed.wait()
        assert amelia.close_code == 1008
        assert amelia.close_reason == "Your link was stopped by the school"
        page = await open_link(server, tokens["Amelia"])
        assert page.status_code == 410
        assert "This link has been stopped. Please ask school for a new one." in page.text
        assert "set-cookie" not in page.headers
        assert_kind(page.text)
        with pytest.raises(websockets.InvalidStatus):  # nor does the cookie it gave work
            await Client(server, session_id, pupil_cookie_from(opened), "again").connect()

        # a new link for Oliver: the old one stops, the new one works
        resent = await http.post(
            f"/api/sessions/{session_id}/invitations/send",
            json={"pupil_id": school.pupils["Oliver"]},
        )
        assert [r["status"] for r in resent.json()["results"]] == ["sent"]
    new_token = token_in((await mail.wait_for(4))[-1])
    assert new_token != tokens["Oliver"]
    old = await open_link(server, tokens["Oliver"])
    assert old.status_code == 404
    assert "This link does not work" in old.text
    assert_kind(old.text)
    assert (await open_link(server, new_token)).status_code == 303


# covers: C2, WER-02, S04-02
async def test_a_link_for_one_session_does_not_open_another_sessions_room(
    server: LiveServer, school: School, mail: MailSink
):
    maths = await schedule(server, school)
    reading = await schedule(server, school, starts_at=START.replace(hour=11), title="Reading")
    tokens = await links_by_pupil(server, school, mail, maths)
    server.clock.set(OPENING)
    cookie = pupil_cookie_from(await open_link(server, tokens["Isla"]))
    with pytest.raises(websockets.InvalidStatus) as refused:
        await Client(server, reading, cookie, "isla").connect()
    assert refused.value.response.status_code == 403
    async with httpx.AsyncClient(base_url=server.url, headers={"Cookie": cookie}) as browser:
        page = await browser.get(f"/room/{reading}")
    assert page.status_code == 403
    assert "Please open the link the school sent you" in page.text
    # and in the right room the same cookie works
    isla = await Client(server, maths, cookie, "isla").connect()
    assert (await isla.send("join", acknowledged_expectations=True))["type"] == "ok"
    await isla.close()


# covers: C2, STJ-11
async def test_siblings_opening_their_links_on_one_tablet_each_keep_their_own_pass(
    server: LiveServer, school: School, mail: MailSink
):
    """Amelia's maths and Isla's reading run side by side; the family has one tablet. Each link
    sets its own session's cookie, so the second does not sign the first child out."""
    maths = await schedule(server, school)
    reading = await schedule(server, school, title="Reading")
    amelia_link = (await links_by_pupil(server, school, mail, maths))["Amelia"]
    isla_link = (await links_by_pupil(server, school, mail, reading))["Isla"]
    server.clock.set(OPENING)
    tablet = "; ".join(
        [
            pupil_cookie_from(await open_link(server, amelia_link)),
            pupil_cookie_from(await open_link(server, isla_link)),
        ]
    )  # the tablet's cookie jar sends both, to every page of the school's server
    async with httpx.AsyncClient(base_url=server.url, headers={"Cookie": tablet}) as browser:
        assert "Hello, Amelia R.!" in (await browser.get(f"/room/{maths}")).text
        assert "Hello, Isla J.!" in (await browser.get(f"/room/{reading}")).text
    amelia = await Client(server, maths, tablet, "amelia").connect()
    isla = await Client(server, reading, tablet, "isla").connect()
    try:
        for child, name in ((amelia, "Amelia R."), (isla, "Isla J.")):
            assert (await child.send("join", acknowledged_expectations=True))["type"] == "ok"
            me = await child.wait_for(lambda m: m["type"] == "state" and m["view"]["me"])
            assert (me["view"]["me"]["name"], me["view"]["me"]["status"]) == (name, "waiting")
    finally:
        await amelia.close()
        await isla.close()


# covers: C2, C11, CLA-06
async def test_after_the_session_ends_the_link_says_so_kindly(
    server: LiveServer, school: School, mail: MailSink
):
    session_id = await schedule(server, school)
    tokens = await links_by_pupil(server, school, mail, session_id)
    server.clock.set(START + dt.timedelta(minutes=31))
    page = await open_link(server, tokens["Oliver"])
    assert page.status_code == 410
    assert "This session has ended" in page.text
    assert "Year 2 Maths has finished." in page.text
    assert "set-cookie" not in page.headers
    assert_kind(page.text)


# covers: C2, C17, CLA-14, WER-13, CRO-16, S04-18
async def test_a_pupil_opted_out_after_the_link_was_sent_gets_a_kind_page_and_no_pass(
    server: LiveServer, school: School, mail: MailSink
):
    session_id = await schedule(server, school)
    tokens = await links_by_pupil(server, school, mail, session_id)
    async with server.services.engine.begin() as conn:
        await pupil_records.set_consent(
            conn, school.id, school.pupils["Amelia"], "refused", source="parent email"
        )
    server.clock.set(OPENING)
    page = await open_link(server, tokens["Amelia"])
    assert page.status_code == 403
    assert "Amelia R. is not taking part in live sessions." in page.text
    assert "If this is wrong, please contact the school." in page.text
    assert "set-cookie" not in page.headers
    assert_kind(page.text)
    async with server.services.engine.connect() as conn:
        assert (await conn.execute(select(PupilPass))).first() is None


# covers: C2, WER-04, S04-04
async def test_a_link_opened_the_day_before_says_when_to_come_back(
    server: LiveServer, school: School, mail: MailSink
):
    session_id = await schedule(server, school)
    tokens = await links_by_pupil(server, school, mail, session_id)
    page = await open_link(server, tokens["Isla"])
    assert page.status_code == 200
    assert "Year 2 Maths is on Tuesday 24 November, 10:00–10:30." in page.text
    assert "set-cookie" not in page.headers
    assert_kind(page.text)


# covers: C2, WER-02
async def test_a_made_up_link_shows_a_kind_page(server: LiveServer):
    for token in ("nonsense", "x" * 500):
        page = await open_link(server, token)
        assert page.status_code == 404
        assert "This link does not work" in page.text
        assert page.headers["referrer-policy"] == "no-referrer"
        assert_kind(page.text)


# covers: C23, CRO-16
async def test_a_parent_tells_the_school_through_their_link(
    server: LiveServer, school: School, mail: MailSink
):
    session_id = await schedule(server, school)
    tokens = await links_by_pupil(server, school, mail, session_id)
    async with httpx.AsyncClient(base_url=server.url) as browser:
        form = await browser.get(f"/join/{tokens['Oliver']}/absence")
        assert form.status_code == 200
        assert 'name="reason"' in form.text and "Year 2 Maths" in form.text
        unanswered = await browser.post(f"/join/{tokens['Oliver']}/absence", data={})
        assert "Please choose one of the answers below." in unanswered.text
        done = await browser.post(
            f"/join/{tokens['Oliver']}/absence",
            data={"reason": "absent", "message": "Oliver has a <b>temperature</b>."},
        )
        assert done.status_code == 200
        assert "will see this on the lesson" in done.text
        stale = await browser.post("/join/nonsense/absence", data={"reason": "absent"})
        assert stale.status_code == 404
    reports = [m for m in await mail.wait_for(5) if "will not be at the session" in m["Subject"]]
    assert sorted(str(m["To"]) for m in reports) == sorted(
        [f"{school.teacher_id[:8]}@school.test", f"{school.assistant_id[:8]}@school.test"]
    )
    plain, rich = parts(reports[0])
    assert "A parent or carer of Oliver S. says their child will not be at the session" in plain
    # the note stays on the lesson's page, out of inboxes; the notice links to it
    assert "temperature" not in plain and "temperature" not in rich
    assert "They left a note: read it on the lesson's page." in plain
    assert f"/staff/sessions/{session_id}" in plain
