"""The room WebSocket protocol, version 1: every message a client may send, validated strictly.

A message is one JSON object with a `type`. Unknown types, unknown fields, wrong types and
oversized messages are refused with a clear error and the socket is kept (a modified client
learns nothing and changes nothing). A message nested deeper than any real one is refused
before it is parsed (`too_deep`, a scan of its brackets outside strings), so no JSON parser ever
builds, or recurses into, a structure thousands of levels deep. Who may send what is not
decided here: the server turns a message into a core command with the *authenticated* identity
as its actor, and the core refuses what that role may not do. Documented for client authors in
docs/protocol.md.

The media messages (`media_publish`, `media_subscribe`, `media_start`, `trickle`) carry the
browser's SDP and ICE to the server, which relays them to the SFU for this participant alone:
the browser never learns where the SFU is or any of its secrets. They are not commands (nothing
of them goes in the log); the room's media decides whether this participant may use them.
`media_share` (a screen's offer) is both: the room's `ShareScreen` command first (staff only, on
record), then the offer relayed; `media_share_stop` is a command only.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from safeclass.core import commands as cmd

VERSION = 1
MAX_MESSAGE_BYTES = 8 * 1024
# media_publish and media_start carry a whole SDP. A whole class's subscription has two m-lines
# per person in the room (and ended ones kept for reuse): 35 people are ~70 m-lines, about
# 0.5-0.7 KB each in a browser's answer and 1 KB in aiortc's (bench/class_load.py saw 71,000
# characters for 31 feeds), so the limits leave room for a class and some more.
MAX_SDP_CHARS = 192_000
MAX_SDP_MESSAGE_BYTES = 224 * 1024
MAX_FRAME_BYTES = 256 * 1024  # the WebSocket server's own limit on one frame (uvicorn)
SDP_MESSAGES = frozenset({"media_publish", "media_start", "media_share"})
MAX_DEPTH = 8  # levels of objects and lists; the deepest real message (a trickle) has 2
TOO_DEEP = f"Nested too deeply: a message has at most {MAX_DEPTH} levels"
# Everything but the brackets that count: JSON strings (to their closing quote, or to the end
# of an unterminated one, so the scan is linear) and runs of other characters.
_NOT_STRUCTURE = re.compile(r'"(?:[^"\\]|\\.)*"?|[^"\[\]{}]+', re.DOTALL)
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}

PupilId = Annotated[str, Field(min_length=1, max_length=64)]


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str | None = Field(default=None, max_length=64)  # echoed in the reply


class Join(_Message):
    type: Literal["join"]
    acknowledged_expectations: bool = False
    parent_present: bool = False
    shown_name: str | None = Field(default=None, max_length=80)


class Admit(_Message):
    type: Literal["admit"]
    pupils: list[PupilId] = Field(min_length=1, max_length=100)


class AdmitAll(_Message):
    type: Literal["admit_all"]


class Deny(_Message):
    type: Literal["deny"]
    pupil: PupilId


class Remove(_Message):
    type: Literal["remove"]
    pupil: PupilId
    reason: str = Field(default="", max_length=500)


class Mute(_Message):
    type: Literal["mute"]
    target: PupilId


class Unmute(_Message):
    type: Literal["unmute"]
    target: PupilId


class CameraOff(_Message):
    type: Literal["camera_off"]
    target: PupilId


class CameraOn(_Message):
    type: Literal["camera_on"]
    target: PupilId


class AllowToSpeak(_Message):
    type: Literal["allow_to_speak"]
    pupil: PupilId


class Chat(_Message):
    type: Literal["chat"]
    text: str = Field(max_length=2000)


class ChatSwitch(_Message):
    type: Literal["chat_on", "chat_off"]


class LowerHand(_Message):
    type: Literal["lower_hand"]
    pupil: PupilId


class CallOn(_Message):
    type: Literal["call_on"]
    pupil: PupilId


class ParentPresent(_Message):
    type: Literal["parent_present"]
    pupil: PupilId
    present: bool = True


class Recording(_Message):
    type: Literal["start_recording", "stop_recording"]


class Note(_Message):
    type: Literal["note"]
    kind: cmd.NoteKind
    text: str = Field(max_length=2000)
    pupil: PupilId | None = None


class Concern(_Message):
    """A concern (C16): what was seen and heard, about which pupil(s) (`pupil` is the older
    one-pupil form), under which of the school's categories, and when (an aware ISO time, if
    earlier than now)."""

    type: Literal["concern"]
    summary: str = Field(max_length=4000)
    pupil: PupilId | None = None
    pupils: list[PupilId] = Field(default_factory=list, max_length=60)
    category: str = Field(default="", max_length=80)
    happened_at: AwareDatetime | None = None


class Simple(_Message):
    type: Literal["leave", "end", "raise_hand"]


class EmergencyEnd(_Message):
    type: Literal["emergency_end"]
    note: str = Field(default="", max_length=2000)


class Ping(_Message):
    type: Literal["ping", "pong"]


class _Sdp(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    sdp: str = Field(min_length=1, max_length=MAX_SDP_CHARS)


class Offer(_Sdp):
    type: Literal["offer"]


class Answer(_Sdp):
    type: Literal["answer"]


class IceCandidate(BaseModel):
    """A browser's RTCIceCandidate.toJSON()."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    candidate: str = Field(max_length=1024)
    sdp_mid: str | None = Field(default=None, alias="sdpMid", max_length=64)
    sdp_m_line_index: int | None = Field(default=None, alias="sdpMLineIndex", ge=0, le=255)
    username_fragment: str | None = Field(default=None, alias="usernameFragment", max_length=256)

    def for_sfu(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True, exclude={"username_fragment"})


class MediaPublish(_Message):
    type: Literal["media_publish"]
    jsep: Offer


class MediaSubscribe(_Message):
    type: Literal["media_subscribe"]


class MediaStart(_Message):
    type: Literal["media_start"]
    jsep: Answer


class MediaShare(_Message):
    """Staff: share a screen (a third connection, its offer here); also a room command."""

    type: Literal["media_share"]
    jsep: Offer


class MediaShareStop(_Message):
    type: Literal["media_share_stop"]


class Trickle(_Message):
    type: Literal["trickle"]
    target: Literal["publisher", "subscriber", "screen"]
    candidate: IceCandidate | None  # None: the end of this connection's candidates


MediaMessage = MediaPublish | MediaSubscribe | MediaStart | MediaShare | Trickle
MEDIA_MESSAGES = (MediaPublish, MediaSubscribe, MediaStart, MediaShare, Trickle)


def too_deep(text: str) -> bool:
    """Whether a message's objects and lists nest more than MAX_DEPTH levels: judged from its
    brackets outside strings, in linear time and without building anything."""
    brackets = _NOT_STRUCTURE.sub("", text)
    if len(brackets) <= MAX_DEPTH:
        return False
    return max(accumulate(map(_STEP.__getitem__, brackets))) > MAX_DEPTH


def carries_sdp(text: str) -> bool:
    """Whether a message over MAX_MESSAGE_BYTES is one that may be (it carries an SDP)."""
    if len(text.encode()) > MAX_SDP_MESSAGE_BYTES or too_deep(text):
        return False
    try:
        data = json.loads(text)
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("type") in SDP_MESSAGES


ClientMessage = Annotated[
    Join
    | Admit
    | AdmitAll
    | Deny
    | Remove
    | Mute
    | Unmute
    | CameraOff
    | CameraOn
    | AllowToSpeak
    | Chat
    | ChatSwitch
    | LowerHand
    | CallOn
    | ParentPresent
    | Recording
    | Note
    | Concern
    | Simple
    | EmergencyEnd
    | Ping
    | MediaPublish
    | MediaSubscribe
    | MediaStart
    | MediaShare
    | MediaShareStop
    | Trickle,
    Field(discriminator="type"),
]
parse_message: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)


def to_command(message: ClientMessage, actor: str) -> cmd.Command | None:
    """The core command for a message from `actor` (None for protocol-only messages: pings
    and media signalling)."""
    match message:
        case Admit(pupils=pupils):
            return cmd.Admit(actor, tuple(pupils))
        case AdmitAll():
            return cmd.AdmitAllExpected(actor)
        case Deny(pupil=pupil):
            return cmd.Deny(actor, pupil)
        case Remove(pupil=pupil, reason=reason):
            return cmd.Remove(actor, pupil, reason)
        case Mute(target=target):
            return cmd.MuteMic(actor, target)
        case Unmute(target=target):
            return cmd.UnmuteMic(actor, target)
        case CameraOff(target=target):
            return cmd.CameraOff(actor, target)
        case CameraOn(target=target):
            return cmd.CameraOn(actor, target)
        case AllowToSpeak(pupil=pupil):
            return cmd.AllowToSpeak(actor, pupil)
        case Chat(text=text):
            return cmd.PostChat(actor, text)
        case ChatSwitch(type=kind):
            return cmd.SetChat(actor, on=kind == "chat_on")
        case LowerHand(pupil=pupil):
            return cmd.LowerHand(actor, pupil)
        case CallOn(pupil=pupil):
            return cmd.CallOn(actor, pupil)
        case ParentPresent(pupil=pupil, present=present):
            return cmd.AttestParentPresent(actor, pupil, present)
        case Recording(type=kind):
            return (
                cmd.StartRecording(actor) if kind == "start_recording" else cmd.StopRecording(actor)
            )
        case Note(kind=kind, text=text, pupil=pupil):
            return cmd.AddLogNote(actor, kind, text, pupil)
        case Concern(
            summary=summary, pupil=pupil, pupils=pupils, category=category, happened_at=when
        ):
            return cmd.RaiseConcern(actor, summary, pupil, category, tuple(pupils), when)
        case Simple(type="leave"):
            return cmd.Leave(actor)
        case Simple(type="end"):
            return cmd.EndSession(actor)
        case Simple(type="raise_hand"):
            return cmd.RaiseHand(actor)
        case EmergencyEnd(note=note):
            return cmd.EmergencyEnd(actor, note)
        case MediaShare():
            return cmd.ShareScreen(actor)
        case MediaShareStop():
            return cmd.StopSharing(actor)
    return None
