"""What the SFU must do after a command: the difference between the room's state before and after.

Pure functions of two states, so the order of the calls (a hold first, a release last) and what
each participant may receive are tested without an SFU (tests/unit/test_room_media_calls.py).
`RoomMedia` (media.py) makes the calls on the room's media lane.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from safeclass.core import Participant, Phase, RecordingState, Role, RoomState, Status

CallKind = Literal["open", "admit", "set_media", "hold", "revoke", "close", "record"]


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


# A screen share is a feed of its own at the SFU, beside the sharer's camera: the SFU sees it as
# one more member (its own token, publisher and mids), whose id is the sharer's with this prefix.
SCREEN_PREFIX = "screen."


def screen_feed(sharer: str) -> str:
    """The SFU's id for the screen a participant shares."""
    return f"{SCREEN_PREFIX}{sharer}"


def sharer_of(feed: str) -> str | None:
    """Whose screen a feed is (None: a camera feed, the participant's own id)."""
    return feed[len(SCREEN_PREFIX) :] if feed.startswith(SCREEN_PREFIX) else None


def in_media(p: Participant | None) -> bool:
    """Whether a participant is in the room's media: admitted and connected."""
    return p is not None and p.status is Status.ADMITTED and p.connected


def sharing(state: RoomState) -> Participant | None:
    """The member of staff whose screen the SFU carries now, if any (the core ends a share
    when its sharer goes, so this is only ever a sharer in the room)."""
    p = state.participants.get(state.screen_sharer or "")
    return p if p is not None and p.is_staff and in_media(p) else None


def media_calls(before: RoomState, after: RoomState) -> list[MediaCall]:
    """The SFU calls that take the room's media from `before` to `after`.

    A hold comes first (the fastest cut), then a recording's stop, revocations, admissions and
    each admitted participant's microphone and camera, a release, and a recording's start last.
    What a pupil's SFU stream carries is `set_media(audio=mic_on, video=camera_on)` while the
    room is not held; a hold cuts every pupil's media on top of that, so a release restores
    exactly what the state says.

    A screen share is its own feed (`screen_feed`): revoked first when it ends (before anyone
    else's revocation), admitted with everything forwarded when it starts (its sharer's
    microphone and camera stay as they are). The SFU takes the screen's offer only after this.
    """
    if after.phase is Phase.ENDED:
        return [] if before.phase is Phase.ENDED else [MediaCall("close")]
    calls: list[MediaCall] = []
    recording = (before.recording is RecordingState.ON, after.recording is RecordingState.ON)
    shared = (sharing(before), sharing(after))
    # the same share goes on only from the same sharer on the same device
    changed = [(p.id, p.device) if p is not None else None for p in shared]
    share_changed = changed[0] != changed[1]
    if after.held and not before.held:
        calls.append(MediaCall("hold", held=True))
    if recording == (True, False):
        calls.append(MediaCall("record", on=False))
    if shared[0] is not None and share_changed:
        calls.append(MediaCall("revoke", screen_feed(shared[0].id)))
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
    if shared[1] is not None and share_changed:
        feed = screen_feed(shared[1].id)
        calls.append(MediaCall("admit", feed, role=shared[1].role))
        calls.append(MediaCall("set_media", feed, audio=True, video=True))
    if before.held and not after.held:
        calls.append(MediaCall("hold", held=False))
    if recording == (False, True):
        calls.append(MediaCall("record", on=True))
    return calls


def media_resumed(state: RoomState) -> list[MediaCall]:
    """The SFU calls that build a room's media from nothing to `state` (a room taken over from
    another worker): the room opened (held and recording as the state says), then everyone in
    the media admitted with their microphone and camera, and a share its feed."""
    if state.phase is Phase.ENDED:
        return []
    vacant = replace(state, participants={}, screen_sharer=None)
    return [MediaCall("open"), *media_calls(vacant, state)]


def visible_feeds(state: RoomState, viewer: str) -> list[str]:
    """Whose media a participant receives: staff see everyone in the room; a pupil sees the
    staff and the admitted pupils (their classmates' tiles, as the class would in a classroom).
    While the room is held the adapter pauses every pupil's subscription, so a pupil receives
    nothing then, and pupils' own media is cut for everyone. Everyone but its sharer receives
    the screen being shared."""
    feeds = [pid for pid, p in state.participants.items() if pid != viewer and in_media(p)]
    sharer = sharing(state)
    if sharer is not None and sharer.id != viewer:
        feeds.append(screen_feed(sharer.id))
    return feeds
