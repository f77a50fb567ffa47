"""A school's messaging platform (Class Dojo, Tapestry) for tests: a real webhook on loopback.

A small Starlette app on its own uvicorn server keeps every request it gets (the exact body and
headers, and what it answered), so a test reads what arrived as the platform would. It can
refuse (503) while `refusing` is set, or answer a list of statuses in turn (`answers`) before it
takes them, to play a platform that is down or flaky.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from safeclass.adapters.notify.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from tests.integration.live import free_port

SECRET = "the-secret-the-school-shares-with-its-platform"  # noqa: S105 - a test secret


@dataclass(frozen=True, slots=True)
class Arrived:
    body: bytes
    signature: str | None
    timestamp: str | None
    status: int  # what the platform answered
    at: float  # time.monotonic()

    @property
    def payload(self) -> dict[str, Any]:
        return dict(json.loads(self.body))

    def verifies(self, secret: str = SECRET) -> bool:
        return verify(secret, self.body, self.signature, self.timestamp)


class Hooks:
    """The platform's webhook endpoint at `url`, keeping every request in `arrived`."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.arrived: list[Arrived] = []
        self.answers: list[int] = []  # answered in turn before taking anything
        self.refusing = False
        app = Starlette(routes=[Route("/hooks/safeclass", self._receive, methods=["POST"])])
        self._server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/safeclass"

    async def _receive(self, request: Request) -> Response:
        body = await request.body()
        if self.refusing:
            status = 503
        elif self.answers:
            status = self.answers.pop(0)
        else:
            status = 204
        self.arrived.append(
            Arrived(
                body,
                request.headers.get(SIGNATURE_HEADER),
                request.headers.get(TIMESTAMP_HEADER),
                status,
                time.monotonic(),
            )
        )
        return Response(status_code=status)

    @property
    def taken(self) -> list[Arrived]:
        """The requests the platform accepted (answered 2xx)."""
        return [a for a in self.arrived if a.status < 300]

    def taken_for(self, pupil_id: str) -> list[dict[str, Any]]:
        return [a.payload for a in self.taken if a.payload.get("pupil", {}).get("id") == pupil_id]

    async def wait_for(self, count: int, timeout: float = 10) -> list[Arrived]:
        """Wait until `count` requests have been accepted."""
        deadline = time.monotonic() + timeout
        while len(self.taken) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(self.taken)} of {count} webhook deliveries arrived")
            await asyncio.sleep(0.02)
        return self.taken

    async def start(self) -> Hooks:
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)
        return self

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task is not None:
            await asyncio.wait_for(self._task, 10)
