"""A school with families for tests of scheduling and links: a real SMTP server, staff over HTTP.

`MailSink` is aiosmtpd's real SMTP server on a free loopback port, keeping every message it
receives (and it can be stopped and started again on the same port, to play a mail server that
is down). `make_school` makes a school from a preset through the real school and pupil records,
with a class whose pupils each have a parent's email, and a signed-in teacher and assistant.
`staff_http` is an httpx client carrying a staff cookie and its CSRF token, as the staff page
would.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import email.policy
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import insert

from safeclass.adapters.auth.logins import csrf_token
from safeclass.adapters.auth.tokens import hash_token, new_token
from safeclass.adapters.store import pupil_records, school_records
from safeclass.adapters.store.tables import Invitation
from safeclass.bootstrap import Services
from safeclass.policy import loads
from safeclass.policy.loading import preset_path
from tests.integration.live import LiveServer, free_port, staff_cookie
from tests.support.rooms import START

FAMILIES = [
    ("Amelia", "Roberts", None),
    ("Oliver", "Smith", None),
    ("Isla", "Jones", None),
    ("Noah", "O'Neill", "refused"),  # his parents opted him out (C17)
]
TOKEN = re.compile(r"/join/([A-Za-z0-9_\-]{20,})")


class MailSink:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[EmailMessage] = []
        self.recipients: list[list[str]] = []
        self.arrived: list[float] = []  # time.monotonic() of each message, as it was accepted
        self._controller: Controller | None = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        content = envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode()
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.recipients.append(list(envelope.rcpt_tos))
        self.arrived.append(time.monotonic())
        self.received.append(message)
        return "250 Message accepted for delivery"

    def start(self) -> MailSink:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    async def wait_for(self, count: int, timeout: float = 10) -> list[EmailMessage]:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.received) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{len(self.received)} of {count} emails arrived")
            await asyncio.sleep(0.02)
        return self.received

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.received if m["To"] == address]


def parent_email(forename: str) -> str:
    return f"{forename.lower()}.parent@family.test"


def parts(message: EmailMessage) -> tuple[str, str]:
    """The plain-text and HTML bodies of a message."""
    plain = message.get_body(preferencelist=("plain",))
    rich = message.get_body(preferencelist=("html",))
    assert plain is not None and rich is not None
    return str(plain.get_content()), str(rich.get_content())


def token_in(message: EmailMessage) -> str:
    plain, _ = parts(message)
    found = TOKEN.search(plain)
    assert found is not None, plain
    return found.group(1)


@dataclass
class School:
    id: str
    key: str
    class_id: str
    pupils: dict[str, str]  # forename -> pupil id
    teacher_id: str
    teacher_cookie: str
    assistant_id: str
    assistant_cookie: str
    extra: dict[str, Any] = field(default_factory=dict)


async def make_school(
    services: Services, preset: str = "claydon", families: list[Any] | None = None
) -> School:
    text = preset_path(preset).read_text(encoding="utf-8")
    key = f"{preset}-{uuid.uuid4().hex[:6]}"
    pupils: dict[str, str] = {}
    async with services.engine.begin() as conn:
        school = await school_records.create_school(conn, loads(text), text, key=key)
        klass, _ = await school_records.upsert_class(conn, school.id, "2B")
        for forename, surname, consent in families or FAMILIES:
            pid = await pupil_records.add_pupil(
                conn, school.id, forename=forename, surname=surname, class_id=klass.id
            )
            await pupil_records.add_guardian(
                conn, school.id, pid, name=f"Parent of {forename}", email=parent_email(forename)
            )
            if consent:
                await pupil_records.set_consent(conn, school.id, pid, consent, source="MIS")
            pupils[forename] = pid
    teacher_id, teacher = await staff_cookie(services, school.id, "teacher", "Mrs Khan")
    assistant_id, assistant = await staff_cookie(services, school.id, "assistant", "Mr Lee")
    return School(school.id, key, klass.id, pupils, teacher_id, teacher, assistant_id, assistant)


def staff_http(server: LiveServer, cookie: str) -> httpx.AsyncClient:
    """An HTTP client signed in as a member of staff, sending the CSRF token as the page does."""
    token = cookie.partition("=")[2]
    return httpx.AsyncClient(
        base_url=server.url,
        headers={"Cookie": cookie, "X-CSRF-Token": csrf_token(token)},
        timeout=15,
    )


async def schedule(
    server: LiveServer,
    school: School,
    *,
    starts_at: dt.datetime = START,
    title: str = "Year 2 Maths",
    **fields: Any,
) -> str:
    """A class session for class 2B with the teacher and assistant; returns its id."""
    body = {
        "kind": "class",
        "title": title,
        "starts_at": starts_at.isoformat(),
        "minutes": 30,
        "class_id": school.class_id,
        "staff_ids": [school.assistant_id],
        **fields,
    }
    async with staff_http(server, school.teacher_cookie) as http:
        response = await http.post("/api/sessions", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def family_token(server: LiveServer, school: School, session_id: str, forename: str) -> str:
    """A family's link token for `forename`, as the school's message would carry it (written
    straight to the store: no email is sent)."""
    token = new_token()
    now = server.clock.now()
    async with server.services.engine.begin() as conn:
        await conn.execute(
            insert(Invitation).values(
                id=str(uuid.uuid4()),
                school_id=school.id,
                session_id=session_id,
                pupil_id=school.pupils[forename],
                token_hash=hash_token(token),
                expires_at=now + dt.timedelta(days=1),
                created_at=now,
            )
        )
    return token


async def send_links(
    server: LiveServer, school: School, session_id: str, **body: Any
) -> dict[str, Any]:
    async with staff_http(server, school.teacher_cookie) as http:
        response = await http.post(f"/api/sessions/{session_id}/invitations/send", json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5) -> None:
    """Wait until `check()` holds (e.g. the worker has marked a message sent)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("the condition did not come true in time")
        await asyncio.sleep(0.05)


# Words a child or parent must never see on a page (JOURNEYS.md).
TECHNICAL = ("token", "error", "invalid", "exception", "revoked", "404", "410", "403", "cookie")


def assert_kind(page: str) -> None:
    lowered = page.lower()
    assert not [w for w in TECHNICAL if w in lowered], page
