"""What the live-room runtime needs from the outside world, as small protocols the app owns.

The web layer implements `Audience` (the room's WebSockets); the notify adapter implements
`Alerts` (email and webhooks through the outbox); the media adapter will implement `Media`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from safeclass.core import RoomState
from safeclass.core.events import Event


class Audience(Protocol):
    """Everyone connected to one room."""

    async def publish(self, state: RoomState, events: Sequence[Event], seq: int) -> None:
        """Tell every connection what changed (each sees only what its role may see)."""

    async def disconnect(self, participant: str, code: int, reason: str) -> None:
        """Close one participant's connection (removed, denied, replaced)."""

    async def disconnect_all(self, code: int, reason: str) -> None:
        """Close every connection at once (the end)."""


class Alerts(Protocol):
    """Messages that leave the room: to the DSL, to parents, to the head."""

    async def room_events(self, session_id: str, state: RoomState, events: Sequence[Event]) -> None:
        """React to events that must reach someone outside (DslAlerted, ParentNoticeQueued…)."""
