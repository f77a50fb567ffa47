"""One live room's video: the SFU driven from the room's events, and the browser's signalling.

**Enforcement follows the log.** The room's task decides, appends the events to the log, and
only then gives this driver the state before and after them (`follow`). The difference becomes
SFU calls (`media_calls`, in media_calls.py): admit whoever came in, revoke whoever went
(removed, left, dropped, or moved to another device), `set_media` for a changed microphone or
camera, `hold` when the room is held or released, `record`, and `close` at the end. They run
on the room's *media lane*: one task per room that makes them one at a time, in the room's
order, so a mute never overtakes the unmute before it. The room's task never waits for the
SFU: a slow or dead Janus delays video, never a command, the log or the other clients. A call
still running after `stall_after` seconds tells the staff ("Reconnecting video…") and is waited
for (not cancelled: a call cut off half way could leave the SFU forwarding what the room has
muted); the adapter bounds each request.

**Signalling waits for enforcement.** The calls are queued before the clients are told, so a
pupil who hears they were admitted and asks to publish finds their admission made: signalling
first waits until the lane has done everything queued before it (`_caught_up`), then runs
beside the lane. Only a participant who is in the room on this device may publish or subscribe
(`allowed`); what each may see is `visible_feeds`.

**Recording follows the log too.** `RecordingStarted` (which the core emits only after the
notice, and only where the policy allows it) becomes `record(True)` on the lane, its stop or the
end `record(False)` or the room's destruction; once a stretch of recording is finished its files
are collected (converted, stored) beside the lane and handed to `on_recorded`, which keeps
their record. A room whose policy never records is opened unrecordable at the SFU.

**What the SFU does** comes back as `MediaEvent`s (`on_event`): a publisher whose media is up
makes everyone who subscribed resubscribe (a new `media_offer`); SFU offers and ICE candidates
are relayed to the participant's device; a lost SFU tells the room "Reconnecting video…", and
when the room is rebuilt every participant is asked to connect again (`media_restart`). No
safeguarding state lives here: it is in the log, and the adapter re-applies mutes and holds to
the rebuilt room.

**A room taken over** from another worker (a cluster's failover) has its SFU room built at once
from the replayed state (`resume`): the people in the media admitted with their mutes, the hold
and the recording, so those who come back on the same device within the grace find it as it
was, and the old owner's SFU room is destroyed as this one is opened.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import secrets
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from safeclass.app.live.media_calls import (
    MediaCall,
    in_media,
    media_calls,
    media_resumed,
    screen_feed,
    sharer_of,
    visible_feeds,
)
from safeclass.app.live.ports import RECORDING_NEEDS_VIDEO, Audience, Media
from safeclass.app.media_port import (
    Jsep,
    MediaError,
    MediaEvent,
    MediaEventKind,
    MediaUnavailableError,
    NotAdmittedError,
    RecordedFile,
)
from safeclass.core import Participant, Phase, RecordingState, RoomState
from safeclass.policy.model import RecordingMode

log = logging.getLogger(__name__)

RECONNECTING = "Reconnecting video…"


class MediaStatus(enum.StrEnum):
    ON = "on"
    OFF = "off"  # this server has no SFU: the room runs without video
    RECONNECTING = "reconnecting"  # the SFU is unreachable or being rebuilt


_STATUS_MESSAGES = {
    MediaStatus.ON: "Video is on",
    MediaStatus.OFF: "Video is off on this server",
    MediaStatus.RECONNECTING: RECONNECTING,
}

OnRecorded = Callable[[Sequence[RecordedFile], RoomState], Awaitable[None]]
OnShareEnded = Callable[[str], Coroutine[Any, Any, None]]  # the sharer's screen connection closed
SignalTarget = Literal["publisher", "subscriber", "screen"]  # a participant's connections

ONLY_STAFF_SHARE = "Only staff can share a screen"
NOT_SHARING = "You are not sharing a screen: send media_share first"
# What one publishing connection may carry: a camera (or a screen) and a microphone (or the
# sound of a shared tab). A second video, or a data channel, would be a feed the room never
# decided on (a pupil's second screen, messages to classmates while the chat is off).
ONE_OF_EACH = "Send at most one microphone and one camera (or screen) on a connection"


class ShareRefusedError(NotAdmittedError):
    """The participant may not send a screen now (`code`: as a refusal says it)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class BadOfferError(MediaError):
    """An offer to publish carries more than the room forwards from one connection."""


@dataclass(eq=False)
class _Viewer:
    """A participant who asked to receive: their subscription's negotiation."""

    device: str
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    waiting_answer: bool = False  # an offer was sent and not answered yet
    stale: bool = False  # the feeds changed meanwhile: offer again after the answer
    streams: list[dict[str, Any]] = field(default_factory=list)


_Job = tuple[MediaCall | None, "asyncio.Future[None] | None"]


class RoomMedia:
    """The media of one live room (see the module docstring)."""

    def __init__(
        self,
        session_id: str,
        media: Media,
        audience: Audience,
        state: Callable[[], RoomState],
        *,
        off_reason: str | None = None,
        stall_after: float = 2.0,
        on_recorded: OnRecorded | None = None,
        on_share_ended: OnShareEnded | None = None,
    ) -> None:
        """`on_share_ended(sharer)`: the sharer's screen connection closed at the SFU (their
        browser stopped it, or the network dropped it): the room ends the share."""
        self.session_id = session_id
        self._on_recorded = on_recorded
        self._on_share_ended = on_share_ended
        self._media = media
        self._audience = audience
        self._state = state
        self.off_reason = off_reason
        self._stall_after = stall_after
        self.status = MediaStatus.OFF if off_reason else MediaStatus.ON
        self._jobs: asyncio.Queue[_Job | None] = asyncio.Queue()
        self._lane: asyncio.Task[None] | None = None
        self._opened = False
        self._closed = False
        self._viewers: dict[str, _Viewer] = {}
        # The SFU's latest subscription offer to each participant not answered yet. One made for
        # a page that has just dropped its connection (a feed came up at that moment) is never
        # seen by it: its next `media_subscribe` is given this one, or it would wait for ever.
        self._unanswered: dict[str, tuple[Jsep, list[dict[str, Any]]]] = {}
        self._aliases: dict[str, str] = {}
        self._background: set[asyncio.Task[None]] = set()
        self.calls_made = 0
        self.calls_failed = 0

    @property
    def off(self) -> bool:
        return self.status is MediaStatus.OFF

    def status_message(self) -> dict[str, Any]:
        return {"state": self.status.value, "message": _STATUS_MESSAGES[self.status]}

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        self._audience.media_changed(self.status_message())
        if not self.off:
            self._lane = asyncio.create_task(self._run_lane(), name=f"media {self.session_id}")

    async def stop(self) -> None:
        """Stop the lane and what runs beside it (server shutdown: the adapter closes rooms)."""
        tasks = [t for t in (self._lane, *self._background) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # -- enforcement: the room's events, in order --------------------------------------------
    def follow(self, before: RoomState, after: RoomState) -> None:
        """Queue the SFU calls for a command's events (called by the room's task after the log
        write and before anyone is told; never waits)."""
        if self._lane is None or self._closed:
            return
        for call in media_calls(before, after):
            self._jobs.put_nowait((call, None))

    def resume(self) -> None:
        """A room taken over from another worker: build its SFU room now from the replayed
        state (whoever is in the media admitted with their mutes, the hold, the recording), so
        the people who come back find their places, and the old owner's SFU room is destroyed
        at once (the adapter does that when it opens a room)."""
        if self._lane is None or self._closed:
            return
        for call in media_resumed(self._state()):
            self._jobs.put_nowait((call, None))

    async def _caught_up(self) -> None:
        """Wait until the lane has made every call queued so far."""
        if self._lane is None or self._lane.done():
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._jobs.put_nowait((None, done))
        await done

    async def _run_lane(self) -> None:
        try:
            while (job := await self._jobs.get()) is not None:
                call, done = job
                if call is not None and not self._closed:
                    await self._make(call)
                if done is not None and not done.done():
                    done.set_result(None)
                if self._closed:
                    return
        finally:
            while not self._jobs.empty():  # nobody waits for ever on a lane that stopped
                job = self._jobs.get_nowait()
                if job is not None and job[1] is not None and not job[1].done():
                    job[1].set_result(None)

    async def _make(self, call: MediaCall) -> None:
        log.debug("media call %s", call, extra={"session": self.session_id})
        work = asyncio.create_task(self._call(call))
        try:
            done, _ = await asyncio.wait({work}, timeout=self._stall_after)
            if not done:
                log.warning(
                    "media %s still running after %.1f s",
                    call.kind,
                    self._stall_after,
                    extra={"session": self.session_id},
                )
                self._tell_staff("slow", RECONNECTING)
                await asyncio.wait({work})
        except asyncio.CancelledError:
            work.cancel()
            raise
        self.calls_made += 1
        exc = work.exception()
        if exc is None:
            return
        self.calls_failed += 1
        if isinstance(exc, MediaUnavailableError):
            # The adapter keeps what was asked and applies it to the rebuilt room.
            log.warning("media %s deferred: %s", call.kind, exc, extra={"session": self.session_id})
            self._set_status(MediaStatus.RECONNECTING)
        elif isinstance(exc, MediaError):
            log.error("media %s failed: %s", call.kind, exc, extra={"session": self.session_id})
            await self._recover_from(call)
        else:
            log.error(
                "media %s failed", call.kind, exc_info=exc, extra={"session": self.session_id}
            )
            self._tell_staff("failed", RECONNECTING)

    def recording_unavailable(self) -> str | None:
        """Why this room's video cannot be recorded on this server, or None."""
        if self.off:
            return RECORDING_NEEDS_VIDEO
        reason = self._media.recording_unavailable()
        return f"This server cannot record: {reason}" if reason else None

    async def _call(self, call: MediaCall) -> None:
        sid = self.session_id
        if call.kind == "close":
            self._closed = True
            self._viewers.clear()
            self._unanswered.clear()
            if self._opened:
                await self._media.close_room(sid)
            self._spawn(self._collect())  # also what a recording left before a restart
            return
        if call.kind == "revoke":
            self._viewers.pop(call.participant, None)
            self._unanswered.pop(call.participant, None)
            if self._opened:
                await self._media.revoke(sid, call.participant)
            return
        if not self._opened:
            state = self._state()
            recordable = state.policy.recording.mode is not RecordingMode.NEVER
            try:
                await self._media.open_room(sid, recordable=recordable)
            except MediaUnavailableError:
                self._opened = True  # the adapter keeps the room and builds it when it can
                raise
            self._opened = True
            if state.held and not (call.kind == "hold" and call.held):
                await self._media.hold(sid, True)
            if state.recording is RecordingState.ON and call.kind != "record":
                await self._media.record(sid, True)  # a room restored while recording
        if call.kind == "admit":
            await self._media.admit(sid, call.participant, call.role)
        elif call.kind == "set_media":
            await self._media.set_media(sid, call.participant, call.audio, call.video)
        elif call.kind == "hold":
            await self._media.hold(sid, call.held)
        elif call.kind == "record":
            await self._media.record(sid, call.on)
            if not call.on:
                self._spawn(self._collect())

    async def _collect(self) -> None:
        """Finish what was recorded so far and hand it on to be kept (beside the lane)."""

        async def keep(files: Sequence[RecordedFile]) -> None:
            if files and self._on_recorded is not None:
                await self._on_recorded(files, self._state())

        try:
            files = await self._media.collect_recordings(self.session_id, keep)
        except Exception:  # the raw files stay; the next collection tries again
            log.exception("recordings of %s not collected", self.session_id)
            return
        if files:
            self._tell_staff("recording_saved", _saved_message(len(files)))

    async def _recover_from(self, call: MediaCall) -> None:
        """An SFU call failed (not for lack of the SFU): try once more; if a participant's
        mute still cannot be applied, take them out of the media and let them in again, so
        nothing is forwarded that the room has not allowed."""
        await asyncio.sleep(0.1)
        try:
            await self._call(call)
            return
        except MediaUnavailableError:
            self._set_status(MediaStatus.RECONNECTING)
            return
        except MediaError as exc:
            log.error("media %s failed again: %s", call.kind, exc)
            if call.kind == "record":  # the staff must know nothing is being recorded
                what = "start" if call.on else "stop"
                self._tell_staff("recording_failed", f"The recording could not {what}: {exc}")
                return
        self._tell_staff("failed", RECONNECTING)
        if call.kind not in ("admit", "set_media"):
            return
        p = self._state().participants.get(call.participant)
        with contextlib.suppress(MediaError):
            await self._media.revoke(self.session_id, call.participant)
        if p is None or not in_media(p):
            return
        try:
            await self._media.admit(self.session_id, p.id, p.role)
            await self._media.set_media(self.session_id, p.id, p.mic_on, p.camera_on)
        except MediaError as exc:
            log.error("media reset of a participant failed: %s", exc)
            return
        self._viewers.pop(p.id, None)
        self._unanswered.pop(p.id, None)
        self._audience.signal(p.id, p.device, _restart("Video was reset: connecting again"))

    # -- signalling: from the participant's socket -------------------------------------------
    def allowed(self, participant: str, device: str) -> Participant:
        """The participant, if they may send and receive media from this device now: in the
        room (admitted, connected, not removed) and this is the device they joined on."""
        state = self._state()
        p = state.participants.get(participant)
        if state.phase is Phase.ENDED or self._closed:
            raise NotAdmittedError("This session has ended")
        if p is None or not in_media(p) or p.device != device or participant in state.removed:
            raise NotAdmittedError("Only people in the room can send or receive video")
        if self.off:
            raise MediaUnavailableError(_STATUS_MESSAGES[MediaStatus.OFF])
        return p

    async def _ready(self, participant: str, device: str) -> Participant:
        self.allowed(participant, device)
        await self._caught_up()
        return self.allowed(participant, device)  # it may have changed meanwhile

    async def publish(self, participant: str, device: str, jsep: Jsep) -> Jsep:
        """The participant's offer to send; the SFU's answer."""
        await self._ready(participant, device)
        one_of_each(jsep)
        answer = await self._media.offer(self.session_id, participant, jsep)
        return _plain_sdp(answer)

    async def share(self, participant: str, device: str, jsep: Jsep) -> Jsep:
        """The sharer's offer to send their screen (a connection of its own); the SFU's answer.

        The room has already put the share on record (`ShareScreen`), and the SFU's feed for it
        is admitted by the lane before the offer goes on: a participant whose share the room did
        not start has no feed to publish to."""
        await self._ready(participant, device)
        self._sharing(participant)
        one_of_each(jsep)
        answer = await self._media.offer(self.session_id, screen_feed(participant), jsep)
        return _plain_sdp(answer)

    def _sharing(self, participant: str) -> None:
        state = self._state()
        if state.screen_sharer == participant:
            return
        p = state.participants.get(participant)
        if p is None or not p.is_staff:
            raise ShareRefusedError(ONLY_STAFF_SHARE, "not_permitted")
        raise ShareRefusedError(NOT_SHARING, "not_here")

    async def subscribe(
        self, participant: str, device: str
    ) -> tuple[Jsep | None, list[dict[str, Any]]]:
        """Receive what this participant may see: the SFU's offer (None: nothing new to
        receive yet; an offer follows when there is) and what each stream is."""
        await self._ready(participant, device)
        viewer = self._viewers.get(participant)
        if viewer is None or viewer.device != device:
            viewer = self._viewers[participant] = _Viewer(device)
        return await self._offer_to(participant, viewer, pushed=False)

    async def answer(self, participant: str, device: str, jsep: Jsep) -> None:
        """The participant's answer to the latest subscription offer: media starts."""
        self.allowed(participant, device)
        await self._media.answer(self.session_id, participant, jsep)
        self._unanswered.pop(participant, None)
        viewer = self._viewers.get(participant)
        if viewer is not None:
            viewer.waiting_answer = False
            if viewer.stale:
                viewer.stale = False
                self._spawn(self._push_offer(participant, viewer))

    async def trickle(
        self,
        participant: str,
        device: str,
        target: SignalTarget,
        candidate: dict[str, Any] | None,
    ) -> None:
        self.allowed(participant, device)
        if target == "screen":
            self._sharing(participant)
            feed = screen_feed(participant)
            await self._media.trickle(self.session_id, feed, "publisher", candidate)
            return
        await self._media.trickle(self.session_id, participant, target, candidate)

    async def _offer_to(
        self, participant: str, viewer: _Viewer, *, pushed: bool
    ) -> tuple[Jsep | None, list[dict[str, Any]]]:
        async with viewer.lock:
            if pushed and viewer.waiting_answer:
                viewer.stale = True
                return None, viewer.streams
            feeds = visible_feeds(self._state(), participant)
            offer = await self._media.subscribe(self.session_id, participant, feeds)
            if offer is None:
                if pushed or participant not in self._unanswered:
                    return None, viewer.streams
                jsep, viewer.streams = self._unanswered[participant]  # see `_unanswered`
            else:
                jsep, viewer.streams = self._describe(offer, participant)
                self._unanswered[participant] = (jsep, viewer.streams)
            viewer.waiting_answer = True
            return jsep, viewer.streams

    async def _push_offer(self, participant: str, viewer: _Viewer) -> None:
        try:
            self.allowed(participant, viewer.device)
            jsep, streams = await self._offer_to(participant, viewer, pushed=True)
        except MediaError as exc:
            log.info("no new subscription offer: %s", exc, extra={"session": self.session_id})
            return
        if jsep is not None and self._viewers.get(participant) is viewer:
            message = {"type": "media_offer", "jsep": jsep, "streams": streams}
            self._audience.signal(participant, viewer.device, message)

    def _describe(self, offer: Jsep, viewer: str) -> tuple[Jsep, list[dict[str, Any]]]:
        """The offer as the participant receives it, and its streams: whose each one is.

        Janus names each stream after its publisher's id (`a=msid:<feed> <mid>`); the browser
        gets an alias instead, with the name the room shows (a pupil never sees ids)."""
        state = self._state()
        me = state.participants.get(viewer)
        staff_viewer = me is not None and me.is_staff
        lines = str(offer.get("sdp", "")).split("\r\n")
        streams: list[dict[str, Any]] = []
        current: dict[str, Any] | None = None
        for i, line in enumerate(lines):
            if line.startswith("s="):
                lines[i] = "s=safeclass"
            elif line.startswith("m="):
                parts = line[2:].split(" ")
                current = {"mid": None, "kind": parts[0], "active": parts[1:2] != ["0"]}
                streams.append(current)
            elif current is not None and line.startswith("a=mid:"):
                current["mid"] = line[6:].strip()
            elif current is not None and line.startswith("a=msid:"):
                feed, _, track = line[7:].partition(" ")
                alias = self._aliases.setdefault(feed, f"f{secrets.token_hex(4)}")
                lines[i] = f"a=msid:{alias} {track}".rstrip()
                sharer = sharer_of(feed)
                whose = sharer if sharer is not None else feed
                who = state.participants.get(whose)
                current["feed"] = alias
                current["source"] = "screen" if sharer is not None else "camera"
                current["name"] = who.name if who is not None else ""
                current["role"] = "staff" if who is not None and who.is_staff else "pupil"
                if staff_viewer:
                    current["participant"] = whose
        return {"type": offer.get("type", "offer"), "sdp": "\r\n".join(lines)}, streams

    # -- what the SFU did ---------------------------------------------------------------------
    async def on_event(self, event: MediaEvent) -> None:
        """Relay an SFU event to those it concerns (called in order, never concurrently)."""
        kind, pid = event.kind, event.participant_id
        log.debug("media event %s %s %s", kind, pid, event.target)
        if self._closed or self.off:
            return
        if kind is MediaEventKind.LOST:
            self._viewers.clear()
            self._unanswered.clear()
            self._set_status(MediaStatus.RECONNECTING)
        elif kind is MediaEventKind.RESTORED:
            self._viewers.clear()
            self._unanswered.clear()
            self._set_status(MediaStatus.ON)
            for p in self._state().participants.values():
                if in_media(p):
                    self._audience.signal(p.id, p.device, _restart("Video reconnected"))
        elif kind is MediaEventKind.PUBLISHING:
            for viewer_id, viewer in list(self._viewers.items()):
                if viewer_id != pid:
                    self._spawn(self._push_offer(viewer_id, viewer))
        elif pid is not None and (sharer := sharer_of(pid)) is not None:
            self._screen_event(event, sharer)
        elif pid is not None:
            self._relay(event, pid)

    def _screen_event(self, event: MediaEvent, sharer: str) -> None:
        """What the SFU says of a shared screen's connection: relayed to its sharer as the
        `screen` target's; when it closes the share ends (the room puts that on record)."""
        p = self._state().participants.get(sharer)
        if p is None or not in_media(p) or self._state().screen_sharer != sharer:
            return  # not theirs to hear about any more
        if event.kind is MediaEventKind.HANGUP:
            if self._on_share_ended is not None:
                self._spawn(self._on_share_ended(sharer))
            return
        if event.kind is MediaEventKind.TRICKLE:
            candidate = event.candidate
            if candidate is not None and candidate.get("completed"):
                candidate = None
            message = {"type": "trickle", "target": "screen", "candidate": candidate}
            self._audience.signal(sharer, p.device, message)

    def _relay(self, event: MediaEvent, pid: str) -> None:
        p = self._state().participants.get(pid)
        if p is None or not in_media(p):
            return  # they are out: nothing of theirs is relayed any more
        if event.kind is MediaEventKind.HANGUP:
            if event.target == "subscriber":
                self._viewers.pop(pid, None)  # their next media_subscribe starts afresh
                self._unanswered.pop(pid, None)
            message: dict[str, Any] = {
                "type": "media_notice",
                "kind": "hangup",
                "target": event.target,
                "message": "Your video connection closed: connecting again",
            }
        elif event.kind is MediaEventKind.TRICKLE:
            candidate = event.candidate
            if candidate is not None and candidate.get("completed"):
                candidate = None
            message = {"type": "trickle", "target": event.target, "candidate": candidate}
        elif event.kind is MediaEventKind.OFFER and event.jsep is not None:
            if event.target != "subscriber":
                return
            jsep, streams = self._describe(event.jsep, pid)
            self._unanswered[pid] = (jsep, streams)
            viewer = self._viewers.get(pid)
            if viewer is not None:
                viewer.waiting_answer, viewer.streams = True, streams
            message = {"type": "media_offer", "jsep": jsep, "streams": streams}
        else:
            return
        self._audience.signal(pid, p.device, message)

    # -- helpers -----------------------------------------------------------------------------
    def _set_status(self, status: MediaStatus) -> None:
        if self.off or status is self.status:
            return
        self.status = status
        log.warning("media %s", status.value, extra={"session": self.session_id})
        self._audience.media_changed(self.status_message())

    def _tell_staff(self, kind: str, message: str) -> None:
        notice = {"type": "media_notice", "kind": kind, "message": message}
        self._audience.broadcast(notice, staff_only=True)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


def _saved_message(count: int) -> str:
    files = "1 file" if count == 1 else f"{count} files"
    return f"Recording saved ({files}): only the DSL and the head can open it"


def _restart(message: str) -> dict[str, Any]:
    return {"type": "media_restart", "message": message}


def one_of_each(jsep: Jsep) -> None:
    """Refuse an offer to publish with a second microphone or video, or anything else (a data
    channel). An m-line that sends nothing (rejected with port 0, `inactive` or `recvonly`: a
    track a page removed) does not count; any new offer is judged again."""
    lines: list[tuple[str, bool]] = []  # (kind, sends) of each m-line
    for line in str(jsep.get("sdp", "")).splitlines():
        if line.startswith("m="):
            kind, _, rest = line[2:].strip().partition(" ")
            lines.append((kind, rest.split(" ", 1)[0] != "0"))
        elif lines and line.strip() in ("a=inactive", "a=recvonly"):
            lines[-1] = (lines[-1][0], False)
    sending = [kind for kind, sends in lines if sends]
    if any(kind not in ("audio", "video") or sending.count(kind) > 1 for kind in sending):
        raise BadOfferError(ONE_OF_EACH)


def _plain_sdp(jsep: Jsep) -> Jsep:
    """The SFU's SDP without its room's name."""
    sdp = str(jsep.get("sdp", ""))
    lines = ["s=safeclass" if line.startswith("s=") else line for line in sdp.split("\r\n")]
    return {"type": jsep.get("type", "answer"), "sdp": "\r\n".join(lines)}
