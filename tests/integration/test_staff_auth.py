"""Staff sign-in through a real server: cookies, CSRF, limits, sign-out, roles (C21).

uvicorn on loopback with real HTTP (httpx) and real WebSocket clients, on SQLite and PostgreSQL:
what a browser sends and receives, and what the server refuses.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
import statistics
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import typer
import uvicorn
from fastapi import HTTPException
from sqlalchemy import insert, select
from typer.testing import CliRunner, Result

from safeclass.adapters.auth.identity import STAFF_COOKIE, StaffIdentity, staff_for_token
from safeclass.adapters.auth.passwords import hash_password
from safeclass.adapters.store.school_records import (
    add_staff,
    create_school,
    current_policy_version,
)
from safeclass.adapters.store.sessions import create_session, load_session
from safeclass.adapters.store.tables import School, SessionStaff
from safeclass.app.clock import AdjustableClock
from safeclass.cli.main import app as cli
from safeclass.core import SessionKind
from safeclass.policy import loads
from safeclass.policy.loading import preset_path
from safeclass.web.app import create_app
from safeclass.web.auth import sign_out_everywhere
from safeclass.web.deps import access_session
from tests.integration.live import Client, LiveServer
from tests.integration.seed import seed_session
from tests.support.rooms import START

PASSWORD = "the owl and the pussycat went to sea"  # noqa: S105 (a test account's)
CLIENT_LOGGERS = ("httpx", "httpcore", "websockets.client")
NOT_RECOGNISED = "Email, school or password not recognised"


@pytest.fixture
async def server(db_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    live = await LiveServer(
        db_url, tmp_path, AdjustableClock(START - dt.timedelta(minutes=3))
    ).start()
    try:
        yield live
    finally:
        await live.stop()


class StaffedSchool:
    """A seeded school with one session, and staff with real passwords."""

    def __init__(self, server: LiveServer, session_id: str, school_id: str, key: str) -> None:
        self.server = server
        self.session_id = session_id
        self.school_id = school_id
        self.key = key
        self.clients: list[Client] = []

    async def add(self, role: str, email: str, name: str = "Mrs Khan", on: bool = True) -> str:
        """A member of staff with PASSWORD; `on` puts them on the school's session."""
        async with self.server.services.engine.begin() as conn:
            staff = await add_staff(
                conn,
                self.school_id,
                name=name,
                email=email,
                role=role,
                password_hash=hash_password(PASSWORD),
            )
            if on:
                await conn.execute(
                    insert(SessionStaff).values(session_id=self.session_id, staff_id=staff.id)
                )
        return staff.id

    @contextlib.asynccontextmanager
    async def signed_in(self, email: str) -> AsyncIterator[httpx.AsyncClient]:
        """A browser signed in as `email`."""
        async with httpx.AsyncClient(base_url=self.server.url) as browser:
            reply = await browser.post(
                "/auth/login", data={"email": email, "school": self.key, "password": PASSWORD}
            )
            assert reply.status_code == 200, reply.text
            yield browser

    async def room(self, browser: httpx.AsyncClient, who: str) -> Client:
        cookie = f"{STAFF_COOKIE}={browser.cookies[STAFF_COOKIE]}"
        client = await Client(self.server, self.session_id, cookie, who).connect()
        self.clients.append(client)
        return client

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self.clients))


async def seed_school(server: LiveServer) -> StaffedSchool:
    session_id = await seed_session(server.services.engine, "claydon", pupils=3)
    stored = await load_session(server.services.engine, session_id)
    async with server.services.engine.connect() as conn:
        key = (await conn.execute(select(School.key).where(School.id == stored.school_id))).one()
    return StaffedSchool(server, session_id, stored.school_id, key[0])


async def seed_other_school(server: LiveServer) -> StaffedSchool:
    """A second school with a session of its own (seed_session's pupil ids are fixed)."""
    text = preset_path("werrington").read_text("utf-8")
    async with server.services.engine.begin() as conn:
        other = await create_school(conn, loads(text), text, key="werrington-other")
        version = await current_policy_version(conn, other.id)
        session_id = await create_session(
            conn,
            school_id=other.id,
            policy_version_id=version.id,
            kind=SessionKind.CLASS,
            title="Year 3 Reading",
            starts_at=START,
            minutes=30,
            pupils=[],
        )
    return StaffedSchool(server, session_id, other.id, other.key)


@pytest.fixture
async def school(server: LiveServer) -> AsyncIterator[StaffedSchool]:
    seeded = await seed_school(server)
    try:
        yield seeded
    finally:
        await seeded.close()


async def identity(server: LiveServer, browser: httpx.AsyncClient) -> StaffIdentity:
    found = await staff_for_token(
        server.services.engine, browser.cookies[STAFF_COOKIE], server.services.clock.now()
    )
    assert found is not None
    return found


def csrf(reply: httpx.Response) -> dict[str, str]:
    return {"X-CSRF-Token": reply.json()["csrf_token"]}


# --- signing in -------------------------------------------------------------------------------


# covers: C21, CLA-16, CRO-03
async def test_signing_in_sets_an_http_only_strict_cookie_for_one_school_day(school: StaffedSchool):
    await school.add("teacher", "khan@claydon.test")
    async with httpx.AsyncClient(base_url=school.server.url) as browser:
        reply = await browser.post(
            "/auth/login",
            data={"email": " Khan@Claydon.test", "school": school.key, "password": PASSWORD},
        )
        assert reply.status_code == 200, reply.text
        cookie = reply.headers["set-cookie"]
        attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
        assert cookie.startswith(f"{STAFF_COOKIE}=")
        assert {"httponly", "path", "samesite", "max-age"} <= attributes
        assert "samesite=strict" in cookie.lower()
        assert "path=/" in cookie.lower()
        assert "max-age=43200" in cookie.lower()
        assert "secure" not in attributes  # plain http on loopback: a Secure cookie would be lost
        assert reply.headers["cache-control"] == "no-store"
        body = reply.json()
        assert body["role"] == "teacher"
        assert body["name"] == "Mrs Khan"
        assert "run_sessions" in body["may"]
        assert "manage_staff" not in body["may"]

        me = await browser.get("/auth/me")
        assert me.status_code == 200
        assert me.json() == body


# covers: C21, CRO-03
async def test_the_cookie_is_secure_when_the_public_url_is_https(db_url: str, tmp_path: Path):
    clock = AdjustableClock(START)
    live = LiveServer(db_url, tmp_path, clock)
    live.settings = dataclasses.replace(live.settings, public_url="https://safeclass.school.test")
    assert live.settings.secure_cookies
    live.app = create_app(live.settings, clock)
    live.server = uvicorn.Server(
        uvicorn.Config(live.app, host="127.0.0.1", port=live.port, log_level="warning")
    )
    await live.start()
    try:
        seeded = await seed_school(live)
        await seeded.add("teacher", "khan@claydon.test")
        async with httpx.AsyncClient(base_url=live.url) as browser:
            reply = await browser.post(
                "/auth/login",
                data={"email": "khan@claydon.test", "school": seeded.key, "password": PASSWORD},
            )
        assert reply.status_code == 200
        attributes = [p.strip().lower() for p in reply.headers["set-cookie"].split(";")]
        assert "secure" in attributes
        assert "httponly" in attributes
        assert "samesite=strict" in attributes
    finally:
        await live.stop()


async def test_signing_in_with_json_works_and_missing_fields_are_a_clear_400(school: StaffedSchool):
    await school.add("assistant", "lee@claydon.test", "Mr Lee")
    async with httpx.AsyncClient(base_url=school.server.url) as browser:
        reply = await browser.post(
            "/auth/login",
            json={"email": "lee@claydon.test", "school": school.key, "password": PASSWORD},
        )
        assert reply.status_code == 200
        assert reply.json()["role"] == "assistant"
        for bad in ({"email": "lee@claydon.test"}, {"email": 1, "school": 2, "password": 3}):
            refused = await browser.post("/auth/login", json=bad)
            assert refused.status_code == 400
            assert refused.json()["detail"].startswith("Enter your email")
        garbled = await browser.post(
            "/auth/login", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert garbled.status_code == 400


async def test_a_sign_in_posted_from_another_site_is_refused(school: StaffedSchool):
    await school.add("teacher", "khan@claydon.test")
    async with httpx.AsyncClient(base_url=school.server.url) as browser:
        reply = await browser.post(
            "/auth/login",
            data={"email": "khan@claydon.test", "school": school.key, "password": PASSWORD},
            headers={"Origin": "https://evil.test"},
        )
        assert reply.status_code == 403
        assert STAFF_COOKIE not in reply.headers.get("set-cookie", "")


# covers: C21, CLA-16
async def test_a_wrong_password_and_an_unknown_email_get_the_same_401(school: StaffedSchool):
    await school.add("teacher", "khan@claydon.test")
    async with httpx.AsyncClient(base_url=school.server.url) as browser:

        async def attempt(email: str, password: str, key: str = school.key) -> float:
            started = time.perf_counter()
            reply = await browser.post(
                "/auth/login", data={"email": email, "school": key, "password": password}
            )
            took = time.perf_counter() - started
            assert reply.status_code == 401
            assert reply.json() == {"detail": NOT_RECOGNISED}
            assert "set-cookie" not in reply.headers
            return took

        wrong = [await attempt("khan@claydon.test", "not the password at all") for _ in range(3)]
        unknown = [await attempt(f"nobody{i}@claydon.test", PASSWORD) for i in range(3)]
        await attempt("khan@claydon.test", PASSWORD, key="no-such-school")
        # the unknown email is checked against a dummy hash: no shortcut to time
        ratio = statistics.median(unknown) / statistics.median(wrong)
        assert 0.3 < ratio < 3, (wrong, unknown)


# covers: C21, CLA-16
async def test_the_sixth_failed_attempt_is_429_even_with_the_right_password(school: StaffedSchool):
    await school.add("teacher", "khan@claydon.test")
    async with httpx.AsyncClient(base_url=school.server.url) as browser:
        form = {"email": "khan@claydon.test", "school": school.key, "password": "guess guess guess"}
        for _ in range(5):
            assert (await browser.post("/auth/login", data=form)).status_code == 401
        locked = await browser.post("/auth/login", data={**form, "password": PASSWORD})
        assert locked.status_code == 429
        assert locked.json() == {"detail": "Too many attempts: wait 15 minutes"}
        assert 0 < int(locked.headers["retry-after"]) <= 900

        # an email with no account locks in the same way: the limit reveals nothing
        ghost = {**form, "email": "ghost@claydon.test"}
        replies = [(await browser.post("/auth/login", data=ghost)).status_code for _ in range(6)]
        assert replies == [401] * 5 + [429]

        school.server.clock.advance(dt.timedelta(minutes=15))
        assert (await browser.post("/auth/login", data={**form, "password": PASSWORD})).is_success


# --- CSRF and signing out ---------------------------------------------------------------------


# covers: C21
async def test_a_post_without_the_csrf_token_is_403_and_changes_nothing(school: StaffedSchool):
    await school.add("teacher", "khan@claydon.test")
    async with school.signed_in("khan@claydon.test") as browser:
        assert (await browser.post("/auth/logout")).status_code == 403
        forged = await browser.post("/auth/logout", headers={"X-CSRF-Token": "0" * 64})
        assert forged.status_code == 403
        assert "another site" in forged.json()["detail"]
        me = await browser.get("/auth/me")
        assert me.status_code == 200  # still signed in
        # a plain HTML form carries it as a field
        out = await browser.post("/auth/logout", data={"csrf_token": me.json()["csrf_token"]})
        assert out.status_code == 204
        assert (await browser.get("/auth/me")).status_code == 401


# covers: C21, CLA-16, STJ-02
async def test_signing_out_closes_that_browsers_room_socket_and_the_cookie_opens_nothing(
    school: StaffedSchool,
):
    await school.add("teacher", "khan@claydon.test")
    await school.add("assistant", "lee@claydon.test", "Mr Lee")
    async with (
        school.signed_in("khan@claydon.test") as teacher_browser,
        school.signed_in("lee@claydon.test") as assistant_browser,
    ):
        teacher = await school.room(teacher_browser, "teacher")
        assistant = await school.room(assistant_browser, "assistant")
        assert (await teacher.send("join"))["type"] == "ok"
        assert (await assistant.send("join"))["type"] == "ok"
        cookie = f"{STAFF_COOKIE}={teacher_browser.cookies[STAFF_COOKIE]}"

        me = await teacher_browser.get("/auth/me")
        out = await teacher_browser.post("/auth/logout", headers=csrf(me))
        assert out.status_code == 204
        assert STAFF_COOKIE in out.headers["set-cookie"]  # the browser is told to forget it

        await asyncio.wait_for(teacher.closed.wait(), 2)
        assert teacher.close_code == 4009
        assert teacher.close_reason == "Signed out"
        assert not assistant.closed.is_set()  # a colleague's socket stays open

        with pytest.raises(Exception, match="403"):
            await Client(school.server, school.session_id, cookie, "again").connect()
        async with httpx.AsyncClient(base_url=school.server.url) as stolen:
            stolen.cookies.set(STAFF_COOKIE, cookie.split("=", 1)[1])
            assert (await stolen.get("/auth/me")).status_code == 401


# covers: C21, CLA-16, CLA-02
async def test_staff_disabled_from_the_command_line_are_taken_out_of_the_live_room(
    school: StaffedSchool, db_url: str
):
    """`safeclass staff disable` runs in another process: the server sees the revocation in the
    database and closes the room sockets of that login within seconds."""
    await school.add("teacher", "khan@claydon.test")
    await school.add("assistant", "lee@claydon.test", name="Mr Lee")
    async with (
        school.signed_in("khan@claydon.test") as khan,
        school.signed_in("lee@claydon.test") as lee,
    ):
        teacher = await school.room(khan, "teacher")
        assistant = await school.room(lee, "assistant")
        assert (await teacher.send("join"))["type"] == "ok"
        assert (await assistant.send("join"))["type"] == "ok"
        command = ["staff", "disable", "khan@claydon.test", "--school", school.key]
        result = await asyncio.to_thread(
            CliRunner().invoke, cli, [*command, "--database-url", db_url]
        )
        assert result.exit_code == 0, result.output
        assert "A running server closes their live-room windows within seconds." in result.output
        await asyncio.wait_for(teacher.closed.wait(), 6)
        assert (teacher.close_code, teacher.close_reason) == (4009, "Signed out")
        left = await assistant.wait_for(
            lambda m: m["type"] == "state" and m["view"]["staffing"]["staff_present"] == 1
        )
        assert left["view"]["staffing"]["staff_present"] == 1
        assert not assistant.closed.is_set()  # a colleague stays


# covers: C21, CLA-16, CRO-03
async def test_a_disabled_staff_members_login_stops_working(school: StaffedSchool, db_url: str):
    # the command runs on the real clock: sign in on it too, or the login has long expired
    school.server.clock.set(dt.datetime.now(dt.UTC))
    await school.add("teacher", "khan@claydon.test")
    async with school.signed_in("khan@claydon.test") as browser:
        assert (await browser.get("/auth/me")).status_code == 200
        result = await asyncio.to_thread(
            CliRunner().invoke,
            cli,
            [
                "staff",
                "disable",
                "KHAN@claydon.test",
                "--school",
                school.key,
                "--database-url",
                db_url,
            ],
        )
        assert result.exit_code == 0, result.output
        assert "signed out of 1 browser" in result.output
        assert (await browser.get("/auth/me")).status_code == 401
        again = await browser.post(
            "/auth/login",
            data={"email": "khan@claydon.test", "school": school.key, "password": PASSWORD},
        )
        assert again.status_code == 401
        assert again.json() == {"detail": NOT_RECOGNISED}  # not "disabled": nothing to learn


async def test_signing_a_member_of_staff_out_everywhere_closes_every_browsers_socket(
    school: StaffedSchool,
):
    staff_id = await school.add("teacher", "khan@claydon.test")
    async with (
        school.signed_in("khan@claydon.test") as laptop,
        school.signed_in("khan@claydon.test") as tablet,
    ):
        rooms = [await school.room(laptop, "laptop"), await school.room(tablet, "tablet")]
        ended = await sign_out_everywhere(school.server.services, staff_id, "Account disabled")
        assert len(ended) == 2
        for room in rooms:
            await asyncio.wait_for(room.closed.wait(), 2)
            assert (room.close_code, room.close_reason) == (4009, "Account disabled")
        assert (await laptop.get("/auth/me")).status_code == 401
        assert (await tablet.get("/auth/me")).status_code == 401


async def test_signing_in_again_in_the_same_browser_ends_the_previous_login(school: StaffedSchool):
    await school.add("teacher", "khan@claydon.test")
    await school.add("dsl", "dsl@claydon.test", "Ms Ortiz", on=False)
    async with school.signed_in("khan@claydon.test") as browser:
        first = browser.cookies[STAFF_COOKIE]
        room = await school.room(browser, "first")
        reply = await browser.post(
            "/auth/login",
            data={"email": "dsl@claydon.test", "school": school.key, "password": PASSWORD},
        )
        assert reply.json()["role"] == "dsl"
        await asyncio.wait_for(room.closed.wait(), 2)
        assert room.close_code == 4009
        found = await staff_for_token(
            school.server.services.engine, first, school.server.services.clock.now()
        )
        assert found is None


# --- roles ------------------------------------------------------------------------------------


# covers: C21, CLA-16, CRO-03
async def test_an_admin_reaches_the_timetable_but_never_a_live_room(school: StaffedSchool):
    await school.add("admin", "office@claydon.test", "Mrs Patel", on=False)
    async with school.signed_in("office@claydon.test") as browser:
        me = (await browser.get("/auth/me")).json()
        assert me["may"] == [
            "manage_roster",
            "manage_staff",
            "revoke_links",
            "schedule_sessions",
            "see_any_session",
        ]
        with pytest.raises(Exception, match="403"):
            await school.room(browser, "admin")
        staff = await identity(school.server, browser)
        stored = await access_session(school.server.services, staff, school.session_id)
        assert stored.plan.session_id == school.session_id


# covers: C21, CLA-16
async def test_a_teacher_cannot_reach_another_schools_session_any_more_than_a_missing_one(
    server: LiveServer, school: StaffedSchool
):
    other = await seed_other_school(server)
    await school.add("teacher", "khan@claydon.test")
    async with school.signed_in("khan@claydon.test") as browser:
        staff = await identity(server, browser)
        cookie = f"{STAFF_COOKIE}={browser.cookies[STAFF_COOKIE]}"

        errors = []
        for session_id in (other.session_id, str(uuid.uuid4())):
            with pytest.raises(HTTPException) as refused:
                await access_session(server.services, staff, session_id)
            errors.append((refused.value.status_code, refused.value.detail))
            with pytest.raises(Exception, match="403") as handshake:
                await Client(server, session_id, cookie, "probe").connect()
            errors.append(("ws", str(handshake.value)))
        assert errors[0] == errors[2] == (404, "No such session")
        assert errors[1] == errors[3]

        stored = await access_session(server.services, staff, school.session_id)
        assert stored.school_id == school.school_id


# covers: C21, CLA-16
async def test_a_teacher_reaches_only_sessions_they_are_on_and_the_dsl_any_of_the_school(
    school: StaffedSchool,
):
    await school.add("teacher", "cover@claydon.test", "Mr Cover", on=False)
    await school.add("dsl", "dsl@claydon.test", "Ms Ortiz", on=False)
    await school.add("head", "head@claydon.test", "Dr Shah", on=False)
    services = school.server.services
    async with school.signed_in("cover@claydon.test") as cover:
        with pytest.raises(HTTPException) as refused:
            await access_session(services, await identity(school.server, cover), school.session_id)
        assert (refused.value.status_code, refused.value.detail) == (404, "No such session")
    for email in ("dsl@claydon.test", "head@claydon.test"):
        async with school.signed_in(email) as browser:
            stored = await access_session(
                services, await identity(school.server, browser), school.session_id
            )
            assert stored.plan.session_id == school.session_id


# --- logs -------------------------------------------------------------------------------------


# covers: C21
async def test_the_password_and_the_token_never_appear_in_the_servers_log(
    school: StaffedSchool, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    await school.add("teacher", "khan@claydon.test")
    async with httpx.AsyncClient(base_url=school.server.url) as browser:
        form = {"email": "khan@claydon.test", "school": school.key}
        await browser.post("/auth/login", data={**form, "password": PASSWORD[::-1]})
        reply = await browser.post("/auth/login", data={**form, "password": PASSWORD})
        token = browser.cookies[STAFF_COOKIE]
        room = await school.room(browser, "teacher")
        await browser.post("/auth/logout", headers=csrf(reply))
        await asyncio.wait_for(room.closed.wait(), 2)
    # everything the server process logged, at every level: not the test's own HTTP client
    server_records = [r for r in caplog.records if not r.name.startswith(CLIENT_LOGGERS)]
    logged = "\n".join(f"{r.getMessage()} {r.__dict__!r}" for r in server_records)
    assert "signed in" in logged and "signed out" in logged  # the log was captured
    for secret in (PASSWORD, PASSWORD[::-1], token, reply.json()["csrf_token"]):
        assert secret not in logged


# --- the command line -------------------------------------------------------------------------

runner = CliRunner(env={"FORCE_COLOR": None, "TTY_COMPATIBLE": None, "COLUMNS": "200"})


def staff_cli(db_url: str, *args: str, stdin: str | None = None) -> Result:
    result = runner.invoke(cli, [*args, "--database-url", db_url], input=stdin)
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, Exception), result.exception
    return result


# covers: C21, CLA-16, CRO-03
def test_staff_add_list_password_and_disable_from_the_command_line(db_url: str):
    assert staff_cli(db_url, "school", "add", "--preset", "claydon").exit_code == 0
    add = ("staff", "add", "--school", "claydon", "--name", "Mrs  Khan", "--email")
    added = staff_cli(
        db_url, *add, "Khan@Claydon.test", "--role", "teacher", "--password-stdin", stdin=PASSWORD
    )
    assert added.exit_code == 0, added.output
    assert "Added Mrs Khan <khan@claydon.test> as teacher" in added.output
    assert PASSWORD not in added.output

    listed = staff_cli(db_url, "staff", "list", "--school", "claydon")
    assert listed.exit_code == 0
    assert "khan@claydon.test" in listed.output
    assert "teacher" in listed.output and "active" in listed.output
    assert "$argon2" not in listed.output

    changed = staff_cli(
        db_url,
        *("staff", "password", "khan@claydon.test", "--school", "claydon", "--password-stdin"),
        stdin="a brand new sentence\n",
    )
    assert changed.exit_code == 0, changed.output
    assert "signed out of 0 browser(s)" in changed.output

    disabled = staff_cli(db_url, "staff", "disable", "khan@claydon.test", "--school", "claydon")
    assert disabled.exit_code == 0
    listed = staff_cli(db_url, "staff", "list", "--school", "claydon")
    assert "disabled" in listed.output


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("--role", "caretaker", "--password-stdin"), PASSWORD, "'caretaker' is not a role"),
        (("--role", "teacher", "--password-stdin"), "password1234", "easiest to guess"),
        (("--role", "teacher", "--password-stdin"), "tiny pw", "at least 12 characters"),
        (("--role", "teacher", "--password-stdin"), "", "no password on standard input"),
        (("--role", "teacher"), PASSWORD, "with --password-stdin"),
    ],
)
def test_staff_add_refuses_bad_input_with_a_message_and_no_traceback(
    db_url: str, args: tuple[str, ...], stdin: str, message: str
):
    assert staff_cli(db_url, "school", "add", "--preset", "claydon").exit_code == 0
    add = ("staff", "add", "--school", "claydon", "--name", "Mrs Khan", "--email", "k@c.test")
    result = staff_cli(db_url, *add, *args, stdin=stdin)
    assert result.exit_code == 1
    assert message in result.output
    if stdin:
        assert stdin not in result.output


def test_staff_commands_name_what_is_missing_instead_of_failing(db_url: str):
    assert staff_cli(db_url, "school", "add", "--preset", "claydon").exit_code == 0
    add = ("staff", "add", "--name", "Mrs Khan", "--email", "k@c.test", "--role", "teacher")
    missing_school = staff_cli(
        db_url, *add, "--school", "nowhere", "--password-stdin", stdin=PASSWORD
    )
    assert missing_school.exit_code == 1
    assert "no school with key 'nowhere'" in missing_school.output
    assert (
        staff_cli(db_url, *add, "--school", "claydon", "--password-stdin", stdin=PASSWORD).exit_code
        == 0
    )
    twice = staff_cli(db_url, *add, "--school", "claydon", "--password-stdin", stdin=PASSWORD)
    assert twice.exit_code == 1
    assert "already a member of staff" in twice.output
    nobody = staff_cli(db_url, "staff", "disable", "who@c.test", "--school", "claydon")
    assert nobody.exit_code == 1
    assert "no member of staff 'who@c.test'" in nobody.output


def test_no_staff_command_takes_a_password_as_an_argument():
    staff = typer.main.get_command(cli).commands["staff"]  # type: ignore[attr-defined]
    for name, command in staff.commands.items():
        for param in command.params:
            if "password" in (param.name or ""):
                assert param.name == "password_stdin", name
                assert param.is_flag, name  # a switch, never a value
