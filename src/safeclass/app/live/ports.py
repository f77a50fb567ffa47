"""What the live-room runtime needs from the outside world, as small protocols the app owns.

The web layer implements `Audience` (the room's WebSockets); the notify adapter implements
`Alerts` (email and webhooks through the outbox); the media adapter implements `Media` (see
`safeclass.app.media_port`), and `NoMedia` stands in for it when this server has no SFU.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from safeclass.app.event_store import InTransaction
from safeclass.app.media_port import (
    Jsep,
    KeepRecordings,
    Media,
    MediaListener,
    MediaUnavailableError,
    RecordedFile,
    Target,
)
from safeclass.core import Role, RoomState
from safeclass.core.events import Event

__all__ = ["RECORDING_NEEDS_VIDEO", "Alerts", "Audience", "Media", "MediaListener", "NoMedia"]

RECORDING_NEEDS_VIDEO = "Recording needs video, which is off on this server"


class Audience(Protocol):
    """Everyone connected to one room."""

    async def publish(self, state: RoomState, events: Sequence[Event], seq: int) -> None:
        """Tell every connection what changed (each sees only what its role may see)."""

    async def disconnect(self, participant: str, code: int, reason: str) -> None:
        """Close one participant's connection (removed, denied, replaced)."""

    async def disconnect_all(self, code: int, reason: str) -> None:
        """Close every connection at once (the end)."""

    def drop_unless_back(
        self, participant: str, device: str, grace: float, drop: Callable[[], Awaitable[None]]
    ) -> None:
        """Run `drop` after `grace` seconds unless that participant connects again from that
        device first (a page reloaded; a room taken over from a worker that died)."""

    def signal(self, participant: str, device: str, message: dict[str, Any]) -> None:
        """Queue a message for one participant's connection on that device (media signalling,
        and notices about their own media). Nobody else receives it."""

    def broadcast(self, message: dict[str, Any], *, staff_only: bool = False) -> None:
        """Queue a message for every connection of the room (or only the staff's)."""

    def media_changed(self, status: dict[str, Any]) -> None:
        """The room's video is now on, off or reconnecting: tell everyone now, and say so in
        every later `state` message and to anyone who connects."""

    def recording_unavailable(self, reason: str | None) -> None:
        """Why this room cannot be recorded on this server (no video, no converter), or None;
        said when the room starts, so views offer recording only where it would work."""


class Alerts(Protocol):
    """Messages that leave the room: to the DSL, to parents, to the head."""

    async def outbox_write(
        self, session_id: str, state: RoomState, events: Sequence[Event]
    ) -> InTransaction | None:
        """What events that must reach someone outside (DslAlerted, ParentNoticeQueued…) make
        the outbox say, as writes for the transaction that logs them; None if nothing."""

    def written(self, session_id: str) -> None:
        """That transaction has committed: deliver now."""


class NoMedia:
    """`Media` when this server has no SFU (media off): the room runs without video.

    Enforcement calls succeed and do nothing (there is no media to enforce anything on);
    signalling is refused, so a client asking to send or receive video is told video is off.
    """

    def __init__(self, reason: str = "media off") -> None:
        self.reason = reason

    async def open_room(self, session_id: str, *, recordable: bool = False) -> None:
        return None

    def recording_unavailable(self) -> str | None:
        return RECORDING_NEEDS_VIDEO

    async def record(self, session_id: str, on: bool) -> None:
        if on:
            raise MediaUnavailableError(self.reason)

    async def collect_recordings(
        self, session_id: str, keep: KeepRecordings
    ) -> Sequence[RecordedFile]:
        return ()

    def pending_recordings(self) -> Sequence[str]:
        return ()

    async def close_room(self, session_id: str) -> None:
        return None

    async def admit(self, session_id: str, participant_id: str, role: Role) -> str:
        return ""

    async def revoke(self, session_id: str, participant_id: str) -> None:
        return None

    async def set_media(
        self, session_id: str, participant_id: str, audio: bool, video: bool
    ) -> None:
        return None

    async def hold(self, session_id: str, held: bool) -> None:
        return None

    async def offer(self, session_id: str, participant_id: str, jsep: Jsep) -> Jsep:
        raise MediaUnavailableError(self.reason)

    async def subscribe(
        self, session_id: str, participant_id: str, feeds: Sequence[str]
    ) -> Jsep | None:
        raise MediaUnavailableError(self.reason)

    async def answer(self, session_id: str, participant_id: str, jsep: Jsep) -> None:
        raise MediaUnavailableError(self.reason)

    async def trickle(
        self,
        session_id: str,
        participant_id: str,
        target: Target,
        candidate: dict[str, Any] | None,
    ) -> None:
        raise MediaUnavailableError(self.reason)
