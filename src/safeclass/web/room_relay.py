"""A room's socket that reached a worker which does not own the room, relayed to the one that does.

HAProxy sends a session's sockets to one worker by the session's id, but a room's owner is
whoever holds its lease (app/live/ownership.py): after a failover, a worker coming back, or a
pupil's link opened through another door, a socket can land elsewhere. This worker then opens
the same socket to the owner (same path and query, the client's cookies, Origin and
Accept-Language, X-Forwarded-For with the client's address as seen here, and the relay header
that proves it is a worker: `peers`), and passes every frame both ways unchanged. The owner
checks everything again, as for any socket; nothing here decides anything.

- The client is accepted only once the owner accepted; a handshake the owner refused is refused
  here with the owner's HTTP status (a browser sees both alike).
- A close from the owner reaches the client with the owner's code and reason (4000 ended, 4003
  removed...), and the client's close reaches the owner with its code (1001: a reload, so the
  owner waits for the page to come back).
- An owner that cannot be reached is reported to the caller (`relay` returns False, the client
  not yet accepted), which waits for the owner's lease to run out and serves the socket where
  the room is then (room_socket._room_or_relay). An owner whose connection dies without a close
  (killed, or silent past two heartbeats: paused) closes the client with 1012 "the server is
  restarting": the browser's client reconnects, and by then another worker has the room.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from urllib.parse import urlsplit, urlunsplit

import websockets
from fastapi import WebSocket
from starlette.responses import Response
from starlette.websockets import WebSocketState
from websockets.asyncio.client import ClientConnection
from websockets.frames import EXTERNAL_CLOSE_CODES

from safeclass.app.live.ownership import RELAY_HEADER
from safeclass.app.live.runtime import CLOSE_RESTARTING, RESTARTING
from safeclass.web import room_words
from safeclass.web.lookups import client_address
from safeclass.web.peers import relay_proof

log = logging.getLogger(__name__)

CLOSE_TIMEOUT_S = 2.0
# the client's headers the owner reads at the handshake (cookies: who; Origin: from where;
# Accept-Language: in which words); everything else of the client's is not passed on
_PASSED_ON = ("cookie", "origin", "accept-language", "user-agent")


async def relay(
    websocket: WebSocket,
    owner: str,
    *,
    key: bytes,
    heartbeat: float,
    open_timeout: float,
    language: str,
    retry: bool = False,
) -> bool:
    """Relay this (not yet accepted) socket to the room's owner at `owner` (its peer URL);
    False if the owner could not be reached (the socket is then neither accepted nor closed).

    `heartbeat`: the owner's side is pinged this often and dropped after as long without an
    answer. `open_timeout`: how long the owner has to accept, at most the room's lease: a
    paused owner accepts the connection but never answers, and once its lease has run out
    another worker takes the room, so the client had better try again by then. `retry`: this
    socket's owner did not answer before either, and that was logged; an owner that died
    leaves every page of its rooms waiting here, trying every 0.2 s until its lease runs out,
    and one warning a try would be thousands of lines for a worker that held a school's
    classes."""
    session = websocket.path_params.get("session_id")
    try:
        upstream = await websockets.connect(
            _owner_url(owner, websocket),
            additional_headers=_headers(websocket, key),
            user_agent_header=None,  # the client's own, among the headers passed on
            compression=None,  # as between the browser and any worker (serve_cmd)
            max_size=None,  # the owner's frames are the owner's business, as without a relay
            open_timeout=open_timeout,
            close_timeout=CLOSE_TIMEOUT_S,
            ping_interval=heartbeat,
            ping_timeout=heartbeat,
            proxy=None,  # workers reach each other directly, never through an HTTP proxy
        )
    except websockets.InvalidStatus as refused:  # the owner turned the handshake down
        await _refuse(websocket, refused.response.status_code)
        return True
    except (OSError, TimeoutError, websockets.InvalidHandshake) as failed:
        log.log(
            logging.DEBUG if retry else logging.WARNING,
            "room socket not relayed: its owner %s did not answer (%s)",
            owner,
            type(failed).__name__,
            extra={"session": session},
        )
        return False
    await websocket.accept()
    await _pump(websocket, upstream, language)
    return True


async def _pump(websocket: WebSocket, upstream: ClientConnection, language: str) -> None:
    up = asyncio.create_task(_client_to_owner(websocket, upstream))
    down = asyncio.create_task(_owner_to_client(upstream, websocket))
    try:
        await asyncio.wait({up, down}, return_when=asyncio.FIRST_COMPLETED)
        left = up.result() if up.done() and up.exception() is None else None
        if left is None and up.done() and up.exception() is not None:
            left = (1006, "")  # the client's side broke
        if left is None and not await down:
            left = (1006, "")  # the client could not be written to: it is gone
        if left is not None:  # the client went: the owner hears it as from the client
            code, reason = left
            with contextlib.suppress(Exception):
                if _sendable(code):
                    await upstream.close(code, reason)
                else:  # 1005 no code, 1006 gone without a close: a plain close
                    await upstream.close()
            return
        closed = upstream.protocol.close_rcvd
        if closed is None:  # no close from the owner: killed, cut off, or paused
            await close_client(
                websocket, CLOSE_RESTARTING, room_words.close_reason(RESTARTING, language)
            )
        else:
            code = closed.code if _sendable(closed.code) else 1000
            await close_client(websocket, code, closed.reason)  # in the owner's words already
    finally:
        for task in (up, down):
            task.cancel()
        await asyncio.gather(up, down, return_exceptions=True)
        with contextlib.suppress(Exception):
            await upstream.close()


async def _client_to_owner(
    websocket: WebSocket, upstream: ClientConnection
) -> tuple[int, str] | None:
    """Pass the client's frames on; the client's close (code, reason), or None if the owner's
    side closed first."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return int(message.get("code") or 1005), str(message.get("reason") or "")
        try:
            if message.get("text") is not None:
                await upstream.send(message["text"])
            elif message.get("bytes") is not None:
                await upstream.send(message["bytes"])
        except websockets.ConnectionClosed:
            return None


async def _owner_to_client(upstream: ClientConnection, websocket: WebSocket) -> bool:
    """Pass the owner's frames on until its side ends (True), or until the client cannot be
    written to (False)."""
    try:
        async for frame in upstream:
            if isinstance(frame, str):
                await websocket.send_text(frame)
            else:
                await websocket.send_bytes(frame)
    except websockets.ConnectionClosed:
        return True
    except Exception:  # the client's side: closed under us
        return False
    return True


def _sendable(code: int) -> bool:
    """Whether a close frame may carry this code (1005 and 1006 only describe a close)."""
    return code in EXTERNAL_CLOSE_CODES or 3000 <= code < 5000


def _owner_url(owner: str, websocket: WebSocket) -> str:
    """The same path and query at the owner (http://host:port → ws://host:port/...)."""
    parts = urlsplit(owner)
    scheme = "wss" if parts.scheme in ("https", "wss") else "ws"
    path: bytes = websocket.scope.get("raw_path") or websocket.scope["path"].encode()
    query: bytes = websocket.scope.get("query_string", b"")
    return urlunsplit((scheme, parts.netloc, path.decode("latin-1"), query.decode("latin-1"), ""))


def _headers(websocket: WebSocket, key: bytes) -> list[tuple[str, str]]:
    headers = [(name, value) for name, value in websocket.headers.items() if name in _PASSED_ON]
    headers.append(("x-forwarded-for", client_address(websocket)))
    headers.append((RELAY_HEADER, relay_proof(key)))
    return headers


async def _refuse(websocket: WebSocket, status: int) -> None:
    """Turn the handshake down as the owner did (a bare close is a 403 where the server cannot
    answer with a status of its own)."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        await websocket.send_denial_response(Response(status_code=status))
    else:
        await websocket.close()


async def close_client(websocket: WebSocket, code: int, reason: str) -> None:
    """Close a browser's socket with these words, if it is still open (whatever state it is
    in otherwise: this is the last thing said to it)."""
    with contextlib.suppress(Exception):
        if websocket.application_state is WebSocketState.CONNECTED:
            await websocket.close(code=code, reason=reason)
