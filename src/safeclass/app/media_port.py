"""The media port: what the live room asks of the SFU, and what the SFU tells it back.

The live room decides (core), logs, then drives media through `Media`. Every call is by session
and participant id; the adapter keeps the SFU's rooms, handles and tokens to itself. The browser
never talks to the SFU: its SDP and ICE come through the room's WebSocket and go through
`offer`/`subscribe`/`answer`/`trickle` here, so what the SFU forwards is decided by the server.

What the SFU does on its own (a publisher's media is up, a subscription was renegotiated, the
connection to the SFU was lost and the rooms rebuilt) reaches the app as `MediaEvent`s through
the `MediaListener` given to the adapter.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from safeclass.core import Role

Jsep = dict[str, Any]  # {"type": "offer" | "answer", "sdp": "..."}
Target = Literal["publisher", "subscriber"]  # which of a participant's connections


class MediaError(Exception):
    """The SFU refused or failed a request; nothing about the room's state changed."""


class MediaUnavailableError(MediaError):
    """Media is off (no SFU installed) or the SFU is down and being recovered."""


class NotAdmittedError(MediaError):
    """The participant has no admission to this room's media (never admitted, or revoked)."""


class MediaEventKind(enum.StrEnum):
    PUBLISHING = "publishing"  # the participant's media reached the SFU: others may subscribe
    HANGUP = "hangup"  # one of the participant's connections closed (`target` says which)
    OFFER = "offer"  # the SFU renegotiates a subscription: relay `jsep`, answer with `answer`
    TRICKLE = "trickle"  # an ICE candidate from the SFU for `target`
    LOST = "lost"  # the SFU is unreachable: tell the room "Reconnecting video…"
    RESTORED = "restored"  # the room was rebuilt on the SFU: participants must offer again


@dataclass(frozen=True, slots=True)
class MediaEvent:
    session_id: str
    kind: MediaEventKind
    participant_id: str | None = None
    target: Target | None = None
    jsep: Jsep | None = None
    candidate: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class RecordedFile:
    """One participant's recorded media (audio and video in one WebM), finished and stored."""

    participant_id: str
    path: Path
    started_at: dt.datetime
    ended_at: dt.datetime
    size_bytes: int
    kinds: tuple[str, ...]  # ("audio", "video"), or one of them: what was forwarded


KeepRecordings = Callable[[Sequence[RecordedFile]], Awaitable[None]]  # record them (the app)


class MediaListener(Protocol):
    async def media_event(self, event: MediaEvent) -> None:
        """React to something the SFU did (called in order per adapter, never concurrently)."""


class Media(Protocol):
    """One SFU room per live session; each admitted participant publishes and subscribes."""

    async def open_room(self, session_id: str, *, recordable: bool = False) -> None:
        """Create the session's private room (idempotent). A room that is not `recordable`
        (the policy never allows recording) can never be recorded: `record` refuses it."""

    async def close_room(self, session_id: str) -> None:
        """Destroy the room: nobody receives anything any more (the end)."""

    async def admit(self, session_id: str, participant_id: str, role: Role) -> str:
        """Let a participant in: a new token of theirs is added to the room's allowed list.
        A participant starts with audio and video muted at the SFU until `set_media`."""

    async def revoke(self, session_id: str, participant_id: str) -> None:
        """Take a participant out: token removed, publisher kicked, their subscriptions torn
        down, so they neither send nor receive anything from here on."""

    async def set_media(
        self, session_id: str, participant_id: str, audio: bool, video: bool
    ) -> None:
        """What of the participant's media the SFU forwards (mutes are enforced there)."""

    async def hold(self, session_id: str, held: bool) -> None:
        """Stop (or restore) every pupil's media in the room: what they send and receive."""

    def recording_unavailable(self) -> str | None:
        """Why this SFU cannot record (no folder for its recordings, no converter), or None."""

    async def record(self, session_id: str, on: bool) -> None:
        """Start (or stop) recording what the room forwards: every publisher, and whoever
        publishes later, until stopped or the room is closed. What is muted or held at the SFU
        is not forwarded, so it is not recorded either."""

    async def collect_recordings(
        self, session_id: str, keep: KeepRecordings
    ) -> Sequence[RecordedFile]:
        """Finish what was recorded of the session and is no longer being written (after
        `record(False)` or `close_room`): convert it, store it, and have `keep` record each
        stretch's files before its raw media is deleted; what was stored. What cannot be
        converted is kept as it is, for a later try; a stretch finished again after a crash
        gives the same files again (so `keep` must take a file it already has calmly)."""

    def pending_recordings(self) -> Sequence[str]:
        """Sessions with recorded media not yet collected (e.g. the server stopped first)."""

    async def offer(self, session_id: str, participant_id: str, jsep: Jsep) -> Jsep:
        """The participant's publisher offer; the SFU's answer."""

    async def subscribe(
        self, session_id: str, participant_id: str, feeds: Sequence[str]
    ) -> Jsep | None:
        """Receive exactly these participants' media; the SFU's offer (None: nothing changed)."""

    async def answer(self, session_id: str, participant_id: str, jsep: Jsep) -> None:
        """The participant's answer to the SFU's subscription offer: media starts flowing."""

    async def trickle(
        self,
        session_id: str,
        participant_id: str,
        target: Target,
        candidate: dict[str, Any] | None,
    ) -> None:
        """An ICE candidate from the participant's browser (None: end of candidates)."""
