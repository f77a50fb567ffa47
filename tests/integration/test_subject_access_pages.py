"""The DSL's and head's pages for a pupil's records over real HTTP: what is held, the archive,
and erasure with its confirm step, in English and Welsh (UK GDPR arts. 15 and 17)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from safeclass.adapters.auth.logins import csrf_token
from safeclass.adapters.store.tables import Guardian, Pupil
from safeclass.app.clock import AdjustableClock
from safeclass.app.erasure import PUPIL_ERASED
from safeclass.app.subject_access import SUBJECT_ACCESS_EXPORTED
from tests.integration.live import LiveServer, running, staff_cookie
from tests.integration.subject_world import CLASSMATES_ONLY, SubjectWorld, subject_world
from tests.integration.test_pages import main_text
from tests.support.keys import chain_key_for
from tests.support.rooms import START

PAGE = {"Accept": "text/html"}


@pytest.fixture
async def server(db_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    live = LiveServer(db_url, tmp_path, AdjustableClock(START + dt.timedelta(days=2)))
    async with running(live):
        yield live


async def _world(server: LiveServer) -> SubjectWorld:
    data_dir = server.settings.data_dir
    return await subject_world(server.services.engine, data_dir, chain_key_for(data_dir))


async def _as(server: LiveServer, school_id: str, role: str) -> httpx.AsyncClient:
    _, cookie = await staff_cookie(server.services, school_id, role, f"Ms {role.title()}")
    return httpx.AsyncClient(
        base_url=server.url,
        headers={**PAGE, "Origin": server.url, "Cookie": cookie},
        timeout=15,
    )


def _csrf(http: httpx.AsyncClient) -> str:
    return csrf_token(http.headers["Cookie"].partition("=")[2])


# covers: C17, C21
async def test_the_dsl_sees_what_is_held_downloads_it_and_erases_with_a_confirm_step(
    server: LiveServer,
):
    world = await _world(server)
    async with await _as(server, world.school_id, "dsl") as dsl:
        page = await dsl.get("/staff/pupils/p1/records")
        assert page.status_code == 200
        text = main_text(page.text)
        assert "Records held about Amelia Roberts" in text
        assert "Parents and carers 1" in text and "Safeguarding concerns 3" in text
        assert 'href="/staff/pupils/p1/records.zip"' in page.text

        archive = await dsl.get("/staff/pupils/p1/records.zip")
        assert archive.status_code == 200
        assert archive.headers["content-type"] == "application/zip"
        assert "subject-access-Amelia-Roberts" in archive.headers["content-disposition"]
        with zipfile.ZipFile(io.BytesIO(archive.content)) as z:
            everything = "\n".join(z.read(n).decode() for n in z.namelist())
        assert "My cat is called Biscuit" in everything
        for words in CLASSMATES_ONLY:
            assert words not in everything

        confirm = await dsl.get("/staff/pupils/p1/erase")
        said = main_text(confirm.text)
        assert "Nothing has been erased yet." in said
        assert "What will be erased Record How many Parents and carers 1" in said
        assert "Safeguarding concerns (3)" not in said  # one is past its date: erased
        assert "Safeguarding concerns (2): kept until 24 November 2044." in said
        async with server.services.engine.connect() as conn:
            assert await conn.scalar(select(func.count()).select_from(Guardian)) == 2

        done = await dsl.post("/staff/pupils/p1/erase", data={"csrf_token": _csrf(dsl)})
        assert done.status_code == 200
        said = main_text(done.text)
        assert "Records of Amelia Roberts erased" in said
        assert "Erased Record How many" in said and "Kept" in said
        assert "kept until 24 November 2044" in said

        # in Welsh, the same page, and the archive's summary too
        cy = await dsl.get("/staff/pupils/p1/records?lang=cy")
        assert "Cofnodion a gedwir am Amelia Roberts" in main_text(cy.text)
        welsh = await dsl.get("/staff/pupils/p1/records.zip?lang=cy")
        with zipfile.ZipFile(io.BytesIO(welsh.content)) as z:
            summary = z.read("summary.html").decode()
        assert '<html lang="cy">' in summary
        assert "Beth mae Claydon" in summary and "yn ei gadw am Amelia Roberts" in summary
    async with server.services.engine.connect() as conn:
        assert (
            await conn.scalar(
                select(func.count()).select_from(Guardian).where(Guardian.pupil_id == "p1")
            )
            == 0
        )
        assert (await conn.execute(select(Pupil.class_id).where(Pupil.id == "p1"))).one() == (None,)
    journal = [e.type for e in await world.log.read(world.school_id)]
    assert journal.count(SUBJECT_ACCESS_EXPORTED) == 2 and journal.count(PUPIL_ERASED) == 1
    assert (await world.log.verify(world.session_id)).ok


# covers: C21
async def test_a_teacher_cannot_reach_a_pupils_records_and_another_pupil_is_not_found(
    server: LiveServer,
):
    world = await _world(server)
    async with await _as(server, world.school_id, "teacher") as teacher:
        for path in ("/staff/pupils/p1/records", "/staff/pupils/p1/records.zip"):
            refused = await teacher.get(path)
            assert refused.status_code == 403
        erase = await teacher.post("/staff/pupils/p1/erase", data={"csrf_token": _csrf(teacher)})
        assert erase.status_code == 403
    async with await _as(server, world.school_id, "head") as head:
        assert (await head.get("/staff/pupils/nobody/records")).status_code == 404
        assert (await head.get("/staff/pupils/p2/records")).status_code == 200
        # no CSRF token: refused, nothing erased
        assert (await head.post("/staff/pupils/p2/erase")).status_code == 403
    async with server.services.engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(Guardian)) == 2
