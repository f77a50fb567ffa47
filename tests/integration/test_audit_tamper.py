"""`safeclass audit verify` against someone who can write the database but has not the key.

The attacker here knows the code and the schema (they are public): they rewrite a session's log
and recompute every digest and hash the published way, or claim the log predates keyed chains,
or delete a log whole, or put back an older head from a copy of the database. Each is named.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, update
from typer.testing import CliRunner, Result

from safeclass.adapters.store import EventLog, connect
from safeclass.adapters.store.sessions import load_session
from safeclass.adapters.store.tables import Session, SessionEvent, SessionLogHead
from safeclass.app.room_log import entries_for
from safeclass.cli.main import app
from safeclass.core import commands as c
from safeclass.core import new_room
from tests.integration.seed import seed_session
from tests.support.keys import chain_key_for
from tests.support.rooms import Driver

Row = dict[str, Any]


@dataclass(frozen=True)
class Recorded:
    url: str
    data_dir: Path
    session_id: str
    older_head: Row | None = None  # the head row before the held-back entries were appended


def record(db_url: str, data_dir: Path, hold_back: int = 0) -> Recorded:
    """A lesson as the server records it: a concern raised, a pupil removed, then ended.

    With `hold_back`, the last entries are appended separately (so an older head exists).
    """

    async def go() -> Recorded:
        engine = connect(db_url)
        try:
            session_id = await seed_session(engine, "claydon", pupils=3)
            stored = await load_session(engine, session_id)
            driver = Driver(new_room(stored.plan, stored.policy))
            driver.class_in(["p1", "p2", "p3"])
            driver.ok(c.RaiseConcern("t1", "p2 says an adult at home hurts them", "p2"))
            driver.ok(c.Remove("t1", "p3", "shared a stranger's video"))
            driver.ok(c.EndSession("t1"))
            entries = entries_for(driver.log)
            log = EventLog(engine, chain_key_for(data_dir))
            cut = len(entries) - hold_back
            await log.append(session_id, entries[:cut])
            older = None
            if hold_back:
                async with engine.connect() as conn:
                    head = SessionLogHead.__table__.c  # type: ignore[attr-defined]
                    older = dict((await conn.execute(select(*head))).one()._mapping)
                    older.pop("session_id")
                await log.append(session_id, entries[cut:])
            async with engine.begin() as conn:
                await conn.execute(
                    update(Session).where(Session.id == session_id).values(status="ended")
                )
            return Recorded(db_url, data_dir, session_id, older)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def audit(rec: Recorded, *args: str) -> Result:
    return CliRunner().invoke(
        app, ["audit", *args, "--database-url", rec.url, "--data-dir", str(rec.data_dir)]
    )


def published_hash(prev: str, session_id: str, seq: int, kind: str, at: str, digest: str) -> str:
    """The chain as it was published before keyed chains: anyone can compute it."""
    return hashlib.sha256(
        "\n".join((prev, session_id, str(seq), kind, at, digest)).encode()
    ).hexdigest()


def rewrite(rec: Recorded, change: Callable[[list[Row]], list[Row]], claim_old: bool) -> None:
    """Change a session's log, renumber it, recompute every digest and hash, move the head."""

    async def go() -> None:
        engine = connect(rec.url)
        sid = rec.session_id
        try:
            async with engine.begin() as conn:
                columns = SessionEvent.__table__.c  # type: ignore[attr-defined]
                found = await conn.execute(
                    select(*columns).where(columns.session_id == sid).order_by(columns.seq)
                )
                rows = change([dict(r._mapping) for r in found])
                await conn.execute(delete(SessionEvent).where(SessionEvent.session_id == sid))
                prev = "0" * 64
                for seq, row in enumerate(rows, start=1):
                    row.pop("id")
                    row["seq"] = seq
                    row["digest"] = hashlib.sha256(row["payload"].encode()).hexdigest()
                    row["prev_hash"] = prev
                    row["hash"] = prev = published_hash(
                        prev, sid, seq, row["type"], row["at"], row["digest"]
                    )
                await conn.execute(insert(SessionEvent), rows)
                await conn.execute(
                    update(SessionLogHead)
                    .where(SessionLogHead.session_id == sid)
                    .values(
                        last_seq=len(rows),
                        last_hash=prev,
                        legacy_seq=len(rows) if claim_old else None,
                    )
                )
        finally:
            await engine.dispose()

    asyncio.run(go())


def drop_tail(rows: list[Row]) -> list[Row]:
    return rows[:-2]


def edit_concern(rows: list[Row]) -> list[Row]:
    for row in rows:
        if row["type"] == "ConcernRaised":
            payload = json.loads(row["payload"])
            payload["summary"] = "p2 was a bit upset"
            row["payload"] = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return rows


def drop_removal(rows: list[Row]) -> list[Row]:
    return [row for row in rows if row["type"] != "PupilRemoved"]


@pytest.mark.parametrize("claim_old", [False, True], ids=["keyed-shape", "claims-pre-keyed"])
@pytest.mark.parametrize("change", [drop_tail, edit_concern, drop_removal])
# covers: CLA-17, C15, C16
def test_a_log_rewritten_without_the_key_is_named_by_audit_verify(
    db_url: str, tmp_path: Path, change: Callable[[list[Row]], list[Row]], claim_old: bool
) -> None:
    rec = record(db_url, tmp_path)
    before = audit(rec, "verify")
    assert before.exit_code == 0, before.output
    assert f"OK session {rec.session_id}" in before.output

    rewrite(rec, change, claim_old)

    for args in (("verify",), ("verify", rec.session_id)):
        result = audit(rec, *args)
        assert result.exit_code == 1, result.output
        assert f"ALTERED session {rec.session_id}" in result.output
        assert "without the server's key" in result.output


# covers: CLA-17
def test_a_whole_log_deleted_is_named_when_every_session_is_verified(
    db_url: str, tmp_path: Path
) -> None:
    rec = record(db_url, tmp_path)

    async def delete_log() -> None:
        engine = connect(rec.url)
        try:
            async with engine.begin() as conn:
                sid = rec.session_id
                await conn.execute(delete(SessionEvent).where(SessionEvent.session_id == sid))
                await conn.execute(delete(SessionLogHead).where(SessionLogHead.session_id == sid))
        finally:
            await engine.dispose()

    asyncio.run(delete_log())
    result = audit(rec, "verify")
    assert result.exit_code == 1, result.output
    assert f"ALTERED session {rec.session_id}: 0 events" in result.output
    assert "its whole log is missing: the session is ended" in result.output
    one = audit(rec, "verify", rec.session_id)
    assert one.exit_code == 1
    assert f"no event log for session {rec.session_id}" in one.output


@pytest.mark.parametrize("what", ["head", "entries"])
# covers: CLA-17
def test_a_deleted_head_or_deleted_entries_are_named(
    db_url: str, tmp_path: Path, what: str
) -> None:
    rec = record(db_url, tmp_path)

    async def delete_part() -> None:
        engine = connect(rec.url)
        table = SessionLogHead if what == "head" else SessionEvent
        try:
            async with engine.begin() as conn:
                await conn.execute(delete(table).where(table.session_id == rec.session_id))
        finally:
            await engine.dispose()

    asyncio.run(delete_part())
    result = audit(rec, "verify")
    assert result.exit_code == 1, result.output
    expected = "head record is missing" if what == "head" else "deleted from the end of the log"
    assert expected in result.output


# covers: CLA-17
def test_a_tail_deleted_with_an_older_head_put_back_is_named_against_a_checkpoint(
    db_url: str, tmp_path: Path
) -> None:
    rec = record(db_url, tmp_path, hold_back=2)
    assert rec.older_head is not None  # the head as it was before the last two entries
    checkpoint = tmp_path / "checkpoint.txt"
    made = audit(rec, "checkpoint", "--out", str(checkpoint))
    assert made.exit_code == 0, made.output
    assert "Checkpoint of 1 logs written" in made.output
    n = rec.older_head["last_seq"] + 2

    async def cut_tail_and_put_back_the_older_head() -> None:
        engine = connect(rec.url)
        sid = rec.session_id
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    delete(SessionEvent).where(
                        SessionEvent.session_id == sid, SessionEvent.seq > n - 2
                    )
                )
                await conn.execute(
                    update(SessionLogHead)
                    .where(SessionLogHead.session_id == sid)
                    .values(**rec.older_head)
                )
        finally:
            await engine.dispose()

    asyncio.run(cut_tail_and_put_back_the_older_head())
    result = audit(rec, "verify", "--against", str(checkpoint))
    assert result.exit_code == 1, result.output
    assert f"event {n - 1}-{n} deleted since the checkpoint" in result.output
