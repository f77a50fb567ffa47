"""The live room over WebSocket: authenticate, check Origin, relay commands, push what changed.

Every connection is authenticated at the handshake from its cookie (a staff login or a pupil's
pass for this session), and its Origin must be the server's own. Messages are validated
(protocol.py); the actor of every command is the authenticated participant, never a field of
the message. Each connection has its own outbox and writer, so one slow tablet cannot stall a
room. Each room has a heartbeat, one task for all its connections rather than one each (a server
holds thousands): every `heartbeat_seconds` it pings each page, and a page silent for two
heartbeats is dropped and the room told.

Media signalling (`media_publish`, `media_subscribe`, `media_start`, `trickle`) goes to the
room's media (`RoomMedia`), which lets only a participant in the room on this device use it.
`media_share` (a screen) is the room's `ShareScreen` command first, so only what the room put on
record reaches the SFU.
Each connection handles its media messages in order on a task of its own, so a slow SFU never
holds up its other messages or its heartbeat. Every `state` message says whether the room's
video is on, off or reconnecting (`media`), and a change of that is pushed (`media_state`).

In a cluster (docs/cluster.md), a socket for a room another worker owns is relayed to it once
its cookie is known to open something (`room_relay`); one relayed here for a room this worker
no longer owns is closed with 1012 for the client to try again, never relayed a second time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError
from starlette.routing import WebSocketRoute

from safeclass.app import staff_roles
from safeclass.app.attempt_limits import TooManyAttemptsError
from safeclass.app.clock import Clock
from safeclass.app.identity import STAFF_COOKIE, pupil_cookie
from safeclass.app.live.media import BadOfferError, ShareRefusedError
from safeclass.app.live.ownership import RoomElsewhereError
from safeclass.app.live.runtime import (
    CLOSE_RESTARTING,
    RESTARTING,
    SHARING_NEEDS_VIDEO,
    LiveRoom,
    Outcome,
    RoomClosedError,
)
from safeclass.app.media_port import MediaError, MediaUnavailableError, NotAdmittedError
from safeclass.app.school_records import SessionNotFoundError
from safeclass.core import Role, RoomState, Status
from safeclass.core import commands as cmd
from safeclass.core.events import Event
from safeclass.web import i18n, protocol, room_relay, room_resume, room_words
from safeclass.web.lookups import client_address, lookup_limiter
from safeclass.web.peers import from_peer
from safeclass.web.rate_limit import MessageLimit, Verdict
from safeclass.web.views import Views, pupil_event, staff_event

log = logging.getLogger(__name__)

CLOSE_GOING_AWAY = 1001  # a browser's page reloaded, navigated away or closed
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
CLOSE_SERVER_ERROR = 1011
CLOSE_REPLACED = 4001
CLOSE_HEARTBEAT = 4008
CLOSE_SIGNED_OUT = 4009
LINK_STOPPED = "Your link was stopped by the school"
MAX_BAD_MESSAGES = 20
SLOW_DOWN = "Too many messages at once: please slow down"
OUTBOX_LIMIT = 200
MEDIA_QUEUE_LIMIT = 64  # media messages waiting for the SFU, per connection
PING = '{"type":"ping"}'  # sent as it is, thousands of times a second on a busy server
PONG = '{"type":"pong"}'  # room-client.js's answer, exactly: not parsed

router = APIRouter()


@dataclass(frozen=True, slots=True)
class _Close:
    code: int
    reason: str


async def _close_socket(websocket: WebSocket, code: int, reason: str, language: str) -> None:
    await room_relay.close_client(websocket, code, room_words.close_reason(reason, language))


@dataclass(eq=False)
class Connection:
    websocket: WebSocket
    participant: str
    role: Role
    device: str
    name: str
    language: str = i18n.DEFAULT  # the room's words are sent in it (room_words)
    # a message, or one already encoded (a ping), or a close, or None: stop writing
    outbox: asyncio.Queue[dict[str, Any] | str | _Close | None] = field(
        default_factory=asyncio.Queue
    )
    last_heard: float = field(default_factory=time.monotonic)
    silent_beats: int = 0  # the room's heartbeats since anything was heard from this page
    last_view: dict[str, Any] | None = None  # the last view sent, to skip unchanged ones
    last_media: dict[str, Any] | None = None
    has_chat: bool = False  # the chat so far has been sent; new messages come as events
    events_upto: int = -1  # a resumed page was sent the events up to this seq (room_resume)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    media_jobs: asyncio.Queue[protocol.MediaMessage] = field(default_factory=asyncio.Queue)
    media_worker: asyncio.Task[None] | None = None
    # Set when a newer connection of the same person on the same device (a reload, a second
    # tab) takes over: this one's close is then not that person leaving or dropping.
    replaced: bool = False
    close_code: int | None = None  # the client's close code (1001: its page went away)

    @property
    def is_staff(self) -> bool:
        return self.role is not Role.PUPIL

    def send(self, message: dict[str, Any] | str) -> bool:
        """Queue a message; False if this client is too far behind (it will be closed)."""
        if self.outbox.qsize() >= OUTBOX_LIMIT:
            return False
        self.outbox.put_nowait(message)
        return True


class RoomAudience:
    """Everyone connected to one room (the runtime's `Audience`)."""

    def __init__(self, session_id: str, clock: Clock, heartbeat: float = 5.0) -> None:
        self.session_id = session_id
        self._clock = clock
        self._heartbeat_every = heartbeat
        self._heart: asyncio.Task[None] | None = None
        self.connections: set[Connection] = set()
        self.media: dict[str, Any] = {"state": "off", "message": "Video is off on this server"}
        self.unrecordable: str | None = None  # why recording would be refused, if it would
        # (participant, device) -> the drop decided once a reload's grace runs out
        self._pending_drops: dict[tuple[str, str], asyncio.Task[None]] = {}

    def add(self, conn: Connection) -> None:
        self.connections.add(conn)
        if self._heart is None or self._heart.done():
            self._heart = asyncio.create_task(self._beat(), name=f"heartbeat {self.session_id}")
        pending = self._pending_drops.pop((conn.participant, conn.device), None)
        if pending is not None:  # the page came back in time: the drop never happened
            pending.cancel()

    def drop_unless_back(
        self, participant: str, device: str, grace: float, drop: Callable[[], Awaitable[None]]
    ) -> None:
        """Decide `drop` after `grace` seconds unless the same person's page on the same device
        connects again first (a reload: the browser closes the old socket, going away, before
        the new page opens its own)."""
        key = (participant, device)

        async def later() -> None:
            await asyncio.sleep(grace)
            if self._pending_drops.get(key) is task:
                del self._pending_drops[key]
                await drop()

        old = self._pending_drops.get(key)
        if old is not None:
            old.cancel()
        task = asyncio.create_task(later())
        self._pending_drops[key] = task

    def discard(self, conn: Connection) -> None:
        self.connections.discard(conn)

    async def _beat(self) -> None:
        """Ping every page of the room each heartbeat; close one silent for two heartbeats.
        Ends when the room has nobody connected (the next to connect starts it again)."""
        every = self._heartbeat_every
        while self.connections:
            await asyncio.sleep(every)
            for conn in list(self.connections):
                # counted in beats, not seconds: a server that stalled for a while (a busy
                # moment) hears the answers waiting for it before it judges anyone silent
                if conn.silent_beats >= 2:
                    log.info("heartbeat missed: dropping %s", conn.participant)
                    await self.close(conn, CLOSE_HEARTBEAT, "No heartbeat", flush=False)
                else:
                    conn.silent_beats += 1
                    conn.send(PING)

    def bound(self, state: RoomState, conn: Connection) -> bool:
        """Whether this connection is the participant's current device in the room."""
        p = state.participants.get(conn.participant)
        return p is not None and p.device == conn.device and p.connected

    def other_devices(self, state: RoomState) -> frozenset[str]:
        """Pupils waiting or in the room whose link is also open on another device (STJ-11):
        staff see it beside their name."""
        out = set()
        for conn in self.connections:
            p = state.participants.get(conn.participant)
            if (
                not conn.is_staff
                and p is not None
                and p.connected
                and p.status in (Status.WAITING, Status.ADMITTED)
                and p.device != conn.device
            ):
                out.add(conn.participant)
        return frozenset(out)

    def views(self, state: RoomState) -> Views:
        no_video = SHARING_NEEDS_VIDEO if self.media.get("state") == "off" else None
        return Views(
            state, self._clock.now(), self.unrecordable, self.other_devices(state), no_video
        )

    def view_for(
        self, state: RoomState, conn: Connection, views: Views | None = None
    ) -> dict[str, Any]:
        """The connection's view; the chat so far goes in it once, when the page may first
        see the chat (staff on connecting, a pupil's device once it is theirs in the room), and
        new messages then come as events."""
        views = views or self.views(state)
        if conn.is_staff:
            with_chat, conn.has_chat = not conn.has_chat, True
            return views.staff(conn.participant, with_chat=with_chat)
        # a device that is not the pupil's one in the room sees the session facts only
        bound = self.bound(state, conn)
        with_chat, conn.has_chat = bound and not conn.has_chat, bound
        return views.pupil(conn.participant, bound=bound, with_chat=with_chat)

    def state_message(
        self, state: RoomState, conn: Connection, seq: int, views: Views | None = None
    ) -> dict[str, Any]:
        return {
            "type": "state",
            "seq": seq,
            "now": (views.now if views else self._clock.now()).isoformat(),
            "view": self.view_for(state, conn, views),
            "media": self.media,
        }

    def notices_for(
        self, state: RoomState, conn: Connection, events: Sequence[Event]
    ) -> list[dict[str, Any]]:
        """The events as this connection may hear of them: staff all (a concern's text only
        for its readers), a pupil's device in the room what is for everyone or about them, any
        other device of a pupil only that the session started or ended."""
        if conn.is_staff:
            role = conn.role.value
            return [n for e in events if (n := staff_event(e, conn.participant, role)) is not None]
        if self.bound(state, conn):
            return [n for e in events if (n := pupil_event(e, conn.participant))]
        return [
            n
            for e in events
            if (n := pupil_event(e, conn.participant))
            and n["type"] in ("SessionEnded", "SessionStarted")
        ]

    async def publish(self, state: RoomState, events: Sequence[Event], seq: int) -> None:
        views = self.views(state)
        staff_notices: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for conn in list(self.connections):
            message = self.state_message(state, conn, seq, views)
            if seq <= conn.events_upto:  # a resumed page had these in its first state
                notices = []
            elif conn.is_staff:
                key = (conn.participant, conn.role.value)
                if key not in staff_notices:
                    staff_notices[key] = self.notices_for(state, conn, events)
                notices = staff_notices[key]
            else:
                notices = self.notices_for(state, conn, events)
            if notices:
                message["events"] = notices
            elif message["view"] == conn.last_view and message["media"] == conn.last_media:
                continue  # nothing this viewer can see has changed: send nothing
            conn.last_view, conn.last_media = message["view"], message["media"]
            if not conn.send(message):
                await self.close(
                    conn, CLOSE_POLICY, "Too far behind: please reconnect", flush=False
                )

    def signal(self, participant: str, device: str, message: dict[str, Any]) -> None:
        for conn in list(self.connections):
            if conn.participant == participant and conn.device == device:
                conn.send(message)

    def broadcast(self, message: dict[str, Any], *, staff_only: bool = False) -> None:
        for conn in list(self.connections):
            if conn.is_staff or not staff_only:
                conn.send(message)

    def recording_unavailable(self, reason: str | None) -> None:
        self.unrecordable = reason

    def media_changed(self, status: dict[str, Any]) -> None:
        changed = status != self.media
        self.media = status
        if changed:
            self.broadcast({"type": "media_state", **status})

    async def disconnect(self, participant: str, code: int, reason: str) -> None:
        for conn in [c for c in self.connections if c.participant == participant]:
            await self.close(conn, code, reason)

    async def disconnect_all(self, code: int, reason: str) -> None:
        conns = list(self.connections)
        await asyncio.gather(*(self.close(c, code, reason) for c in conns))

    async def disconnect_device(self, device: str, code: int, reason: str) -> None:
        for conn in [c for c in self.connections if c.device == device]:
            await self.close(conn, code, reason)

    async def close(self, conn: Connection, code: int, reason: str, flush: bool = True) -> None:
        """Close a connection; with `flush`, after what is already queued for it is sent."""
        self.connections.discard(conn)
        if flush:
            conn.outbox.put_nowait(_Close(code, reason))
            return
        conn.outbox.put_nowait(None)
        await _close_socket(conn.websocket, code, reason, conn.language)


class Audiences:
    """The audiences of every room on this server, and closing a device's sockets anywhere."""

    def __init__(self, clock: Clock, heartbeat: float = 5.0) -> None:
        self._clock = clock
        self._heartbeat = heartbeat
        self._rooms: dict[str, RoomAudience] = {}

    def for_session(self, session_id: str) -> RoomAudience:
        audience = self._rooms.get(session_id)
        if audience is None:
            audience = RoomAudience(session_id, self._clock, self._heartbeat)
            self._rooms[session_id] = audience
        return audience

    def count(self) -> dict[str, int]:
        counts = {"staff": 0, "pupil": 0}
        for audience in self._rooms.values():
            for conn in audience.connections:
                counts["staff" if conn.is_staff else "pupil"] += 1
        return counts

    async def disconnect_device(self, device: str, code: int, reason: str) -> None:
        for audience in list(self._rooms.values()):
            await audience.disconnect_device(device, code, reason)


# -- the endpoint ----------------------------------------------------------------------------


async def room_socket(websocket: WebSocket) -> None:
    """A page's socket to its room, for as long as the page is in it.

    A plain Starlette route (`ROUTE`), which the app serves without its middleware and
    routers: see `web.app.SafeclassApp`.
    """
    session_id: str = websocket.path_params["session_id"]
    services = websocket.app.state.services
    settings = services.settings
    origin = websocket.headers.get("origin")
    language = i18n.language_of(websocket)

    async def refuse(code: int, reason: str) -> None:
        await websocket.close(code=code, reason=room_words.close_reason(reason, language))

    if origin != settings.origin:
        log.warning("socket refused: origin %r", origin, extra={"session": session_id})
        await refuse(CLOSE_POLICY, "Origin not allowed")
        return
    guesses, address, now = (
        lookup_limiter(websocket),
        client_address(websocket),
        services.clock.now(),
    )
    try:
        # too many cookies that opened nothing: not even looked at
        await guesses.check(address, now)
    except TooManyAttemptsError:
        log.warning("socket refused: too many failed lookups", extra={"session": session_id})
        await refuse(CLOSE_POLICY, "Too many tries: wait a minute")
        return
    who = await _identify(websocket, session_id)
    if who is None:
        if websocket.cookies:  # a cookie that opens nothing here: a guess, or a stale pass
            await guesses.failed(address, now)
        await refuse(CLOSE_POLICY, "Not signed in, or the link is not valid")
        return
    participant, role, device, name, school_id = who
    found = await _room_or_relay(websocket, session_id, language)
    if isinstance(found, _Relayed):
        return
    room = found
    if room is None or room.school_id != school_id:
        await refuse(CLOSE_POLICY, "Not signed in, or the link is not valid")
        return
    if role is not Role.PUPIL and not await _may_join(services, session_id, participant, role):
        await refuse(CLOSE_POLICY, "Not signed in, or the link is not valid")
        return
    await websocket.accept()
    if room.ended:  # accepted first, so the page hears why (a refused handshake is a bare 403)
        await refuse(4000, "The session has ended")
        return
    audience: RoomAudience = services.audiences.for_session(session_id)
    conn = Connection(websocket, participant, role, device, name, language)
    replaced = [
        c for c in audience.connections if c.participant == participant and c.device == device
    ]
    for old in replaced:
        old.replaced = True
        await audience.close(old, CLOSE_REPLACED, "Opened again on this device")
    if replaced and room.state.screen_sharer == participant:  # the old page's screen is gone
        with contextlib.suppress(RoomClosedError, Exception):
            await room.submit(cmd.StopSharing(participant, only=participant), device)
    resumed = await room_resume.missed(room, room_resume.since_of(websocket))  # no await after
    if room.ended:  # it ended meanwhile: everyone else was told and closed
        await refuse(4000, "The session has ended")
        return
    audience.add(conn)
    services.metrics.sockets.labels(role="staff" if conn.is_staff else "pupil").inc()
    writer = asyncio.create_task(_write(conn))
    conn.send(
        {
            "type": "welcome",
            "v": protocol.VERSION,
            "you": participant,
            "role": role.value,
            "name": name,
            "heartbeat_s": settings.heartbeat_seconds,
            "media": audience.media,
        }
    )
    conn.send(room_resume.first_state(audience, room, conn, resumed))
    if conn.participant in audience.other_devices(room.state):
        await audience.publish(room.state, [], room.seq)  # staff see the second device
    try:
        await _read(conn, room, audience)
    finally:
        second = conn.participant in audience.other_devices(room.state)
        audience.discard(conn)
        if second:  # staff see it gone
            with contextlib.suppress(Exception):
                await audience.publish(room.state, [], room.seq)
        services.metrics.sockets.labels(role="staff" if conn.is_staff else "pupil").dec()
        if conn.media_worker is not None:
            conn.media_worker.cancel()
        conn.outbox.put_nowait(None)
        handing_over = settings.clustered and getattr(
            websocket.app.state, "stopping", False
        )  # this worker stops: the room's next owner decides who came back (registry.py)
        if not conn.replaced and not handing_over:  # nor is a reload or a second tab leaving

            async def drop() -> None:
                with contextlib.suppress(RoomClosedError, Exception):
                    await room.submit(cmd.ConnectionLost(participant, device))

            grace = settings.reload_grace_seconds
            if conn.close_code == CLOSE_GOING_AWAY and grace > 0 and not room.ended:
                audience.drop_unless_back(participant, device, grace, drop)
            else:  # a network drop, a crash, a close of its own: at once
                await drop()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await writer


class _Relayed:
    """The socket went to the room's owner on another worker (or was told to try again)."""


_RELAYED = _Relayed()


async def _room_or_relay(
    websocket: WebSocket, session_id: str, language: str
) -> LiveRoom | _Relayed | None:
    """The room, if this worker owns it (or takes it on now); else the socket is relayed to
    its owner. An owner that cannot be reached (killed, paused) loses its lease within
    `lease_seconds`: meanwhile this socket waits and asks again, and is served by whichever
    worker has the room by then (this one, usually), rather than being sent away to retry."""
    services = websocket.app.state.services
    settings = services.settings
    deadline = time.monotonic() + settings.lease_seconds + 1.0
    retry = False
    while True:
        try:
            room: LiveRoom = await services.rooms.room(session_id)
        except SessionNotFoundError:
            return None
        except RoomElsewhereError as elsewhere:  # another worker owns the room
            if from_peer(websocket):  # sent here by a worker, as to the owner: never relayed
                await websocket.accept()  # twice, the client tries again
                await _close_socket(websocket, CLOSE_RESTARTING, RESTARTING, language)
                return _RELAYED
            reached = await room_relay.relay(
                websocket,
                elsewhere.address,
                key=services.relay_key,
                heartbeat=settings.heartbeat_seconds,
                open_timeout=min(1.0, settings.lease_seconds),
                language=language,
                retry=retry,
            )
            if reached:
                return _RELAYED
            retry = True
            if time.monotonic() > deadline:
                await websocket.accept()
                await _close_socket(websocket, CLOSE_RESTARTING, RESTARTING, language)
                return _RELAYED
            await asyncio.sleep(0.2)
        else:
            return room


async def _identify(
    websocket: WebSocket, session_id: str
) -> tuple[str, Role, str, str, str] | None:
    services = websocket.app.state.services
    now = services.clock.now()
    staff = await services.identities.staff_for_token(websocket.cookies.get(STAFF_COOKIE), now)
    if staff is not None and staff.room_role is not None:
        return staff.staff_id, staff.room_role, staff.login_id, staff.name, staff.school_id
    pupil = await services.identities.pupil_for_token(
        websocket.cookies.get(pupil_cookie(session_id)), session_id, now
    )
    if pupil is not None:
        return pupil.pupil_id, Role.PUPIL, pupil.pass_id, pupil.name, pupil.school_id
    return None


async def _may_join(services: Any, session_id: str, staff_id: str, role: Role) -> bool:
    """Teachers and assistants enter only the sessions they are on; the DSL and head any."""
    on_it = await services.records.on_session_staff(session_id, staff_id)
    return staff_roles.may_join_room(role.value, on_it)


async def _read(conn: Connection, room: LiveRoom, audience: RoomAudience) -> None:
    settings = conn.websocket.app.state.services.settings
    limit = MessageLimit(settings.socket_rate, settings.socket_burst)
    bad = 0
    while True:
        try:
            text = await conn.websocket.receive_text()
        except WebSocketDisconnect as closed:
            conn.close_code = closed.code
            return
        except RuntimeError:
            return
        except KeyError:  # a binary frame
            text = None
        if conn.replaced:  # a newer page of the same person speaks for them now
            return
        conn.last_heard = time.monotonic()
        conn.silent_beats = 0
        verdict = limit.take(conn.last_heard)
        if verdict is not Verdict.READ:
            mid = _cheap_id_of(text)
            conn.send({"type": "error", "id": mid, "code": "rate_limited", "message": SLOW_DOWN})
            if verdict is Verdict.CLOSE:
                await _close_flood(conn, audience)
                return
            continue
        too_big = text is not None and len(text.encode()) > protocol.MAX_MESSAGE_BYTES
        if text is None or (too_big and not protocol.carries_sdp(text)):
            code = CLOSE_TOO_BIG if text is not None else 1003
            await _close_socket(
                conn.websocket, code, "Message too large or not text", conn.language
            )
            return
        if text == PONG:  # what room-client.js answers a ping: nothing more to read
            continue
        try:
            message = _parse(text)
        except _BadMessageError as exc:
            bad += 1
            conn.send({"type": "error", "id": exc.id, "code": "bad_message", "message": exc.why})
            if bad >= MAX_BAD_MESSAGES:  # after the errors already queued: the page hears why
                await audience.close(conn, CLOSE_POLICY, "Too many bad messages")
                return
            continue
        await _handle(conn, room, audience, message)


async def _close_flood(conn: Connection, audience: RoomAudience) -> None:
    """Close a connection that kept sending over its limit, and tell the staff why."""
    log.warning(
        "closing %s's socket: too many messages",
        conn.participant,
        extra={"session": audience.session_id},
    )
    await audience.close(conn, CLOSE_POLICY, "Too many messages, too fast")
    audience.broadcast(
        {
            "type": "notice",
            "kind": "flooding",
            "participant": conn.participant,
            "message": f"{conn.name}'s connection was closed: it sent too many messages too fast",
        },
        staff_only=True,
    )


async def _handle(
    conn: Connection, room: LiveRoom, audience: RoomAudience, message: protocol.ClientMessage
) -> None:
    if isinstance(message, protocol.Ping):
        if message.type == "ping":
            conn.send({"type": "pong", "id": message.id})
        return
    if isinstance(message, protocol.MEDIA_MESSAGES):
        if conn.media_jobs.qsize() >= MEDIA_QUEUE_LIMIT:
            _media_error(conn, message, "busy", "Too many video messages at once: slow down")
            return
        conn.media_jobs.put_nowait(message)
        if conn.media_worker is None:
            conn.media_worker = asyncio.create_task(_media_worker(conn, room))
        return
    if isinstance(message, protocol.Join):
        command: cmd.Command | None = cmd.RequestToJoin(
            conn.participant,
            conn.role,
            conn.device,
            shown_name=message.shown_name,
            acknowledged_expectations=message.acknowledged_expectations or conn.is_staff,
            parent_present=message.parent_present,
            staff_name=conn.name if conn.is_staff else "",
        )
    else:
        command = protocol.to_command(message, conn.participant)
    if command is None:
        return
    outcome = await _carry_out(conn, room, command, message.id)
    if outcome is None:
        return
    conn.send({"type": "ok", "id": message.id, "seq": outcome.seq})
    if isinstance(message, protocol.Join):
        # the join may have bound this device: send its first real view
        conn.send(audience.state_message(room.state, conn, room.seq))


async def _carry_out(
    conn: Connection, room: LiveRoom, command: cmd.Command, mid: str | None
) -> Outcome | None:
    """Submit a command for this connection: its outcome, or None once the refusal or the
    error has been sent (nothing changed then)."""
    try:
        outcome = await room.submit(command, conn.device)
    except RoomClosedError:
        conn.send(
            {
                "type": "refused",
                "id": mid,
                "code": "ended",
                "message": "This session has ended",
                "clause": "",
            }
        )
        return None
    except Exception:  # the log could not be written: nothing happened
        log.exception("command failed", extra={"session": room.session_id})
        conn.send(
            {
                "type": "error",
                "id": mid,
                "code": "not_saved",
                "message": "That could not be saved, so nothing changed. Please try again.",
            }
        )
        return None
    if outcome.refusal is not None:
        conn.send(
            {
                "type": "refused",
                "id": mid,
                "code": outcome.refusal.code.value,
                "message": outcome.refusal.message,
                "clause": outcome.refusal.clause,
            }
        )
        return None
    return outcome


async def _media_worker(conn: Connection, room: LiveRoom) -> None:
    """This connection's media messages, one at a time (a trickle after its offer)."""
    while True:
        message = await conn.media_jobs.get()
        try:
            await _media(conn, room, message)
        except Exception:
            log.exception("media signalling failed", extra={"session": room.session_id})
            _media_error(conn, message, "media_failed", "Video could not connect: try again")


async def _media(conn: Connection, room: LiveRoom, message: protocol.MediaMessage) -> None:
    media, who, device = room.media, conn.participant, conn.device
    try:
        match message:
            case protocol.MediaPublish(jsep=offer):
                answer = await media.publish(who, device, offer.model_dump())
                conn.send({"type": "media_answer", "id": message.id, "jsep": answer})
            case protocol.MediaSubscribe():
                jsep, streams = await media.subscribe(who, device)
                reply = {"type": "media_offer", "id": message.id, "jsep": jsep, "streams": streams}
                conn.send(reply)
            case protocol.MediaStart(jsep=answer):
                await media.answer(who, device, answer.model_dump())
                conn.send({"type": "ok", "id": message.id, "seq": room.seq})
            case protocol.MediaShare(jsep=offer):
                await _share(conn, room, message, offer.model_dump())
            case protocol.Trickle(target=target, candidate=candidate):
                found = candidate.for_sfu() if candidate is not None else None
                await media.trickle(who, device, target, found)
    except NotAdmittedError as exc:
        code = exc.code if isinstance(exc, ShareRefusedError) else "not_here"
        log.warning("media refused (%s) for %s", code, who, extra={"session": room.session_id})
        conn.send(
            {"type": "refused", "id": message.id, "code": code, "message": str(exc), "clause": ""}
        )
    except BadOfferError as exc:
        conn.send(
            {
                "type": "refused",
                "id": message.id,
                "code": "invalid",
                "message": str(exc),
                "clause": "",
            }
        )
    except MediaUnavailableError:
        if media.off:
            _media_error(conn, message, "media_off", "Video is off on this server")
        else:
            _media_error(conn, message, "media_unavailable", "Reconnecting video…")
    except MediaError as exc:
        log.warning("media %s failed: %s", message.type, exc, extra={"session": room.session_id})
        _media_error(conn, message, "media_failed", "Video could not connect: try again")


async def _share(
    conn: Connection, room: LiveRoom, message: protocol.MediaShare, offer: dict[str, Any]
) -> None:
    """A screen share: the room's command first (only staff; on record; one at a time), then
    its offer to the SFU. If the SFU cannot take it, the share ends again, on record too."""
    who, device = conn.participant, conn.device
    if await _carry_out(conn, room, cmd.ShareScreen(who), message.id) is None:
        return
    try:
        answer = await room.media.share(who, device, offer)
    except MediaError:
        with contextlib.suppress(RoomClosedError, Exception):
            await room.submit(cmd.StopSharing(who, only=who), device)
        raise
    conn.send({"type": "media_answer", "id": message.id, "jsep": answer})


def _media_error(conn: Connection, message: protocol.MediaMessage, code: str, text: str) -> None:
    conn.send({"type": "error", "id": message.id, "code": code, "message": text})


class _BadMessageError(ValueError):
    def __init__(self, why: str, mid: str | None = None) -> None:
        super().__init__(why)
        self.why = why
        self.id = mid


def _parse(text: str) -> protocol.ClientMessage:
    """The message in a text frame, or _BadMessageError saying why not in plain words.

    Its depth is judged first, so nothing deep is ever parsed (by pydantic or by `_id_of`)."""
    if protocol.too_deep(text):
        raise _BadMessageError(protocol.TOO_DEEP)
    try:
        return protocol.parse_message.validate_json(text)
    except ValidationError as exc:
        raise _BadMessageError(_explain(exc), _id_of(text)) from None


def _cheap_id_of(text: str | None) -> str | None:
    """The `id` of a message not otherwise read (over the rate limit), if that is cheap."""
    if text is None or len(text) > protocol.MAX_MESSAGE_BYTES or protocol.too_deep(text):
        return None
    return _id_of(text)


def _id_of(text: str) -> str | None:
    """The `id` of a message that failed validation, when it has a usable one."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    mid = data.get("id") if isinstance(data, dict) else None
    return mid if isinstance(mid, str) and len(mid) <= 64 else None


def _explain(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"])
    if first["type"] == "union_tag_invalid":
        return f"Unknown message type: {first.get('input', {}).get('type')!r}"
    if first["type"] == "union_tag_not_found":
        return "A message needs a 'type'"
    if first["type"] == "json_invalid":
        return "Not valid JSON"
    return f"{where}: {first['msg']}"


async def _write(conn: Connection) -> None:
    while (message := await conn.outbox.get()) is not None:
        if isinstance(message, _Close):
            await _close_socket(conn.websocket, message.code, message.reason, conn.language)
            return
        try:
            if isinstance(message, str):
                await conn.websocket.send_text(message)
                continue
            said = room_words.translate_message(message, conn.language)
            await conn.websocket.send_text(_encode(said))
        except Exception:  # the socket is gone; the reader notices and cleans up
            return


def _encode(message: dict[str, Any]) -> str:
    """A message as the JSON text sent. Every view goes to every page in the room after every
    change, so this is the server's busiest line: orjson takes a tenth of json.dumps's time."""
    return orjson.dumps(message, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


ROUTE = WebSocketRoute("/ws/sessions/{session_id}", room_socket)
router.routes.append(ROUTE)  # served straight from the app (web/app.py SafeclassApp)
