"""The event log's JSON shape: every event type round-trips, and anything unknown is refused."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import pytest

from safeclass.core import Consent, Role
from safeclass.core import events as ev
from safeclass.core.commands import NoteKind
from safeclass.core.events import (
    EVENT_TYPES,
    AlertReason,
    EndReason,
    HoldReason,
    NoticeReason,
    from_dict,
    to_dict,
)

AT = dt.datetime(2026, 11, 24, 10, 3, 7, 250_000, tzinfo=dt.UTC)

SAMPLES: dict[str, ev.Event] = {
    e.type_name: e
    for e in [
        ev.WaitingRoomOpened(at=AT),
        ev.SessionStarted(at=AT, reminder=("Be on time.", "Stay muted.")),
        ev.PupilWaiting(at=AT, pupil="p1", name="Siân O.", device="ipad", parent_present=True),
        ev.StaffJoined(at=AT, staff="t1", role=Role.ASSISTANT, name="Mr Khan", device="laptop"),
        ev.PupilAdmitted(
            at=AT, pupil="p1", by="t1", mic_on=False, camera_on=True, camera_allowed=True
        ),
        ev.PupilDenied(at=AT, pupil="p1", by="t2"),
        ev.ConsentChanged(at=AT, pupil="p1", consent=Consent.REFUSED),
        ev.PupilWithdrawn(at=AT, pupil="p1", reason="consent"),
        ev.PupilRemoved(at=AT, pupil="p1", by="t2", reason="unkind words"),
        ev.ParentNoticeQueued(at=AT, pupil="p1", reason=NoticeReason.REMOVED, send_at_end=True),
        ev.MicMuted(at=AT, target="p1", by="t1"),
        ev.MicUnmuted(at=AT, target="p1", by="t1"),
        ev.CameraTurnedOff(at=AT, target="p1", by="t1"),
        ev.CameraTurnedOn(at=AT, target="p1", by="t1"),
        ev.SpeakingAllowed(at=AT, pupil="p1", by="t1"),
        ev.ChatSwitched(at=AT, on=True, by="t1"),
        ev.ChatPosted(at=AT, number=3, by="p1", name="Zoë-Mae O.", text="I’m done — 10/10!"),
        ev.HandRaised(at=AT, pupil="p1"),
        ev.HandLowered(at=AT, pupil="p1", by="t1"),
        ev.PupilCalledOn(at=AT, pupil="p1", by="t1"),
        ev.ParentPresenceAttested(at=AT, pupil="p1", present=False, by="p1"),
        ev.RecordingNoticeGiven(
            at=AT, by="t1", starts_at=AT + dt.timedelta(seconds=10), one_to_one_exception=True
        ),
        ev.RecordingStarted(at=AT),
        ev.RecordingStopped(at=AT, by="t1"),
        ev.ScreenShareStarted(at=AT, sharer="t2"),
        ev.ScreenShareStopped(at=AT, sharer="t2", by="t1"),
        ev.LogNoteAdded(at=AT, kind=NoteKind.REWARD, by="t2", text="Star of the day", pupil="p1"),
        ev.ConcernRaised(at=AT, number=1, by="t1", summary="Bruise on arm", pupil=None),
        ev.DslAlerted(at=AT, reason=AlertReason.CONCERN, by="t1", pupil="p1"),
        ev.ParticipantLeft(at=AT, participant="p1"),
        ev.ConnectionDropped(at=AT, participant="t2"),
        ev.RoomHeld(at=AT, reason=HoldReason.PARENT_ABSENT, staff_present=1, staff_required=2),
        ev.RoomReleased(at=AT),
        ev.TimeWarning(at=AT, minutes_left=5),
        ev.SessionEnded(at=AT, reason=EndReason.EMERGENCY, by="t1", disconnected=("p1", "t1")),
    ]
}


def test_there_is_a_sample_of_every_event_type() -> None:
    # covers: C22, C14
    assert set(SAMPLES) == set(EVENT_TYPES)


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_every_event_type_round_trips_through_json(name: str) -> None:
    # covers: C22, C14, C15, C16
    event = SAMPLES[name]
    data = to_dict(event)
    assert data["type"] == name
    assert set(data) == {"type"} | {f.name for f in dataclasses.fields(event)}
    text = json.dumps(data, ensure_ascii=False)
    assert from_dict(json.loads(text)) == event
    assert from_dict(data) == event


def test_times_are_stored_as_iso_strings_with_their_offset() -> None:
    # covers: C14
    data = to_dict(SAMPLES["RecordingNoticeGiven"])
    assert data["at"] == "2026-11-24T10:03:07.250000+00:00"
    assert data["starts_at"] == "2026-11-24T10:03:17.250000+00:00"


def test_enums_and_tuples_are_stored_as_plain_values() -> None:
    # covers: C14
    assert to_dict(SAMPLES["SessionEnded"]) == {
        "type": "SessionEnded",
        "at": AT.isoformat(),
        "reason": "emergency",
        "by": "t1",
        "disconnected": ["p1", "t1"],
    }
    assert to_dict(SAMPLES["StaffJoined"])["role"] == "assistant"
    assert to_dict(SAMPLES["LogNoteAdded"])["kind"] == "reward"


def test_an_optional_field_left_out_takes_its_default() -> None:
    # covers: C16
    data = to_dict(SAMPLES["DslAlerted"])
    del data["pupil"]
    assert from_dict(data) == ev.DslAlerted(at=AT, reason=AlertReason.CONCERN, by="t1")


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ({"type": "PupilTeleported", "at": AT.isoformat()}, "unknown event type 'PupilTeleported'"),
        ({"at": AT.isoformat()}, "unknown event type None"),
        ({"type": 7, "at": AT.isoformat()}, "unknown event type 7"),
        ({"type": "Event", "at": AT.isoformat()}, "unknown event type 'Event'"),
        ({"type": "__init__", "at": AT.isoformat()}, "unknown event type '__init__'"),
    ],
    ids=["made-up", "missing", "not-a-string", "base-class", "dunder"],
)
def test_from_dict_refuses_unknown_types(data: dict[str, Any], said: str) -> None:
    # covers: C22
    with pytest.raises(ValueError, match="unknown event type") as caught:
        from_dict(data)
    assert str(caught.value) == said


def test_from_dict_refuses_unknown_fields() -> None:
    # covers: C22, C4
    data = {**to_dict(SAMPLES["PupilAdmitted"]), "mic_allowed": True}
    with pytest.raises(ValueError, match=r"PupilAdmitted: unknown fields \['mic_allowed'\]"):
        from_dict(data)


def test_from_dict_refuses_a_missing_field() -> None:
    # covers: C22
    data = to_dict(SAMPLES["PupilRemoved"])
    del data["by"]
    with pytest.raises(ValueError, match="PupilRemoved"):
        from_dict(data)


@pytest.mark.parametrize(
    ("name", "field", "value"),
    [
        ("SessionEnded", "reason", "bored"),
        ("StaffJoined", "role", "parent"),
        ("WaitingRoomOpened", "at", "yesterday"),
        ("WaitingRoomOpened", "at", 1_700_000_000),
    ],
)
def test_from_dict_refuses_values_of_the_wrong_kind(name: str, field: str, value: Any) -> None:
    # covers: C22
    data = {**to_dict(SAMPLES[name]), field: value}
    with pytest.raises(ValueError):  # noqa: PT011 - the message comes from the type itself
        from_dict(data)


def test_from_dict_refuses_a_time_without_its_utc_offset() -> None:
    # covers: C22, C14
    data = {**to_dict(SAMPLES["TimeWarning"]), "at": "2026-11-24T10:25:00"}
    with pytest.raises(ValueError, match="has no UTC offset"):
        from_dict(data)
