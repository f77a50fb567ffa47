"""This server's media, decided once at start: a local Janus, external Janus servers, or none.

- External servers (`SAFECLASS_JANUS_URLS`) make a pool; nothing is started here.
- Otherwise a local Janus runs as a child process when `janus` is installed (`JanusProcess`:
  generated config, restarted if it dies, each restart rebuilding the rooms of live sessions).
- Otherwise, or with `--no-media`, media is off: a clear line in the log, and every room runs
  without video (`NoMedia`), saying so to its participants. Asking for media (`--media`) where
  it cannot run stops the server at start instead.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from safeclass.adapters.media.janus_media import JanusMedia
from safeclass.adapters.media.janus_process import (
    JanusEndpoint,
    JanusOptions,
    JanusProcess,
    JanusStartError,
    MediaOffError,
)
from safeclass.adapters.media.pool import JanusPool
from safeclass.adapters.media.recordings import RecordingFolders
from safeclass.app.live.ports import Media, MediaListener, NoMedia

log = logging.getLogger(__name__)

TURNED_OFF = "media off: turned off (--no-media)"


class MediaConfigError(ValueError):
    """The media settings cannot work (e.g. Janus URLs without their API secret)."""


@dataclass
class MediaService:
    media: Media
    off_reason: str | None = None
    process: JanusProcess | None = None
    pool: JanusPool | None = None

    @property
    def state(self) -> str:
        """`on` or `off` (for logs and the health page)."""
        return "off" if self.off_reason else "on"

    @property
    def health(self) -> str:
        """`on`, `off`, or `reconnecting` (no Janus reachable now)."""
        if self.off_reason:
            return "off"
        return "on" if self.pool is None or self.pool.connected else "reconnecting"

    def listen(self, listener: MediaListener) -> None:
        if self.pool is not None:
            self.pool.listener = listener

    async def close(self) -> None:
        """Destroy every room (nobody receives anything after), then stop the local Janus."""
        if self.pool is not None:
            await self.pool.close()
        if self.process is not None:
            await self.process.stop()


def _off(reason: str) -> MediaService:
    log.warning("%s: rooms run without video", reason)
    return MediaService(NoMedia(reason), off_reason=reason)


async def start_media(
    *,
    wanted: bool | None,
    folder: Path,
    options: JanusOptions,
    urls: Sequence[str] = (),
    api_secret: str | None = None,
    admin_key: str = "",
    request_timeout: float = 5.0,
    recordings: Path | None = None,
    room_key: bytes | None = None,
) -> MediaService:
    """Start this server's media. `wanted`: True (must be on), False (off), None (on if it can).

    `recordings`: the folder recordings go to (the local Janus writes there; external ones must
    write to it too, so without it they cannot record). `room_key`: what the Janus rooms'
    secrets derive from, the same on every worker of a cluster (janus_rooms.py)."""
    folders = RecordingFolders(recordings) if recordings is not None else None
    if wanted is False:
        return _off(TURNED_OFF)
    if urls:
        if not api_secret:
            raise MediaConfigError("SAFECLASS_JANUS_API_SECRET is needed with SAFECLASS_JANUS_URLS")
        endpoints = [JanusEndpoint(url, api_secret, admin_key, pid=0) for url in urls]
        pool = JanusPool(
            [
                (
                    e,
                    JanusMedia(
                        e, request_timeout=request_timeout, recordings=folders, room_key=room_key
                    ),
                )
                for e in endpoints
            ]
        )
        await pool.start()
        log.info("media on: %d external janus server(s)", len(endpoints))
        return MediaService(pool, pool=pool)
    process = JanusProcess(folder, options)
    if process.off_reason is not None:
        if wanted:
            raise MediaOffError(
                f"{process.off_reason}; install it (scripts/install) or run with --no-media"
            )
        return _off(process.off_reason)
    try:
        endpoint = await process.start()
    except (JanusStartError, OSError) as exc:
        if wanted:
            raise
        return _off(f"media off: janus did not start ({exc})")
    backend = JanusMedia(
        endpoint, request_timeout=request_timeout, recordings=folders, room_key=room_key
    )
    process.on_restart = backend.reconnect
    pool = JanusPool([(endpoint, backend)])
    try:
        await pool.start()
    except BaseException:
        await process.stop()
        raise
    log.info("media on: janus %s at %s", endpoint.pid, endpoint.url)
    return MediaService(pool, process=process, pool=pool)
