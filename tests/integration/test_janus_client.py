"""The Janus WebSocket client against a real Janus: private rooms, secrets, tokens, moderation,
kicks, and noticing at once that Janus has gone."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from safeclass.adapters.media.janus_client import (
    ERROR_NO_SUCH_FEED,
    ERROR_ROOM_EXISTS,
    ERROR_UNAUTHORIZED,
    JanusClient,
    JanusConnectionLostError,
    JanusError,
    JanusSession,
    VideoRoomHandle,
)
from safeclass.adapters.media.janus_process import JanusEndpoint, JanusProcess
from tests.support.janus import FAKE_OFFER, janus_processes, kill_all, needs_janus

ROOM = "session-42/abcd"
SECRET = secrets.token_urlsafe(12)  # random, as the adapter makes them
PIN = secrets.token_urlsafe(8)
GUESS = "guess"
T1, T2 = "t1", "t2"


@pytest.fixture
async def janus(tmp_path: Path) -> AsyncIterator[tuple[JanusProcess, JanusEndpoint]]:
    process = JanusProcess(tmp_path / "janus")
    try:
        yield process, await process.start()
    finally:
        await process.stop()
        kill_all(janus_processes(tmp_path / "janus"))


@pytest.fixture
async def connected(
    janus: tuple[JanusProcess, JanusEndpoint],
) -> AsyncIterator[tuple[JanusEndpoint, JanusSession, VideoRoomHandle]]:
    _, endpoint = janus
    client = await JanusClient.connect(endpoint.url, endpoint.api_secret)
    session = await client.create_session()
    control = await session.attach_videoroom()
    try:
        yield endpoint, session, control
    finally:
        await client.close()


async def _room(endpoint: JanusEndpoint, control: VideoRoomHandle, allowed: list[str]) -> None:
    created = await control.create_room(
        ROOM, admin_key=endpoint.admin_key, secret=SECRET, pin=PIN, allowed=allowed
    )
    assert created["videoroom"] == "created"


@needs_janus
async def test_a_private_room_is_created_and_destroyed(
    connected: tuple[JanusEndpoint, JanusSession, VideoRoomHandle],
) -> None:
    endpoint, _, control = connected
    await _room(endpoint, control, [])
    assert await control.room_exists(ROOM)
    with pytest.raises(JanusError) as exists:
        await _room(endpoint, control, [])
    assert exists.value.code == ERROR_ROOM_EXISTS
    listed = await control.message({"request": "list"})  # private: not listed without admin_key
    assert ROOM not in [r["room"] for r in listed.data["list"]]
    destroyed = await control.destroy_room(ROOM, secret=SECRET)
    assert destroyed["videoroom"] == "destroyed"
    assert not await control.room_exists(ROOM)


@needs_janus
async def test_a_wrong_secret_or_admin_key_is_refused_with_433(
    connected: tuple[JanusEndpoint, JanusSession, VideoRoomHandle],
) -> None:
    endpoint, _, control = connected
    with pytest.raises(JanusError) as no_key:
        await control.create_room(ROOM, admin_key="guess", secret=SECRET, pin=PIN)
    assert no_key.value.code == ERROR_UNAUTHORIZED
    await _room(endpoint, control, [])
    for request in (
        control.destroy_room(ROOM, secret=GUESS),
        control.allowed(ROOM, secret=GUESS, action="add", tokens=["mine"]),
        control.kick(ROOM, secret=GUESS, participant="anyone"),
        control.moderate(ROOM, secret=GUESS, participant="anyone", mid="0", mute=False),
    ):
        with pytest.raises(JanusError) as refused:
            await request
        assert refused.value.code == ERROR_UNAUTHORIZED, refused.value.reason
    assert await control.room_exists(ROOM)


@needs_janus
async def test_only_allowed_tokens_join(
    connected: tuple[JanusEndpoint, JanusSession, VideoRoomHandle],
) -> None:
    endpoint, session, control = connected
    await _room(endpoint, control, [])  # an empty list: nobody yet
    handle = await session.attach_videoroom()
    with pytest.raises(JanusError) as no_token:
        await handle.join_publisher(ROOM, participant="pupil-1", pin=PIN, token=GUESS)
    assert no_token.value.code == ERROR_UNAUTHORIZED
    assert await control.allowed(ROOM, secret=SECRET, action="add", tokens=["t1", "t2"]) in (
        ["t1", "t2"],
        ["t2", "t1"],
    )
    with pytest.raises(JanusError) as wrong_pin:
        await handle.join_publisher(ROOM, participant="pupil-1", pin="guess", token=T1)
    assert wrong_pin.value.code == ERROR_UNAUTHORIZED
    joined = await handle.join_publisher(ROOM, participant="pupil-1", pin=PIN, token=T1)
    assert joined["videoroom"] == "joined" and joined["id"] == "pupil-1"
    assert isinstance(joined["private_id"], int)
    assert await control.allowed(ROOM, secret=SECRET, action="remove", tokens=["t2"]) == ["t1"]
    other = await session.attach_videoroom()
    with pytest.raises(JanusError) as revoked:
        await other.join_publisher(ROOM, participant="pupil-2", pin=PIN, token=T2)
    assert revoked.value.code == ERROR_UNAUTHORIZED
    participants = await control.list_participants(ROOM)
    assert [p["id"] for p in participants] == ["pupil-1"]


@needs_janus
async def test_moderate_and_kick_answer_success(
    connected: tuple[JanusEndpoint, JanusSession, VideoRoomHandle],
) -> None:
    endpoint, session, control = connected
    await _room(endpoint, control, ["t1"])
    publisher = await session.attach_videoroom()
    await publisher.join_publisher(ROOM, participant="pupil-1", pin=PIN, token=T1)
    with pytest.raises(JanusError) as before:  # nothing to moderate before publishing
        await control.moderate(ROOM, secret=SECRET, participant="pupil-1", mid="0", mute=True)
    assert before.value.code == ERROR_NO_SUCH_FEED
    configured, answer = await publisher.publish(FAKE_OFFER)
    assert configured["configured"] == "ok"
    assert [(s["type"], s["mid"]) for s in configured["streams"]] == [
        ("audio", "0"),
        ("video", "1"),
    ]
    assert answer["type"] == "answer" and "m=audio" in answer["sdp"]
    for mid in ("0", "1"):
        for mute in (True, False):
            done = await control.moderate(
                ROOM, secret=SECRET, participant="pupil-1", mid=mid, mute=mute
            )
            assert done["videoroom"] == "success"
    event = await publisher.next_event(
        lambda m: m.get("plugindata", {}).get("data", {}).get("moderation") == "muted", 2
    )
    assert event["plugindata"]["data"]["mid"] == "0"
    with pytest.raises(JanusError) as no_mid:
        await control.moderate(ROOM, secret=SECRET, participant="pupil-1", mid="7", mute=True)
    assert no_mid.value.code == ERROR_NO_SUCH_FEED
    kicked = await control.kick(ROOM, secret=SECRET, participant="pupil-1")
    assert kicked["videoroom"] == "success"
    leaving = await publisher.next_event(
        lambda m: m.get("plugindata", {}).get("data", {}).get("leaving") == "ok", 2
    )
    assert leaving["plugindata"]["data"]["reason"] == "kicked"
    assert await control.list_participants(ROOM) == []


@needs_janus
async def test_a_dead_janus_is_noticed_at_once(
    janus: tuple[JanusProcess, JanusEndpoint],
) -> None:
    process, endpoint = janus
    lost_at: list[float] = []

    async def on_lost() -> None:
        lost_at.append(time.monotonic())

    client = await JanusClient.connect(endpoint.url, endpoint.api_secret, on_lost=on_lost)
    session = await client.create_session()
    handle = await session.attach_videoroom()
    await process.stop()  # SIGTERM, waited for (slow on a loaded machine); not restarted
    gone_at = time.monotonic()
    waiting = asyncio.create_task(handle.list_participants(ROOM))
    await asyncio.sleep(0)
    # the dropped socket says so at once: no heartbeat (25 s) is needed to notice
    await asyncio.wait_for(client.lost.wait(), 2)
    await asyncio.sleep(0.05)
    print(f"connection loss noticed {lost_at[0] - gone_at:+.3f} s from janus's exit")
    assert lost_at
    assert not client.connected
    with pytest.raises(JanusConnectionLostError):
        await waiting
    with pytest.raises(JanusConnectionLostError):
        await handle.list_participants(ROOM)
    await client.close()


@needs_janus
async def test_a_hung_janus_is_noticed_within_two_seconds(
    janus: tuple[JanusProcess, JanusEndpoint],
) -> None:
    process, endpoint = janus
    client = await JanusClient.connect(
        endpoint.url, endpoint.api_secret, ping_interval=0.5
    )  # the default
    await client.create_session()
    assert process.pid is not None
    os.kill(process.pid, signal.SIGSTOP)  # alive but silent
    stopped_at = time.monotonic()
    try:
        await asyncio.wait_for(client.lost.wait(), 3)
        noticed = time.monotonic() - stopped_at
    finally:
        os.kill(process.pid, signal.SIGCONT)
    print(f"a hung janus noticed after {noticed:.3f} s")
    assert noticed < 2
    await client.close()
