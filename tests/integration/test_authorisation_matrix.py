"""Every route × every kind of caller, on a real server, against the one table (C21).

The table is `safeclass.app.route_access` (with `staff_roles`); docs/roles.md is written from
it. Each cell gets a session of its own (a teacher and an assistant on it, a family's link, and
a recording when the route needs one) and a fresh login for its caller, calls the route over real
HTTP (or the room's WebSocket), and checks the answer against what the table says: allowed, or
refused with 401, 403 or 404. A refused call must change nothing; an allowed call that changes
something must change it. A route that has no row, or no way to call it here, fails the test.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import fastapi.routing
import httpx
import pytest
from sqlalchemy import func, insert, select, update

from safeclass.adapters.auth.limits import LookupLimiter
from safeclass.adapters.auth.logins import csrf_token
from safeclass.adapters.auth.tokens import hash_token, new_token
from safeclass.adapters.store import pupil_records
from safeclass.adapters.store.tables import (
    Invitation,
    Notification,
    Pupil,
    PupilPass,
    Session,
    SessionResource,
    SessionStaff,
)
from safeclass.app import concerns, recordings, resources, route_access, staff_roles, timetable
from safeclass.app.clock import AdjustableClock
from safeclass.app.media_port import RecordedFile
from safeclass.app.route_access import Caller, Reach, Rule, Scope
from safeclass.core import Consent, SessionKind
from tests.integration.families import MailSink, School, make_school
from tests.integration.live import Client, LiveServer, pupil_cookie, staff_cookie
from tests.support.rooms import START

METRICS_TOKEN = "m" * 40
ALLOWED = "allowed"


@dataclass(frozen=True)
class Who:
    """A kind of caller."""

    name: str
    role: str | None = None  # a staff role; None: not staff
    on_session: bool = False
    other_school: bool = False
    pupil_devices: int = 0  # 1: the family's link's device; 2: the same pupil's second device


CALLERS = (
    Who("teacher on it", "teacher", on_session=True),
    Who("teacher not on it", "teacher"),
    Who("assistant on it", "assistant", on_session=True),
    Who("assistant not on it", "assistant"),
    Who("dsl", "dsl"),
    Who("head", "head"),
    Who("admin", "admin"),
    Who("family's link", pupil_devices=1),
    Who("pupil's second device", pupil_devices=2),
    Who("another school's head", "head", other_school=True),
    Who("anonymous"),
)


@dataclass
class World:
    """One cell's session, and what a call may need."""

    server: LiveServer
    school: School
    other: School
    staff: dict[str, str]  # caller name -> staff id
    session_id: str
    link_token: str
    pupil_id: str
    recording_id: str | None = None
    concern_id: str | None = None  # written by "teacher on it" (the shared world's)
    resource_id: str = ""  # a file families can open (C15)


@dataclass
class Answer:
    status: int | str
    body: Any = None


Call = Callable[[World, httpx.AsyncClient, str], Awaitable[Answer]]


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


async def _get(http: httpx.AsyncClient, path: str) -> Answer:
    response = await http.get(path)
    return Answer(response.status_code, _json(response))


def _lesson(world: World, who: Who) -> dict[str, object]:
    school = world.other if who.other_school else world.school
    return {
        "kind": "class",
        "title": "New lesson",
        "starts_at": (START + dt.timedelta(hours=2)).isoformat(),
        "minutes": 30,
        "class_id": school.class_id,
    }


def _session(path: str) -> Callable[[World], str]:
    return lambda w: path.format(session_id=w.session_id, pupil_id=w.pupil_id)


async def _ws(world: World, cookie: str) -> Answer:
    client = Client(world.server, world.session_id, cookie, "matrix")
    try:
        await client.connect()
    except Exception as exc:  # the handshake's refusal
        return Answer(403 if "403" in str(exc) else repr(exc))
    await client.close()
    return Answer("open")


def calls() -> dict[tuple[str, str], tuple[int | str, Call]]:
    """How this test calls each route, and the answer of a call that is allowed."""
    s = "/api/sessions/{session_id}"
    p = "/staff/sessions/{session_id}"

    def get(path: Callable[[World], str]) -> Call:
        return lambda w, http, _who: _get(http, path(w))

    def send(method: str, path: Callable[[World], str], body: Any = None) -> Call:
        async def call(w: World, http: httpx.AsyncClient, _who: str) -> Answer:
            payload = body(w) if callable(body) else body
            response = await http.request(method, path(w), json=payload)
            return Answer(response.status_code, _json(response))

        return call

    async def head_openapi(w: World, http: httpx.AsyncClient, _who: str) -> Answer:
        return Answer((await http.head("/openapi.json")).status_code)

    async def login(w: World, http: httpx.AsyncClient, _who: str) -> Answer:
        response = await http.post("/auth/login", data={"email": "", "school": w.school.key})
        return Answer(response.status_code, _json(response))

    async def create(w: World, http: httpx.AsyncClient, who: str) -> Answer:
        caller = next(c for c in CALLERS if c.name == who)
        response = await http.post("/api/sessions", json=_lesson(w, caller))
        return Answer(response.status_code, _json(response))

    def link(path: str, method: str = "GET", data: dict[str, str] | None = None) -> Call:
        async def call(w: World, http: httpx.AsyncClient, _who: str) -> Answer:
            right = await http.request(method, path.format(token=w.link_token), data=data)
            wrong = await http.request(method, path.format(token=new_token()), data=data)
            # the link itself is the credential: a wrong one is refused whoever asks
            return Answer(right.status_code if wrong.status_code == 404 else "wrong link opened")

        return call

    async def withdraw(w: World, http: httpx.AsyncClient, who: str) -> Answer:
        """A parent's withdrawal of consent; then the office records consent again, so the
        pupil (whose consent is the school's, not one session's) is as before for every other
        cell."""
        answer = await link("/join/{token}/withdraw", "POST")(w, http, who)
        async with w.server.services.engine.begin() as conn:
            await pupil_records.set_consent(
                conn, w.school.id, w.pupil_id, Consent.IMPLIED, source="the office"
            )
        return answer

    async def schedule_form(w: World, http: httpx.AsyncClient, who: str) -> Answer:
        caller = next(c for c in CALLERS if c.name == who)
        lesson = _lesson(w, caller)
        starts = START.astimezone(ZoneInfo("Europe/London")) + dt.timedelta(hours=2)
        form = {
            "class_id": str(lesson["class_id"]),
            "title": "New lesson",
            "date": starts.date().isoformat(),
            "time": f"{starts:%H:%M}",
            "minutes": "30",
        }
        response = await http.post("/staff/sessions/new", data=form)
        return Answer(response.status_code, response.headers.get("location"))

    def register(extension: str) -> Call:
        async def call(w: World, http: httpx.AsyncClient, _who: str) -> Answer:
            # the register is there once the lesson has ended: a lesson of its own, ended
            ended = await _world(w.server, w.school, w.other, w.staff)
            async with w.server.services.engine.begin() as conn:
                await conn.execute(
                    update(Session).where(Session.id == ended.session_id).values(status="ended")
                )
            response = await http.get(f"/staff/sessions/{ended.session_id}/register.{extension}")
            return Answer(response.status_code, response.headers.get("content-type"))

        return call

    def form(path: Callable[[World], str], data: dict[str, Any]) -> Call:
        async def call(w: World, http: httpx.AsyncClient, _who: str) -> Answer:
            response = await http.post(path(w), data=data)
            return Answer(response.status_code, response.headers.get("location"))

        return call

    def concern(tail: str = "") -> Callable[[World], str]:
        return lambda w: f"/staff/concerns/{w.concern_id}{tail}"

    async def raise_concern(w: World, http: httpx.AsyncClient, _who: str) -> Answer:
        response = await http.post(
            f"/staff/sessions/{w.session_id}/concerns/new",
            data={"pupils": [w.pupil_id], "category": "Other", "account": "Seen on camera"},
        )
        return Answer(response.status_code, response.headers.get("location"))

    def ended(suffix: str) -> Call:
        async def call(w: World, http: httpx.AsyncClient, _who: str) -> Answer:
            # the compliance report is there once the lesson has ended: a lesson of its own
            done = await _world(w.server, w.school, w.other, w.staff)
            async with w.server.services.engine.begin() as conn:
                await conn.execute(
                    update(Session).where(Session.id == done.session_id).values(status="ended")
                )
            response = await http.get(f"/staff/sessions/{done.session_id}/{suffix}")
            return Answer(response.status_code, response.headers.get("content-type"))

        return call

    async def add_resource(w: World, http: httpx.AsyncClient, _who: str) -> Answer:
        form = {"kind": "link", "title": "Counting song", "url": "https://example.org/song"}
        response = await http.post(f"/staff/sessions/{w.session_id}/resources", data=form)
        return Answer(response.status_code, response.headers.get("location"))

    async def remove_resource(w: World, http: httpx.AsyncClient, _who: str) -> Answer:
        path = f"/staff/sessions/{w.session_id}/resources/{w.resource_id}/remove"
        response = await http.post(path)
        return Answer(response.status_code, response.headers.get("location"))

    def resource_file(prefix: str) -> Call:
        async def call(w: World, http: httpx.AsyncClient, _who: str) -> Answer:
            response = await http.get(f"{prefix.format(session_id=w.session_id)}/{w.resource_id}")
            return Answer(response.status_code, response.headers.get("content-disposition"))

        return call

    async def room_page(w: World, http: httpx.AsyncClient, _who: str) -> Answer:
        return Answer((await http.get(f"/room/{w.session_id}")).status_code)

    async def room_socket(w: World, http: httpx.AsyncClient, _who: str) -> Answer:
        return await _ws(w, http.headers.get("Cookie", ""))

    async def erase_pupil(w: World, http: httpx.AsyncClient, _who: str) -> Answer:
        # a pupil of its own: erasing the shared one would change every other cell
        pupil_id = str(uuid.uuid4())
        now = w.server.services.clock.now()
        async with w.server.services.engine.begin() as conn:
            await conn.execute(
                insert(Pupil).values(
                    id=pupil_id,
                    school_id=w.school.id,
                    forename="Erin",
                    surname="Example",
                    created_at=now,
                    updated_at=now,
                )
            )
        response = await http.post(f"/staff/pupils/{pupil_id}/erase")
        return Answer(response.status_code, response.text[:200])

    return {
        ("GET", "/healthz"): (200, get(lambda w: "/healthz")),
        ("GET", "/metrics"): (200, get(lambda w: "/metrics")),
        ("GET", "/openapi.json"): (200, get(lambda w: "/openapi.json")),
        ("HEAD", "/openapi.json"): (200, head_openapi),
        ("GET", "/docs"): (200, get(lambda w: "/docs")),
        ("GET", "/docs/assets/{name}"): (200, get(lambda w: "/docs/assets/api-docs.js")),
        ("POST", "/auth/login"): (400, login),
        ("POST", "/auth/logout"): (204, send("POST", lambda w: "/auth/logout")),
        ("GET", "/auth/me"): (200, get(lambda w: "/auth/me")),
        ("POST", "/api/sessions"): (201, create),
        ("GET", "/api/sessions"): (200, get(lambda w: "/api/sessions")),
        ("GET", s): (200, get(_session(s))),
        ("PATCH", s): (200, send("PATCH", _session(s), {"title": "Taken over"})),
        ("POST", f"{s}/cancel"): (200, send("POST", _session(f"{s}/cancel"))),
        ("POST", f"{s}/staff"): (
            200,
            send(
                "POST",
                _session(f"{s}/staff"),
                lambda w: {"staff_ids": [w.staff["teacher not on it"]]},
            ),
        ),
        ("POST", f"{s}/invitations/send"): (
            200,
            send("POST", _session(f"{s}/invitations/send"), {"resend": True}),
        ),
        ("POST", f"{s}/invitations/{{pupil_id}}/revoke"): (
            200,
            send("POST", _session(f"{s}/invitations/{{pupil_id}}/revoke")),
        ),
        ("GET", "/api/recordings"): (200, get(lambda w: "/api/recordings")),
        ("GET", "/api/recordings/{recording_id}/file"): (
            200,
            get(lambda w: f"/api/recordings/{w.recording_id}/file"),
        ),
        ("GET", "/"): (200, get(lambda w: "/")),
        ("GET", "/sign-in"): (200, get(lambda w: "/sign-in")),
        ("GET", "/staff"): (200, get(lambda w: "/staff")),
        ("GET", "/staff/sessions/new"): (200, get(lambda w: "/staff/sessions/new")),
        ("POST", "/staff/sessions/new"): (303, schedule_form),
        ("GET", p): (200, get(_session(p))),
        ("POST", f"{p}/links/send"): (303, send("POST", _session(f"{p}/links/send"))),
        ("POST", f"{p}/links/{{pupil_id}}/new"): (
            200,
            send("POST", _session(f"{p}/links/{{pupil_id}}/new")),
        ),
        ("POST", f"{p}/links/{{pupil_id}}/stop"): (
            303,
            send("POST", _session(f"{p}/links/{{pupil_id}}/stop")),
        ),
        ("GET", f"{p}/register.csv"): (200, register("csv")),
        ("GET", f"{p}/register.pdf"): (200, register("pdf")),
        ("GET", f"{p}/compliance"): (200, ended("compliance")),
        ("GET", f"{p}/compliance.pdf"): (200, ended("compliance.pdf")),
        ("GET", "/staff/compliance"): (200, get(lambda w: "/staff/compliance")),
        ("POST", f"{p}/resources"): (303, add_resource),
        ("POST", f"{p}/resources/{{resource_id}}/remove"): (303, remove_resource),
        ("GET", f"{p}/resources/{{resource_id}}"): (
            200,
            resource_file("/staff/sessions/{session_id}/resources"),
        ),
        ("GET", "/room/{session_id}/resources/{resource_id}"): (
            200,
            resource_file("/room/{session_id}/resources"),
        ),
        ("GET", "/staff/classes/{class_id}"): (
            200,
            get(lambda w: f"/staff/classes/{w.school.class_id}"),
        ),
        ("GET", "/staff/concerns"): (200, get(lambda w: "/staff/concerns")),
        ("GET", "/staff/concerns/export.csv"): (200, get(lambda w: "/staff/concerns/export.csv")),
        ("GET", "/staff/concerns/export.pdf"): (200, get(lambda w: "/staff/concerns/export.pdf")),
        ("GET", "/staff/concerns/{concern_id}"): (200, get(concern())),
        ("GET", "/api/concerns/{concern_id}"): (
            200,
            get(lambda w: f"/api/concerns/{w.concern_id}"),
        ),
        ("POST", "/staff/concerns/{concern_id}/entries"): (
            303,
            form(concern("/entries"), {"kind": "addition", "text": "More seen"}),
        ),
        ("POST", "/staff/concerns/{concern_id}/read"): (303, form(concern("/read"), {})),
        ("GET", "/staff/concerns/{concern_id}/export.csv"): (200, get(concern("/export.csv"))),
        ("GET", "/staff/concerns/{concern_id}/export.pdf"): (200, get(concern("/export.pdf"))),
        ("GET", "/staff/pupils/{pupil_id}/concerns"): (
            200,
            get(lambda w: f"/staff/pupils/{w.pupil_id}/concerns"),
        ),
        ("GET", f"{p}/concerns/new"): (200, get(_session(f"{p}/concerns/new"))),
        ("POST", f"{p}/concerns/new"): (303, raise_concern),
        ("GET", "/staff/pupils/{pupil_id}/records"): (
            200,
            get(lambda w: f"/staff/pupils/{w.pupil_id}/records"),
        ),
        ("GET", "/staff/pupils/{pupil_id}/records.zip"): (
            200,
            get(lambda w: f"/staff/pupils/{w.pupil_id}/records.zip"),
        ),
        ("GET", "/staff/pupils/{pupil_id}/erase"): (
            200,
            get(lambda w: f"/staff/pupils/{w.pupil_id}/erase"),
        ),
        ("POST", "/staff/pupils/{pupil_id}/erase"): (200, erase_pupil),
        ("GET", "/staff/oversight"): (200, get(lambda w: "/staff/oversight")),
        ("GET", "/staff/oversight/{table}.csv"): (
            200,
            get(lambda w: "/staff/oversight/weeks.csv"),
        ),
        ("GET", "/staff/oversight/pupils/{pupil_id}"): (
            200,
            get(lambda w: f"/staff/oversight/pupils/{w.pupil_id}"),
        ),
        ("GET", "/static/{name}"): (200, get(lambda w: "/static/site.css")),
        ("GET", "/join/{token}"): (200, link("/join/{token}")),
        ("GET", "/join/{token}/absence"): (200, link("/join/{token}/absence")),
        ("POST", "/join/{token}/absence"): (
            200,
            link("/join/{token}/absence", "POST", {"reason": "absent", "message": "Unwell"}),
        ),
        ("GET", "/join/{token}/withdraw"): (200, link("/join/{token}/withdraw")),
        ("POST", "/join/{token}/withdraw"): (200, withdraw),
        ("GET", "/room/{session_id}"): (200, room_page),
        ("WEBSOCKET", "/ws/sessions/{session_id}"): ("open", room_socket),
    }


def expected(rule: Rule, who: Who, success: int | str) -> int | str:
    """What the table says this caller gets from this route: `success`, or the refusal."""
    if rule.caller in (Caller.ANYONE, Caller.LINK):
        return success
    if rule.caller is Caller.OPERATOR:
        return 401  # nobody here carries the metrics token
    if rule.caller is Caller.ROOM:
        if who.pupil_devices:
            return success  # the session's own pupil, on either device
        if who.role is None or who.other_school:
            return 403
        reach = route_access.staff_reach(rule, who.role)
        return success if reach is Reach.ALL or (reach is Reach.ON_IT and who.on_session) else 403
    if who.role is None:
        return 401
    if who.other_school:
        if rule.scope is Scope.SCHOOL and route_access.staff_reach(rule, who.role) is Reach.NOTHING:
            return 403  # the role may do this nowhere: refused before anything is looked up
        if rule.scope is not Scope.NONE:
            return 404
    elif _one_concern(rule) and not staff_roles.may_read_concern(
        who.role, who.name == "teacher on it"
    ):
        return 404  # the one rule: only the DSL and the concern's writer reach it
    elif rule.scope is Scope.SESSION and not staff_roles.may_reach_session(
        who.role, who.on_session
    ):
        return 404
    reach = route_access.staff_reach(rule, who.role)
    return success if reach is not Reach.NOTHING else 403


def _one_concern(rule: Rule) -> bool:
    """A route to one concern that its row gives every role: the one rule decides."""
    one = ("/staff/concerns/{concern_id}", "/api/concerns/{concern_id}")
    return rule.path.startswith(one) and rule.capability is None


@dataclass(frozen=True)
class Actor:
    staff_id: str
    school_id: str
    role: str


@pytest.fixture
async def server(db_url: str, tmp_path: Path, mail: MailSink) -> AsyncIterator[LiveServer]:
    live = LiveServer(
        db_url,
        tmp_path,
        AdjustableClock(START - dt.timedelta(days=1)),
        smtp_host="127.0.0.1",
        smtp_port=mail.port,
        metrics_token=METRICS_TOKEN,
    )
    await live.start()
    # every caller here is 127.0.0.1, and the matrix opens wrong links on purpose: slowing a
    # guesser is test_family_limits' subject, not this one's
    live.app.state.lookup_limiter = LookupLimiter(per_client=1_000_000)
    try:
        yield live
    finally:
        await live.stop()


def _changes(rule: Rule) -> bool:
    return rule.caller is Caller.STAFF and rule.scope is Scope.SESSION and rule.method != "GET"


async def _world(
    server: LiveServer,
    school: School,
    other: School,
    staff: dict[str, str],
    *,
    with_recording: bool = False,
) -> World:
    services = server.services
    now = services.clock.now()
    teacher = Actor(staff["teacher on it"], school.id, "teacher")
    session_id = await timetable.schedule(
        services.timetable,
        teacher,
        timetable.SessionRequest(
            kind=SessionKind.CLASS,
            title="Year 2 Maths",
            starts_at=START,
            minutes=30,
            class_id=school.class_id,
            staff_ids=(staff["teacher on it"], staff["assistant on it"]),
        ),
        now,
    )
    token, pupil_id = new_token(), school.pupils["Amelia"]
    async with services.engine.begin() as conn:
        await conn.execute(
            insert(Invitation).values(
                id=str(uuid.uuid4()),
                school_id=school.id,
                session_id=session_id,
                pupil_id=pupil_id,
                token_hash=hash_token(token),
                expires_at=START + dt.timedelta(hours=1),
                sent_at=now,
                created_at=now,
            )
        )
    world = World(server, school, other, staff, session_id, token, pupil_id)
    if with_recording:  # the shared world: a concern the teacher on it wrote, too
        world.concern_id = await concerns.raise_afterwards(
            services.concerns,
            services.concern_key,
            school_id=school.id,
            session_id=session_id,
            session_title="Year 2 Maths",
            timezone="Europe/London",
            pupils=[pupil_id],
            category="Other",
            account="Seen on camera",
            happened_at=None,
            by=teacher.staff_id,
            by_name="Mrs Khan",
            keep_to_age=25,
            now=now,
            alerts=services.alerts,
        )
    world.resource_id = await resources.add_file(
        services.resources,
        server.settings.data_dir,
        school_id=school.id,
        session_id=session_id,
        staff_id=staff["teacher on it"],
        title="Worksheet",
        filename="worksheet.pdf",
        data=b"%PDF-1.4 a worksheet",
        now=now,
    )
    if with_recording:
        path = server.settings.data_dir / f"{uuid.uuid4().hex}.webm"
        path.write_bytes(b"\x1aE\xdf\xa3" + bytes(100))
        [world.recording_id] = await recordings.keep(
            services.recordings,
            school_id=school.id,
            session_id=session_id,
            files=[RecordedFile("p1", path, now, now + dt.timedelta(seconds=5), 104, ("video",))],
            names={"p1": "Amelia R."},
            now=now,
            keep_days=30,
        )
    return world


async def _client(world: World, who: Who) -> httpx.AsyncClient:
    services, server = world.server.services, world.server
    headers = {"Origin": server.settings.origin}
    if who.role is not None:
        school = world.other if who.other_school else world.school
        _, cookie = await staff_cookie(
            services, school.id, who.role, who.name, staff_id=world.staff[who.name]
        )
        headers.update({"Cookie": cookie, "X-CSRF-Token": csrf_token(cookie.partition("=")[2])})
    for _ in range(who.pupil_devices):  # the last pass made is this device's
        headers["Cookie"] = await pupil_cookie(
            services, world.school.id, world.session_id, world.pupil_id
        )
    return httpx.AsyncClient(base_url=server.url, headers=headers, timeout=15)


async def _snapshot(world: World) -> tuple[Any, ...]:
    """Everything a call could change about this cell's session, or add to the school."""
    async with world.server.services.engine.connect() as conn:
        session = (
            await conn.execute(
                select(Session.title, Session.status, Session.starts_at).where(
                    Session.id == world.session_id
                )
            )
        ).one()
        staff = sorted(
            (
                await conn.execute(
                    select(SessionStaff.staff_id).where(SessionStaff.session_id == world.session_id)
                )
            ).scalars()
        )
        links = (
            await conn.execute(
                select(Invitation.token_hash, Invitation.revoked_at)
                .where(Invitation.session_id == world.session_id)
                .order_by(Invitation.id)
            )
        ).all()
        passes = (
            await conn.execute(
                select(PupilPass.id, PupilPass.revoked_at)
                .where(PupilPass.session_id == world.session_id)
                .order_by(PupilPass.id)
            )
        ).all()
        offered = (
            await conn.execute(
                select(SessionResource.id, SessionResource.removed_at)
                .where(SessionResource.session_id == world.session_id)
                .order_by(SessionResource.id)
            )
        ).all()
        sessions = await conn.scalar(select(func.count()).select_from(Session))
        notices = await conn.scalar(select(func.count()).select_from(Notification))
    return (tuple(session), staff, links, passes, sessions, notices, offered)


def _content_problem(key: tuple[str, str], world: World, who: Who, answer: Answer) -> str | None:
    """For lists: an allowed caller sees exactly what the table lets them reach."""
    if key == ("GET", "/api/sessions"):
        listed = world.session_id in {s["id"] for s in answer.body}
        role = who.role or ""
        reaches = not who.other_school and staff_roles.may_reach_session(role, who.on_session)
        if listed != reaches:
            return f"lists the session: {listed}, reaches it: {reaches}"
    if key == ("GET", "/api/recordings"):
        listed = world.recording_id in {r["id"] for r in answer.body}
        if listed == who.other_school:
            return f"lists the recording: {listed}"
    return None


def _app_routes(server: LiveServer) -> set[tuple[str, str]]:
    """Every (method, path) the running app answers, straight from FastAPI."""
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)
    routes = flatten(server.app.routes) if flatten is not None else server.app.routes
    return {
        (method, str(route.path))
        for route in routes
        for method in (getattr(route, "methods", None) or {"WEBSOCKET"})
    }


# covers: C21, CLA-16, CRO-03, STJ-02
async def test_every_route_answers_every_kind_of_caller_as_the_table_says(server: LiveServer):
    known = calls()
    assert _app_routes(server) == set(route_access.BY_ROUTE) == set(known), (
        "every route needs a row in safeclass.app.route_access and a call in this test"
    )
    school = await make_school(server.services, "claydon")
    other = await make_school(server.services, "claydon")
    staff = {
        "teacher on it": school.teacher_id,
        "assistant on it": school.assistant_id,
    }
    for who in CALLERS:
        if who.role is not None and who.name not in staff:
            home = other if who.other_school else school
            staff[who.name], _ = await staff_cookie(server.services, home.id, who.role, who.name)

    wrong: list[str] = []
    shared = await _world(server, school, other, staff, with_recording=True)
    clients: dict[tuple[str, str, bool], httpx.AsyncClient] = {}
    try:
        for rule in route_access.RULES:
            key = (rule.method, rule.path)
            success, call = known[key]
            for who in CALLERS:
                # a call that may change the session gets a session of its own
                changes = _changes(rule)
                world = await _world(server, school, other, staff) if changes else shared
                # signing out ends a login: that call gets one of its own
                ours = (world.session_id, who.name, key == ("POST", "/auth/logout"))
                if ours not in clients:
                    clients[ours] = await _client(world, who)
                before = await _snapshot(world) if changes else None
                answer = await call(world, clients[ours], who.name)
                after = await _snapshot(world) if changes else None
                want = expected(rule, who, success)
                cell = f"{rule.method} {rule.path} as {who.name}"
                if answer.status != want:
                    wrong.append(f"{cell}: {answer.status} {answer.body!r:.120}, table says {want}")
                elif want != success and before != after:
                    wrong.append(f"{cell}: refused, but it changed something")
                elif want == success and changes and before == after:
                    wrong.append(f"{cell}: allowed, but nothing changed")
                elif want == success and (problem := _content_problem(key, world, who, answer)):
                    wrong.append(f"{cell}: {problem}")
    finally:
        for client in clients.values():
            await client.aclose()
    assert wrong == [], "\n".join(wrong)


# covers: C21, CLA-16
async def test_a_teacher_not_on_the_session_can_neither_see_nor_take_it_over(
    server: LiveServer, mail: MailSink
):
    """The finding, as a teacher would try it: every door answers 404, and nothing changes."""
    school = await make_school(server.services, "claydon")
    on_it = {"teacher on it": school.teacher_id, "assistant on it": school.assistant_id}
    world = await _world(server, school, school, on_it)
    cover_id, cookie = await staff_cookie(server.services, school.id, "teacher", "Mr Cover")
    base = f"/api/sessions/{world.session_id}"
    before = await _snapshot(world)
    async with httpx.AsyncClient(
        base_url=server.url,
        headers={"Cookie": cookie, "X-CSRF-Token": csrf_token(cookie.partition("=")[2])},
    ) as http:
        answers = [
            await http.get(base),
            await http.patch(base, json={"title": "Mine now"}),
            await http.post(f"{base}/invitations/send", json={"resend": True}),
            await http.post(f"{base}/invitations/{world.pupil_id}/revoke"),
            await http.post(f"{base}/staff", json={"staff_ids": [cover_id]}),
            await http.post(f"{base}/cancel"),
        ]
        listed = (await http.get("/api/sessions")).json()
        page = await http.get(f"/room/{world.session_id}")
    assert [(a.status_code, a.json()["detail"]) for a in answers] == [(404, "No such session")] * 6
    assert world.session_id not in {s["id"] for s in listed}
    assert page.status_code == 403
    assert await _snapshot(world) == before
    with pytest.raises(Exception, match="403"):
        await Client(server, world.session_id, cookie, "cover").connect()
