"""The media adapter on a real Janus: what the SFU forwards is what the server decided.

The media test runs tests/support/janus_scenario.py as root in a private network namespace
(`unshare -n`), where Janus and two aiortc clients (a teacher and a pupil, each publishing
synthetic audio and video and subscribing to the other) meet on a veth with 127.0.0.x
addresses: nothing leaves the machine. The recovery test needs no media and runs on loopback.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from safeclass.adapters.media.janus_client import JanusClient
from safeclass.adapters.media.janus_media import JanusMedia, media_listener
from safeclass.adapters.media.janus_process import JanusProcess
from safeclass.adapters.media.janus_rooms import mids_by_kind
from safeclass.adapters.media.recordings import RecordingFolders
from safeclass.app.media_port import (
    MediaError,
    MediaEvent,
    MediaEventKind,
    MediaUnavailableError,
    NotAdmittedError,
)
from safeclass.core import Role
from tests.support.janus import (
    FAKE_OFFER,
    janus_processes,
    kill_all,
    needs_janus,
    run_scenario_in_namespace,
)

ROOT = Path(__file__).resolve().parents[2]
SESSION = "session-7"


def test_mids_are_read_from_the_offer() -> None:
    assert mids_by_kind(FAKE_OFFER["sdp"]) == {"audio": ["0"], "video": ["1"]}


@pytest.fixture(scope="module")
def scenario() -> dict[str, Any]:
    """Run the namespace scenario once; its JSON results (printed, for the numbers)."""
    return run_scenario_in_namespace("tests.support.janus_scenario", timeout=120)


@needs_janus
def test_janus_starts_fast_and_strangers_get_nothing(scenario: dict[str, Any]) -> None:
    assert scenario["janus_start_s"] < 2
    assert scenario["stranger_refused"]  # never admitted: no way to Janus
    assert scenario["publish_to_first_frames_s"] < 3


@needs_janus
def test_a_pupil_is_muted_at_the_sfu_on_entry(scenario: dict[str, Any]) -> None:
    entry = scenario["entry"]
    assert entry["pupil_video_frames_sent"] > 5  # the pupil's client sends…
    assert entry["teacher_gets_muted_pupil"] == 0  # …and nothing of it is forwarded
    assert entry["pupil_gets_teacher_video"] > 5
    assert scenario["allow_to_first_pupil_frames_s"] < 2
    flowing = scenario["flowing"]
    assert flowing["teacher_gets_pupil_video"] > 5
    assert flowing["teacher_gets_pupil_audio"] > 20
    assert flowing["pupil_gets_teacher_video"] > 5


@needs_janus
def test_a_muted_pupils_audio_stops_while_their_client_keeps_sending(
    scenario: dict[str, Any],
) -> None:
    for round_ in scenario["mute_rounds"]:
        assert round_["pupil_audio_packets_sent"] > 20  # ~50 a second, muted or not
        assert round_["audio_frames_after_0_5s"] == 0
        assert round_["last_audio_after_mute_s"] < 0.25
        assert round_["last_audio_packet_after_mute_s"] < 0.25
        assert round_["video_frames_after_0_5s"] > 3  # only the audio was muted
        assert round_["unmute_to_audio_s"] < 1


@needs_janus
def test_a_hold_stops_every_pupils_media_both_ways(scenario: dict[str, Any]) -> None:
    for round_ in scenario["hold_rounds"]:
        assert round_["teacher_gets_pupil_after_0_5s"] == 0
        assert round_["pupil_gets_anything_after_0_5s"] == 0
        assert round_["last_pupil_media_at_teacher_s"] < 0.25
        assert round_["last_pupil_packet_at_teacher_s"] < 0.25
        assert round_["last_packet_at_pupil_s"] < 0.25
        assert round_["last_media_at_pupil_s"] < 0.25
        assert round_["release_to_frames_s"] < 2


@needs_janus
def test_a_removed_pupil_stops_sending_and_receiving_within_a_second(
    scenario: dict[str, Any],
) -> None:
    revoke = scenario["revoke"]
    assert revoke["pupil_stream_stops_at_teacher_s"] < 1.0
    assert revoke["last_pupil_packet_at_teacher_s"] < 1.0
    assert revoke["last_packet_at_pupil_s"] < 1.0
    assert revoke["pupil_stops_receiving_s"] < 1.0
    assert revoke["teacher_frames_from_pupil_after_1s"] == 0
    assert revoke["pupil_frames_after_1s"] == 0
    assert scenario["revoked_offer_refused"]


# -- recovery: Janus killed mid-session ----------------------------------------------------------


@pytest.fixture
async def janus_media(
    tmp_path: Path,
) -> AsyncIterator[tuple[JanusProcess, JanusMedia, list[tuple[float, MediaEvent]]]]:
    folder = tmp_path / "janus"
    process = JanusProcess(folder)
    events: list[tuple[float, MediaEvent]] = []

    async def on_event(event: MediaEvent) -> None:
        events.append((time.monotonic(), event))

    endpoint = await process.start()
    media = JanusMedia(endpoint, media_listener(on_event))
    process.on_restart = media.reconnect
    try:
        await media.start()
        yield process, media, events
    finally:
        await media.close()
        await process.stop()
        kill_all(janus_processes(folder))


async def _until(events: list[tuple[float, MediaEvent]], kind: MediaEventKind) -> float:
    async with asyncio.timeout(10):
        while True:
            for at, event in events:
                if event.kind is kind:
                    return at
            await asyncio.sleep(0.01)


@needs_janus
async def test_a_killed_janus_is_noticed_and_the_room_rebuilt(
    janus_media: tuple[JanusProcess, JanusMedia, list[tuple[float, MediaEvent]]],
) -> None:
    process, media, events = janus_media
    await media.open_room(SESSION)
    await media.admit(SESSION, "teacher", Role.TEACHER)
    await media.admit(SESSION, "pupil", Role.PUPIL)
    answer = await media.offer(SESSION, "pupil", FAKE_OFFER)
    assert answer["type"] == "answer"
    with pytest.raises(NotAdmittedError):
        await media.offer(SESSION, "stranger", FAKE_OFFER)

    endpoint = process.endpoint
    assert endpoint is not None
    killed_at = time.monotonic()
    os.kill(endpoint.pid, signal.SIGKILL)
    lost_at = await _until(events, MediaEventKind.LOST)
    with pytest.raises(MediaUnavailableError):
        await media.offer(SESSION, "pupil", FAKE_OFFER)
    restored_at = await _until(events, MediaEventKind.RESTORED)
    print(
        f"janus killed: room told {lost_at - killed_at:.3f} s later, "
        f"rebuilt {restored_at - killed_at:.3f} s later"
    )
    assert lost_at - killed_at < 2
    assert restored_at - killed_at < 5
    assert [e.session_id for _, e in events if e.kind is MediaEventKind.LOST] == [SESSION]

    # the admissions survived: the pupil offers again into the rebuilt room
    answer = await media.offer(SESSION, "pupil", FAKE_OFFER)
    assert answer["type"] == "answer"
    await media.set_media(SESSION, "pupil", audio=True, video=False)
    await media.hold(SESSION, True)
    await media.revoke(SESSION, "pupil")
    with pytest.raises(NotAdmittedError):
        await media.offer(SESSION, "pupil", FAKE_OFFER)
    await media.close_room(SESSION)
    with pytest.raises(MediaError):
        await media.admit(SESSION, "teacher", Role.TEACHER)


@needs_janus
async def test_a_dropped_connection_to_a_living_janus_leaves_no_old_room(
    janus_media: tuple[JanusProcess, JanusMedia, list[tuple[float, MediaEvent]]],
) -> None:
    process, media, events = janus_media
    await media.open_room(SESSION)
    await media.admit(SESSION, "pupil", Role.PUPIL)
    await media.offer(SESSION, "pupil", FAKE_OFFER)
    endpoint = process.endpoint
    assert endpoint is not None
    observer = await JanusClient.connect(endpoint.url, endpoint.api_secret)
    control = await (await observer.create_session()).attach_videoroom()

    async def rooms() -> list[str]:
        listed = await control.message({"request": "list", "admin_key": endpoint.admin_key})
        return [str(r["room"]) for r in listed.data["list"]]

    before = await rooms()
    assert len(before) == 1 and before[0].startswith(SESSION)
    media._client._ws.transport.abort()  # type: ignore[union-attr]  # the network drops
    await _until(events, MediaEventKind.LOST)
    await _until(events, MediaEventKind.RESTORED)
    after = await rooms()
    assert len(after) == 1 and after[0] != before[0]  # the old room (and its PCs) destroyed
    await media.offer(SESSION, "pupil", FAKE_OFFER)
    await media.close_room(SESSION)
    assert await rooms() == []
    await observer.close()


@needs_janus
async def test_a_room_whose_policy_never_records_cannot_be_recorded(tmp_path: Path) -> None:
    # covers: CLA-09, S04-10: the room is made unrecordable at the SFU, not just in the core
    folder = tmp_path / "janus"
    process = JanusProcess(folder)
    endpoint = await process.start()
    folders = RecordingFolders(tmp_path / "recordings")
    media = JanusMedia(endpoint, recordings=folders)
    bare = JanusMedia(endpoint)  # no folder for recordings (an external Janus without one)
    try:
        await media.start()
        await bare.start()
        await media.open_room("never", recordable=False)
        with pytest.raises(MediaError, match="never allows recording"):
            await media.record("never", True)
        await media.open_room("allowed", recordable=True)
        await media.record("allowed", True)
        spans = list((tmp_path / "recordings" / "raw" / "allowed").iterdir())
        assert len(spans) == 1 and oct(spans[0].stat().st_mode & 0o777) == "0o700"
        await media.record("allowed", False)
        assert not (tmp_path / "recordings" / "raw" / "never").exists()
        kept: list[object] = []

        async def keep(files: object) -> None:
            kept.append(files)

        assert await media.collect_recordings("allowed", keep) == []  # nobody published
        assert kept == [[]]  # the empty stretch was handed over, and its folder is gone
        assert not (tmp_path / "recordings" / "raw" / "allowed").exists()
        assert bare.recording_unavailable() == (
            "this Janus has no folder for recordings (SAFECLASS_JANUS_RECORDINGS_DIR)"
        )
        await bare.open_room("elsewhere", recordable=True)
        with pytest.raises(MediaError, match="no folder for recordings"):
            await bare.record("elsewhere", True)
    finally:
        await media.close()
        await bare.close()
        await process.stop()
        kill_all(janus_processes(folder))
