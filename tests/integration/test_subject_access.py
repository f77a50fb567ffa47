"""Subject access and erasure (UK GDPR arts. 15 and 17): one pupil's archive, and erasing it.

The archive holds every kind of record about the pupil and nothing of a classmate's, never a
link's token; erasure takes what the law allows, keeps a safeguarding record until its date and
says so, leaves every session log verifying, and journals itself without the content.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from safeclass.adapters.store.deliveries import StoreDeliveries
from safeclass.adapters.store.erasure import StoreErasure
from safeclass.adapters.store.event_log import EventLog
from safeclass.adapters.store.pupil_files import StorePupilFiles
from safeclass.adapters.store.records import StoreRecords
from safeclass.adapters.store.resources import StoreResources
from safeclass.adapters.store.school_records import add_staff
from safeclass.adapters.store.tables import (
    Concern,
    ConsentRecord,
    Guardian,
    Invitation,
    Notification,
    ParentReport,
    Pupil,
    PupilPass,
    Recording,
    Session,
    SessionPupil,
)
from safeclass.app.erasure import (
    PUPIL_ERASED,
    ErasureResult,
    LessonLiveError,
    erase_pupil,
    plan_erasure,
)
from safeclass.app.log_audit import audit_all
from safeclass.app.reports.loading import session_report
from safeclass.app.subject_access import export_pupil
from safeclass.cli.main import app
from tests.integration.subject_world import CLASSMATES_ONLY, TOKEN_HASHES, subject_world
from tests.support.keys import chain_key_for

NOW = dt.datetime(2027, 3, 1, 9, 0, tzinfo=dt.UTC)
FILES = {
    "summary.html",
    "pupil.json",
    "guardians.json",
    "consent.json",
    "invitations.csv",
    "attendance.csv",
    "events.json",
    "chat.csv",
    "notes.json",
    "concerns.json",
    "parent_reports.json",
    "recordings.csv",
    "notices_to_parents.json",
}


def _unzip(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {name: z.read(name).decode("utf-8") for name in z.namelist()}


async def _erase(engine: AsyncEngine, log: EventLog, pupil_id: str, by: str) -> ErasureResult:
    """Erase what the law allows about the pupil now, as the DSL's page does."""
    return await erase_pupil(
        engine,
        log,
        pupil_id,
        None,
        by,
        NOW,
        files=StorePupilFiles(engine),
        records=StoreErasure(engine),
    )


async def _count(engine: AsyncEngine, table: type, *where: object) -> int:
    async with engine.connect() as conn:
        found = await conn.scalar(select(func.count()).select_from(table).where(*where))  # type: ignore[arg-type]
        return int(found or 0)


# covers: C17, C16, C14
async def test_the_archive_holds_every_kind_of_record_of_the_pupil_and_nothing_of_another(
    engine: AsyncEngine, tmp_path: Path
):
    world = await subject_world(engine, tmp_path, chain_key_for(tmp_path))
    archive = await export_pupil(engine, StorePupilFiles(engine), "p1", now=NOW)
    files = _unzip(archive.data)
    assert set(files) == FILES
    everything = "\n".join(files.values())
    summary = files["summary.html"]

    assert json.loads(files["pupil.json"])["forename"] == "Amelia"
    assert json.loads(files["guardians.json"]) == [
        {"name": "Mrs Roberts", "email": "roberts@example.com", "phone": "07700 900001"}
    ]
    assert json.loads(files["consent.json"])[0]["basis"] == "implied"
    invitations = files["invitations.csv"]
    assert "Year 2 Maths" in invitations and "2026-11-24 09:57" in invitations  # first opened
    assert "removed" in files["attendance.csv"] and "Shouting at a classmate" in summary
    assert "My cat is called Biscuit" in files["chat.csv"]
    notes = json.loads(files["notes.json"])
    assert [n["text"] for n in notes] == ["Amelia shouted at [another pupil]"]
    concerns = json.loads(files["concerns.json"])
    assert [c["account"] for c in concerns] == [
        "An old worry, long resolved",
        "Amelia said [another pupil]'s brother hit her",
        "Both children were upset after the lesson",  # about her and a classmate
    ]
    # what was added since comes with its concern, with classmates' names taken out too
    assert [a["text"] for a in concerns[1]["additions"]] == [
        "Spoke to [another pupil]'s mum on the phone"
    ]
    assert "Spoke to [another pupil]" in summary
    assert "2044-11-24" in files["concerns.json"]
    assert json.loads(files["parent_reports.json"])[0]["message"] == "The sound did not work"
    assert "rec1" in files["recordings.csv"] and "rec2" not in everything
    notices = json.loads(files["notices_to_parents.json"])
    assert [n["to"] for n in notices] == ["roberts@example.com"]
    kinds = {e["type"] for e in json.loads(files["events.json"])}
    assert {
        "PupilWaiting",
        "PupilAdmitted",
        "ChatPosted",
        "LogNoteAdded",
        "ConcernRaised",
        "SpeakingAllowed",
        "PupilRemoved",
    } <= kinds
    assert "Amelia Roberts admitted by" in summary

    # nothing of a classmate's: no name, no message, no id, and no link's token anywhere
    for words in CLASSMATES_ONLY:
        assert words not in everything, words
    assert '"p2"' not in everything and '"p3"' not in everything
    for token in TOKEN_HASHES:
        assert token not in everything
    assert archive.filename.startswith("subject-access-Amelia-Roberts-")
    del world


# covers: C16, C17
async def test_erasure_takes_what_the_law_allows_keeps_safeguarding_and_the_logs_verify(
    engine: AsyncEngine, tmp_path: Path
):
    world = await subject_world(engine, tmp_path, chain_key_for(tmp_path))
    plan = await plan_erasure(
        engine, "p1", None, NOW.date(), files=StorePupilFiles(engine), records=StoreErasure(engine)
    )
    assert plan.keep_record and [k.kind for k in plan.kept] == [
        "safeguarding concerns",
        "concerns and alerts in the lessons' logs",
        "name, date of birth and MIS number",
        "recordings of a lesson with a concern",
    ]
    assert plan.kept[0].until == dt.date(2044, 11, 24)

    result = await _erase(engine, world.log, "p1", "dsl-1")
    assert result.problems == ()
    erased = result.plan.erase
    assert erased["guardians"] == 1 and erased["parents' reports"] == 1
    assert erased["log: chat messages"] == 1 and erased["notices to parents"] == 1
    assert erased["concerns past their retention date"] == 1
    for table, where in (
        (Guardian, Guardian.pupil_id == "p1"),
        (ConsentRecord, ConsentRecord.pupil_id == "p1"),
        (Invitation, Invitation.pupil_id == "p1"),
        (PupilPass, PupilPass.pupil_id == "p1"),
        (ParentReport, ParentReport.pupil_id == "p1"),
        (
            SessionPupil,
            (SessionPupil.pupil_id == "p1") & (SessionPupil.shown_name != "Erased pupil"),
        ),
        (Notification, Notification.recipient == "roberts@example.com"),
        (Concern, Concern.id == "con-old"),
    ):
        assert await _count(engine, table, where) == 0, table
    # the concern before its date stays, and who it is about, off every class list
    assert await _count(engine, Concern, Concern.id == "con-kept") == 1
    async with engine.connect() as conn:
        kept = (await conn.execute(select(Pupil).where(Pupil.id == "p1"))).one()
    assert (kept.forename, kept.class_id) == ("Amelia", None)
    # the classmates' records are untouched
    assert await _count(engine, Guardian, Guardian.pupil_id == "p2") == 1
    assert await _count(engine, ParentReport, ParentReport.pupil_id == "p2") == 1
    # a recording of the lesson with a kept concern is kept until its own day
    assert await _count(engine, Recording, Recording.deleted_at.is_(None)) == 2

    entries = await world.log.read(world.session_id)
    text = json.dumps([e.payload for e in entries])
    assert "Biscuit" not in text and "Amelia shouted" not in text and "Shouting at" not in text
    assert "I live at 4 Elm Road" in text  # a classmate's line is not the pupil's to erase
    assert "brother hit her" in text  # the concern's entry stays with the concern
    assert (await world.log.verify(world.session_id)).ok
    audit = await audit_all(StoreRecords(engine), world.log, NOW)
    assert audit.ok, [r.problems for r in audit.reports if not r.ok]

    journal = [e for e in await world.log.read(world.school_id) if e.type == PUPIL_ERASED]
    assert len(journal) == 1
    said = json.dumps(journal[0].payload)
    assert journal[0].payload["by"] == "dsl-1"
    assert journal[0].payload["erased"]["guardians"] == 1
    assert journal[0].payload["kept"]["safeguarding concerns"]["until"] == "2044-11-24"
    for content in ("Amelia", "Roberts", "roberts@example.com", "Biscuit", "p1"):
        assert content not in said


# covers: C17
async def test_a_pupil_with_no_safeguarding_record_is_erased_entirely(
    engine: AsyncEngine, tmp_path: Path
):
    world = await subject_world(engine, tmp_path, chain_key_for(tmp_path))
    result = await _erase(engine, world.log, "p3", "head-1")
    assert result.plan.kept == [] and result.plan.erase["school record"] == 1
    async with engine.connect() as conn:
        emptied = (await conn.execute(select(Pupil).where(Pupil.id == "p3"))).one()
        on_list = await conn.scalar(
            select(SessionPupil.shown_name).where(SessionPupil.pupil_id == "p3")
        )
    assert (emptied.forename, emptied.surname, emptied.mis_id, emptied.date_of_birth) == (
        "Erased",
        "pupil",
        None,
        None,
    )
    assert on_list == "Erased pupil"  # the lesson that happened keeps its class list whole
    assert (await world.log.verify(world.session_id)).ok
    # asked twice (a second tab): nothing more to erase, and it says so
    again = await _erase(engine, world.log, "p3", "head-1")
    assert again.plan.erase == {}
    # the lesson's register still adds up, and names them no more
    report = await session_report(
        engine,
        StoreRecords(engine),
        EventLog(engine),
        world.session_id,
        resources=StoreResources(engine),
        deliveries=StoreDeliveries(engine),
    )
    assert [p.name for p in report.register.pupils] == ["Amelia R.", "Erased pupil", "Oliver S."]


def _cli(*args: str) -> object:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


# covers: C17
def test_the_cli_exports_then_erases_and_says_what_was_kept(tmp_path: Path, db_url: str):
    import asyncio

    from safeclass.adapters.store import connect

    async def make() -> str:
        engine = connect(db_url)
        try:
            world = await subject_world(engine, tmp_path, chain_key_for(tmp_path))
            async with engine.begin() as conn:
                await add_staff(
                    conn, world.school_id, name="Ms Lead", email="dsl@example.com", role="dsl"
                )
                await add_staff(
                    conn, world.school_id, name="Mr Class", email="t@example.com", role="teacher"
                )
            return world.school_id
        finally:
            await engine.dispose()

    asyncio.run(make())
    where = ["--database-url", db_url, "--data-dir", str(tmp_path)]
    out = tmp_path / "amelia.zip"
    done = _cli("pupil", "export", "p1", "--out", str(out), *where)
    assert done.exit_code == 0, done.output  # type: ignore[attr-defined]
    assert "summary.html" in _unzip(out.read_bytes())
    for nobody in ("nobody@example.com", "t@example.com"):
        refused = _cli("pupil", "erase", "p1", "--by", nobody, "--yes", *where)
        assert refused.exit_code == 1  # type: ignore[attr-defined]
    erased = _cli("pupil", "erase", "p1", "--by", "dsl@example.com", "--yes", *where)
    said = erased.output  # type: ignore[attr-defined]
    assert erased.exit_code == 0, said  # type: ignore[attr-defined]
    assert "Erased" in said and "Kept" in said and "2044-11-24" in said
    verified = _cli("audit", "verify", *where)
    assert verified.exit_code == 0, verified.output  # type: ignore[attr-defined]


# covers: C17
async def test_a_pupil_in_a_live_lesson_is_not_erased_until_it_has_ended(
    engine: AsyncEngine, tmp_path: Path
):
    world = await subject_world(engine, tmp_path, chain_key_for(tmp_path))
    async with engine.begin() as conn:
        await conn.execute(
            update(Session).where(Session.id == world.session_id).values(status="live")
        )
    with pytest.raises(LessonLiveError):
        await _erase(engine, world.log, "p2", "dsl-1")
    assert await _count(engine, Guardian, Guardian.pupil_id == "p2") == 1
