"""`safeclass audit verify` against someone who can write the database but has not the key.

The attacker here knows the code and the schema (they are public): they rewrite a session's log
and recompute every digest and hash the published way, or claim the log predates keyed chains,
or delete a log whole, or put back an older head from a copy of the database. Each is named.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, text, update
from typer.testing import CliRunner, Result

from safeclass.adapters.store import EventLog, NewEntry, connect, school_records, upgrade
from safeclass.adapters.store.retention import StoreRetention
from safeclass.adapters.store.sessions import create_session, load_session
from safeclass.adapters.store.tables import Session, SessionEvent, SessionLogHead, SessionPupil
from safeclass.app.clock import AdjustableClock
from safeclass.app.retention import run_retention
from safeclass.app.room_log import entries_for
from safeclass.cli.main import app
from safeclass.core import SessionKind, new_room
from safeclass.core import commands as c
from tests.integration.families import MailSink, make_school, parts, schedule
from tests.integration.live import LiveServer
from tests.integration.seed import seed_session
from tests.support.keys import chain_key_for
from tests.support.rooms import START, Driver

DAY = dt.timedelta(days=1)

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


def _legacy_log(db_url: str, session_id: str, n: int) -> None:
    """Entries and a head as the server wrote them before keyed chains (schema 0003)."""

    async def go() -> None:
        engine = connect(db_url)
        try:
            async with engine.begin() as conn:
                prev = "0" * 64
                for seq in range(1, n + 1):
                    payload = json.dumps({"text": f"note {seq}"}, separators=(",", ":"))
                    digest = hashlib.sha256(payload.encode()).hexdigest()
                    this = published_hash(prev, session_id, seq, "LogNoteAdded", AT, digest)
                    await conn.execute(
                        text(
                            "INSERT INTO session_events (session_id, seq, type, at, payload, "
                            "digest, prev_hash, hash, redacted) VALUES (:sid, :seq, "
                            "'LogNoteAdded', :at, :payload, :digest, :prev, :hash, false)"
                        ),
                        {
                            "sid": session_id,
                            "seq": seq,
                            "at": AT,
                            "payload": payload,
                            "digest": digest,
                            "prev": prev,
                            "hash": this,
                        },
                    )
                    prev = this
                await conn.execute(
                    text(
                        "INSERT INTO session_log_heads (session_id, last_seq, last_hash) "
                        "VALUES (:sid, :seq, :hash)"
                    ),
                    {"sid": session_id, "seq": n, "hash": prev},
                )
        finally:
            await engine.dispose()

    asyncio.run(go())


AT = "2026-11-24T10:00:00+00:00"


# covers: CLA-17
def test_logs_from_before_keyed_chains_are_kept_as_they_are_and_said_to_be_older(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0003")  # a school's database before this release
    _legacy_log(url, "old-lesson", 4)
    rec = Recorded(url, tmp_path, "old-lesson")

    upgraded = CliRunner().invoke(
        app, ["db", "upgrade", "--database-url", url, "--data-dir", str(tmp_path)]
    )
    assert upgraded.exit_code == 0, upgraded.output
    result = audit(rec, "verify")
    assert result.exit_code == 0, result.output
    assert "OK session old-lesson: 4 events, chain intact; events 1-4 predate keyed chains" in (
        result.output
    )

    async def continue_and_downgrade() -> None:
        engine = connect(url)
        try:
            log = EventLog(engine, chain_key_for(tmp_path))
            await log.append("old-lesson", [NewEntry("LogNoteAdded", AT, {"text": "note 5"})])
            assert (await log.verify("old-lesson")).ok  # keyed from 5 on
            await log.append("new-lesson", [NewEntry("LogNoteAdded", AT, {"text": "new"})])
        finally:
            await engine.dispose()

    asyncio.run(continue_and_downgrade())
    assert audit(rec, "verify").exit_code == 0
    # a log begun after the upgrade cannot be passed off as an older one
    rewrite(Recorded(url, tmp_path, "new-lesson"), lambda rows: rows, claim_old=True)
    # nor can an old one's keyed continuation
    rewrite(rec, lambda rows: rows, claim_old=True)
    result = audit(rec, "verify")
    assert result.exit_code == 1, result.output
    assert "ALTERED session new-lesson" in result.output
    assert "ALTERED session old-lesson" in result.output
    assert result.output.count("its seal does not match") == 2


# covers: CLA-17
def test_upgrading_a_database_with_logs_needs_the_servers_secret(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0003")
    _legacy_log(url, "old-lesson", 2)
    with pytest.raises(RuntimeError, match="needs the server's secret"):
        upgrade(url)


# covers: CLA-17
def test_an_edited_checkpoint_is_refused_and_a_log_deleted_with_its_session_is_named(
    db_url: str, tmp_path: Path
) -> None:
    rec = record(db_url, tmp_path)
    checkpoint = tmp_path / "checkpoint.txt"
    assert audit(rec, "checkpoint", "--out", str(checkpoint)).exit_code == 0
    same = audit(rec, "verify", "--against", str(checkpoint))
    assert same.exit_code == 0, same.output
    assert "all still there" in same.output

    forged = tmp_path / "forged.txt"
    forged.write_text(checkpoint.read_text().replace(rec.session_id, "another-session"))
    refused = audit(rec, "verify", "--against", str(forged))
    assert refused.exit_code == 1
    assert "does not carry this server's signature" in refused.output
    garbled = tmp_path / "garbled.txt"
    garbled.write_text("Dear DSL, here is nothing")
    assert (
        "no safeclass log checkpoint in it"
        in audit(rec, "verify", "--against", str(garbled)).output
    )

    async def delete_everything_of_the_session() -> None:
        engine = connect(rec.url)
        sid = rec.session_id
        try:
            async with engine.begin() as conn:
                for table in (SessionEvent, SessionLogHead):
                    await conn.execute(delete(table).where(table.session_id == sid))
                await conn.execute(delete(SessionPupil).where(SessionPupil.session_id == sid))
                await conn.execute(delete(Session).where(Session.id == sid))
        finally:
            await engine.dispose()

    asyncio.run(delete_everything_of_the_session())
    result = audit(rec, "verify", "--against", str(checkpoint))
    assert result.exit_code == 1, result.output
    assert f"SINCE CHECKPOINT {rec.session_id}" in result.output
    assert "its whole log is missing since the checkpoint of" in result.output


# covers: CLA-17, C16
async def test_the_dsl_is_sent_a_checkpoint_that_verify_reads_from_the_saved_email(
    db_url: str, tmp_path: Path, mail: MailSink
) -> None:
    server = await LiveServer(
        db_url,
        tmp_path,
        AdjustableClock(START - DAY),
        smtp_host="127.0.0.1",
        smtp_port=mail.port,
        outbox_every_seconds=0.1,
    ).start()
    try:
        services = server.services
        school = await make_school(services, "claydon")
        async with services.engine.begin() as conn:
            await school_records.add_staff(
                conn, school.id, name="Ms Patel", email="dsl@school.test", role="dsl"
            )
        session_id = await schedule(server, school)
        await services.event_log.append(
            session_id, [NewEntry("LogNoteAdded", AT, {"text": "register taken"})]
        )
        assert services.housekeeping is not None
        assert await services.housekeeping.send_checkpoints() == 1
        (message,) = await mail.wait_for(1)
    finally:
        await server.stop()
    assert message["To"] == "dsl@school.test"
    assert str(message["Subject"]).strip().startswith("[safeclass] Records checkpoint for")
    plain, _ = parts(message)
    assert session_id in plain and "register taken" not in plain
    saved = tmp_path / "checkpoint.eml"
    saved.write_bytes(bytes(message))  # the email as it came, encoded for transport
    rec = Recorded(db_url, tmp_path, session_id)
    result = await asyncio.to_thread(audit, rec, "verify", "--against", str(saved))
    assert result.exit_code == 0, result.output
    assert "Against the checkpoint of" in result.output and "all still there" in result.output


# covers: CLA-17
def test_a_log_deleted_by_retention_is_not_called_missing_and_a_never_opened_session_is_named(
    db_url: str, tmp_path: Path
) -> None:
    rec = record(db_url, tmp_path)

    async def retention_and_an_unopened_session() -> str:
        engine = connect(db_url)
        try:
            log = EventLog(engine, chain_key_for(tmp_path))
            report = await run_retention(
                StoreRetention(engine), dt.datetime.now(dt.UTC) + 500 * DAY, log
            )
            assert report.session_logs_deleted == 1
            async with engine.begin() as conn:
                school_id, version_id = (
                    await conn.execute(
                        select(Session.school_id, Session.policy_version_id).where(
                            Session.id == rec.session_id
                        )
                    )
                ).one()
                return await create_session(
                    conn,
                    school_id=school_id,
                    policy_version_id=version_id,
                    kind=SessionKind.CLASS,
                    title="Nobody came",
                    starts_at=START,
                    minutes=30,
                    pupils=[],
                )
        finally:
            await engine.dispose()

    unopened = asyncio.run(retention_and_an_unopened_session())
    result = audit(rec, "verify")
    assert result.exit_code == 0, result.output
    assert rec.session_id not in result.output  # deleted on its day, and journalled
    assert "OK school journal" in result.output
    assert f"NO LOG {unopened}: its start has passed but its room never opened" in result.output


# covers: CLA-17
def test_the_secret_is_made_private_and_audit_never_makes_a_new_one(
    db_url: str, tmp_path: Path
) -> None:
    rec = record(db_url, tmp_path / "server")
    secret = tmp_path / "server" / "secret.key"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    elsewhere = Recorded(db_url, tmp_path / "elsewhere", rec.session_id)
    result = audit(elsewhere, "verify")
    assert result.exit_code == 1
    assert "no server secret at" in result.output
    assert not (tmp_path / "elsewhere" / "secret.key").exists()
    secret.chmod(0o644)
    result = audit(rec, "verify")
    assert result.exit_code == 1
    assert "can be read by other users" in result.output
