"""Scheduling over HTTP on a real server: inside the school day, by the right roles, one school.

The server runs on loopback (uvicorn) with its clock on the Monday before the lesson; staff are
signed in with real logins and send the CSRF token as the staff page does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from safeclass.adapters.store.tables import Invitation, Notification, PupilPass
from safeclass.app.clock import AdjustableClock
from tests.integration.families import (
    MailSink,
    School,
    eventually,
    make_school,
    parent_email,
    schedule,
    send_links,
    staff_http,
)
from tests.integration.live import LiveServer, staff_cookie
from tests.support.rooms import START


@pytest.fixture
async def server(db_url: str, tmp_path: Path, mail: MailSink) -> AsyncIterator[LiveServer]:
    live = LiveServer(
        db_url,
        tmp_path,
        AdjustableClock(START - dt.timedelta(days=1)),
        smtp_host="127.0.0.1",
        smtp_port=mail.port,
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


def lesson(school: School, at: dt.datetime = START, **fields: object) -> dict[str, object]:
    return {
        "kind": "class",
        "title": "Year 2 Maths",
        "starts_at": at.isoformat(),
        "minutes": 30,
        "class_id": school.class_id,
        **fields,
    }


# covers: C1, CLA-01, CLA-03, S04-08
async def test_a_teacher_schedules_a_class_session_with_the_assistant(
    server: LiveServer, school: School
):
    async with staff_http(server, school.teacher_cookie) as http:
        response = await http.post(
            "/api/sessions",
            json=lesson(school, staff_ids=[school.assistant_id], agenda="Number bonds"),
        )
        assert response.status_code == 201, response.text
        session = response.json()
        assert session["status"] == "scheduled"
        assert session["when"] == "Tuesday 24 November, 10:00–10:30"
        assert [s["name"] for s in session["staff"]] == ["Mr Lee", "Mrs Khan"]
        assert session["warnings"] == []
        shown = {p["shown_name"]: p for p in session["pupils"]}
        assert set(shown) == {"Amelia R.", "Oliver S.", "Isla J.", "Noah O."}
        assert shown["Noah O."]["link"] == "not_taking_part"  # listed, but not invited (C17)
        assert shown["Amelia R."]["link"] == "not_sent"
        listed = (await http.get("/api/sessions")).json()
        assert [s["id"] for s in listed] == [session["id"]]
        assert listed[0]["pupils_expected"] == 4


# covers: C1, CRO-05
async def test_a_session_at_seven_in_the_evening_is_refused_with_the_reason(
    server: LiveServer, school: School
):
    async with staff_http(server, school.teacher_cookie) as http:
        response = await http.post("/api/sessions", json=lesson(school, START.replace(hour=19)))
        assert response.status_code == 422
        assert response.json()["detail"]["reasons"] == [
            "Sessions must be inside the school day, 08:30–15:30 Monday to Friday (CRO-05); "
            "this one would run Tuesday 24 November, 19:00–19:30"
        ]
        saturday = await http.post(
            "/api/sessions", json=lesson(school, START + dt.timedelta(days=4))
        )
        assert saturday.status_code == 422
        assert "Saturday 28 November" in saturday.json()["detail"]["message"]
        assert (await http.get("/api/sessions")).json() == []


# covers: C6, CLA-02
async def test_a_one_to_one_is_refused_at_claydon(server: LiveServer, school: School):
    async with staff_http(server, school.teacher_cookie) as http:
        response = await http.post(
            "/api/sessions",
            json=lesson(
                school, kind="one_to_one", class_id=None, pupil_ids=[school.pupils["Isla"]]
            ),
        )
    assert response.status_code == 422
    assert response.json()["detail"]["reasons"] == [
        "1-to-1 sessions are not allowed in this school's policy (CLA-02)"
    ]


# covers: C6, WER-09, S04-08
async def test_a_one_to_one_is_booked_where_the_policy_allows_it(server: LiveServer):
    school = await make_school(server.services, "werrington")
    async with staff_http(server, school.teacher_cookie) as http:
        response = await http.post(
            "/api/sessions",
            json=lesson(
                school, kind="one_to_one", class_id=None, pupil_ids=[school.pupils["Isla"]]
            ),
        )
    assert response.status_code == 201, response.text
    assert [p["shown_name"] for p in response.json()["pupils"]] == ["Isla J."]


# covers: C21, CLA-16, CRO-03
async def test_an_assistant_cannot_schedule_and_nobody_signed_out_can(
    server: LiveServer, school: School
):
    async with staff_http(server, school.assistant_cookie) as http:
        response = await http.post("/api/sessions", json=lesson(school))
    assert response.status_code == 403
    assert response.json()["detail"] == (
        "Only teachers, heads and admins can schedule or change sessions"
    )
    async with staff_http(server, "sc_staff=forged") as http:
        assert (await http.post("/api/sessions", json=lesson(school))).status_code == 401
    async with staff_http(server, school.teacher_cookie) as http:  # no CSRF token: refused
        del http.headers["X-CSRF-Token"]
        assert (await http.post("/api/sessions", json=lesson(school))).status_code == 403


# covers: C21, CRO-01
async def test_an_admin_schedules_but_is_not_put_on_the_session(server: LiveServer, school: School):
    _, cookie = await staff_cookie(server.services, school.id, "admin", "Ms Office")
    async with staff_http(server, cookie) as http:
        response = await http.post(
            "/api/sessions", json=lesson(school, staff_ids=[school.teacher_id])
        )
    assert response.status_code == 201, response.text
    assert [s["name"] for s in response.json()["staff"]] == ["Mrs Khan"]
    assert response.json()["warnings"] == [
        "1 of the 2 staff this policy needs are on this session; pupils will wait until 2 "
        "are in the room (CLA-02)"
    ]


# covers: C21
async def test_another_schools_session_is_not_found_and_not_listed(
    server: LiveServer, school: School
):
    session_id = await schedule(server, school)
    other = await make_school(server.services, "crofton")
    async with staff_http(server, other.teacher_cookie) as http:
        for response in (
            await http.get(f"/api/sessions/{session_id}"),
            await http.get("/api/sessions/no-such-session"),
            await http.post(f"/api/sessions/{session_id}/cancel"),
            await http.patch(f"/api/sessions/{session_id}", json={"title": "Mine now"}),
            await http.post(f"/api/sessions/{session_id}/invitations/send", json={}),
        ):
            assert response.status_code == 404, response.text
            assert response.json()["detail"] == "No such session"
        assert (await http.get("/api/sessions")).json() == []
        # nor can a pupil of another school be put on a session
        response = await http.post(
            "/api/sessions",
            json=lesson(other, class_id=None, pupil_ids=[school.pupils["Amelia"]]),
        )
        assert response.status_code == 404


# covers: C1, CLA-03
async def test_more_staff_can_be_added(server: LiveServer, school: School):
    session_id = await schedule(server, school, staff_ids=[])
    dsl_id, _ = await staff_cookie(server.services, school.id, "dsl", "Ms Patel")
    async with staff_http(server, school.teacher_cookie) as http:
        response = await http.post(
            f"/api/sessions/{session_id}/staff", json={"staff_ids": [school.assistant_id, dsl_id]}
        )
        assert response.status_code == 200, response.text
        assert [s["name"] for s in response.json()["staff"]] == ["Mr Lee", "Mrs Khan", "Ms Patel"]
        unknown = await http.post(f"/api/sessions/{session_id}/staff", json={"staff_ids": ["x"]})
        assert unknown.status_code == 404


# covers: C1, C2, CRO-05
async def test_moving_a_session_keeps_the_rules_and_tells_the_parents(
    server: LiveServer, school: School, mail: MailSink
):
    session_id = await schedule(server, school)
    await send_links(server, school, session_id)
    await mail.wait_for(3)
    async with staff_http(server, school.teacher_cookie) as http:
        refused = await http.patch(
            f"/api/sessions/{session_id}", json={"starts_at": START.replace(hour=18).isoformat()}
        )
        assert refused.status_code == 422
        assert "(CRO-05)" in refused.json()["detail"]["message"]
        later = START.replace(hour=13)
        moved = await http.patch(
            f"/api/sessions/{session_id}", json={"starts_at": "2026-11-24T13:00:00"}
        )  # no zone: the school's own time
        assert moved.status_code == 200, moved.text
        assert moved.json()["when"] == "Tuesday 24 November, 13:00–13:30"
    async with server.services.engine.connect() as conn:
        expiries = set(
            (
                await conn.execute(
                    select(Invitation.expires_at).where(Invitation.session_id == session_id)
                )
            ).scalars()
        )
    assert expiries == {later + dt.timedelta(minutes=45)}  # the end and 15 minutes' grace
    await mail.wait_for(6)
    notice = mail.to(parent_email("Amelia"))[-1]
    assert "has moved to Tuesday 24 November, 13:00–13:30" in str(notice["Subject"])


# covers: C1, C2, WER-02
async def test_cancelling_stops_every_link_and_tells_the_parents(
    server: LiveServer, school: School, mail: MailSink
):
    session_id = await schedule(server, school)
    await send_links(server, school, session_id)
    await mail.wait_for(3)
    async with staff_http(server, school.assistant_cookie) as http:
        assert (await http.post(f"/api/sessions/{session_id}/cancel")).status_code == 403
    async with staff_http(server, school.teacher_cookie) as http:
        response = await http.post(f"/api/sessions/{session_id}/cancel")
        assert response.status_code == 200, response.text
        assert response.json() == {"id": session_id, "status": "cancelled", "parents_told": 3}
        again = await http.post(f"/api/sessions/{session_id}/cancel")
        assert again.status_code == 409
        assert again.json()["detail"] == "This session has been cancelled"
        resend = await http.post(f"/api/sessions/{session_id}/invitations/send", json={})
        assert resend.status_code == 409
    messages = await mail.wait_for(6)
    cancelled = [m for m in messages if "is cancelled" in str(m["Subject"])]
    assert sorted(str(m["To"]) for m in cancelled) == sorted(
        parent_email(n) for n in ("Amelia", "Oliver", "Isla")
    )
    async with server.services.engine.connect() as conn:
        revoked = (
            await conn.execute(
                select(Invitation.revoked_at).where(Invitation.session_id == session_id)
            )
        ).scalars()
        assert all(at is not None for at in revoked)
        assert (await conn.execute(select(PupilPass))).first() is None

    async def all_sent() -> bool:
        async with server.services.engine.connect() as conn:
            found = await conn.execute(
                select(Notification.status).where(Notification.kind == "parent_session_cancelled")
            )
            return set(found.scalars()) == {"sent"}

    await eventually(all_sent)
