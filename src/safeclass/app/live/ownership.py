"""Who owns a live room, when several workers share one database (docs/cluster.md).

A room's state lives in its log; the right to change it is a lease: one worker at a time holds
a session's lease, under an epoch that goes up each time another worker takes it over. Every
append of the room names the epoch it holds and the sequence number it expects to follow, and
the database refuses one whose epoch is no longer current (`RoomFencedError`: another worker
owns the room now) or whose sequence is not the log's last (`LogMovedError`). So a worker that
was paused, cut off or slow and did not notice it lost the room cannot write to it: split brain
cannot write.

A request for a room that another, live worker owns is relayed to it (`RoomElsewhereError`
carries where it is).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

RELAY_KEY = "cluster-relay"  # the name of the key workers prove a relayed request with
RELAY_HEADER = "x-safeclass-relay"


@dataclass(frozen=True, slots=True)
class Lease:
    """This worker's right to change one room: the room's epoch when it took it."""

    session_id: str
    worker_id: str
    epoch: int


class RoomElsewhereError(Exception):
    """Another worker, alive, owns this room: requests for it go there."""

    def __init__(self, session_id: str, worker_id: str, address: str) -> None:
        super().__init__(f"room {session_id} is owned by worker {worker_id} at {address}")
        self.session_id = session_id
        self.worker_id = worker_id
        self.address = address


class RoomFencedError(Exception):
    """An append refused: the lease it named is no longer the room's (another worker took it)."""


class LogMovedError(Exception):
    """An append refused: the log's last entry is not the one the writer expected."""


@dataclass(frozen=True, slots=True)
class Owner:
    """Another worker that is alive and owns a room."""

    worker_id: str
    address: str


class LeaseStore(Protocol):
    """The lease table, as this worker sees it (adapters/store/leases.py)."""

    worker_id: str
    ttl: float

    async def heartbeat(self) -> dict[str, int]:
        """Say this worker is alive for another `ttl` seconds; the rooms it holds, by epoch."""

    async def acquire(self, session_id: str) -> Lease | Owner:
        """Take the room (a new epoch), unless another worker that is alive holds it."""

    async def release(self, lease: Lease, *, hand_over: bool = False) -> None:
        """Give a room up: the next asker takes it at once (`hand_over`: as a room going on)."""

    async def orphans(self) -> list[str]:
        """Rooms whose worker is gone, and live sessions with no owner."""

    async def load(self) -> tuple[int, int]:
        """How many workers are alive now, and how many rooms they hold between them."""

    async def leave(self) -> None:
        """This worker stops: its rooms are orphans from now."""
