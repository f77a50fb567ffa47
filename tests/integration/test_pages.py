"""The staff's first pages over real HTTP: sign-in by the page's form, the staff home, sign-out,
the strict Content-Security-Policy, and English or Welsh (C21; issue 10).

The browser itself (focus, keyboard, what loads) is tests/e2e's; here each answer is checked as a
browser would receive it, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update

from safeclass.adapters.auth.identity import STAFF_COOKIE
from safeclass.adapters.auth.passwords import hash_password
from safeclass.adapters.store.tables import Staff
from safeclass.app.clock import AdjustableClock
from tests.integration.families import School, make_school, schedule
from tests.integration.live import LiveServer, running, staff_cookie
from tests.support.rooms import START

PASSWORD = "correct horse battery staple"  # noqa: S105 (a test account's)
PAGE = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


@pytest.fixture
async def server(db_url: str, tmp_path: Path) -> AsyncIterator[LiveServer]:
    # Tuesday 09:10 in London: the school's 10:00 lesson is today
    live = LiveServer(db_url, tmp_path, AdjustableClock(START - dt.timedelta(minutes=50)))
    async with running(live):
        yield live


async def with_password(server: LiveServer, staff_id: str) -> str:
    """Give a member of staff a password; returns their email (their sign-in)."""
    email = f"{staff_id[:8]}@school.test"
    async with server.services.engine.begin() as conn:
        await conn.execute(
            update(Staff).where(Staff.id == staff_id).values(password_hash=hash_password(PASSWORD))
        )
    return email


def browser(server: LiveServer, **headers: str) -> httpx.AsyncClient:
    """A client that sends what a browser's form on our page sends."""
    return httpx.AsyncClient(
        base_url=server.url, headers={**PAGE, "Origin": server.url, **headers}, timeout=15
    )


def main_text(html: str) -> str:
    main = html[html.index("<main") : html.index("</main>")]
    return " ".join(re.sub(r"<[^>]+>", " ", main).split())


# covers: C21
async def test_a_teacher_signs_in_with_the_form_and_sees_todays_sessions_they_are_on(
    server: LiveServer,
):
    school = await make_school(server.services)
    email = await with_password(server, school.teacher_id)
    ours = await schedule(server, school, starts_at=START, title="Year 2 Maths")
    await schedule(server, school, starts_at=START + dt.timedelta(days=1), title="Phonics")
    other_id, other_cookie = await staff_cookie(server.services, school.id, "teacher", "Mr Ray")
    theirs = School(**{**school.__dict__, "teacher_id": other_id, "teacher_cookie": other_cookie})
    await schedule(server, theirs, starts_at=START + dt.timedelta(hours=1), title="Year 3 Art")

    async with browser(server) as http:
        signed = await http.post(
            "/auth/login", data={"email": email, "school": school.key, "password": PASSWORD}
        )
        assert signed.status_code == 303
        assert signed.headers["location"] == "/staff"
        assert STAFF_COOKIE in http.cookies
        home = await http.get("/staff")

    assert home.status_code == 200
    text = main_text(home.text)
    assert "Signed in as Mrs Khan" in text
    assert "Year 2 Maths" in text
    assert "10:00 to 10:30" in text
    assert "Starts in 50 minutes" in text
    assert f'href="/room/{ours}"' in home.text
    assert "Year 3 Art" not in text  # another teacher's: not on it (the sessions API's rule)
    assert "Phonics" not in text  # tomorrow's


async def test_a_wrong_password_shows_the_sign_in_page_again_with_an_error_summary(
    server: LiveServer,
):
    school = await make_school(server.services)
    email = await with_password(server, school.teacher_id)
    async with browser(server) as http:
        refused = await http.post(
            "/auth/login", data={"email": email, "school": school.key, "password": "wrong"}
        )
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("text/html")
    assert STAFF_COOKIE not in refused.cookies
    assert 'class="error-summary"' in refused.text
    assert '<a href="#email">The email address, school key or password is not right</a>' in (
        refused.text
    )
    assert f'value="{email}"' in refused.text  # what was typed is kept…
    assert "wrong" not in refused.text  # …but never the password


async def test_an_empty_field_is_named_in_the_summary_and_beside_the_field(server: LiveServer):
    async with browser(server) as http:
        refused = await http.post("/auth/login", data={"email": "a@school.test", "school": "x"})
    assert refused.status_code == 400
    assert '<a href="#password">Enter your password</a>' in refused.text
    assert 'id="password-error"' in refused.text
    assert 'aria-describedby="password-error" aria-invalid="true"' in refused.text
    assert "#email" not in refused.text and "#school" not in refused.text


async def test_a_sign_in_form_on_another_site_is_refused_with_a_page_and_signs_nobody_in(
    server: LiveServer,
):
    school = await make_school(server.services)
    email = await with_password(server, school.teacher_id)
    async with browser(server, Origin="https://evil.example") as http:
        refused = await http.post(
            "/auth/login", data={"email": email, "school": school.key, "password": PASSWORD}
        )
    assert refused.status_code == 403
    assert "the form you used came from another site" in refused.text
    assert STAFF_COOKIE not in refused.cookies


async def test_scripts_still_get_json_from_the_same_door(server: LiveServer):
    school = await make_school(server.services)
    email = await with_password(server, school.teacher_id)
    async with httpx.AsyncClient(base_url=server.url) as http:
        signed = await http.post(
            "/auth/login", data={"email": email, "school": school.key, "password": PASSWORD}
        )
    assert signed.status_code == 200
    assert signed.json()["name"] == "Mrs Khan"


async def test_the_sign_out_button_ends_the_login_and_says_so(server: LiveServer):
    school = await make_school(server.services)
    email = await with_password(server, school.teacher_id)
    async with browser(server) as http:
        await http.post(
            "/auth/login", data={"email": email, "school": school.key, "password": PASSWORD}
        )
        home = await http.get("/staff")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', home.text)
        assert csrf is not None
        forged = await http.post("/auth/logout", data={"csrf_token": "forged"})
        assert forged.status_code == 403  # without the page's token, nobody is signed out
        assert (await http.get("/staff")).status_code == 200
        out = await http.post("/auth/logout", data={"csrf_token": csrf.group(1)})
        assert out.status_code == 303
        assert out.headers["location"] == "/sign-in?signed_out=1"
        again = await http.get("/sign-in?signed_out=1")
        assert "You have signed out." in again.text
        http.cookies.clear()
        http.cookies.set(STAFF_COOKIE, home.request.headers["cookie"].partition("=")[2])
        after = await http.get("/staff")
    assert after.status_code == 401  # the old cookie opens nothing
    assert "Please sign in" in main_text(after.text)
    assert 'href="/sign-in"' in after.text


async def test_every_page_has_a_strict_policy_and_loads_only_our_own_files(server: LiveServer):
    school = await make_school(server.services)
    async with browser(server, Cookie=school.teacher_cookie) as http:
        pages = [await http.get(path) for path in ("/", "/sign-in", "/staff")]
    async with browser(server) as http:
        pages.append(await http.get("/staff"))  # the "please sign in" page
    for page in pages:
        assert page.status_code in (200, 401)
        policy = dict(
            part.strip().split(" ", 1)
            for part in page.headers["content-security-policy"].split(";")
        )
        assert policy["script-src"] == "'self'"
        assert policy["style-src"] == "'self'"
        assert policy["default-src"] == "'none'"
        assert policy["form-action"] == "'self'"
        assert policy["frame-ancestors"] == "'none'"
        assert policy["base-uri"] == "'none'"
        assert policy["connect-src"] == f"'self' {server.url} ws://127.0.0.1:{server.port}"
        assert "unsafe" not in page.headers["content-security-policy"]
        assert page.headers["cache-control"] == "no-store"
        # a browser sends our Origin with the pages' forms, and no other site a referrer
        assert page.headers["referrer-policy"] == "same-origin"
        assert "<style" not in page.text and " style=" not in page.text
        assert re.findall(r"<script(?![^>]*\bsrc=\"/static/)", page.text) == []
        for address in re.findall(r'(?:src|href)="([^"#?][^"]*)"', page.text):
            assert address.startswith("/"), address  # nothing from another host
    async with browser(server) as http:
        for name in ("site.css", "pages.js"):
            asset = await http.get(f"/static/{name}")
            assert asset.status_code == 200
            assert asset.headers["content-type"].split(";")[0] in ("text/css", "text/javascript")
        assert (await http.get("/static/..%2Fapp.py")).status_code == 404
        assert (await http.get("/static/app.py")).status_code == 404


async def test_an_upgrade_never_mixes_old_and_new_modules(server: LiveServer):
    """A page's own file, linked with its content's hash, is kept; the modules it imports by
    plain name are asked for again each time (a 304 while unchanged), so after an upgrade no
    browser runs a new pupil.js beside yesterday's room-client.js from its cache."""
    async with browser(server) as http:
        page = await http.get("/sign-in")
        linked = re.search(r'src="(/static/pages\.js\?v=[0-9a-f]+)"', page.text)
        assert linked is not None
        kept = await http.get(linked.group(1))
        assert "immutable" in kept.headers["cache-control"]
        imported = await http.get("/static/room-client.js")
        assert imported.headers["cache-control"] == "no-cache"
        again = await http.get(
            "/static/room-client.js", headers={"If-None-Match": imported.headers["etag"]}
        )
        assert again.status_code == 304
        stale = await http.get("/static/pages.js?v=000000000000")
        assert stale.headers["cache-control"] == "no-cache"  # not the content that hash named


async def test_a_welsh_browser_gets_welsh_and_the_switch_to_english_sticks(server: LiveServer):
    async with browser(server, **{"Accept-Language": "cy-GB,cy;q=0.9,en;q=0.8"}) as http:
        welsh = await http.get("/sign-in")
        assert '<html lang="cy">' in welsh.text
        assert "<h1>Mewngofnodi</h1>" in welsh.text
        assert welsh.headers["content-language"] == "cy"
        switched = await http.get("/sign-in?lang=en")
        assert "<h1>Sign in</h1>" in switched.text
        later = await http.get("/")  # the same Welsh browser, another page
        refused = await http.post("/auth/login", data={"email": "x@y.z", "school": "k"})
    assert '<html lang="en">' in later.text
    assert "Live lessons your school keeps safe" in later.text
    assert "Enter your password" in refused.text


async def test_an_english_browser_can_switch_to_welsh_and_errors_come_in_welsh(
    server: LiveServer,
):
    async with browser(server, **{"Accept-Language": "en-GB,en;q=0.9"}) as http:
        assert "<h1>Sign in</h1>" in (await http.get("/sign-in")).text
        await http.get("/?lang=cy")
        refused = await http.post("/auth/login", data={"email": "x@y.z", "school": "k"})
    assert '<a href="#password">Rhowch eich cyfrinair</a>' in refused.text
    assert "Mae problem" in refused.text
