"""Safeguarding concerns (C16): the record a concern becomes, never edited, only added to.

A concern is raised in the room (the console's form: `RaiseConcern`, whose `ConcernRaised` event
is logged) or afterwards from the lesson's page, by staff who may raise concerns. Either way it
becomes one row of `concerns` (pupils, category, the account in the writer's words, when it
happened, when and by whom it was recorded, the session, and in the room the seq and hash of its
`ConcernRaised` entry in the session's log) and entry 1 of its record, the account. Everything
after (an addition, an action taken, "read" by the DSL) is a new entry: who, when, what. Nothing
is ever changed, as court-safe records are kept.

Each entry is chained to the one before by an HMAC under the server's concern key (derived from
the server secret, like the event log's), and entry 1's hash covers the concern's own fields, so
`verify` finds an account, a category, a time or an entry that was changed, deleted or moved,
even by someone who can write the database; the export carries the last hash, which proves it.
The concern's row keeps its last entry's seq sealed with that entry's hash (`head_seal`), so
the newest entries deleted (and the chain still whole up to there) are found too.

Raised in the room, the record is written in the same transaction as the event
(`RoomConcern`, run inside the log's append by `alerts.OutboxWrite`), so a concern in the log
always has its record; raised afterwards, the record and the DSL's alert are one transaction.
The DSL's alert (`dsl_concern`) says who raised it, the category and a link, never the account.

Who may read a concern's text is one rule, `staff_roles.may_read_concern`: the DSL and the one
who wrote it. The records are read and written through `ConcernRows` (on the database:
`safeclass.adapters.store.concerns`, `Services.concerns`), whose steps that stand or fall
together (a record and its alert, an entry chained to the last) share one transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from safeclass.app import staff_roles
from safeclass.app.event_store import EventStore
from safeclass.app.room_log import replay
from safeclass.app.school_records import SchoolRecords, SessionNotFoundError
from safeclass.app.transactions import Transactions
from safeclass.core import events as ev
from safeclass.core.roles import Status

if TYPE_CHECKING:  # the alerts import this module
    from safeclass.app.alerts import OutboxAlerts

CONCERN_KEY = "concern-chain"  # the name of the concerns' key, derived from the server secret
GENESIS = "0" * 64
ACCOUNT, ADDITION, ACTION, READ = "account", "addition", "action", "read"
ADDED_KINDS = (ADDITION, ACTION)  # what staff may add to a concern
ALERT_KIND = f"dsl_{ev.AlertReason.CONCERN.value}"
OPEN, MARKED_READ = "open", "read"
MAX_TEXT = 4000


class ConcernError(ValueError):
    """What was asked cannot be recorded; `code` says why, for the page to word."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


# -- the chain ----------------------------------------------------------------------------------


def _iso(when: dt.datetime | None) -> str:
    return "" if when is None else when.astimezone(dt.UTC).isoformat()


def record_digest(
    *,
    concern_id: str,
    school_id: str,
    session_id: str | None,
    pupils: Sequence[str],
    category: str,
    happened_at: dt.datetime | None,
    raised_at: dt.datetime,
    raised_by: str | None,
    summary: str,
    event_seq: int | None,
    event_hash: str | None,
) -> str:
    """The SHA-256 of a concern's own fields: what entry 1's hash covers besides the account."""
    fields = {
        "id": concern_id,
        "school": school_id,
        "session": session_id or "",
        "pupils": sorted(pupils),
        "category": category,
        "happened_at": _iso(happened_at),
        "raised_at": _iso(raised_at),
        "raised_by": raised_by or "",
        "summary": summary,
        "event_seq": event_seq,
        "event_hash": event_hash or "",
    }
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def entry_hash(key: bytes, prev: str, concern_id: str, entry: EntryFields, record: str = "") -> str:
    """An entry's hash: keyed, so only the holder of the server's secret can make one."""
    material = "\n".join(
        (
            prev,
            concern_id,
            str(entry.seq),
            entry.kind,
            _iso(entry.at),
            _iso(entry.happened_at),
            entry.by_staff or "",
            entry.by_name,
            hashlib.sha256(entry.text.encode()).hexdigest(),
            record,
        )
    )
    return hmac.new(key, material.encode(), hashlib.sha256).hexdigest()


def head_seal(key: bytes, concern_id: str, seq: int, last_hash: str) -> str:
    """The seal of a concern's head: which entry is its last, and that entry's hash."""
    material = "\n".join(("head", concern_id, str(seq), last_hash))
    return hmac.new(key, material.encode(), hashlib.sha256).hexdigest()


# -- what is read --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PupilRef:
    id: str
    name: str  # forename and surname, as the school's records have them
    mis_id: str


class EntryFields(Protocol):
    """What an entry's hash covers: a `NewEntry`, an `Entry` read back, or its table row."""

    @property
    def seq(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def at(self) -> dt.datetime: ...
    @property
    def happened_at(self) -> dt.datetime | None: ...
    @property
    def by_staff(self) -> str | None: ...
    @property
    def by_name(self) -> str: ...
    @property
    def text(self) -> str: ...


@dataclass(frozen=True, slots=True)
class NewEntry:
    """One entry of a concern's record as it is written: the account (1), then each addition,
    action taken or "read" (who wrote it, when, and when what it tells happened)."""

    seq: int
    kind: str
    at: dt.datetime
    happened_at: dt.datetime | None
    by_staff: str | None
    by_name: str
    text: str


@dataclass(frozen=True, slots=True)
class Entry(NewEntry):
    """An entry read back, with its hash."""

    hash: str


@dataclass(frozen=True, slots=True)
class ChainedEntry(Entry):
    """An entry read back with the hash it says comes before it, to verify the chain."""

    prev_hash: str


@dataclass(frozen=True, slots=True)
class StoredConcern:
    """A concern's own row as kept (`happened_at` None: when it was recorded), with its
    session's title and its writer's name where they are joined."""

    id: str
    school_id: str
    session_id: str | None
    category: str
    happened_at: dt.datetime | None
    raised_at: dt.datetime
    raised_by: str | None
    summary: str
    status: str
    event_seq: int | None
    event_hash: str | None
    keep_until: dt.date | None
    session_title: str | None = None
    staff_name: str | None = None
    head_seq: int | None = None  # the last entry, as sealed (`head_seal`)
    head_seal: str | None = None


class ConcernRows(Transactions, Protocol):
    """The concerns' records as this module reads and writes them; the steps that take a
    connection run in the caller's transaction or snapshot (`begin`, `connect`, or the log's
    append for one raised in the room)."""

    async def concerns(
        self, conn: AsyncConnection, school_id: str, concern_ids: Sequence[str] | None
    ) -> list[StoredConcern]:
        """These concerns of the school (all, with None), newest recorded first, with their
        session's title and writer's name."""

    async def concern(self, conn: AsyncConnection, concern_id: str) -> StoredConcern | None:
        """One concern's own row, whatever its school."""

    async def pupils_of(
        self, conn: AsyncConnection, concern_ids: Sequence[str]
    ) -> dict[str, list[PupilRef]]:
        """The pupils of each of these concerns, by surname, forename and id."""

    async def pupil_ids(self, conn: AsyncConnection, concern_id: str) -> list[str]:
        """The ids of the concern's pupils, as its row of pupils has them."""

    async def entries_of(
        self, conn: AsyncConnection, concern_ids: Sequence[str]
    ) -> dict[str, list[ChainedEntry]]:
        """The entries of each of these concerns, in order."""

    async def entry_count(self, conn: AsyncConnection, concern_id: str) -> int:
        """How many entries the concern has."""

    async def alerts_sent(
        self, conn: AsyncConnection, school_id: str, kind: str
    ) -> list[tuple[str, dt.datetime]]:
        """The body and time sent of each of the school's notifications of `kind` that went."""

    async def concerns_about(self, school_id: str, pupil_id: str) -> list[str]:
        """The ids of the school's concerns naming the pupil among their pupils."""

    async def pupil(self, school_id: str, pupil_id: str) -> PupilRef | None:
        """The school's pupil, by name; None if not the school's."""

    async def births(
        self, conn: AsyncConnection, school_id: str, pupil_ids: Sequence[str]
    ) -> dict[str, dt.date | None]:
        """The date of birth on record of each of these pupils the school has."""

    async def add_concern(
        self,
        conn: AsyncConnection,
        new: NewConcern,
        status: str,
        event_seq: int | None,
        event_hash: str | None,
    ) -> None:
        """Write a concern's row and its pupils."""

    async def add_entry(
        self, conn: AsyncConnection, concern_id: str, entry: NewEntry, prev_hash: str, digest: str
    ) -> None:
        """Write one entry of a concern, chained to `prev_hash`."""

    async def seal_head(self, conn: AsyncConnection, concern_id: str, seq: int, seal: str) -> None:
        """Keep the concern's last entry's seq and its seal on the concern's row."""

    async def hold(self, conn: AsyncConnection, school_id: str, concern_id: str) -> bool:
        """Whether the concern is the school's; if so, no other writer adds to it until the
        transaction ends."""

    async def last_entry(self, conn: AsyncConnection, concern_id: str) -> tuple[int, str] | None:
        """The seq and hash of the concern's last entry; None when it has none."""

    async def set_status(self, conn: AsyncConnection, concern_id: str, status: str) -> None:
        """What the concern's entries say of it now (open, read), for the DSL's list."""

    async def raised_entries(
        self, conn: AsyncConnection, session_id: str, limit: int
    ) -> list[tuple[int, str, dict[str, Any] | None]]:
        """The seq, hash and payload of the session's last `limit` ConcernRaised entries,
        newest first (in the log's transaction: one just written is among them)."""


@dataclass(frozen=True, slots=True)
class ConcernRecord:
    """One concern with everything on its record (the account is `summary`, entry 1)."""

    id: str
    school_id: str
    session_id: str | None
    session_title: str
    pupils: list[PupilRef]
    category: str
    happened_at: dt.datetime  # when it was seen or heard (`raised_at` unless earlier)
    raised_at: dt.datetime
    raised_by: str | None
    raised_by_name: str
    summary: str
    status: str
    event_seq: int | None
    event_hash: str | None
    keep_until: dt.date | None
    entries: list[Entry] = field(default_factory=list)
    alerted_at: dt.datetime | None = None  # when the DSL's alert was delivered; None: not yet

    @property
    def last_hash(self) -> str:
        return self.entries[-1].hash if self.entries else ""

    @property
    def read_entry(self) -> Entry | None:
        return next((e for e in self.entries if e.kind == READ), None)

    @property
    def added(self) -> list[Entry]:
        """Every entry after the account, in the order written."""
        return [e for e in self.entries if e.kind != ACCOUNT]


def may_read(staff_role: str, staff_id: str, concern: ConcernRecord) -> bool:
    """The one rule (`staff_roles.may_read_concern`), for this concern."""
    return staff_roles.may_read_concern(staff_role, concern.raised_by == staff_id)


async def load(rows: ConcernRows, school_id: str, concern_id: str) -> ConcernRecord | None:
    """The concern with its entries and pupils; None if it is not this school's."""
    found = await load_many(rows, school_id, [concern_id])
    return found[0] if found else None


async def load_many(
    rows: ConcernRows, school_id: str, concern_ids: Sequence[str] | None = None
) -> list[ConcernRecord]:
    """These concerns of the school (all, with None), each whole, newest recorded first."""
    async with rows.connect() as conn:
        stored = await rows.concerns(conn, school_id, concern_ids)
        ids = [c.id for c in stored]
        if not ids:
            return []
        pupils = await rows.pupils_of(conn, ids)
        entries = await rows.entries_of(conn, ids)
        alerted = _alerted(await rows.alerts_sent(conn, school_id, ALERT_KIND), ids)
    out = []
    for concern in stored:
        title, staff_name = concern.session_title, concern.staff_name
        own: list[Entry] = [
            Entry(e.seq, e.kind, e.at, e.happened_at, e.by_staff, e.by_name, e.text, e.hash)
            for e in entries.get(concern.id, [])
        ]
        out.append(
            ConcernRecord(
                id=concern.id,
                school_id=concern.school_id,
                session_id=concern.session_id,
                session_title=title or "",
                pupils=pupils.get(concern.id, []),
                category=concern.category,
                happened_at=concern.happened_at or concern.raised_at,
                raised_at=concern.raised_at,
                raised_by=concern.raised_by,
                raised_by_name=own[0].by_name if own else (staff_name or ""),
                summary=concern.summary,
                status=concern.status,
                event_seq=concern.event_seq,
                event_hash=concern.event_hash,
                keep_until=concern.keep_until,
                entries=own,
                alerted_at=alerted.get(concern.id),
            )
        )
    return out


def _alerted(sent: Sequence[tuple[str, dt.datetime]], ids: Sequence[str]) -> dict[str, dt.datetime]:
    """When each concern's alert to the DSL was first delivered (the outbox's sent_at)."""
    out: dict[str, dt.datetime] = {}
    wanted = set(ids)
    for body, sent_at in sent:
        if sent_at is None:
            continue
        for concern_id in _linked(body, wanted):
            if concern_id not in out or sent_at < out[concern_id]:
                out[concern_id] = sent_at
    return out


def _linked(body: str, wanted: set[str]) -> list[str]:
    marker = "/staff/concerns/"
    found = []
    start = body.find(marker)
    while start != -1:
        concern_id = body[start + len(marker) : start + len(marker) + 36]
        if concern_id in wanted:
            found.append(concern_id)
        start = body.find(marker, start + 1)
    return found


@dataclass(frozen=True, slots=True)
class Listed:
    """A concern as the DSL's list shows it: never its account."""

    id: str
    pupils: list[PupilRef]
    category: str
    happened_at: dt.datetime
    raised_at: dt.datetime
    raised_by_name: str
    status: str
    session_title: str


def listed(concerns: Sequence[ConcernRecord]) -> list[Listed]:
    """Open concerns first (newest first within each)."""
    ordered = sorted(concerns, key=lambda c: (c.status != OPEN, -c.raised_at.timestamp()))
    return [
        Listed(
            c.id,
            c.pupils,
            c.category,
            c.happened_at,
            c.raised_at,
            c.raised_by_name,
            c.status,
            c.session_title,
        )
        for c in ordered
    ]


@dataclass(frozen=True, slots=True)
class ChronologyLine:
    """One thing in a pupil's chronology: a concern's account, or something added to it."""

    when: dt.datetime  # when it happened (or was done): the order of the chronology
    recorded_at: dt.datetime
    concern_id: str
    kind: str
    category: str
    by_name: str
    text: str


async def chronology(rows: ConcernRows, school_id: str, pupil_id: str) -> list[ChronologyLine]:
    """Everything on record about one pupil's concerns, in the order it happened: a concern
    written afterwards about something earlier sits where it happened, not where it was typed."""
    ids = await rows.concerns_about(school_id, pupil_id)
    lines: list[ChronologyLine] = []
    for c in await load_many(rows, school_id, ids) if ids else []:
        for e in c.entries:
            when = c.happened_at if e.kind == ACCOUNT else (e.happened_at or e.at)
            text = c.summary if e.kind == ACCOUNT else e.text
            lines.append(ChronologyLine(when, e.at, c.id, e.kind, c.category, e.by_name, text))
    return sorted(lines, key=lambda line: (line.when, line.recorded_at))


async def pupil_name(rows: ConcernRows, school_id: str, pupil_id: str) -> PupilRef | None:
    return await rows.pupil(school_id, pupil_id)


# -- what is written -----------------------------------------------------------------------------


def keep_until(births: Sequence[dt.date | None], age: int) -> dt.date | None:
    """The pupil's `age`th birthday (the latest, for several pupils); None while a birth date is
    unknown, so nothing is deleted on a guess."""
    if not births or any(b is None for b in births):
        return None
    days = [b for b in births if b is not None]
    latest = max(days)
    try:
        return latest.replace(year=latest.year + age)
    except ValueError:  # 29 February
        return latest.replace(year=latest.year + age, day=28)


async def _births(
    rows: ConcernRows, conn: AsyncConnection, school_id: str, pupils: Sequence[str]
) -> list[dt.date | None]:
    if not pupils:
        return []
    found = await rows.births(conn, school_id, pupils)
    return [found.get(p) for p in pupils]


@dataclass(frozen=True, slots=True)
class NewConcern:
    """A concern to write: everything but its place in the session's log."""

    concern_id: str
    school_id: str
    session_id: str | None
    pupils: tuple[str, ...]
    category: str
    summary: str
    happened_at: dt.datetime | None
    raised_at: dt.datetime
    raised_by: str | None
    raised_by_name: str
    keep_until: dt.date | None


async def write_concern(
    rows: ConcernRows,
    conn: AsyncConnection,
    key: bytes,
    new: NewConcern,
    event_seq: int | None = None,
    event_hash: str | None = None,
) -> None:
    """The concern's row, its pupils and entry 1 (the account), in the caller's transaction."""
    await rows.add_concern(conn, new, OPEN, event_seq, event_hash)
    record = record_digest(
        concern_id=new.concern_id,
        school_id=new.school_id,
        session_id=new.session_id,
        pupils=new.pupils,
        category=new.category,
        happened_at=new.happened_at,
        raised_at=new.raised_at,
        raised_by=new.raised_by,
        summary=new.summary,
        event_seq=event_seq,
        event_hash=event_hash,
    )
    account = NewEntry(
        1, ACCOUNT, new.raised_at, new.happened_at, new.raised_by, new.raised_by_name, new.summary
    )
    await _chain_entry(rows, conn, key, GENESIS, new.concern_id, account, record)


async def _chain_entry(
    rows: ConcernRows,
    conn: AsyncConnection,
    key: bytes,
    prev: str,
    concern_id: str,
    entry: NewEntry,
    record: str = "",
) -> None:
    """Write `entry` of a concern, chained to the hash `prev` of the one before it."""
    digest = entry_hash(key, prev, concern_id, entry, record)
    await rows.add_entry(conn, concern_id, entry, prev, digest)
    await rows.seal_head(conn, concern_id, entry.seq, head_seal(key, concern_id, entry.seq, digest))


@dataclass(frozen=True, slots=True)
class RoomConcern:
    """A concern raised in the room, written in the transaction that logs its `ConcernRaised`:
    the entry is read back there (it was just written, in the same transaction) for its seq and
    hash, so the record names its place in the session's log."""

    rows: ConcernRows
    key: bytes
    new: NewConcern
    number: int  # the event's concern number in its session

    async def __call__(self, conn: AsyncConnection) -> None:
        seq: int | None = None
        digest: str | None = None
        session_id = self.new.session_id or ""  # raised in a room: always a session's
        for row_seq, row_hash, payload in await self.rows.raised_entries(conn, session_id, 20):
            if payload is not None and payload.get("number") == self.number:
                seq, digest = row_seq, row_hash
                break
        await write_concern(self.rows, conn, self.key, self.new, seq, digest)


async def room_concern(
    rows: ConcernRows,
    conn: AsyncConnection,
    key: bytes,
    *,
    school_id: str,
    session_id: str,
    event: ev.ConcernRaised,
    by_name: str,
    keep_to_age: int,
) -> RoomConcern:
    """The record a `ConcernRaised` makes (read before the log's transaction; written in it)."""
    pupils = event.pupils or ((event.pupil,) if event.pupil is not None else ())
    births = await _births(rows, conn, school_id, pupils)
    return RoomConcern(
        rows,
        key,
        NewConcern(
            concern_id=str(uuid.uuid4()),
            school_id=school_id,
            session_id=session_id,
            pupils=pupils,
            category=event.category,
            summary=event.summary,
            happened_at=event.happened_at,
            raised_at=event.at,
            raised_by=event.by,
            raised_by_name=by_name,
            keep_until=keep_until(births, keep_to_age),
        ),
        event.number,
    )


def account_problems(
    *,
    pupils: Sequence[str],
    allowed_pupils: Sequence[str],
    category: str,
    categories: Sequence[str],
    account: str,
    happened_at: dt.datetime | None,
    now: dt.datetime,
) -> list[tuple[str, str]]:
    """What a concern written afterwards lacks, as (field, code) pairs; empty when it is whole."""
    problems: list[tuple[str, str]] = []
    if not pupils:
        problems.append(("pupils", "no_pupil"))
    elif any(p not in allowed_pupils for p in pupils):
        problems.append(("pupils", "not_on_list"))
    if category not in categories:
        problems.append(("category", "no_category"))
    if not account.strip():
        problems.append(("account", "no_account"))
    elif len(account.strip()) > MAX_TEXT:
        problems.append(("account", "too_long"))
    if happened_at is not None and happened_at > now:
        problems.append(("date", "future"))
    return problems


async def raise_afterwards(
    rows: ConcernRows,
    key: bytes,
    *,
    school_id: str,
    session_id: str,
    session_title: str,
    timezone: str,
    pupils: Sequence[str],
    category: str,
    account: str,
    happened_at: dt.datetime | None,
    by: str,
    by_name: str,
    keep_to_age: int,
    now: dt.datetime,
    alerts: OutboxAlerts,
    public_url: str = "",
) -> str:
    """A concern written after the lesson (from its page): the record and the DSL's alert (on
    every channel `alerts` has) in one transaction; the new concern's id."""

    concern_id = str(uuid.uuid4())
    happened = happened_at if happened_at is not None and happened_at < now else None
    async with rows.begin() as conn:
        births = await _births(rows, conn, school_id, pupils)
        new = NewConcern(
            concern_id=concern_id,
            school_id=school_id,
            session_id=session_id,
            pupils=tuple(dict.fromkeys(pupils)),
            category=category,
            summary=account.strip(),
            happened_at=happened,
            raised_at=now,
            raised_by=by,
            raised_by_name=by_name,
            keep_until=keep_until(births, keep_to_age),
        )
        await write_concern(rows, conn, key, new)
        subject, body = alert_words(
            by_name, category, session_title, now, timezone, concern_id, public_url
        )
        alert = await alerts.concern_afterwards_rows(
            conn,
            school_id,
            session_id,
            ALERT_KIND,
            subject,
            body,
            now,
            raised_by=by_name,
            category=category,
            concern_id=concern_id,
        )
        if alert:
            await alerts.queue(conn, alert)
    return concern_id


def concern_link(public_url: str, concern_id: str) -> str:
    """Where the DSL reads the concern (relative when the server's public address is not set)."""
    return f"{public_url.rstrip('/')}/staff/concerns/{concern_id}"


def alert_words(
    by_name: str,
    category: str,
    session_title: str,
    at: dt.datetime,
    timezone: str,
    concern_id: str,
    public_url: str,
) -> tuple[str, str]:
    """The DSL's alert: who raised it, the category, when, and the link; never the account nor
    the pupil (an email can be forwarded, read over a shoulder, or kept by a mail provider)."""
    when = at.astimezone(ZoneInfo(timezone)).strftime("%a %d %b %H:%M")
    link = concern_link(public_url, concern_id)
    subject = f"[safeclass] A safeguarding concern was raised: {session_title} at {when}"
    body = "\n".join(
        (
            "A safeguarding concern was raised.",
            f"Session: {session_title} ({when}).",
            f"By: {by_name}.",
            f"Category: {category or 'not given'}.",
            "Open safeclass to read it; the details are not sent by email.",
            link,
        )
    )
    return subject, body


async def add_entry(
    rows: ConcernRows,
    key: bytes,
    *,
    school_id: str,
    concern_id: str,
    kind: str,
    text: str,
    by: str,
    by_name: str,
    now: dt.datetime,
    happened_at: dt.datetime | None = None,
) -> int:
    """Add to a concern (an addition, an action taken, or "read"): a new entry chained to the
    last; nothing before it changes. Its seq."""
    if kind not in (*ADDED_KINDS, READ):
        raise ConcernError("kind")
    text = text.strip()
    if kind != READ and not text:
        raise ConcernError("no_text")
    if len(text) > MAX_TEXT:
        raise ConcernError("too_long")
    if happened_at is not None and happened_at > now:
        raise ConcernError("future")
    happened = happened_at if happened_at is not None and happened_at < now else None
    async with rows.begin() as conn:
        if not await rows.hold(conn, school_id, concern_id):  # one writer at a time per concern
            raise ConcernError("not_found")
        last = await rows.last_entry(conn, concern_id)
        seq, prev = (last[0] + 1, last[1]) if last is not None else (1, GENESIS)
        entry = NewEntry(seq, kind, now, happened, by, by_name, text)
        await _chain_entry(rows, conn, key, prev, concern_id, entry)
        if kind == READ:
            await rows.set_status(conn, concern_id, MARKED_READ)
    return seq


async def verify(rows: ConcernRows, key: bytes, concern_id: str) -> list[str]:
    """Every way this concern's record differs from what was written (empty: it is intact)."""
    async with rows.connect() as conn:
        concern = await rows.concern(conn, concern_id)
        if concern is None:
            return ["the concern is missing"]
        pupils = await rows.pupil_ids(conn, concern_id)
        entries = (await rows.entries_of(conn, [concern_id])).get(concern_id, [])
        count = await rows.entry_count(conn, concern_id)
    problems: list[str] = []
    if not entries or count != len(entries):
        return ["the concern's account is missing"]
    record = record_digest(
        concern_id=concern.id,
        school_id=concern.school_id,
        session_id=concern.session_id,
        pupils=pupils,
        category=concern.category,
        happened_at=concern.happened_at,
        raised_at=concern.raised_at,
        raised_by=concern.raised_by,
        summary=concern.summary,
        event_seq=concern.event_seq,
        event_hash=concern.event_hash,
    )
    prev = GENESIS
    for expected_seq, e in enumerate(entries, start=1):
        if e.seq != expected_seq:
            problems.append(f"entry {expected_seq} is missing")
            break
        if e.prev_hash != prev:
            problems.append(f"entry {e.seq} does not follow the one before it")
        this = entry_hash(key, e.prev_hash, concern_id, e, record if e.seq == 1 else "")
        if this != e.hash:
            what = "the account or the concern's details" if e.seq == 1 else f"entry {e.seq}"
            problems.append(f"{what} changed: its hash does not match")
        prev = e.hash
    if entries and entries[0].text != concern.summary:
        problems.append("the account changed: it no longer matches its first entry")
    last = entries[-1]
    if concern.head_seq is None or concern.head_seal is None:
        problems.append("the record's seal is missing")
    elif concern.head_seq > last.seq:
        problems.append(f"the entries after entry {last.seq} are missing")
    elif concern.head_seq < last.seq:
        problems.append(f"the entries after entry {concern.head_seq} are not sealed")
    elif concern.head_seal != head_seal(key, concern_id, last.seq, last.hash):
        problems.append("the record's seal does not match its last entry")
    read = any(e.kind == READ for e in entries)
    if (concern.status == MARKED_READ) != read:
        problems.append("the concern's status does not match its entries")
    return problems


async def people_present(
    records: SchoolRecords, log: EventStore, session_id: str | None, at: dt.datetime
) -> list[str]:
    """Who was in the room at `at` (staff first, then pupils), from the session's log."""
    if session_id is None:
        return []
    try:
        stored = await records.load_session(session_id)
    except SessionNotFoundError:
        return []
    entries = await log.read(session_id)
    before = [e for e in entries if dt.datetime.fromisoformat(e.at) <= at]
    state = replay(stored.plan, stored.policy, before)
    here = [p for p in state.participants.values() if p.status is Status.ADMITTED and p.connected]
    here.sort(key=lambda p: (not p.is_staff, p.name))
    return [p.name for p in here]
