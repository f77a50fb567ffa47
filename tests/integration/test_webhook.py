"""Links to a school's messaging platform (Dojo, Tapestry) by signed webhook, on real sockets.

The "platform" is a small Starlette app on its own uvicorn server on loopback. It checks each
request the way a receiver should, with its own HMAC code rather than safeclass's: the
signature over the exact body, the timestamp header against the signed one, freshness, and
that it has not seen the delivery's id before (so a replayed request is refused).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from safeclass.app.clock import AdjustableClock
from tests.integration.families import School, make_school, schedule, send_links, staff_http
from tests.integration.live import LiveServer, free_port
from tests.support.rooms import START

SECRET = "a-shared-secret-the-school-set-up"  # noqa: S105 - a test secret


class Platform:
    """A messaging platform's webhook endpoint, on a real HTTP server."""

    def __init__(self) -> None:
        self.port = free_port()
        self.deliveries: list[dict[str, Any]] = []
        self.raw: list[tuple[bytes, dict[str, str]]] = []
        self.answer = 204
        self._seen: set[str] = set()
        app = Starlette(routes=[Route("/hooks/safeclass", self.receive, methods=["POST"])])
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/safeclass"

    async def receive(self, request: Request) -> Response:
        body = await request.body()
        self.raw.append((body, dict(request.headers)))
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        signed = hmac.compare_digest(expected, request.headers.get("x-safeclass-signature", ""))
        payload = json.loads(body) if signed else {}
        stamp = request.headers.get("x-safeclass-timestamp", "")
        fresh = (
            signed and stamp == str(payload["timestamp"]) and abs(time.time() - int(stamp)) < 300
        )
        new = signed and payload["id"] not in self._seen
        if not (signed and fresh and new):
            return Response(status_code=401)
        if self.answer < 300:
            self._seen.add(payload["id"])
            self.deliveries.append(payload)
        return Response(status_code=self.answer)

    async def start(self) -> Platform:
        self._task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            await asyncio.sleep(0.01)
        return self

    async def stop(self) -> None:
        self.server.should_exit = True
        if self._task is not None:
            await self._task


@pytest.fixture
async def platform() -> AsyncIterator[Platform]:
    receiver = await Platform().start()
    try:
        yield receiver
    finally:
        await receiver.stop()


@pytest.fixture
async def server(db_url: str, tmp_path: Path, platform: Platform) -> AsyncIterator[LiveServer]:
    live = LiveServer(
        db_url,
        tmp_path,
        AdjustableClock(START - dt.timedelta(days=1)),
        webhook_url=platform.url,
        webhook_secret=SECRET,
    )
    await live.start()
    try:
        yield live
    finally:
        await live.stop()


@pytest.fixture
async def school(server: LiveServer) -> School:
    return await make_school(server.services, "s04")


# covers: C2, S04-02, WER-02
async def test_links_reach_the_messaging_platform_signed_and_fresh(
    server: LiveServer, school: School, platform: Platform
):
    session_id = await schedule(server, school)
    reply = await send_links(server, school, session_id)
    assert reply["sent"] == 3
    assert {r["shown_name"]: r["channels"] for r in reply["results"] if r["channels"]} == {
        "Amelia R.": ["webhook"],
        "Isla J.": ["webhook"],
        "Oliver S.": ["webhook"],
    }
    assert len(platform.deliveries) == 3  # every one passed the receiver's checks
    amelia = next(d for d in platform.deliveries if d["pupil"]["shown_name"] == "Amelia R.")
    assert amelia["type"] == "safeclass.invitation"
    assert amelia["school"] == {"key": school.key, "name": "Dojo and Tapestry Primary School"}
    assert amelia["session"]["title"] == "Year 2 Maths"
    assert amelia["session"]["when"] == "Tuesday 24 November, 10:00–10:30"
    assert amelia["pupil"]["id"] == school.pupils["Amelia"]
    assert "family.test" not in json.dumps(amelia)  # parents' addresses stay at school
    assert amelia["report_link"] == amelia["link"] + "/absence"

    # a replayed request, or one with its body changed, is refused by the receiver
    body, headers = platform.raw[0]
    async with httpx.AsyncClient() as attacker:
        replay = await attacker.post(platform.url, content=body, headers=headers)
        assert replay.status_code == 401
        changed = body.replace(b"Year 2 Maths", b"Year 2 Mathz")
        assert (
            await attacker.post(platform.url, content=changed, headers=headers)
        ).status_code == 401

    # the link the platform shows the family opens the waiting room
    server.clock.set(START - dt.timedelta(minutes=3))
    async with httpx.AsyncClient(follow_redirects=False) as browser:
        opened = await browser.get(amelia["link"])
    assert opened.status_code == 303
    assert opened.headers["location"] == f"/room/{session_id}"


# covers: C2, S04-02
async def test_when_the_platform_is_down_the_link_is_not_marked_sent_and_can_be_sent_later(
    server: LiveServer, school: School, platform: Platform
):
    session_id = await schedule(server, school)
    platform.answer = 503
    reply = await send_links(server, school, session_id)
    assert reply["sent"] == 0
    failed = [r for r in reply["results"] if r["status"] == "not_sent"]
    assert [r["detail"] for r in failed] == [
        "The message could not be sent; please try again later"
    ] * 3
    async with staff_http(server, school.teacher_cookie) as http:
        pupils = (await http.get(f"/api/sessions/{session_id}")).json()["pupils"]
    assert {p["link"] for p in pupils} == {"not_sent", "not_taking_part"}
    platform.answer = 204
    again = await send_links(server, school, session_id)
    assert again["sent"] == 3
    assert len(platform.deliveries) == 3
