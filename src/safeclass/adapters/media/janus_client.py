"""An asyncio client for the Janus WebSocket API, and the VideoRoom requests safeclass makes.

One `JanusClient` is one WebSocket (subprotocol `janus-protocol`). Every request carries a
fresh `transaction` and the `apisecret`; replies are routed to their request by transaction and
everything else (webrtcup, hangup, media, VideoRoom events) to its handle by `sender`.

Janus answers in two shapes. Core requests and the synchronous VideoRoom requests (create,
destroy, allowed, kick, moderate, listparticipants…) answer `success` at once, with a plugin
error, if any, inside `plugindata.data.error_code`. The asynchronous ones (join, publish,
configure, start, update, leave) answer `ack`, then an `event` with the same transaction. Either
way a failure raises `JanusError(code, reason)`; core errors come as `janus: "error"`.

The connection is watched: a WebSocket ping every `ping_interval` (a hung Janus is noticed
within about three intervals: 1.7 s by default) and a dropped connection (Janus died) at once.
Then every waiting request fails with `JanusConnectionLostError`, `lost` is set and `on_lost`
is called. Sessions send a keepalive every 25 s, well inside Janus's `session_timeout`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.typing import Subprotocol

log = logging.getLogger(__name__)

JSON = dict[str, Any]
VIDEOROOM = "janus.plugin.videoroom"
KEEPALIVE_SECONDS = 25.0
MAX_QUEUED_EVENTS = 1000
ASYNC_REQUESTS = frozenset(
    {
        "join",
        "joinandconfigure",
        "configure",
        "publish",
        "unpublish",
        "start",
        "pause",
        "switch",
        "update",
        "leave",
    }
)

# Error codes seen from Janus 1.1 (core codes are 4xx/5xx of the core, VideoRoom ones 42x-43x)
ERROR_NO_SUCH_ROOM = 426
ERROR_ROOM_EXISTS = 427
ERROR_NO_SUCH_FEED = 428
ERROR_MISSING_ELEMENT = 429
ERROR_NOT_JOINED = 425
ERROR_UNAUTHORIZED = 433  # wrong secret or pin, or a token not in the room's allowed list
ERROR_ID_EXISTS = 436


class JanusError(Exception):
    """Janus refused a request: its error code and reason."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"janus error {code}: {reason}")
        self.code = code
        self.reason = reason


class JanusConnectionLostError(JanusError):
    """The WebSocket to Janus closed (Janus died or the network dropped)."""

    def __init__(self, reason: str = "connection to janus lost") -> None:
        super().__init__(-1, reason)


class JanusTimeoutError(JanusError):
    """Janus did not answer a request in time."""

    def __init__(self, what: str) -> None:
        super().__init__(-2, f"no answer to {what}")


@dataclass(frozen=True, slots=True)
class JanusReply:
    """A successful answer: the whole message, the plugin's data and any JSEP it carries."""

    message: JSON
    data: JSON
    jsep: JSON | None


def _reply(message: JSON) -> JanusReply:
    if message.get("janus") == "error":
        error = message.get("error") or {}
        raise JanusError(int(error.get("code", 0)), str(error.get("reason", "unknown error")))
    data = (message.get("plugindata") or {}).get("data") or {}
    if data.get("error_code"):
        raise JanusError(int(data["error_code"]), str(data.get("error", "plugin error")))
    jsep = message.get("jsep")
    return JanusReply(message, data, jsep if isinstance(jsep, dict) else None)


@dataclass(slots=True)
class _Pending:
    wants_event: bool
    ack: asyncio.Future[JSON]
    result: asyncio.Future[JSON]


EventListener = Callable[[JSON], None]


class JanusClient:
    """One WebSocket to one Janus."""

    def __init__(
        self,
        url: str,
        api_secret: str,
        *,
        on_lost: Callable[[], Awaitable[None]] | None = None,
        ping_interval: float = 0.5,
        request_timeout: float = 10.0,
    ) -> None:
        self.url = url
        self._api_secret = api_secret
        self.on_lost = on_lost
        self.ping_interval = ping_interval
        self.request_timeout = request_timeout
        self.lost = asyncio.Event()
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._pending: dict[str, _Pending] = {}
        self._handles: dict[int, PluginHandle] = {}
        self._sessions: dict[int, JanusSession] = {}
        self._closing = False
        self._lost_task: asyncio.Task[None] | None = None

    @classmethod
    async def connect(
        cls,
        url: str,
        api_secret: str,
        *,
        on_lost: Callable[[], Awaitable[None]] | None = None,
        ping_interval: float = 0.5,
        request_timeout: float = 10.0,
        open_timeout: float = 5.0,
    ) -> JanusClient:
        client = cls(
            url,
            api_secret,
            on_lost=on_lost,
            ping_interval=ping_interval,
            request_timeout=request_timeout,
        )
        try:
            client._ws = await ws_connect(
                url,
                subprotocols=[Subprotocol("janus-protocol")],
                open_timeout=open_timeout,
                ping_interval=ping_interval,
                ping_timeout=2 * ping_interval,
                max_size=4_000_000,
                close_timeout=0.2,
            )
        except WebSocketException as exc:  # something answered, but not as Janus (yet)
            raise JanusConnectionLostError(f"janus at {url} did not answer: {exc}") from exc
        client._reader = asyncio.create_task(client._read(), name=f"janus reader {url}")
        return client

    @property
    def connected(self) -> bool:
        return self._ws is not None and not self.lost.is_set()

    async def close(self) -> None:
        """Destroy the sessions (best effort) and close the socket; `on_lost` is not called."""
        self._closing = True
        for session in list(self._sessions.values()):
            with contextlib.suppress(JanusError):
                await session.destroy(timeout=2.0)
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        self._fail_pending()
        self.lost.set()

    # -- requests ----------------------------------------------------------------------------
    async def request(
        self, body: JSON, *, wants_event: bool = False, timeout: float | None = None
    ) -> JanusReply:
        """Send one request; the answer (the event, for asynchronous plugin requests)."""
        if self._ws is None or self.lost.is_set():
            raise JanusConnectionLostError()
        tx = secrets.token_hex(8)
        loop = asyncio.get_running_loop()
        pending = _Pending(wants_event, loop.create_future(), loop.create_future())
        self._pending[tx] = pending
        message = dict(body, transaction=tx, apisecret=self._api_secret)
        try:
            try:
                await self._ws.send(json.dumps(message))
            except ConnectionClosed as exc:
                raise JanusConnectionLostError() from exc
            async with asyncio.timeout(timeout or self.request_timeout):
                if not wants_event:
                    done, _ = await asyncio.wait(
                        {pending.ack, pending.result}, return_when=asyncio.FIRST_COMPLETED
                    )
                    if pending.result in done:
                        return _reply(pending.result.result())
                    return JanusReply(pending.ack.result(), {}, None)  # keepalive, trickle
                return _reply(await pending.result)
        except TimeoutError as exc:
            what = body.get("body", {}).get("request") or body.get("janus")
            raise JanusTimeoutError(str(what)) from exc
        finally:
            self._pending.pop(tx, None)

    async def info(self) -> JSON:
        return (await self.request({"janus": "info"})).message

    async def create_session(self, keepalive: float = KEEPALIVE_SECONDS) -> JanusSession:
        reply = await self.request({"janus": "create"})
        session = JanusSession(self, int(reply.message["data"]["id"]), keepalive)
        self._sessions[session.id] = session
        return session

    # -- the reader --------------------------------------------------------------------------
    async def _read(self) -> None:
        if self._ws is None:
            return
        try:
            async for raw in self._ws:
                try:
                    message = json.loads(raw)
                except ValueError:
                    log.warning("janus sent something that is not JSON")
                    continue
                if isinstance(message, dict):
                    self._route(message)
        except ConnectionClosed:
            pass
        finally:
            self._fail_pending()
            if not self.lost.is_set():
                self.lost.set()
                if not self._closing:
                    log.error("connection to janus at %s lost", self.url)
                    if self.on_lost is not None:
                        self._lost_task = asyncio.create_task(self._tell_lost())

    async def _tell_lost(self) -> None:
        if self.on_lost is None:
            return
        try:
            await self.on_lost()
        except Exception:
            log.exception("on_lost failed")

    def _route(self, message: JSON) -> None:
        kind = message.get("janus")
        tx = message.get("transaction")
        pending = self._pending.get(tx) if isinstance(tx, str) else None
        if pending is not None:
            if kind == "ack":
                if not pending.ack.done():
                    pending.ack.set_result(message)
                return
            if kind in ("success", "error", "server_info") or (
                kind == "event" and pending.wants_event
            ):
                if not pending.result.done():
                    pending.result.set_result(message)
                return
        sender = message.get("sender")
        handle = self._handles.get(sender) if isinstance(sender, int) else None
        if handle is not None:
            handle.deliver(message)
            if kind == "detached":
                self._handles.pop(handle.id, None)
            return
        session = self._sessions.get(message.get("session_id", -1))
        if kind == "timeout" and session is not None:
            log.error("janus session %s timed out", session.id)
            session.expired = True
            return
        if kind not in ("ack", "keepalive"):
            log.debug("janus message for nobody: %s", kind)

    def _fail_pending(self) -> None:
        for pending in self._pending.values():
            for future in (pending.ack, pending.result):
                if not future.done():
                    future.set_exception(JanusConnectionLostError())
                    future.exception()  # retrieved: no "never retrieved" warning if unused

    def _register(self, handle: PluginHandle) -> None:
        self._handles[handle.id] = handle

    def _forget(self, handle_id: int) -> None:
        self._handles.pop(handle_id, None)


class JanusSession:
    """A Janus session: its handles live and die with it. Kept alive every 25 s."""

    def __init__(self, client: JanusClient, session_id: int, keepalive: float) -> None:
        self.client = client
        self.id = session_id
        self.expired = False
        self._keepalive = asyncio.create_task(
            self._keep_alive(keepalive), name=f"janus keepalive {session_id}"
        )

    async def request(
        self, body: JSON, *, wants_event: bool = False, timeout: float | None = None
    ) -> JanusReply:
        return await self.client.request(
            dict(body, session_id=self.id), wants_event=wants_event, timeout=timeout
        )

    async def attach(self, plugin: str = VIDEOROOM) -> PluginHandle:
        reply = await self.request({"janus": "attach", "plugin": plugin})
        handle = PluginHandle(self, int(reply.message["data"]["id"]))
        self.client._register(handle)
        return handle

    async def attach_videoroom(self) -> VideoRoomHandle:
        reply = await self.request({"janus": "attach", "plugin": VIDEOROOM})
        handle = VideoRoomHandle(self, int(reply.message["data"]["id"]))
        self.client._register(handle)
        return handle

    async def destroy(self, timeout: float | None = None) -> None:
        self._keepalive.cancel()
        self.client._sessions.pop(self.id, None)
        await self.request({"janus": "destroy"}, timeout=timeout)

    async def _keep_alive(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await self.request({"janus": "keepalive"})
            except JanusConnectionLostError:
                return
            except JanusError as exc:
                log.warning("janus keepalive failed: %s", exc)


@dataclass(eq=False)
class PluginHandle:
    """One handle attached to a plugin. Its events (those not answering a request of ours)
    go to `listener` when one is set, or else wait in `events`."""

    session: JanusSession
    id: int
    events: asyncio.Queue[JSON] = field(default_factory=asyncio.Queue)
    listener: EventListener | None = None
    detached: bool = False

    def deliver(self, message: JSON) -> None:
        if message.get("janus") in ("detached",):
            self.detached = True
        if self.listener is not None:
            try:
                self.listener(message)
            except Exception:
                log.exception("janus event listener failed")
        elif self.events.qsize() < MAX_QUEUED_EVENTS:  # nobody reading: keep the first ones
            self.events.put_nowait(message)

    async def next_event(
        self, accept: Callable[[JSON], bool] = lambda _m: True, timeout: float = 10.0
    ) -> JSON:
        """The next queued event that `accept`s (the others are dropped)."""
        async with asyncio.timeout(timeout):
            while True:
                message = await self.events.get()
                if accept(message):
                    return message

    async def request(
        self, body: JSON, *, wants_event: bool = False, timeout: float | None = None
    ) -> JanusReply:
        return await self.session.request(
            dict(body, handle_id=self.id), wants_event=wants_event, timeout=timeout
        )

    async def message(
        self, body: JSON, jsep: JSON | None = None, *, timeout: float | None = None
    ) -> JanusReply:
        """A plugin request; waits for the event when the request is asynchronous."""
        request: JSON = {"janus": "message", "body": body}
        if jsep is not None:
            request["jsep"] = jsep
        wants_event = body.get("request") in ASYNC_REQUESTS
        return await self.request(request, wants_event=wants_event, timeout=timeout)

    async def trickle(self, candidate: JSON | Sequence[JSON] | None) -> None:
        """One ICE candidate, several, or None for end-of-candidates."""
        if candidate is None:
            body: JSON = {"janus": "trickle", "candidate": {"completed": True}}
        elif isinstance(candidate, dict):
            body = {"janus": "trickle", "candidate": candidate}
        else:
            body = {"janus": "trickle", "candidates": list(candidate)}
        await self.request(body)

    async def hangup(self) -> None:
        await self.request({"janus": "hangup"})

    async def detach(self) -> None:
        """Detach (it leaves any room it is in); a handle already gone is not an error."""
        if self.detached:
            return
        self.detached = True
        try:
            await self.request({"janus": "detach"})
        except JanusError as exc:
            if isinstance(exc, JanusConnectionLostError) or exc.code not in (458, 459):
                raise  # 458 no such session, 459 no such handle: it is gone already
        finally:
            self.session.client._forget(self.id)


def _without_none(body: JSON) -> JSON:
    return {k: v for k, v in body.items() if v is not None}


@dataclass(eq=False)
class VideoRoomHandle(PluginHandle):
    """A handle on the VideoRoom plugin (rooms and participants have string ids)."""

    # -- rooms (synchronous) -----------------------------------------------------------------
    async def create_room(
        self,
        room: str,
        *,
        admin_key: str,
        secret: str,
        pin: str,
        allowed: Sequence[str] = (),
        description: str = "",
        publishers: int = 100,
        bitrate: int = 512_000,
        fir_freq: int = 5,
        audiocodec: str = "opus",
        videocodec: str = "vp8",
        require_pvtid: bool = True,
        record: bool = False,
        rec_dir: str | None = None,
    ) -> JSON:
        """A private room: joining needs the pin and an allowed token, managing the secret."""
        body = {
            "request": "create",
            "admin_key": admin_key,
            "room": room,
            "permanent": False,
            "description": description or room,
            "secret": secret,
            "pin": pin,
            "is_private": True,
            "allowed": list(allowed),
            "publishers": publishers,
            "bitrate": bitrate,
            "fir_freq": fir_freq,
            "audiocodec": audiocodec,
            "videocodec": videocodec,
            "require_pvtid": require_pvtid,
            "notify_joining": False,
            "record": record,
            "rec_dir": rec_dir,
            "lock_record": True,
        }
        return (await self.message(_without_none(body))).data

    async def enable_recording(self, room: str, *, secret: str, record: bool) -> JSON:
        """Record every publisher of the room (and later ones) from now, or stop."""
        body = {"request": "enable_recording", "room": room, "secret": secret, "record": record}
        return (await self.message(body)).data

    async def set_rec_dir(self, room: str, *, secret: str, rec_dir: str) -> JSON:
        """Where the room's next recordings are written."""
        body = {"request": "edit", "room": room, "secret": secret, "new_rec_dir": rec_dir}
        return (await self.message(body)).data

    async def destroy_room(self, room: str, *, secret: str) -> JSON:
        return (await self.message({"request": "destroy", "room": room, "secret": secret})).data

    async def list_rooms(self, *, admin_key: str, timeout: float | None = None) -> list[JSON]:
        """Every room on this Janus, private ones included (that needs the admin key): each
        with its `room`, `description` and `num_participants` (those joined as publishers)."""
        body = {"request": "list", "admin_key": admin_key}
        return list((await self.message(body, timeout=timeout)).data.get("list", []))

    async def room_exists(self, room: str) -> bool:
        return bool((await self.message({"request": "exists", "room": room})).data.get("exists"))

    async def allowed(
        self, room: str, *, secret: str, action: str, tokens: Sequence[str] = ()
    ) -> list[str]:
        """`action` is add, remove, enable or disable; the room's allowed list after it."""
        body: JSON = {"request": "allowed", "room": room, "secret": secret, "action": action}
        if action in ("add", "remove"):
            body["allowed"] = list(tokens)
        data = (await self.message(body)).data
        return [str(t) for t in data.get("allowed", [])]

    async def kick(self, room: str, *, secret: str, participant: str) -> JSON:
        body = {"request": "kick", "room": room, "secret": secret, "id": participant}
        return (await self.message(body)).data

    async def moderate(
        self, room: str, *, secret: str, participant: str, mid: str, mute: bool
    ) -> JSON:
        """Mute or unmute one of a publisher's streams (by its m-line `mid`) at the SFU."""
        body = {
            "request": "moderate",
            "room": room,
            "secret": secret,
            "id": participant,
            "mid": mid,
            "mute": mute,
        }
        return (await self.message(body)).data

    async def list_participants(self, room: str) -> list[JSON]:
        data = (await self.message({"request": "listparticipants", "room": room})).data
        return list(data.get("participants", []))

    # -- publisher (asynchronous) ------------------------------------------------------------
    async def join_publisher(
        self, room: str, *, participant: str, pin: str, token: str, display: str = ""
    ) -> JSON:
        """Join as a publisher with our own id; the answer carries `private_id` and the
        publishers already in the room."""
        body = {
            "request": "join",
            "ptype": "publisher",
            "room": room,
            "id": participant,
            "pin": pin,
            "token": token,
            "display": display or participant,
        }
        return (await self.message(body, timeout=20.0)).data

    async def publish(self, offer: JSON, **options: Any) -> tuple[JSON, JSON]:
        """Publish with the browser's offer; Janus's answer JSEP."""
        reply = await self.message(dict(options, request="publish"), offer, timeout=20.0)
        if reply.jsep is None:
            raise JanusError(0, "publish answered without a JSEP")
        return reply.data, reply.jsep

    async def configure(self, offer: JSON | None = None, **options: Any) -> JanusReply:
        return await self.message(dict(options, request="configure"), offer, timeout=20.0)

    async def unpublish(self) -> JSON:
        return (await self.message({"request": "unpublish"})).data

    # -- subscriber (asynchronous) -----------------------------------------------------------
    async def join_subscriber(
        self,
        room: str,
        *,
        streams: Sequence[JSON],
        pin: str,
        private_id: int | None = None,
        token: str | None = None,
    ) -> tuple[JSON, JSON]:
        """Subscribe to several feeds on one PeerConnection; Janus's offer JSEP."""
        body = {
            "request": "join",
            "ptype": "subscriber",
            "room": room,
            "streams": list(streams),
            "pin": pin,
            "private_id": private_id,
            "token": token,
            "use_msid": True,
        }
        reply = await self.message(_without_none(body), timeout=20.0)
        if reply.jsep is None:
            raise JanusError(0, "subscription answered without a JSEP offer")
        return reply.data, reply.jsep

    async def start(self, answer: JSON | None = None) -> JSON:
        """Start receiving (with the browser's answer), or resume after `pause`."""
        return (await self.message({"request": "start"}, answer, timeout=20.0)).data

    async def pause(self) -> JSON:
        return (await self.message({"request": "pause"})).data

    async def update(
        self, *, subscribe: Sequence[JSON] = (), unsubscribe: Sequence[JSON] = ()
    ) -> JanusReply:
        """Change a subscription; the reply's `jsep` is a new offer when one is needed."""
        body: JSON = {"request": "update"}
        if subscribe:
            body["subscribe"] = list(subscribe)
        if unsubscribe:
            body["unsubscribe"] = list(unsubscribe)
        return await self.message(body, timeout=20.0)

    async def leave(self) -> JSON:
        return (await self.message({"request": "leave"})).data
