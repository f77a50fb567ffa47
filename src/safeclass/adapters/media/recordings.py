"""Recordings on disk: where Janus writes them, how they become one WebM per participant, and
the restricted folder they are kept in (C13: CLA-09, WER-10, STJ-09).

Janus writes every recorded stream as its own `.mjr` file
(`videoroom-<room>-user-<feed>-<µs>-<audio|video>-<mindex>.mjr`). Each stretch of recording (from
`record(True)` to `record(False)`, or to the room's end) goes to a folder of its own, a *span*:
`<root>/raw/<session>/<span>/`. A span that is no longer being written is *finished*: it is
claimed (renamed `<span>.finishing`, so two finishers never take the same one), and for each
participant `janus-pp-rec` (Debian: janus-tools) turns the VP8 into WebM and the Opus into Ogg
Opus; PyAV then puts the two into one WebM, copying the packets (no re-encoding) and aligning
them by each track's first packet. The WebM goes to `<root>/sessions/<session>/`, the `.mjr`
files are deleted. A participant who published more than once in a span (a reconnection, a
restarted Janus) has a file for each time.

What the SFU did not forward is not in the `.mjr` at all (a muted microphone, a camera turned
off, a hold): a stream with no packets is left out, and a participant with none has no file.
A span that cannot be converted is put back as it was, for a later try; nothing is deleted
before its WebM is written. Every folder is 0700 and every file 0600: recordings of children
are only for the people the school names (docs/recordings.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import re
import shutil
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from safeclass.app.media_port import KeepRecordings, MediaError, RecordedFile

log = logging.getLogger(__name__)

PP_REC = "janus-pp-rec"
NO_CONVERTER = f"recording needs {PP_REC} (Debian package janus-tools)"
_NAME = re.compile(
    r"^videoroom-(?P<room>.+?)-user-(?P<feed>.+)-(?P<created>\d+)-(?P<kind>audio|video)"
    r"-(?P<mindex>\d+)\.mjr$"
)
_FINISHING = ".finishing"


@dataclass(frozen=True, slots=True)
class RawTrack:
    """One stream Janus recorded: whose, which kind, and when its recorder was made (µs)."""

    path: Path
    feed: str
    kind: str
    created_us: int


def parse_track(path: Path) -> RawTrack | None:
    """The track a Janus recording file holds, from its name (None: not one of Janus's)."""
    match = _NAME.match(path.name)
    if match is None:
        return None
    return RawTrack(path, match["feed"], match["kind"], int(match["created"]))


def takes(tracks: Iterable[RawTrack]) -> list[list[RawTrack]]:
    """The tracks grouped into *takes*: one participant publishing once (an audio and a video
    track made together). A participant's kind seen again starts their next take."""
    by_feed: dict[str, list[list[RawTrack]]] = {}
    for track in sorted(tracks, key=lambda t: (t.feed, t.created_us, t.kind)):
        feed_takes = by_feed.setdefault(track.feed, [])
        if not feed_takes or any(t.kind == track.kind for t in feed_takes[-1]):
            feed_takes.append([])
        feed_takes[-1].append(track)
    return [take for feed in sorted(by_feed) for take in by_feed[feed]]


def private_dir(path: Path) -> Path:
    """Make a folder readable only by this server's user (each level is made by its own call,
    so that every level is private)."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


class RecordingFolders:
    """The recording folders of one server (the local Janus writes into `raw/`)."""

    def __init__(self, root: Path, converter: str | None = None) -> None:
        self.root = root.resolve()  # Janus, in a folder of its own, is given these paths
        self._converter = converter or shutil.which(PP_REC)
        self._finishing: set[str] = set()  # spans being finished in this process

    @property
    def unavailable(self) -> str | None:
        """Why nothing can be recorded here, or None."""
        return None if self._converter else NO_CONVERTER

    def new_span(self, session_id: str) -> Path:
        """A new folder for Janus to write the next stretch of a session's recording into."""
        raw = private_dir(private_dir(self.root) / "raw")
        return private_dir(private_dir(raw / _safe(session_id)) / f"{time.time_ns():x}")

    def sessions_with_spans(self) -> list[str]:
        raw = self.root / "raw"
        if not raw.is_dir():
            return []
        return sorted(d.name for d in raw.iterdir() if d.is_dir() and any(d.iterdir()))

    async def finish(
        self, session_id: str, keep: KeepRecordings, *, busy: Path | None = None
    ) -> list[RecordedFile]:
        """Convert and store every finished span of a session (all but `busy`, the span Janus
        writes now), `keep` its files, and only then delete its raw media. A span that fails
        is put back and logged; the others still finish. A span left claimed by a server that
        stopped is finished again (its files come out the same, at the same paths)."""
        if self._converter is None:
            raise MediaError(NO_CONVERTER)
        folder = self.root / "raw" / _safe(session_id)
        if not folder.is_dir():
            return []
        stored: list[RecordedFile] = []
        for span in sorted(folder.iterdir()):
            if not span.is_dir() or (busy is not None and span.name == busy.name):
                continue
            if str(span) in self._finishing:  # this process is finishing it now
                continue
            claimed = span if span.name.endswith(_FINISHING) else None
            if claimed is None:
                claimed = span.with_name(span.name + _FINISHING)
                try:
                    span.rename(claimed)
                except OSError:  # another finisher has it
                    continue
            self._finishing.add(str(claimed))
            try:
                files = await self._finish_span(session_id, claimed)
                await keep(files)
            except Exception as exc:  # kept as Janus wrote it, for a later try
                log.error("recording span %s not converted (kept): %s", span.name, exc)
                with contextlib.suppress(OSError):
                    claimed.rename(claimed.with_name(claimed.name.removesuffix(_FINISHING)))
                continue
            finally:
                self._finishing.discard(str(claimed))
            stored += files
            shutil.rmtree(claimed, ignore_errors=True)
        with contextlib.suppress(OSError):
            folder.rmdir()  # only when empty
        return stored

    async def _finish_span(self, session_id: str, span: Path) -> list[RecordedFile]:
        tracks = [t for p in sorted(span.glob("*.mjr")) if (t := parse_track(p)) is not None]
        out_dir = private_dir(private_dir(private_dir(self.root) / "sessions") / _safe(session_id))
        work = private_dir(span / "work")
        stored = []
        for take in takes(tracks):
            parts = []
            for track in take:
                converted = await self._convert(track, work)
                if converted is not None:
                    parts.append(converted)
            if not parts:
                continue  # nothing of theirs was forwarded, so nothing was recorded
            first_us = min(p.first_us for p in parts)
            started = dt.datetime.fromtimestamp(first_us / 1e6, dt.UTC)
            name = f"{started:%Y%m%dT%H%M%S}Z-{_safe(take[0].feed)}-{take[0].created_us:x}.webm"
            target = out_dir / name
            duration = await _mux(parts, first_us, target)
            stored.append(
                RecordedFile(
                    participant_id=take[0].feed,
                    path=target,
                    started_at=started,
                    ended_at=started + dt.timedelta(seconds=duration),
                    size_bytes=target.stat().st_size,
                    kinds=tuple(sorted({p.kind for p in parts})),
                )
            )
        return stored

    async def _convert(self, track: RawTrack, work: Path) -> _Part | None:
        """One track through janus-pp-rec; None when it holds no media."""
        if track.path.stat().st_size <= 8:
            return None  # a header at most: Janus wrote nothing of it (muted, or killed first)
        converter = self._converter or PP_REC
        header = await _run(converter, "--json", str(track.path))
        try:
            info = json.loads(header.strip().splitlines()[-1])
            first_us = int(info.get("u") or info["s"])
        except (ValueError, KeyError, IndexError) as exc:
            raise MediaError(f"{track.path.name}: unreadable header ({exc})") from exc
        target = work / (track.path.stem + (".webm" if track.kind == "video" else ".ogg"))
        await _run(converter, "--disable-colors", str(track.path), str(target))
        if not target.exists() or target.stat().st_size == 0:
            return None  # "Counted 0 frame packets": muted or off the whole time
        return _Part(target, track.kind, first_us)


async def _mux(parts: list[_Part], first_us: int, target: Path) -> float:
    """One WebM of the parts (see `webm.mux`), made in a child process: a file that trips the
    media library can then fail its conversion, never the server and its live rooms."""
    spec = [{"path": str(p.path), "shift_s": (p.first_us - first_us) / 1e6} for p in parts]
    out = await _run(
        sys.executable, "-m", "safeclass.adapters.media.webm", json.dumps(spec), str(target)
    )
    try:
        return float(out.strip().splitlines()[-1])
    except (ValueError, IndexError) as exc:
        raise MediaError(f"{target.name}: the WebM was not made ({out[-200:]!r})") from exc


@dataclass(frozen=True, slots=True)
class _Part:
    path: Path
    kind: str
    first_us: int


async def _run(*argv: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await proc.communicate()
    text = out.decode(errors="replace")
    if proc.returncode != 0:
        tail = " | ".join(text.strip().splitlines()[-3:])
        raise MediaError(f"{Path(argv[0]).name} failed ({proc.returncode}): {tail}")
    return text


def _safe(name: str) -> str:
    """A name safe as one path component (ids are uuids; never let one climb out)."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".")
    return cleaned or "_"
