"""What the media adapter keeps of each room and member: the SFU's ids, secrets and handles, and
what the app last asked to be forwarded, so a rebuilt or moved room gets it all again.

A room's Janus id is its session's id and a random suffix, and its description the session's
id; its secret (what destroys, kicks and moderates it) is derived from the id with a key every
worker of a cluster shares (`ROOM_KEY`, from the server secret), so the worker that takes a room
over can destroy the Janus room a worker that died left behind (`left_over`).

Plain data (and the mids of an offer's m-lines); `JanusMedia` (janus_media.py) is what acts on it.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from safeclass.adapters.media.janus_client import VideoRoomHandle
from safeclass.core import Role

ROOM_KEY = "janus-rooms"  # the name of the key Janus rooms' secrets derive from (server secret)
_SUFFIX = re.compile(r"\.[0-9a-f]{8}")


def room_secret(key: bytes, janus_id: str) -> str:
    """The secret of the Janus room `janus_id`, for whoever holds `key`."""
    digest = hmac.new(key, b"janus room:" + janus_id.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


@dataclass(frozen=True, slots=True)
class ListedRoom:
    """A room on a Janus, as its `list` shows it (every worker's, with the admin key)."""

    janus_id: str
    description: str
    participants: int  # joined as publishers (each person in the room's media, once connected)

    def left_over(self, session_id: str) -> bool:
        """Whether this is a safeclass room of the session (one an earlier owner made)."""
        prefix = f"{session_id}."
        return (
            self.description == session_id
            and self.janus_id.startswith(prefix)
            and _SUFFIX.fullmatch(self.janus_id[len(session_id) :]) is not None
        )


def mids_by_kind(sdp: str) -> dict[str, list[str]]:
    """The mids of an SDP's m-lines by kind: {"audio": ["0"], "video": ["1"]}."""
    found: dict[str, list[str]] = {}
    kind: str | None = None
    for line in sdp.splitlines():
        if line.startswith("m="):
            kind = line[2:].split(" ", 1)[0]
        elif line.startswith("a=mid:") and kind is not None:
            found.setdefault(kind, []).append(line[6:].strip())
    return found


@dataclass(eq=False)
class Member:
    participant_id: str
    role: Role
    token: str
    audio: bool = False  # what the app allows to be forwarded
    video: bool = False
    publisher: VideoRoomHandle | None = None
    private_id: int | None = None
    published: bool = False  # publish answered: the mids are known
    publishing: bool = False  # webrtcup: others may subscribe
    mids: dict[str, list[str]] = field(default_factory=dict)
    muted: dict[str, bool] = field(default_factory=dict)  # mid -> muted at the SFU now
    subscriber: VideoRoomHandle | None = None
    started: bool = False
    paused: bool = False
    feeds: set[str] = field(default_factory=set)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def is_pupil(self) -> bool:
        return self.role is Role.PUPIL

    def handles(self) -> list[VideoRoomHandle]:
        return [h for h in (self.subscriber, self.publisher) if h is not None]

    def forget_handles(self) -> None:
        self.publisher = self.subscriber = None
        self.private_id = None
        self.published = self.publishing = self.started = self.paused = False
        self.mids, self.muted, self.feeds = {}, {}, set()


@dataclass(eq=False)
class Room:
    session_id: str
    janus_id: str = ""
    secret: str = ""
    pin: str = ""
    built: bool = False  # exists on the Janus we are connected to
    held: bool = False
    recordable: bool = False
    span: Path | None = None  # the folder Janus records into now (None: not recording)
    members: dict[str, Member] = field(default_factory=dict)

    def renew(self, key: bytes) -> None:
        """A new Janus id and pin, and the secret `key` derives for the id."""
        self.janus_id = f"{self.session_id}.{secrets.token_hex(4)}"
        self.secret = room_secret(key, self.janus_id)
        self.pin = secrets.token_urlsafe(12)
        self.built = False
