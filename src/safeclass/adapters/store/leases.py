"""Room leases on PostgreSQL: one worker of a cluster owns each live room, under an epoch.

A worker is alive while it keeps its `workers.alive_until` ahead of the database's clock (its
heartbeat, every quarter of the lease time). It takes a room's lease when the room has none,
when the lease is its own (a room it no longer holds, or held by a previous run of it), or when
the lease's worker is no longer alive; each taking raises the epoch. Taking a lease holds the
same per-session transaction lock as an append to that session's log (`event_log._append`), so
an append by the old owner either committed before the new owner took over (and the new owner
replays it) or it sees the new epoch and is refused: there is no moment in which both can write.

All times are the database's (`clock_timestamp()`), so the workers' own clocks never decide who
is alive. A worker that stops cleanly gives its rooms up at once (`leave`).
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from safeclass.app.live.ownership import Lease, Owner

LOCK_SESSION = "SELECT pg_advisory_xact_lock(hashtextextended(:sid, 0))"


class RoomLeases:
    """`LeaseStore`: this worker's heartbeat, taking rooms, finding orphans."""

    def __init__(self, engine: AsyncEngine, worker_id: str, address: str, ttl: float) -> None:
        self.engine = engine
        self.worker_id = worker_id
        self.address = address
        self.ttl = ttl

    async def heartbeat(self) -> dict[str, int]:
        """Say this worker is alive for another `ttl` seconds; the rooms it holds, by epoch."""
        async with self.engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO workers (id, address, started_at, alive_until) "
                    "VALUES (:me, :address, clock_timestamp(), "
                    "        clock_timestamp() + make_interval(secs => :ttl)) "
                    "ON CONFLICT (id) DO UPDATE SET address = EXCLUDED.address, "
                    "    alive_until = EXCLUDED.alive_until"
                ),
                {"me": self.worker_id, "address": self.address, "ttl": self.ttl},
            )
            held = await conn.execute(
                text("SELECT session_id, epoch FROM room_leases WHERE worker_id = :me"),
                {"me": self.worker_id},
            )
            return {sid: epoch for sid, epoch in held.all()}

    async def acquire(self, session_id: str) -> Lease | Owner:
        """Take the room's lease (a new epoch), unless another worker that is alive holds it."""
        async with self.engine.begin() as conn:
            await conn.execute(text(LOCK_SESSION), {"sid": session_id})
            taken = await conn.execute(
                text(
                    "INSERT INTO room_leases AS l (session_id, worker_id, epoch, taken_at) "
                    "VALUES (:sid, :me, 1, clock_timestamp()) "
                    "ON CONFLICT (session_id) DO UPDATE SET worker_id = EXCLUDED.worker_id, "
                    "    epoch = l.epoch + 1, taken_at = EXCLUDED.taken_at "
                    "WHERE l.worker_id = EXCLUDED.worker_id OR NOT EXISTS ("
                    "    SELECT 1 FROM workers w "
                    "    WHERE w.id = l.worker_id AND w.alive_until > clock_timestamp()) "
                    "RETURNING epoch"
                ),
                {"sid": session_id, "me": self.worker_id},
            )
            epoch = taken.scalar_one_or_none()
            if epoch is not None:
                return Lease(session_id, self.worker_id, int(epoch))
            return await _owner(conn, session_id)

    async def release(self, lease: Lease, *, hand_over: bool = False) -> None:
        """Give a room up. An ended room's lease goes; one handed over (this worker stops while
        the lesson goes on) stays with no worker, so the next owner's epoch is still higher
        and it knows it is taking a room over (and gives its people the grace to come back)."""
        where = "WHERE session_id = :sid AND worker_id = :me AND epoch = :epoch"
        statement = (
            f"UPDATE room_leases SET worker_id = '' {where}"  # noqa: S608 (no input in it)
            if hand_over
            else f"DELETE FROM room_leases {where}"  # noqa: S608
        )
        async with self.engine.begin() as conn:
            await conn.execute(
                text(statement),
                {"sid": lease.session_id, "me": lease.worker_id, "epoch": lease.epoch},
            )

    async def orphans(self) -> list[str]:
        """Rooms whose worker is no longer alive, and sessions live with no lease at all (the
        whole cluster was stopped): the rooms another worker must take on."""
        async with self.engine.connect() as conn:
            found = await conn.execute(
                text(
                    "SELECT l.session_id FROM room_leases l "
                    "LEFT JOIN workers w ON w.id = l.worker_id "
                    "WHERE l.worker_id <> :me "
                    "  AND (w.id IS NULL OR w.alive_until <= clock_timestamp()) "
                    "UNION "
                    "SELECT s.id FROM sessions s "
                    "WHERE s.status = 'live' "
                    "  AND NOT EXISTS (SELECT 1 FROM room_leases l WHERE l.session_id = s.id)"
                ),
                {"me": self.worker_id},
            )
            return sorted(row[0] for row in found)

    async def load(self) -> tuple[int, int]:
        async with self.engine.connect() as conn:
            found = await conn.execute(
                text(
                    "SELECT (SELECT count(*) FROM workers "
                    "        WHERE alive_until > clock_timestamp()), "
                    "       (SELECT count(*) FROM room_leases l JOIN workers w "
                    "        ON w.id = l.worker_id WHERE w.alive_until > clock_timestamp())"
                )
            )
            alive, held = found.one()
            return int(alive), int(held)

    async def leave(self) -> None:
        """This worker stops: its rooms are orphans from now, not in `ttl` seconds."""
        async with self.engine.begin() as conn:
            await conn.execute(
                text("UPDATE workers SET alive_until = clock_timestamp() WHERE id = :me"),
                {"me": self.worker_id},
            )


async def _owner(conn: AsyncConnection, session_id: str) -> Owner:
    found = await conn.execute(
        text(
            "SELECT l.worker_id, w.address FROM room_leases l "
            "JOIN workers w ON w.id = l.worker_id WHERE l.session_id = :sid"
        ),
        {"sid": session_id},
    )
    worker_id, address = found.one()
    return Owner(worker_id, address)
