"""Signed checkpoints of the event logs: a witness outside the database.

The keyed chain stops anyone without the server's secret from forging entries, but a copy of
the database can still be put back, or a session's whole log (head and all) deleted with its
session row. A checkpoint records every log's head (last number, hash and time) at one moment,
signed with a key derived from the server secret; it leaves the machine (each school's DSL is
sent theirs daily through the notification outbox, and `safeclass audit checkpoint` writes one
to a file), and `safeclass audit verify --against FILE` then names every log, or tail of a log,
that was there at the checkpoint and is gone or different now. The key-holder (whoever can run
`safeclass audit` with the server's secret) can check the signature; an edited checkpoint fails.

The checkpoint is a block of text that survives an email: the DSL can save the message as it
came and pass that file to `--against`. The schools, their DSLs and sessions are read, and the
letters queued, through `CheckpointRecords` (on the database:
`safeclass.adapters.store.checkpoints`).
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

from safeclass.app.alerts import notification_row
from safeclass.app.event_store import EventStore, HeadRecord

CHECKPOINT_KEY = "log-checkpoint"  # the name of the signing key, derived from the server secret
BEGIN = "-----BEGIN SAFECLASS LOG CHECKPOINT-----"
END = "-----END SAFECLASS LOG CHECKPOINT-----"
NOTIFICATION_KIND = "log_checkpoint"
ALL = "all"  # the scope of a checkpoint of every school's logs


@dataclass(frozen=True, slots=True)
class SchoolDsls:
    """A school and the addresses of its DSLs (every active account with the role)."""

    school_id: str
    name: str
    emails: list[str]


class CheckpointRecords(Protocol):
    """What a checkpoint needs of the records, and where its letters go."""

    async def school_sessions(self, school_id: str) -> set[str]:
        """The ids of every session of the school."""

    async def schools_with_dsls(self) -> list[SchoolDsls]:
        """Every school, with its DSLs' addresses."""

    async def queue(self, rows: Sequence[Mapping[str, object]]) -> None:
        """Put these notifications (`alerts.notification_row`) in the outbox, in one
        transaction."""


class CheckpointError(ValueError):
    """A file that holds no readable checkpoint."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    made_at: str
    scope: str  # ALL, or the school id whose logs it covers
    heads: tuple[HeadRecord, ...]
    signature: str

    def body(self) -> dict[str, object]:
        return {
            "version": 1,
            "made_at": self.made_at,
            "scope": self.scope,
            "heads": [
                [h.session_id, h.last_seq, h.last_hash, h.legacy_seq, h.last_at] for h in self.heads
            ],
        }

    def signed_by(self, key: bytes) -> bool:
        return hmac.compare_digest(self.signature, _sign(key, self.body()))


def make_checkpoint(
    heads: list[HeadRecord], made_at: dt.datetime, key: bytes, scope: str = ALL
) -> Checkpoint:
    unsigned = Checkpoint(made_at.isoformat(), scope, tuple(heads), "")
    return Checkpoint(unsigned.made_at, scope, unsigned.heads, _sign(key, unsigned.body()))


def _sign(key: bytes, body: dict[str, object]) -> str:
    material = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hmac.new(key, material.encode(), hashlib.sha256).hexdigest()


def render(checkpoint: Checkpoint) -> str:
    """The checkpoint as a text block, one log per line (short lines survive email)."""
    body = checkpoint.body()
    heads = [
        [h.session_id, h.last_seq, h.last_hash, h.legacy_seq, h.last_at] for h in checkpoint.heads
    ]
    lines = [BEGIN, "{"]
    lines += [f'"{k}": {json.dumps(v)},' for k, v in body.items() if k != "heads"]
    lines.append('"heads": [')
    lines += [json.dumps(h) + ("," if i < len(heads) - 1 else "") for i, h in enumerate(heads)]
    lines += ["],", f'"signature": "{checkpoint.signature}"', "}", END]
    return "\n".join(lines) + "\n"


def parse(text: str) -> Checkpoint:
    """The checkpoint in `text` (a file it was saved to, or a whole email that carried it)."""
    try:
        return _parse(text)
    except CheckpointError:
        body = _email_text(text)
        if body is None:
            raise
        return _parse(body)


def _email_text(text: str) -> str | None:
    """The plain-text body of a saved email (its lines may be encoded for transport)."""
    message = email.message_from_string(text, policy=email.policy.default)
    if not isinstance(message, EmailMessage) or not message.keys():
        return None
    part = message.get_body(preferencelist=("plain",))
    return str(part.get_content()) if part is not None else None


def _parse(text: str) -> Checkpoint:
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        raise CheckpointError("no safeclass log checkpoint in it (no BEGIN/END lines)")
    inner = "\n".join(
        line.strip().lstrip(">").strip() for line in text[start + len(BEGIN) : end].splitlines()
    )
    try:
        data = json.loads(inner)
        heads = tuple(
            HeadRecord(str(sid), int(seq), str(last), legacy, at)
            for sid, seq, last, legacy, at in data["heads"]
        )
        return Checkpoint(str(data["made_at"]), str(data["scope"]), heads, str(data["signature"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"its checkpoint is damaged and cannot be read ({exc})") from None


async def school_heads(
    records: CheckpointRecords, log: EventStore, school_id: str
) -> list[HeadRecord]:
    """The heads of one school's logs: its sessions' and its own journal's."""
    ids = await records.school_sessions(school_id)
    ids.add(school_id)
    return [h for h in await log.heads() if h.session_id in ids]


async def send_checkpoints(
    records: CheckpointRecords, log: EventStore, key: bytes, now: dt.datetime
) -> int:
    """Put each school's signed checkpoint in the outbox for its DSLs; how many were queued."""
    rows: list[dict[str, object]] = []
    for school in await records.schools_with_dsls():
        if not school.emails:
            continue
        heads = await school_heads(records, log, school.school_id)
        checkpoint = make_checkpoint(heads, now, key, school.school_id)
        body = _letter(school.name, checkpoint)
        subject = f"[safeclass] Records checkpoint for {school.name}, {now:%d %b %Y}"
        rows += [
            notification_row(school.school_id, None, NOTIFICATION_KIND, email, subject, body, now)
            for email in school.emails
        ]
    if rows:
        await records.queue(rows)
    return len(rows)


def _letter(school: str, checkpoint: Checkpoint) -> str:
    return (
        f"This is {school}'s safeclass records checkpoint of {checkpoint.made_at}: where each "
        f"session's log stood ({len(checkpoint.heads)} logs).\n\n"
        "Please keep this email. Nothing in it identifies a pupil. If records are ever "
        "questioned, an administrator saves it to a file and runs\n"
        "    safeclass audit verify --against FILE\n"
        "which names any log, or part of one, that was there today and is missing or changed "
        "later.\n\n" + render(checkpoint)
    )
