"""The event-store port: what the app needs of the session event log, and the values it holds.

The app owns this interface; `safeclass.adapters.store.event_log.EventLog` (and its group-commit
subclass) implements it on SQLAlchemy. Use cases take an `EventStore`, so they name no adapter:
the composition root (`safeclass.bootstrap`) hands them the real one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from safeclass.app.live.ownership import Lease

# More writes for an append's own transaction; if one fails, nothing of the append is written.
InTransaction = Callable[[AsyncConnection], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class NewEntry:
    """An entry to append: its type, ISO time and JSON-ready payload."""

    type: str
    at: str
    payload: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class LogEntry:
    session_id: str
    seq: int
    type: str
    at: str
    payload: dict[str, Any] | None  # None (or blanked fields) once redacted
    hash: str
    redacted: bool = False


@dataclass(slots=True)
class VerifyReport:
    session_id: str
    entries: int = 0
    problems: list[str] = field(default_factory=list)
    legacy_seq: int | None = None  # entries 1..legacy_seq predate keyed chains (SHA-256 only)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True, slots=True)
class HeadRecord:
    """A session's head: its last entry's number, hash and time; where its old entries end."""

    session_id: str
    last_seq: int
    last_hash: str
    legacy_seq: int | None
    last_at: str | None  # None: the last entry itself is missing


class EventStore(Protocol):
    """The hash-chained log of every session: appended to, read, verified, redacted."""

    async def append(
        self,
        session_id: str,
        entries: Sequence[NewEntry],
        also: InTransaction | None = None,
        *,
        expected_seq: int | None = None,
        lease: Lease | None = None,
    ) -> list[LogEntry]:
        """Append entries in one durable transaction (with `also`); acknowledged on return.
        A live room names the last seq it knows (`expected_seq`) and, in a cluster, the `lease`
        it holds: refused (LogMovedError, RoomFencedError), nothing written, if the log has
        moved on or the room has another owner now."""

    async def append_many(
        self, batches: Mapping[str, Sequence[NewEntry]], also: Sequence[InTransaction] = ()
    ) -> dict[str, list[LogEntry]]:
        """Append to several sessions in one transaction."""

    async def read(self, session_id: str, after_seq: int = 0) -> list[LogEntry]:
        """The session's entries in order (from `after_seq` + 1)."""

    async def sessions(self) -> list[str]:
        """Every session that has a log."""

    async def count(self, session_id: str) -> int:
        """How many entries the session's log has."""

    async def redact(
        self,
        session_id: str,
        seqs: Sequence[int],
        reason: str,
        at: str,
        blank_fields: Sequence[str] | None = None,
    ) -> LogEntry | None:
        """Delete content from entries `seqs` and record that (not what) in the same chain."""

    async def verify(self, session_id: str) -> VerifyReport:
        """Check the whole chain of one session; every problem is named by sequence number."""

    async def heads(self) -> list[HeadRecord]:
        """Every session's head with the time of its last entry."""

    async def hash_at(self, session_id: str, seq: int) -> str | None:
        """The stored hash of one entry (None: there is no such entry)."""

    async def last_seq(self, session_id: str) -> int:
        """The number of the session's last stored entry, whatever its head says (0: none)."""

    async def payloads_of(self, session_ids: Sequence[str], kind: str) -> list[dict[str, Any]]:
        """The payloads of every entry of type `kind` in these logs ({} where blanked)."""
