"""Janus's recording files read back: whose each is, and which belong together (one take).

The conversion itself runs on real Janus recordings in tests/integration/test_recording.py.
"""

from __future__ import annotations

from pathlib import Path

from safeclass.adapters.media.recordings import RawTrack, parse_track, takes

ROOM = "6c1d2f1e-8f0a-4d5e-9a1b-2c3d4e5f6a7b.9f3e2a1c"
PUPIL = "0b9e5c44-1f2d-4c3b-8a7e-6d5c4b3a2f1e"


def track(feed: str, created: int, kind: str) -> RawTrack:
    mindex = 0 if kind == "audio" else 1
    name = f"videoroom-{ROOM}-user-{feed}-{created}-{kind}-{mindex}.mjr"
    parsed = parse_track(Path(name))
    assert parsed is not None
    return parsed


def test_a_file_name_says_whose_stream_it_is_even_with_dashes_in_the_ids() -> None:
    t = track(PUPIL, 1796112771265107, "video")
    assert (t.feed, t.kind, t.created_us) == (PUPIL, "video", 1796112771265107)


def test_files_that_are_not_janus_recordings_are_ignored() -> None:
    assert parse_track(Path("notes.txt")) is None
    assert parse_track(Path(f"videoroom-{ROOM}-user-{PUPIL}-12-data-2.mjr")) is None


def test_one_publish_is_one_take_and_a_reconnection_starts_another() -> None:
    first = [track(PUPIL, 100, "audio"), track(PUPIL, 101, "video")]
    again = [track(PUPIL, 900, "audio"), track(PUPIL, 901, "video")]
    teacher = [track("t1", 105, "video"), track("t1", 104, "audio")]
    grouped = takes([*again, *teacher, *first])
    assert [[(t.feed, t.created_us) for t in take] for take in grouped] == [
        [(PUPIL, 100), (PUPIL, 101)],
        [(PUPIL, 900), (PUPIL, 901)],
        [("t1", 104), ("t1", 105)],
    ]


def test_a_take_with_only_video_stands_alone() -> None:
    grouped = takes([track(PUPIL, 100, "video"), track(PUPIL, 300, "video")])
    assert [[t.created_us for t in take] for take in grouped] == [[100], [300]]
