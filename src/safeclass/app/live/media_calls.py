"""What the SFU must do after a command: the difference between the room's state before and after.

Pure functions of two states, so the order of the calls (a hold first, a release last) and what
each participant may receive are tested without an SFU (tests/unit/test_room_media_calls.py).
`RoomMedia` (media.py) makes the calls on the room's media lane.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from safeclass.core import Participant, Phase, RecordingState, Role, RoomState, Status

CallKind = Literal["admit", "set_media", "hold", "revoke", "close", "record"]


@dataclass(frozen=True, slots=True)
class MediaCall:
    """One SFU call the room's events require."""

    kind: CallKind
    participant: str = ""
    role: Role = Role.PUPIL
    audio: bool = False
    video: bool = False
    held: bool = False
    on: bool = False  # record: start (True) or stop


def in_media(p: Participant | None) -> bool:
    """Whether a participant is in the room's media: admitted and connected."""
    return p is not None and p.status is Status.ADMITTED and p.connected


def media_calls(before: RoomState, after: RoomState) -> list[MediaCall]:
    """The SFU calls that take the room's media from `before` to `after`.

    A hold comes first (the fastest cut), then a recording's stop, revocations, admissions and
    each admitted participant's microphone and camera, a release, and a recording's start last.
    What a pupil's SFU stream carries is `set_media(audio=mic_on, video=camera_on)` while the
    room is not held; a hold cuts every pupil's media on top of that, so a release restores
    exactly what the state says.
    """
    if after.phase is Phase.ENDED:
        return [] if before.phase is Phase.ENDED else [MediaCall("close")]
    calls: list[MediaCall] = []
    recording = (before.recording is RecordingState.ON, after.recording is RecordingState.ON)
    if after.held and not before.held:
        calls.append(MediaCall("hold", held=True))
    if recording == (True, False):
        calls.append(MediaCall("record", on=False))
    for pid, was in before.participants.items():
        now = after.participants.get(pid)
        if in_media(was) and not (in_media(now) and now is not None and now.device == was.device):
            calls.append(MediaCall("revoke", pid))
    for pid, p in after.participants.items():
        if not in_media(p):
            continue
        old = before.participants.get(pid)
        fresh = old is None or not in_media(old) or old.device != p.device
        if fresh:
            calls.append(MediaCall("admit", pid, role=p.role))
        if fresh or (old is not None and (old.mic_on, old.camera_on) != (p.mic_on, p.camera_on)):
            calls.append(MediaCall("set_media", pid, audio=p.mic_on, video=p.camera_on))
    if before.held and not after.held:
        calls.append(MediaCall("hold", held=False))
    if recording == (False, True):
        calls.append(MediaCall("record", on=True))
    return calls


def visible_feeds(state: RoomState, viewer: str) -> list[str]:
    """Whose media a participant receives: staff see everyone in the room; a pupil sees the
    staff and the admitted pupils (their classmates' tiles, as the class would in a classroom).
    While the room is held the adapter pauses every pupil's subscription, so a pupil receives
    nothing then, and pupils' own media is cut for everyone."""
    return [pid for pid, p in state.participants.items() if pid != viewer and in_media(p)]
