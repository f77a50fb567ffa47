"""The session event log: append-only, numbered per session, each entry chained to the last by hash.

Each entry's hash is an HMAC-SHA256, under the server's log-chain key (`server_secret`, kept
outside the database), of the previous hash, the session, its sequence number, type, time and
the SHA-256 digest of its payload. So `verify` finds an entry that was changed, deleted,
inserted or moved, even by someone who can write the database and recompute hashes: without
the key they cannot make ones that verify. The head table (the last seq and hash of every
session) catches a deleted tail, and its own seal (an HMAC of the head) a head moved back to
match. The retention job may blank a payload (the digest stays, so the chain still verifies) but
records the redaction as a later entry of the same chain, so a silent blanking is reported too.

Logs written before keyed chains (plain SHA-256, which anyone can recompute) are not rewritten:
the migration that brought keyed chains sealed each head as it was (`legacy_seq`), so verify
checks those first entries the old way and says so, continues with keyed entries after them, and
a keyed log cannot be passed off as an old one (the seal needs the key). What no key can show,
a head and its tail removed together and an older head put back, the signed checkpoints
(`checkpoints.py`) that leave the machine do.

An append may carry `also`: more writes for the same transaction (the notification rows its
events cause), so the entries and what they make the server do are on record together or not at
all.

Appends to one session are serialised (an asyncio lock in this process, `BEGIN IMMEDIATE` on
SQLite, an advisory transaction lock on PostgreSQL), so concurrent writers never interleave. A
live room's append also names the last entry it knows and, in a cluster, its lease on the room
(app/live/ownership.py); checked under that lock, so a writer that is behind, or no longer the
room's owner, writes nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from safeclass.adapters.store.tables import RoomLease, SessionEvent, SessionLogHead

# The values of the port this implements live with the port (app owns it); named here too.
from safeclass.app.event_store import (
    HeadRecord,
    InTransaction,
    LogEntry,
    NewEntry,
    VerifyReport,
)
from safeclass.app.live.ownership import Lease, LogMovedError, RoomFencedError

__all__ = [
    "CHAIN_KEY",
    "EventLog",
    "HeadRecord",
    "InTransaction",
    "LogEntry",
    "NewEntry",
    "VerifyReport",
]

GENESIS = "0" * 64
REDACTED = "Redacted"
CHAIN_KEY = "log-chain"  # the name of the log's key, derived from the server secret
TAMPERED_SEAL = "tampered"  # a head whose seal did not match when the next entry was appended


class LogKeyMissingError(RuntimeError):
    """Writing or verifying the log needs the server's log-chain key, and none was given."""


def canonical(payload: Mapping[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def digest_of(payload_json: str) -> str:
    return hashlib.sha256(payload_json.encode()).hexdigest()


def chain_hash(
    key: bytes, prev: str, session_id: str, seq: int, kind: str, at: str, digest: str
) -> str:
    """An entry's hash: keyed, so only the holder of the server's secret can make one."""
    material = "\n".join((prev, session_id, str(seq), kind, at, digest))
    return hmac.new(key, material.encode(), hashlib.sha256).hexdigest()


def legacy_chain_hash(prev: str, session_id: str, seq: int, kind: str, at: str, digest: str) -> str:
    """The hash of entries written before keyed chains (plain SHA-256: anyone can recompute it)."""
    material = "\n".join((prev, session_id, str(seq), kind, at, digest))
    return hashlib.sha256(material.encode()).hexdigest()


def head_seal(
    key: bytes, session_id: str, last_seq: int, last_hash: str, legacy_seq: int | None
) -> str:
    """The seal of a session's head record: which entry is last, and where old entries end."""
    legacy = "" if legacy_seq is None else str(legacy_seq)
    material = "\n".join(("head", session_id, str(last_seq), last_hash, legacy))
    return hmac.new(key, material.encode(), hashlib.sha256).hexdigest()


class EventLog:
    """The hash-chained log of every session, on any SQLAlchemy async engine: the
    `safeclass.app.event_store.EventStore` port."""

    def __init__(self, engine: AsyncEngine, chain_key: bytes | None = None) -> None:
        """`chain_key`: `ServerSecret.derive(CHAIN_KEY)`; without it the log can only be read."""
        self.engine = engine
        self._key = chain_key
        self._locks: dict[str, asyncio.Lock] = {}

    @property
    def chain_key(self) -> bytes:
        if self._key is None:
            raise LogKeyMissingError(
                "the event log was opened without the server's secret: it can be read, "
                "but not written or verified"
            )
        return self._key

    def _lock(self, session_id: str) -> asyncio.Lock:
        lock = self._locks.get(session_id)
        if lock is None:
            lock = self._locks[session_id] = asyncio.Lock()
        return lock

    async def append(
        self,
        session_id: str,
        entries: Sequence[NewEntry],
        also: InTransaction | None = None,
        *,
        expected_seq: int | None = None,
        lease: Lease | None = None,
    ) -> list[LogEntry]:
        """Append entries in one durable transaction; they are acknowledged when this returns.
        `also` runs in that transaction, after the entries are written.

        A live room names the last `seq` it knows (`expected_seq`) and, in a cluster, the
        `lease` it holds: the append is refused (LogMovedError, RoomFencedError) and nothing is
        written if the log has moved on or the room has another owner now."""
        if not entries:
            return []
        item = Append(session_id, entries, also, expected_seq, lease)
        (result,) = await self.append_each([item])
        if isinstance(result, Exception):
            raise result
        return result

    async def append_many(
        self, batches: Mapping[str, Sequence[NewEntry]], also: Sequence[InTransaction] = ()
    ) -> dict[str, list[LogEntry]]:
        """Append to several sessions in one transaction (one fsync for a burst of events),
        with the `also` writes in the same transaction."""
        items = [Append(sid, entries) for sid, entries in batches.items() if entries]
        if not items:
            return {}
        results = await self.append_each(items, also)
        pairs = zip(items, results, strict=True)
        return {item.session_id: cast(list[LogEntry], r) for item, r in pairs}

    async def append_each(
        self, items: Sequence[Append], also: Sequence[InTransaction] = ()
    ) -> list[list[LogEntry] | Exception]:
        """Append several batches in one transaction; each is written, or refused (its error in
        its place) without holding up the others. The `also` of each batch written, and then
        `also`, run in the same transaction."""
        ids = sorted({item.session_id for item in items if item.entries})
        if not ids:
            return [[] for _ in items]
        locks = [self._lock(sid) for sid in ids]
        for lock in locks:
            await lock.acquire()
        try:
            async with self.engine.begin() as conn:
                results = await self._append_items(conn, items)
                for item, result in zip(items, results, strict=True):
                    if item.also is not None and not isinstance(result, Exception):
                        await item.also(conn)
                for write in also:
                    await write(conn)
                return results
        finally:
            for lock in reversed(locks):
                lock.release()

    async def _append(
        self, conn: AsyncConnection, batches: Mapping[str, Sequence[NewEntry]]
    ) -> dict[str, list[LogEntry]]:
        items = [Append(sid, entries) for sid, entries in batches.items()]
        results = await self._append_items(conn, items)
        pairs = zip(items, results, strict=True)
        return {item.session_id: cast(list[LogEntry], r) for item, r in pairs}

    async def _append_items(
        self, conn: AsyncConnection, items: Sequence[Append]
    ) -> list[list[LogEntry] | Exception]:
        ids = sorted({item.session_id for item in items})
        key = self.chain_key
        if conn.dialect.name == "postgresql":
            # Lock every session's chain (in a fixed order, so two writers cannot deadlock); a
            # worker taking a room's lease takes the same lock (adapters/store/leases.py).
            await conn.execute(
                text(
                    "SELECT pg_advisory_xact_lock(hashtextextended(sid, 0)) "
                    "FROM unnest(CAST(:ids AS text[])) AS sid ORDER BY sid"
                ),
                {"ids": ids},
            )
        heads = {
            sid: (seq, last, legacy, seal)
            for sid, seq, last, legacy, seal in (
                await conn.execute(
                    select(
                        SessionLogHead.session_id,
                        SessionLogHead.last_seq,
                        SessionLogHead.last_hash,
                        SessionLogHead.legacy_seq,
                        SessionLogHead.seal,
                    ).where(SessionLogHead.session_id.in_(ids))
                )
            ).all()
        }
        owners = await _lease_holders(conn, [i.session_id for i in items if i.lease is not None])
        rows: list[dict[str, Any]] = []
        results: list[list[LogEntry] | Exception] = []
        tails: dict[str, tuple[int, str]] = {}
        for item in items:
            sid = item.session_id
            seq, prev, legacy, seal = heads.get(sid, (0, GENESIS, None, None))
            seq, prev = tails.get(sid, (seq, prev))
            refused = _refusal(item, seq, owners.get(sid))
            if refused is not None:
                results.append(refused)
                continue
            out: list[LogEntry] = []
            for entry in item.entries:
                seq += 1
                body = canonical(entry.payload)
                digest = digest_of(body)
                this = chain_hash(key, prev, sid, seq, entry.type, entry.at, digest)
                rows.append(
                    {
                        "session_id": sid,
                        "seq": seq,
                        "type": entry.type,
                        "at": entry.at,
                        "payload": body,
                        "digest": digest,
                        "prev_hash": prev,
                        "hash": this,
                        "redacted": False,
                    }
                )
                out.append(LogEntry(sid, seq, entry.type, entry.at, dict(entry.payload), this))
                prev = this
            tails[sid] = (seq, prev)
            results.append(out)
        if not rows:
            return results
        await conn.execute(insert(SessionEvent), rows)
        new_heads: list[dict[str, Any]] = []
        changed_heads: list[dict[str, Any]] = []
        for sid, (seq, last) in tails.items():
            _, prev, legacy, seal = heads.get(sid, (0, GENESIS, None, None))
            old_seq = heads[sid][0] if sid in heads else 0
            # A head changed by hand is never sealed again (that would launder it): it stays
            # marked, so verify keeps naming it, and the room goes on being recorded.
            intact = sid not in heads or seal == head_seal(key, sid, old_seq, prev, legacy)
            head = {
                "session_id": sid,
                "last_seq": seq,
                "last_hash": last,
                "legacy_seq": legacy,
                "seal": head_seal(key, sid, seq, last, legacy) if intact else TAMPERED_SEAL,
            }
            (changed_heads if sid in heads else new_heads).append(head)
        if new_heads:
            await conn.execute(insert(SessionLogHead), new_heads)
        if changed_heads:
            table = cast(Table, SessionLogHead.__table__)
            await conn.execute(
                table.update()
                .where(table.c.session_id == bindparam("sid"))
                .values(
                    last_seq=bindparam("seq"), last_hash=bindparam("hash"), seal=bindparam("seal")
                ),
                [
                    {
                        "sid": h["session_id"],
                        "seq": h["last_seq"],
                        "hash": h["last_hash"],
                        "seal": h["seal"],
                    }
                    for h in changed_heads
                ],
            )
        return results

    async def read(self, session_id: str, after_seq: int = 0) -> list[LogEntry]:
        """The session's entries in order (from `after_seq` + 1)."""
        async with self.engine.connect() as conn:
            result = await conn.execute(
                select(
                    SessionEvent.seq,
                    SessionEvent.type,
                    SessionEvent.at,
                    SessionEvent.payload,
                    SessionEvent.hash,
                    SessionEvent.redacted,
                )
                .where(SessionEvent.session_id == session_id, SessionEvent.seq > after_seq)
                .order_by(SessionEvent.seq)
            )
            return [
                LogEntry(
                    session_id,
                    seq,
                    kind,
                    at,
                    json.loads(payload) if payload is not None else None,
                    digest,
                    bool(redacted),
                )
                for seq, kind, at, payload, digest, redacted in result
            ]

    async def sessions(self) -> list[str]:
        """Every session that has a log (from the entries and the heads, so neither hides one)."""
        async with self.engine.connect() as conn:
            logged = await conn.execute(select(SessionEvent.session_id).distinct())
            heads = await conn.execute(select(SessionLogHead.session_id))
            return sorted({row[0] for row in logged} | {row[0] for row in heads})

    async def count(self, session_id: str) -> int:
        async with self.engine.connect() as conn:
            result = await conn.execute(
                select(func.count()).where(SessionEvent.session_id == session_id)
            )
            return int(result.scalar_one())

    async def redact(
        self,
        session_id: str,
        seqs: Sequence[int],
        reason: str,
        at: str,
        blank_fields: Sequence[str] | None = None,
    ) -> LogEntry | None:
        """Delete content from entries `seqs` and record that (not what) in the same chain.

        With `blank_fields`, only those payload fields are emptied (a chat message's text goes,
        its number stays, so a replay still counts messages); without, the whole payload goes.
        """
        wanted = sorted(set(seqs))
        if not wanted:
            return None
        async with self._lock(session_id), self.engine.begin() as conn:
            if blank_fields is None:
                await conn.execute(
                    update(SessionEvent)
                    .where(SessionEvent.session_id == session_id, SessionEvent.seq.in_(wanted))
                    .values(payload=None, redacted=True)
                )
            else:
                rows = await conn.execute(
                    select(SessionEvent.seq, SessionEvent.payload).where(
                        SessionEvent.session_id == session_id, SessionEvent.seq.in_(wanted)
                    )
                )
                for seq, payload in rows.all():
                    data = json.loads(payload) if payload is not None else {}
                    data.update(dict.fromkeys(blank_fields, ""))
                    await conn.execute(
                        update(SessionEvent)
                        .where(SessionEvent.session_id == session_id, SessionEvent.seq == seq)
                        .values(payload=canonical(data), redacted=True)
                    )
            note = NewEntry(REDACTED, at, {"seqs": wanted, "reason": reason})
            return (await self._append(conn, {session_id: [note]}))[session_id][0]

    async def verify(self, session_id: str) -> VerifyReport:
        """Check the whole chain of one session; every problem is named by sequence number."""
        key = self.chain_key
        async with self.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(
                        SessionEvent.seq,
                        SessionEvent.type,
                        SessionEvent.at,
                        SessionEvent.payload,
                        SessionEvent.digest,
                        SessionEvent.prev_hash,
                        SessionEvent.hash,
                        SessionEvent.redacted,
                    )
                    .where(SessionEvent.session_id == session_id)
                    .order_by(SessionEvent.id)
                )
            ).all()
            found = (
                await conn.execute(
                    select(
                        SessionLogHead.last_seq,
                        SessionLogHead.last_hash,
                        SessionLogHead.legacy_seq,
                        SessionLogHead.seal,
                    ).where(SessionLogHead.session_id == session_id)
                )
            ).first()
        head = _Head(*found) if found is not None else None
        return _check_chain(key, session_id, [_Row(*row) for row in rows], head)

    async def heads(self) -> list[HeadRecord]:
        """Every session's head with the time of its last entry (what a checkpoint records)."""
        async with self.engine.connect() as conn:
            found = await conn.execute(
                select(
                    SessionLogHead.session_id,
                    SessionLogHead.last_seq,
                    SessionLogHead.last_hash,
                    SessionLogHead.legacy_seq,
                    SessionEvent.at,
                )
                .outerjoin(
                    SessionEvent,
                    (SessionEvent.session_id == SessionLogHead.session_id)
                    & (SessionEvent.seq == SessionLogHead.last_seq),
                )
                .order_by(SessionLogHead.session_id)
            )
            return [HeadRecord(*row) for row in found]

    async def hash_at(self, session_id: str, seq: int) -> str | None:
        """The stored hash of one entry (None: there is no such entry)."""
        async with self.engine.connect() as conn:
            found = await conn.execute(
                select(SessionEvent.hash).where(
                    SessionEvent.session_id == session_id, SessionEvent.seq == seq
                )
            )
            return found.scalar_one_or_none()

    async def last_seq(self, session_id: str) -> int:
        """The number of the session's last stored entry, whatever its head says (0: none)."""
        async with self.engine.connect() as conn:
            found = await conn.execute(
                select(SessionEvent.seq)
                .where(SessionEvent.session_id == session_id)
                .order_by(SessionEvent.seq.desc())
                .limit(1)
            )
            return int(found.scalar_one_or_none() or 0)

    async def payloads_of(self, session_ids: Sequence[str], kind: str) -> list[dict[str, Any]]:
        """The payloads of every entry of type `kind` in these logs ({} where blanked)."""
        async with self.engine.connect() as conn:
            payloads = await conn.execute(
                select(SessionEvent.payload).where(
                    SessionEvent.session_id.in_(sorted(session_ids)), SessionEvent.type == kind
                )
            )
            return [json.loads(p) if p else {} for p in payloads.scalars()]


@dataclass(frozen=True, slots=True)
class _Head:
    last_seq: int
    last_hash: str
    legacy_seq: int | None
    seal: str | None


@dataclass(frozen=True, slots=True)
class _Row:
    seq: int
    type: str
    at: str
    payload: str | None
    digest: str
    prev_hash: str
    hash: str
    redacted: bool


def _check_chain(key: bytes, session_id: str, rows: list[_Row], head: _Head | None) -> VerifyReport:
    report = VerifyReport(session_id, entries=len(rows))
    problems = report.problems
    legacy_seq = _check_head(key, session_id, head, problems)
    report.legacy_seq = legacy_seq
    by_seq = sorted(rows, key=lambda r: r.seq)
    by_hash = {r.hash: r for r in rows}
    redactions: set[int] = set()
    forged: list[_Row] = []
    prev = GENESIS
    expected_seq = 1
    for row in by_seq:
        if row.seq > expected_seq:
            missing = range(expected_seq, row.seq)
            problems.append(f"event {_span(missing)} deleted: the log jumps to {row.seq}")
        expected_seq = row.seq + 1
        if row.redacted or row.payload is None:
            pass  # the digest no longer describes the (deleted) content; the chain still does
        elif digest_of(row.payload) != row.digest:
            problems.append(f"event {row.seq} ({row.type}) changed: its content no longer matches")
        if row.type == REDACTED and row.payload is not None:
            redactions.update(json.loads(row.payload).get("seqs", []))
        material = (row.prev_hash, session_id, row.seq, row.type, row.at, row.digest)
        if legacy_seq is not None and row.seq <= legacy_seq:
            recomputed = legacy_chain_hash(*material)
        else:
            recomputed = chain_hash(key, *material)
        if recomputed != row.hash:
            forged.append(row)
        if row.prev_hash != prev:
            before = by_hash.get(row.prev_hash)
            if before is not None and before.seq != row.seq - 1:
                problems.append(
                    f"event {row.seq} ({row.type}) out of order: it was written after "
                    f"event {before.seq}"
                )
            elif before is None and prev != GENESIS and row.seq > 1:
                problems.append(
                    f"event {row.seq} ({row.type}) does not follow event {row.seq - 1}: "
                    "an event was inserted, deleted or replaced before it"
                )
        prev = row.hash
    problems.extend(_forgeries(forged))
    for row in by_seq:
        if (row.redacted or row.payload is None) and row.seq not in redactions:
            problems.append(f"event {row.seq} ({row.type}) blanked without a recorded redaction")
    if head is None:
        if rows:
            problems.append("the log's head record is missing")
    else:
        if not rows or by_seq[-1].seq < head.last_seq:
            have = by_seq[-1].seq if rows else 0
            problems.append(
                f"event {_span(range(have + 1, head.last_seq + 1))} deleted from the end of the log"
            )
        elif by_seq[-1].seq > head.last_seq or by_seq[-1].hash != head.last_hash:
            problems.append(f"the log's last event ({by_seq[-1].seq}) is not the one recorded")
    return report


def _check_head(key: bytes, session_id: str, head: _Head | None, problems: list[str]) -> int | None:
    """Where the session's pre-keyed entries end, if its head's seal holds (else: nowhere)."""
    if head is None:
        return None
    if head.seal == TAMPERED_SEAL:
        problems.append(
            "the log's head record had been changed by hand when a later event was written "
            "(its seal did not match)"
        )
        return None
    if head.seal != head_seal(key, session_id, head.last_seq, head.last_hash, head.legacy_seq):
        problems.append(
            "the log's head record was changed: its seal does not match (it was written "
            "without the server's key)"
        )
        return None
    return head.legacy_seq


def _forgeries(rows: list[_Row]) -> list[str]:
    """Events whose hash is not the server's, a run of them in one line."""
    out: list[str] = []
    runs: list[list[_Row]] = []
    for row in rows:
        if runs and runs[-1][-1].seq == row.seq - 1:
            runs[-1].append(row)
        else:
            runs.append([row])
    for run in runs:
        if len(run) == 1:
            out.append(f"event {run[0].seq} ({run[0].type}) changed: its hash does not match")
        else:
            out.append(
                f"events {run[0].seq}-{run[-1].seq} changed: their hashes do not match "
                "(written without the server's key)"
            )
    return out


def _span(numbers: range) -> str:
    return str(numbers.start) if len(numbers) == 1 else f"{numbers.start}-{numbers.stop - 1}"


@dataclass(frozen=True, slots=True)
class Append:
    """One writer's entries for one session, with what it expects of the log (see `append`)."""

    session_id: str
    entries: Sequence[NewEntry]
    also: InTransaction | None = None
    expected_seq: int | None = None
    lease: Lease | None = None


async def _lease_holders(conn: AsyncConnection, ids: Sequence[str]) -> dict[str, tuple[str, int]]:
    """The worker and epoch of each session's current lease (read under the sessions' locks)."""
    if not ids:
        return {}
    found = await conn.execute(
        select(RoomLease.session_id, RoomLease.worker_id, RoomLease.epoch).where(
            RoomLease.session_id.in_(sorted(set(ids)))
        )
    )
    return {sid: (worker, epoch) for sid, worker, epoch in found.all()}


def _refusal(item: Append, last_seq: int, holder: tuple[str, int] | None) -> Exception | None:
    """Why an append may not be written (its lease is not the room's, or the log moved)."""
    if item.lease is not None and holder != (item.lease.worker_id, item.lease.epoch):
        now = "no worker" if holder is None else f"worker {holder[0]} (epoch {holder[1]})"
        return RoomFencedError(
            f"room {item.session_id}: worker {item.lease.worker_id}'s lease (epoch "
            f"{item.lease.epoch}) is no longer the room's; {now} owns it"
        )
    if item.expected_seq is not None and item.expected_seq != last_seq:
        return LogMovedError(
            f"room {item.session_id}: expected the log to end at {item.expected_seq}, "
            f"it ends at {last_seq}"
        )
    return None
