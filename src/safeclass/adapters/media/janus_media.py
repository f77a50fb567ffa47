"""The `Media` port on Janus VideoRoom: one private room per live session.

Each room has its own secret (to manage it: derived from its id with the key the workers of a
cluster share, janus_rooms.py), random pin (to join it) and an `allowed` list:
every admitted participant gets a token of their own, and joins (as publisher with their
participant id as feed id, and as subscriber with the `private_id` that join gave) only with it.
Per participant there are two handles: a publisher handle (their outgoing PeerConnection) and a
subscriber handle (one multistream PeerConnection carrying the feeds the app chose for them).

Enforcement happens here, at the SFU:
- mutes: `moderate` on the mids of the participant's audio/video m-lines (taken from their
  offer), applied before their answer is returned, so muted media is never forwarded;
- a hold: every pupil's published media is moderated off and their subscriptions paused;
- removal: token removed, publisher `kick`ed, and their subscriber handle detached by us, since
  Janus tells subscriber handles nothing when their owner's publisher goes;
- the end: the room is destroyed.

Recording (only in a room opened `recordable`, where the policy allows it): `record(True)` gives
the room a new folder (a span, `RecordingFolders.new_span`) and has Janus record every publisher
from then on; `record(False)` stops it, and `collect_recordings` turns the finished spans into
one WebM per participant. A room that is not recordable refuses `record`, and Janus is never
asked; `lock_record` means only the holder of the room's secret (this server) could anyway.

If the WebSocket to Janus drops, every open room is told LOST at once; the adapter reconnects
(to the same Janus, or to the endpoint given to `reconnect` after a restart), rebuilds each room
with fresh secrets and the admitted participants' tokens, and tells RESTORED: participants must
send new offers. Nothing about who may see or say what is lost: that lives in the app.

For the pool (pool.py): `survey` lists every room on this Janus, whichever worker made it (the
load, and rooms an earlier owner of a session left), and `destroy_left_over` destroys one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from safeclass.adapters.media.janus_client import (
    ERROR_NO_SUCH_FEED,
    ERROR_NO_SUCH_ROOM,
    ERROR_NOT_JOINED,
    ERROR_UNAUTHORIZED,
    JSON,
    JanusClient,
    JanusConnectionLostError,
    JanusError,
    JanusSession,
    VideoRoomHandle,
)
from safeclass.adapters.media.janus_process import JanusEndpoint
from safeclass.adapters.media.janus_rooms import (
    ListedRoom,
    Member,
    Room,
    mids_by_kind,
    room_secret,
)
from safeclass.adapters.media.recordings import RecordingFolders
from safeclass.app.media_port import (
    Jsep,
    KeepRecordings,
    MediaError,
    MediaEvent,
    MediaEventKind,
    MediaListener,
    MediaUnavailableError,
    NotAdmittedError,
    RecordedFile,
    Target,
)
from safeclass.core import Role

log = logging.getLogger(__name__)

T = TypeVar("T")
RECONNECT_BACKOFF = (0.05, 0.2, 0.5, 1.0, 2.0)


class JanusMedia:
    """`Media` on one Janus (local child process or external) over one WebSocket."""

    def __init__(
        self,
        endpoint: JanusEndpoint,
        listener: MediaListener | None = None,
        *,
        request_timeout: float = 10.0,
        recordings: RecordingFolders | None = None,
        room_key: bytes | None = None,
    ) -> None:
        """`recordings`: where this Janus's recordings go (a folder both it and this server
        reach); without it nothing can be recorded on it. `room_key`: what the rooms' secrets
        derive from, the same for every worker of a cluster (None: a key of this object's own,
        so no other can destroy its rooms)."""
        self._endpoint = endpoint
        self._room_key = room_key or secrets.token_bytes(32)
        self.listener = listener
        self._request_timeout = request_timeout
        self._recordings = recordings
        self._client: JanusClient | None = None
        self._session: JanusSession | None = None
        self._control: VideoRoomHandle | None = None
        self._rooms: dict[str, Room] = {}
        self._stale: list[tuple[str, str]] = []  # (room, secret) to destroy on reconnection
        self._recovering: asyncio.Task[None] | None = None
        self._endpoint_changed = asyncio.Event()
        self._events: asyncio.Queue[MediaEvent | None] = asyncio.Queue()
        self._dispatcher: asyncio.Task[None] | None = None
        self._closed = False
        self._detaching: set[asyncio.Task[None]] = set()
        self._lost_at = time.monotonic()  # until the first connection
        self.recoveries = 0

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        self._dispatcher = asyncio.create_task(self._dispatch(), name="media events")
        await self._connect()

    async def close(self) -> None:
        """Destroy every room and disconnect (server shutdown)."""
        self._closed = True
        if self._recovering is not None:
            self._recovering.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._recovering
        for session_id in list(self._rooms):
            with contextlib.suppress(MediaError):
                await self.close_room(session_id)
        if self._client is not None:
            await self._client.close()
        self._events.put_nowait(None)
        if self._dispatcher is not None:
            await self._dispatcher

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.connected

    async def reconnect(self, endpoint: JanusEndpoint) -> None:
        """Janus was restarted (new secrets): rebuild on it. `JanusProcess.on_restart`."""
        self._endpoint = endpoint
        self._endpoint_changed.set()
        if self._recovering is None or self._recovering.done():
            self._recovering = asyncio.create_task(self._recover(), name="media recovery")

    async def _connect(self) -> None:
        client = await JanusClient.connect(
            self._endpoint.url,
            self._endpoint.api_secret,
            on_lost=self._lost,
            request_timeout=self._request_timeout,
        )
        try:
            session = await client.create_session()
            control = await session.attach_videoroom()
        except BaseException:
            await client.close()
            raise
        self._client, self._session, self._control = client, session, control

    def lost_for(self) -> float | None:
        """Seconds since this Janus was last reachable (None: it is now)."""
        return None if self.connected else time.monotonic() - self._lost_at

    async def _lost(self) -> None:
        if self._closed:
            return
        self._lost_at = time.monotonic()
        for room in self._rooms.values():
            if room.built:  # if Janus is still alive, this room must go before anything else
                self._stale.append((room.janus_id, room.secret))
            room.built = False
            for member in room.members.values():
                member.forget_handles()
            self._emit(MediaEvent(room.session_id, MediaEventKind.LOST))
        if self._recovering is None or self._recovering.done():
            self._recovering = asyncio.create_task(self._recover(), name="media recovery")

    async def _recover(self) -> None:
        attempt = 0
        while not self._closed:
            self._endpoint_changed.clear()
            try:
                if self._client is not None:
                    await self._client.close()
                await self._connect()
            except Exception as exc:  # whatever it was, the rooms need Janus back: try again
                delay = RECONNECT_BACKOFF[min(attempt, len(RECONNECT_BACKOFF) - 1)]
                attempt += 1
                log.warning("janus reconnect failed (%s); again in %.2f s", exc, delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._endpoint_changed.wait(), delay)
                continue
            break
        self.recoveries += 1
        await self._destroy_stale()
        for room in list(self._rooms.values()):
            try:
                await self._build(room)
            except (JanusError, MediaError):
                log.exception("could not rebuild the media room of %s", room.session_id)
                continue
            self._emit(MediaEvent(room.session_id, MediaEventKind.RESTORED))

    # -- moving rooms between Janus servers (the pool) ----------------------------------------
    def release(self, session_id: str) -> Room | None:
        """Give up a room while this Janus is unreachable (the pool moves it elsewhere); if
        this Janus comes back, the room is destroyed there before anything else."""
        room = self._rooms.pop(session_id, None)
        if room is not None and room.built:
            self._stale.append((room.janus_id, room.secret))
        return room

    def take_back(self, room: Room) -> None:
        """A room `release`d here that could not be moved: it waits here again."""
        self._rooms[room.session_id] = room

    async def adopt(self, room: Room) -> None:
        """Build a room another Janus gave up, with its admissions, mutes, hold and recording,
        and tell RESTORED: its participants connect again, here."""
        room.built = False
        for member in room.members.values():
            member.forget_handles()
        self._rooms[room.session_id] = room
        await self._build(room)
        self._emit(MediaEvent(room.session_id, MediaEventKind.RESTORED))

    # -- rooms -------------------------------------------------------------------------------
    async def open_room(self, session_id: str, *, recordable: bool = False) -> None:
        room = self._rooms.get(session_id)
        if room is None:
            room = self._rooms[session_id] = Room(session_id, recordable=recordable)
            room.renew(self._room_key)
        if not room.built:
            await self._build(room)

    async def _build(self, room: Room) -> None:
        control = self._live_control()
        room.renew(self._room_key)
        tokens = [m.token for m in room.members.values()]
        await self._janus(
            control.create_room(
                room.janus_id,
                admin_key=self._endpoint.admin_key,
                secret=room.secret,
                pin=room.pin,
                allowed=tokens,
                description=room.session_id,
                record=room.span is not None,
                rec_dir=str(room.span) if room.span is not None else None,
            )
        )
        room.built = True

    async def _destroy_stale(self) -> None:
        """Rooms of a connection that dropped while Janus lived on keep their PeerConnections
        (until Janus times the old session out): destroy them, so nobody keeps receiving."""
        stale, self._stale = self._stale, []
        control = self._live_control()
        for janus_id, secret in stale:
            with contextlib.suppress(JanusError):  # 426: Janus restarted, the room is gone
                await control.destroy_room(janus_id, secret=secret)

    # -- every worker's rooms (the pool) --------------------------------------------------------
    def room_ids(self) -> dict[str, str]:
        """The Janus id of each room this object keeps, by session (built or not)."""
        return {s: room.janus_id for s, room in self._rooms.items()}

    async def survey(self, timeout: float) -> list[ListedRoom] | None:
        """Every room on this Janus, whoever made it; None if it cannot say within `timeout`
        seconds (or without the admin key, which private rooms are listed only with)."""
        if not self._endpoint.admin_key or self._control is None or not self.connected:
            return None
        try:
            listed = await self._control.list_rooms(
                admin_key=self._endpoint.admin_key, timeout=timeout
            )
        except JanusError as exc:
            log.warning("janus at %s did not list its rooms: %s", self._endpoint.url, exc)
            return None
        return [
            ListedRoom(
                str(r.get("room", "")),
                str(r.get("description", "")),
                int(r.get("num_participants", 0)),
            )
            for r in listed
        ]

    async def destroy_left_over(self, janus_id: str) -> bool:
        """Destroy a room another worker made here (whoever was in it is thrown out, and their
        connections closed); whether it is gone. Only a room whose secret derives from this
        object's key can be: one made with another key stays until its Janus restarts."""
        if janus_id in self.room_ids().values() or self._control is None or not self.connected:
            return False  # one of its own (never), or no Janus to ask
        control = self._control
        try:
            await control.destroy_room(janus_id, secret=room_secret(self._room_key, janus_id))
        except JanusError as exc:
            if exc.code == ERROR_NO_SUCH_ROOM:
                return True
            if exc.code == ERROR_UNAUTHORIZED:
                log.error("a left-over room %s was made with another key: it stays", janus_id)
            else:
                log.error("left-over room %s not destroyed: %s", janus_id, exc)
            return False
        return True

    async def close_room(self, session_id: str) -> None:
        room = self._rooms.pop(session_id, None)
        if room is None or not room.built:
            return
        if not self.connected:
            self._stale.append((room.janus_id, room.secret))  # destroyed on reconnection
            return
        control = self._live_control()
        try:
            await control.destroy_room(room.janus_id, secret=room.secret)
        except JanusError as exc:
            if exc.code != ERROR_NO_SUCH_ROOM:
                raise MediaError(exc.reason) from exc
        finally:
            await asyncio.gather(
                *(self._detach(h) for m in room.members.values() for h in m.handles())
            )
            room.built = False

    # -- recording ---------------------------------------------------------------------------
    def recording_unavailable(self) -> str | None:
        if self._recordings is None:
            return "this Janus has no folder for recordings (SAFECLASS_JANUS_RECORDINGS_DIR)"
        return self._recordings.unavailable

    async def record(self, session_id: str, on: bool) -> None:
        room = self._known_room(session_id)
        if on and not room.recordable:
            raise MediaError("this session's policy never allows recording")
        if on and (reason := self.recording_unavailable()):
            raise MediaError(reason)
        if on == (room.span is not None):
            return
        try:
            room.span = self._recordings.new_span(session_id) if on and self._recordings else None
        except OSError as exc:
            raise MediaError(f"the recordings folder cannot be written ({exc.strerror})") from exc
        if not room.built or not self.connected:
            raise MediaUnavailableError("video is reconnecting")  # the rebuilt room has it
        control = self._live_control()
        if room.span is not None:
            await self._janus(
                control.set_rec_dir(room.janus_id, secret=room.secret, rec_dir=str(room.span))
            )
        await self._janus(control.enable_recording(room.janus_id, secret=room.secret, record=on))

    async def collect_recordings(self, session_id: str, keep: KeepRecordings) -> list[RecordedFile]:
        if self._recordings is None:
            return []
        room = self._rooms.get(session_id)
        return await self._recordings.finish(
            session_id, keep, busy=room.span if room is not None else None
        )

    def pending_recordings(self) -> list[str]:
        if self._recordings is None:
            return []
        return [s for s in self._recordings.sessions_with_spans() if s not in self._rooms]

    # -- admission ---------------------------------------------------------------------------
    async def admit(self, session_id: str, participant_id: str, role: Role) -> str:
        room = self._known_room(session_id)
        old = room.members.get(participant_id)
        if old is not None:  # admitted again (a new device): the old admission ends first
            await self.revoke(session_id, participant_id)
        member = Member(participant_id, role, secrets.token_urlsafe(18))
        room.members[participant_id] = member
        if room.built and self.connected:  # else the rebuilt room will have it
            await self._janus(
                self._live_control().allowed(
                    room.janus_id, secret=room.secret, action="add", tokens=[member.token]
                )
            )
        return member.token

    async def revoke(self, session_id: str, participant_id: str) -> None:
        room = self._rooms.get(session_id)
        member = room.members.pop(participant_id, None) if room is not None else None
        if room is None or member is None:
            return
        for other in room.members.values():
            other.feeds.discard(participant_id)
        if not room.built or not self.connected:
            return
        control = self._live_control()
        async with member.lock:
            steps: list[Awaitable[Any]] = [self._detach(member.subscriber)]
            if member.publisher is not None:
                steps.append(self._kick(room, control, participant_id))
            steps.append(
                control.allowed(
                    room.janus_id, secret=room.secret, action="remove", tokens=[member.token]
                )
            )
            results = await asyncio.gather(*steps, return_exceptions=True)
            await self._detach(member.publisher)
            member.forget_handles()
        for result in results:
            if isinstance(result, JanusConnectionLostError):
                return  # the room is rebuilt without them
            if isinstance(result, BaseException):
                raise MediaError(f"revoke {participant_id}: {result}") from result

    async def _kick(self, room: Room, control: VideoRoomHandle, participant_id: str) -> None:
        try:
            await control.kick(room.janus_id, secret=room.secret, participant=participant_id)
        except JanusError as exc:
            if exc.code not in (ERROR_NO_SUCH_FEED, ERROR_NOT_JOINED):
                raise

    # -- enforcement -------------------------------------------------------------------------
    async def set_media(
        self, session_id: str, participant_id: str, audio: bool, video: bool
    ) -> None:
        room = self._known_room(session_id)
        member = self._member(room, participant_id)
        member.audio, member.video = audio, video  # kept, and applied again after a rebuild
        if not room.built or not self.connected:
            raise MediaUnavailableError("video is reconnecting")
        async with member.lock:
            await self._moderate(room, member)

    async def hold(self, session_id: str, held: bool) -> None:
        room = self._known_room(session_id)
        room.held = held  # kept, and applied again after a rebuild
        if not room.built or not self.connected:
            raise MediaUnavailableError("video is reconnecting")
        pupils = [m for m in room.members.values() if m.is_pupil]
        await asyncio.gather(*(self._enforce(room, m) for m in pupils))

    async def _enforce(self, room: Room, member: Member) -> None:
        async with member.lock:
            await self._moderate(room, member)
            await self._pause_or_resume(room, member)

    async def _moderate(self, room: Room, member: Member) -> None:
        """Make the SFU forward exactly what the member may send now."""
        if not member.published or not room.built:
            return  # applied when they publish
        cut = room.held and member.is_pupil
        wanted = {"audio": member.audio and not cut, "video": member.video and not cut}
        control = self._live_control()
        changes = [
            (mid, not wanted.get(kind, False))
            for kind, mids in member.mids.items()
            for mid in mids
            if wanted.get(kind, False) == member.muted.get(mid, False)  # forwarding must change
        ]
        if not changes:
            return
        await self._janus(
            asyncio.gather(
                *(
                    control.moderate(
                        room.janus_id,
                        secret=room.secret,
                        participant=member.participant_id,
                        mid=mid,
                        mute=mute,
                    )
                    for mid, mute in changes
                )
            )
        )
        for mid, mute in changes:
            member.muted[mid] = mute

    async def _pause_or_resume(self, room: Room, member: Member) -> None:
        if member.subscriber is None or not member.started:
            return
        pause = room.held and member.is_pupil
        if pause and not member.paused:
            await self._janus(member.subscriber.pause())
        elif not pause and member.paused:
            await self._janus(member.subscriber.start())
        member.paused = pause

    # -- signalling --------------------------------------------------------------------------
    async def offer(self, session_id: str, participant_id: str, jsep: Jsep) -> Jsep:
        room = self._room(session_id)
        member = self._member(room, participant_id)
        async with member.lock:
            publisher = await self._join(room, member)
            if not member.published:
                _, answer = await self._janus(publisher.publish(jsep))
            else:
                reply = await self._janus(publisher.configure(jsep))
                if reply.jsep is None:
                    raise MediaError("configure answered without a JSEP")
                answer = reply.jsep
            member.mids = mids_by_kind(str(jsep.get("sdp", "")))
            member.muted = {}  # a new publish starts unmoderated: moderate every mid again
            member.published = True
            for mids in member.mids.values():
                for mid in mids:
                    member.muted[mid] = False
            await self._moderate(room, member)  # before the browser has the answer
            return answer

    async def subscribe(
        self, session_id: str, participant_id: str, feeds: Sequence[str]
    ) -> Jsep | None:
        """Feeds whose media is not up yet (no PUBLISHING event so far) are left out: call
        again when they are."""
        room = self._room(session_id)
        member = self._member(room, participant_id)
        wanted = {
            f
            for f in feeds
            if f != participant_id and (m := room.members.get(f)) is not None and m.publishing
        }
        async with member.lock:
            await self._join(room, member)
            if member.subscriber is None:
                if not wanted:
                    return None
                handle = await self._attach(room, member, "subscriber")
                try:
                    _, offer = await self._janus(
                        handle.join_subscriber(
                            room.janus_id,
                            streams=[{"feed": f} for f in sorted(wanted)],
                            pin=room.pin,
                            private_id=member.private_id,
                            token=member.token,
                        )
                    )
                except MediaError:
                    await self._detach(handle)
                    raise
                member.subscriber, member.started, member.paused = handle, False, False
                member.feeds = wanted
                return offer
            add, drop = wanted - member.feeds, member.feeds - wanted
            if not add and not drop:
                return None
            reply = await self._janus(
                member.subscriber.update(
                    subscribe=[{"feed": f} for f in sorted(add)],
                    unsubscribe=[{"feed": f} for f in sorted(drop)],
                )
            )
            member.feeds = wanted
            return reply.jsep

    async def answer(self, session_id: str, participant_id: str, jsep: Jsep) -> None:
        room = self._room(session_id)
        member = self._member(room, participant_id)
        async with member.lock:
            if member.subscriber is None:
                raise MediaError("no subscription to answer")
            await self._janus(member.subscriber.start(jsep))
            member.started, member.paused = True, False
            await self._pause_or_resume(room, member)

    async def trickle(
        self,
        session_id: str,
        participant_id: str,
        target: Target,
        candidate: dict[str, Any] | None,
    ) -> None:
        room = self._room(session_id)
        member = self._member(room, participant_id)
        handle = member.publisher if target == "publisher" else member.subscriber
        if handle is None:
            raise MediaError(f"no {target} connection to trickle to")
        await self._janus(handle.trickle(candidate))

    # -- helpers -----------------------------------------------------------------------------
    async def _join(self, room: Room, member: Member) -> VideoRoomHandle:
        """Join the room as publisher (needed to publish, and for the private_id to subscribe)."""
        if member.publisher is not None:
            return member.publisher
        handle = await self._attach(room, member, "publisher")
        try:
            joined = await self._janus(
                handle.join_publisher(
                    room.janus_id,
                    participant=member.participant_id,
                    pin=room.pin,
                    token=member.token,
                )
            )
        except MediaError:
            await self._detach(handle)
            raise
        member.publisher, member.private_id = handle, int(joined["private_id"])
        return handle

    async def _attach(self, room: Room, member: Member, target: Target) -> VideoRoomHandle:
        if self._session is None or not self.connected:
            raise MediaUnavailableError("video is reconnecting")
        handle = await self._janus(self._session.attach_videoroom())
        handle.listener = lambda m: self._on_handle_event(room, member, target, handle, m)
        return handle

    def _on_handle_event(
        self, room: Room, member: Member, target: Target, handle: VideoRoomHandle, message: JSON
    ) -> None:
        kind = message.get("janus")
        log.debug("janus %s for %s's %s: %s", kind, member.participant_id, target, message)
        current = member.publisher if target == "publisher" else member.subscriber
        if current is not None and current is not handle:
            return  # an old handle of theirs
        if room.members.get(member.participant_id) is not member:
            return  # revoked: a late word from a handle of theirs is about nobody now
        pid = member.participant_id
        if kind == "webrtcup" and target == "publisher":
            member.publishing = True
            self._emit(MediaEvent(room.session_id, MediaEventKind.PUBLISHING, pid, target))
        elif kind == "hangup":
            self._hung_up(room, member, target, handle)
            self._emit(MediaEvent(room.session_id, MediaEventKind.HANGUP, pid, target))
        elif kind == "trickle":
            candidate = message.get("candidate")
            self._emit(
                MediaEvent(
                    room.session_id,
                    MediaEventKind.TRICKLE,
                    pid,
                    target,
                    candidate=candidate if isinstance(candidate, dict) else None,
                )
            )
        elif kind == "event" and isinstance(message.get("jsep"), dict):
            self._emit(
                MediaEvent(room.session_id, MediaEventKind.OFFER, pid, target, message["jsep"])
            )

    def _hung_up(self, room: Room, member: Member, target: Target, handle: VideoRoomHandle) -> None:
        """One of a member's PeerConnections closed (their network, their browser): make the
        next `offer` or `subscribe` start that connection afresh. A publisher stays joined and
        publishes again (Janus drops its streams from every subscription, so they are taken
        again when it is back); a subscriber handle is done with, and a new one is made."""
        if target == "publisher":
            member.published = member.publishing = False
            member.mids, member.muted = {}, {}
            for other in room.members.values():
                other.feeds.discard(member.participant_id)
            return
        member.subscriber = None
        member.started = member.paused = False
        member.feeds = set()
        task = asyncio.create_task(self._detach(handle))
        self._detaching.add(task)
        task.add_done_callback(self._detaching.discard)

    def _emit(self, event: MediaEvent) -> None:
        if self.listener is not None:
            self._events.put_nowait(event)

    async def _dispatch(self) -> None:
        while (event := await self._events.get()) is not None:
            if self.listener is None:
                continue
            try:
                await self.listener.media_event(event)
            except Exception:
                log.exception("media listener failed on %s", event.kind)

    async def _detach(self, handle: VideoRoomHandle | None) -> None:
        if handle is None:
            return
        with contextlib.suppress(JanusError):
            await handle.detach()

    def _known_room(self, session_id: str) -> Room:
        room = self._rooms.get(session_id)
        if room is None:
            raise MediaError(f"no media room for session {session_id}")
        return room

    def _room(self, session_id: str) -> Room:
        """The room, on a Janus we are connected to (for signalling)."""
        room = self._known_room(session_id)
        if not room.built or not self.connected:
            raise MediaUnavailableError("video is reconnecting")
        return room

    def _member(self, room: Room, participant_id: str) -> Member:
        member = room.members.get(participant_id)
        if member is None:
            raise NotAdmittedError(f"{participant_id} is not admitted to this room's media")
        return member

    def _live_control(self) -> VideoRoomHandle:
        if self._control is None or not self.connected:
            raise MediaUnavailableError("video is reconnecting")
        return self._control

    async def _janus(self, request: Awaitable[T]) -> T:
        """Await a Janus request, as the port's errors."""
        try:
            return await request
        except JanusConnectionLostError as exc:
            raise MediaUnavailableError("video is reconnecting") from exc
        except JanusError as exc:
            raise MediaError(exc.reason) from exc


def media_listener(callback: Callable[[MediaEvent], Awaitable[None]]) -> MediaListener:
    """A `MediaListener` from a coroutine function (handy in tests and wiring)."""

    class _Listener:
        async def media_event(self, event: MediaEvent) -> None:
            await callback(event)

    return _Listener()
