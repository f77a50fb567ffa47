"""Logins and pupil passes ended outside this process close their live-room sockets here.

Signing out, or stopping a pupil's link, through this server closes the sockets at once (the
web layer does it). But an account disabled with `safeclass staff disable` is ended by another
process, which only writes `revoked_at`: without this watch, a disabled member of staff already
in a live room would stay there with the children until they closed the window. The server looks
every `every` seconds (one query for all its sockets, not one per socket) for logins and passes
revoked since it last looked, and has their sockets closed.

In a cluster the socket may be on another worker: `DeviceSockets` closes this worker's at once
and tells the others through the cluster bus, whose listeners close theirs within moments
rather than at their watch's next look.

The watermark is the newest `revoked_at` seen (a revocation stamped by another process's clock
is never missed for being a moment behind ours: the look goes back `overlap` seconds, and what
was already handled is remembered until it is older than that).

What was revoked is read through the identity port (`Identities.ended_since`, app/identity.py).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from safeclass.app.cluster_bus import AGAIN, DEVICE_ENDED, ClusterBus
from safeclass.app.identity import Identities

log = logging.getLogger(__name__)

# (the login's or pass's id, whether it is a member of staff's) -> close its sockets
CloseDevice = Callable[[str, bool], Awaitable[None]]
_STAFF, _PUPIL = "staff", "pupil"


class RevocationWatch:
    def __init__(
        self,
        identities: Identities,
        close_device: CloseDevice,
        *,
        since: dt.datetime,
        overlap: float = 5.0,
    ) -> None:
        self._identities = identities
        self._close = close_device
        self._watermark = since
        self._overlap = dt.timedelta(seconds=overlap)
        self._handled: dict[str, dt.datetime] = {}

    async def check(self) -> list[str]:
        """Close the sockets of whatever was revoked since the last look; their ids."""
        since = self._watermark - self._overlap
        found = await self._identities.ended_since(since)
        closed = []
        for device in sorted(found, key=lambda f: f.at):
            if device.id in self._handled:
                continue
            self._handled[device.id] = device.at
            self._watermark = max(self._watermark, device.at)
            await self._close(device.id, device.is_staff)
            closed.append(device.id)
        horizon = self._watermark - self._overlap
        self._handled = {rid: at for rid, at in self._handled.items() if at > horizon}
        if closed:
            log.info("closed the sockets of %d login(s) ended elsewhere", len(closed))
        return closed


class DeviceSockets:
    """Closing the sockets of a login or pupil pass ended here, on every worker."""

    def __init__(
        self, close: CloseDevice, bus: ClusterBus, watch: RevocationWatch | None = None
    ) -> None:
        """`close` closes this worker's sockets of a device; `watch` looks again when the bus
        may have missed something."""
        self._close = close
        self._bus = bus
        self._watch = watch

    async def close_everywhere(self, device: str, *, is_staff: bool) -> None:
        """Close the device's sockets here now, and tell every other worker to close theirs."""
        await self._close(device, is_staff)
        await self._bus.publish(DEVICE_ENDED, f"{_STAFF if is_staff else _PUPIL}:{device}")

    async def heard(self, payload: str) -> None:
        """Another worker ended a device (`close_everywhere`): close its sockets here."""
        if payload == AGAIN:
            if self._watch is not None:
                await self._watch.check()
            return
        kind, _, device = payload.partition(":")
        if kind in (_STAFF, _PUPIL) and device:
            await self._close(device, kind == _STAFF)
