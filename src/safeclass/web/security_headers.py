"""Security headers on every HTTP response, whichever route (or error) made it.

- `X-Content-Type-Options: nosniff`: a browser never runs a file as something it was not sent as.
- `Referrer-Policy: no-referrer`: no address (a family's link holds a token) leaves in a Referer.
- `Content-Security-Policy: frame-ancestors 'none'` (and `X-Frame-Options: DENY` for old
  browsers): no other site can frame a page of ours to trick staff into clicks. A response with
  its own policy (the families' pages, `/docs`) keeps it; each of those forbids framing too.
- `Strict-Transport-Security` when the public URL is https: after one visit, the browser never
  again talks to the server over plain http, so a login cookie cannot be caught on the way.

A plain ASGI middleware (not Starlette's BaseHTTPMiddleware): it adds headers as the response
starts, costs nothing on the room's WebSocket, and does not buffer file downloads.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HSTS = "max-age=31536000"


def headers_for(https: bool) -> dict[str, str]:
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Content-Security-Policy": "frame-ancestors 'none'",
        "X-Frame-Options": "DENY",
    }
    if https:
        headers["Strict-Transport-Security"] = HSTS
    return headers


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.headers = headers_for(https)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
