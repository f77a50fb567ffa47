"""The web application: FastAPI routes and the WebSocket room, over the services from bootstrap.

Every route has a row in `safeclass.app.route_access` saying who may call it, and guards that
match the row: `deps.check_routes` refuses to build an app where either is missing. Every HTTP
response carries the security headers (`security_headers`). The staff's pages (`staff_pages`,
rendered by `render` in English or Welsh) use only this server's own files (`static_files`).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, WebSocketRoute
from starlette.types import Receive, Scope, Send

from safeclass import __version__, bootstrap
from safeclass.app.clock import Clock
from safeclass.observability import CollectorPauses
from safeclass.settings import Settings
from safeclass.web import (
    api_docs,
    auth,
    class_page,
    compliance_page,
    concerns_api,
    concerns_page,
    family_consent,
    health,
    invitations,
    oversight_page,
    recordings_api,
    resources_page,
    room_socket,
    schedule_page,
    session_page,
    sessions_api,
    staff_pages,
    static_files,
    subject_access_page,
)
from safeclass.web.deps import check_routes
from safeclass.web.security_headers import SecurityHeaders


class SafeclassApp(FastAPI):
    """FastAPI, with one shortcut: a room's socket goes straight to its route.

    A socket lives as long as its page is in the room, and every layer an ASGI request passes
    through (the middleware, the routers) stays suspended beneath it all that time: two dozen
    coroutines and their closures for each socket, which the collector went through again and
    again with thousands open (bench/ceiling.py: about 180 objects a socket, a third of them
    these). None of those layers does anything for a socket on a plain `WebSocketRoute`: the
    security headers are for HTTP answers, and the route handles its own exceptions. So the
    routes in `direct_sockets` are served from here, and are still in `routes`, each with its
    row in route_access (`deps.check_routes`).
    """

    direct_sockets: tuple[WebSocketRoute, ...] = ()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            for route in self.direct_sockets:
                match, child = route.matches(scope)
                if match is Match.FULL:
                    scope["app"] = self
                    scope.update(child)
                    await route.handle(scope, receive, send)
                    return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings, clock: Clock | None = None) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = await bootstrap.build(settings, clock)
        app.state.services = services
        # Guessing is counted per server, or per cluster: sign-in attempts, and family links
        # and cookies that open nothing (one count for the link pages, the room's page and its
        # socket).
        app.state.login_limiter = services.login_limits
        app.state.lookup_limiter = services.lookup_limits
        # What exists at start lives as long as the server: keep it out of every collection.
        # While pupils join, nearly everything new survives (a socket keeps about 140 objects):
        # collect the young every 5,000 (a pause of 20-50 ms at 5,000 sockets), and the middle
        # generation every 10th time, while it is still small (50-110 ms). With it every 50th
        # (20,000 / 50, before), it grew to half a million objects and paused the server for
        # 400 ms in every join storm (bench/ceiling.py, safeclass_gc_pause_seconds).
        gc.freeze()
        gc.set_threshold(5_000, 10, 100)
        pauses = CollectorPauses(services.metrics)
        pauses.start()
        try:
            yield
        finally:
            pauses.stop()
            await bootstrap.close(services)

    app = SafeclassApp(
        title="safeclass",
        version=__version__,
        description="A live classroom whose safeguarding protocol the server enforces.",
        lifespan=lifespan,
        # FastAPI's /docs and /redoc load their scripts from a CDN; ours come from here.
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.add_middleware(SecurityHeaders, https=settings.secure_cookies)
    app.include_router(health.router)
    app.include_router(room_socket.router)
    app.include_router(auth.router)
    app.include_router(sessions_api.router)
    app.include_router(invitations.router)
    app.include_router(family_consent.router)
    app.include_router(recordings_api.router)
    app.include_router(concerns_api.router)
    app.include_router(api_docs.router)
    app.include_router(static_files.router)
    app.include_router(staff_pages.router)
    app.include_router(schedule_page.router)  # before session_page: "new" is not a session id
    app.include_router(concerns_page.router)
    app.include_router(compliance_page.router)  # before session_page's catch-alls
    app.include_router(session_page.router)
    app.include_router(resources_page.router)
    app.include_router(class_page.router)
    app.include_router(subject_access_page.router)
    app.include_router(oversight_page.router)
    app.add_exception_handler(StarletteHTTPException, _refusal)
    app.direct_sockets = (room_socket.ROUTE,)
    check_routes(app)
    return app


async def _refusal(request: Request, exc: Exception) -> Response:
    """A refusal: a page in plain words for a staff page, else the API's JSON."""
    if not isinstance(exc, StarletteHTTPException):  # only registered for these
        raise exc
    page = staff_pages.page_refusal(request, exc)
    return page if page is not None else await http_exception_handler(request, exc)
