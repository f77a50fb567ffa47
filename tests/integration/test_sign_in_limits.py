"""Sign-in limits that slow a guesser without letting anyone keep staff out (C21).

Through a real server (uvicorn on loopback, httpx browsers) on SQLite and PostgreSQL. Every
browser here comes from 127.0.0.1, so every test is also "the whole school behind one address":
a pupil guessing on the school network shares the staff's public address.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import select

from safeclass.adapters.auth.logins import DEVICE_COOKIE
from safeclass.adapters.auth.tokens import hash_token
from safeclass.adapters.store.tables import StaffDevice
from safeclass.app.clock import AdjustableClock
from safeclass.cli.serve_cmd import server_config
from safeclass.settings import Settings
from safeclass.web.app import create_app
from tests.integration.live import LiveServer, free_port
from tests.integration.test_staff_auth import (
    NOT_RECOGNISED,
    PASSWORD,
    StaffedSchool,
    school,
    seed_school,
    server,
)
from tests.support.rooms import START

__all__ = ["school", "server"]  # the fixtures, shared with test_staff_auth

WRONG = "a wrong guess at the password"


def form(school: StaffedSchool, email: str, password: str = PASSWORD) -> dict[str, str]:
    return {"email": email, "school": school.key, "password": password}


async def fail(browser: httpx.AsyncClient, school: StaffedSchool, email: str, times: int) -> None:
    for _ in range(times):
        reply = await browser.post("/auth/login", data=form(school, email, WRONG))
        assert reply.status_code == 401, reply.text
        assert reply.json() == {"detail": NOT_RECOGNISED}


async def trusted_browser(
    stack: contextlib.AsyncExitStack, school: StaffedSchool, email: str
) -> httpx.AsyncClient:
    """A browser that has signed in as `email` before (and so holds a device cookie)."""
    browser = await stack.enter_async_context(httpx.AsyncClient(base_url=school.server.url))
    reply = await browser.post("/auth/login", data=form(school, email))
    assert reply.status_code == 200, reply.text
    assert DEVICE_COOKIE in browser.cookies
    return browser


# covers: C21, CLA-16
async def test_a_pupil_guessing_a_teachers_password_does_not_keep_the_teacher_out(
    school: StaffedSchool,
):
    await school.add("teacher", "khan@claydon.test")
    async with contextlib.AsyncExitStack() as stack:
        teacher = await trusted_browser(stack, school, "khan@claydon.test")
        pupil = await stack.enter_async_context(httpx.AsyncClient(base_url=school.server.url))
        await fail(pupil, school, "khan@claydon.test", 5)
        # the pupil's browser is locked out of the account, even with the right password...
        locked = await pupil.post("/auth/login", data=form(school, "khan@claydon.test"))
        assert locked.status_code == 429
        assert locked.json() == {"detail": "Too many attempts: wait 15 minutes"}
        assert 0 < int(locked.headers["retry-after"]) <= 900
        # ...but the teacher's own browser signs in at once, typo and all
        await fail(teacher, school, "khan@claydon.test", 1)
        assert (
            await teacher.post("/auth/login", data=form(school, "khan@claydon.test"))
        ).is_success


# covers: C21, CLA-16
async def test_a_trusted_browser_is_locked_only_by_its_own_failures(school: StaffedSchool):
    await school.add("teacher", "khan@claydon.test")
    await school.add("assistant", "patel@claydon.test", name="Mr Patel")
    async with contextlib.AsyncExitStack() as stack:
        laptop = await trusted_browser(stack, school, "khan@claydon.test")
        tablet = await trusted_browser(stack, school, "khan@claydon.test")
        colleague = await trusted_browser(stack, school, "patel@claydon.test")
        await fail(laptop, school, "khan@claydon.test", 5)
        locked = await laptop.post("/auth/login", data=form(school, "khan@claydon.test"))
        assert locked.status_code == 429
        # the device cookie is for Mrs Khan only: it earns a colleague nothing
        await fail(colleague, school, "khan@claydon.test", 1)
        # her other browser, and a browser that never signed in, are not held by the laptop
        assert (await tablet.post("/auth/login", data=form(school, "khan@claydon.test"))).is_success
        async with httpx.AsyncClient(base_url=school.server.url) as fresh:
            assert (
                await fresh.post("/auth/login", data=form(school, "khan@claydon.test"))
            ).is_success
        school.server.clock.advance(dt.timedelta(minutes=15))
        assert (await laptop.post("/auth/login", data=form(school, "khan@claydon.test"))).is_success


# covers: C21, CLA-16
async def test_one_address_full_of_failures_slows_strangers_but_never_staff_on_their_browsers(
    school: StaffedSchool,
):
    for name in ("khan", "patel", "jones"):
        await school.add("teacher", f"{name}@claydon.test", name=name.title())
    async with contextlib.AsyncExitStack() as stack:
        khan = await trusted_browser(stack, school, "khan@claydon.test")
        patel = await trusted_browser(stack, school, "patel@claydon.test")
        pupil = await stack.enter_async_context(httpx.AsyncClient(base_url=school.server.url))
        # a pupil sprays guesses at many accounts from the school's one address
        statuses = []
        for i in range(40):
            reply = await pupil.post("/auth/login", data=form(school, f"guess{i}@claydon.test"))
            statuses.append(reply.status_code)
        assert statuses[:10] == [401] * 10
        assert set(statuses[10:]) == {429}
        slowed = await pupil.post("/auth/login", data=form(school, "x@claydon.test", WRONG))
        # slowed, not locked: the next try is seconds away, not a quarter of an hour
        assert 0 < int(slowed.headers["retry-after"]) <= 30
        assert slowed.json()["detail"].startswith("Too many attempts")
        # staff on their own browsers sign in as ever, from the very same address
        for browser, email in ((khan, "khan@claydon.test"), (patel, "patel@claydon.test")):
            assert (await browser.post("/auth/login", data=form(school, email))).is_success
        # a colleague on a new browser waits those few seconds, then is in
        async with httpx.AsyncClient(base_url=school.server.url) as new:
            waited = await new.post("/auth/login", data=form(school, "jones@claydon.test"))
            assert waited.status_code == 429
            school.server.clock.advance(dt.timedelta(seconds=int(waited.headers["retry-after"])))
            assert (
                await new.post("/auth/login", data=form(school, "jones@claydon.test"))
            ).is_success


# covers: C21
async def test_the_device_cookie_is_http_only_long_lived_and_only_its_hash_is_stored(
    school: StaffedSchool,
):
    await school.add("teacher", "khan@claydon.test")
    async with httpx.AsyncClient(base_url=school.server.url) as browser:
        reply = await browser.post("/auth/login", data=form(school, "khan@claydon.test"))
        cookie = next(
            c for c in reply.headers.get_list("set-cookie") if c.startswith(f"{DEVICE_COOKIE}=")
        )
        lowered = cookie.lower()
        assert "httponly" in lowered and "samesite=strict" in lowered
        assert "path=/auth/login" in lowered
        assert "max-age=15552000" in lowered  # 180 days
        token = browser.cookies[DEVICE_COOKIE]
        # signing in again on the same browser keeps one device, not a new one each time
        assert (
            await browser.post("/auth/login", data=form(school, "khan@claydon.test"))
        ).is_success
        assert browser.cookies[DEVICE_COOKIE] == token
    async with school.server.services.engine.connect() as conn:
        rows = (await conn.execute(select(StaffDevice))).all()
    assert [r.token_hash for r in rows] == [hash_token(token)]
    assert all(token not in str(r) for r in rows)


# --- addresses behind a proxy -----------------------------------------------------------------


async def _serve(
    db_url: str, tmp_path: Path, **settings: object
) -> tuple[LiveServer, uvicorn.Server]:
    """The server as `safeclass serve` runs it (its own uvicorn options), on loopback."""
    live = LiveServer(db_url, tmp_path, AdjustableClock(START - dt.timedelta(minutes=3)))
    port = free_port()
    live.port = port
    live.settings = Settings(
        data_dir=tmp_path,
        database_url=db_url,
        host="127.0.0.1",
        port=port,
        public_url=f"http://127.0.0.1:{port}",
        **settings,  # type: ignore[arg-type]
    )
    live.app = create_app(live.settings, live.clock)
    live.server = uvicorn.Server(server_config(live.app, live.settings, log_level="warning"))
    return await live.start(), live.server


async def _sprayed(db_url: str, tmp_path: Path, **settings: object) -> list[int]:
    """Twelve wrong guesses, each claiming another address in X-Forwarded-For."""
    live, _ = await _serve(db_url, tmp_path, **settings)
    try:
        staffed = await seed_school(live)
        async with httpx.AsyncClient(base_url=live.url) as browser:
            return [
                (
                    await browser.post(
                        "/auth/login",
                        data=form(staffed, f"guess{i}@claydon.test", WRONG),
                        headers={"X-Forwarded-For": f"203.0.113.{i}"},
                    )
                ).status_code
                for i in range(12)
            ]
    finally:
        await live.stop()


# covers: C21
@pytest.mark.parametrize("trusted", [(), ("127.0.0.1",)], ids=["no-proxy", "loopback-proxy"])
async def test_x_forwarded_for_counts_only_from_a_proxy_the_operator_names(
    db_url: str, tmp_path: Path, trusted: tuple[str, ...]
):
    statuses = await _sprayed(db_url, tmp_path, trusted_proxies=trusted)
    if trusted:  # a named proxy: each forwarded address is its own, and none is slowed
        assert statuses == [401] * 12
    else:  # nobody named: the header is the client's own claim, and changes nothing
        assert statuses == [401] * 10 + [429] * 2


def test_trusted_proxies_come_from_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("SAFECLASS_TRUSTED_PROXIES", raising=False)
    assert Settings.from_env().trusted_proxies == ()
    monkeypatch.setenv("SAFECLASS_TRUSTED_PROXIES", "10.0.0.2, 192.168.1.0/24")
    assert Settings.from_env().trusted_proxies == ("10.0.0.2", "192.168.1.0/24")
    monkeypatch.setenv("SAFECLASS_TRUSTED_PROXIES", "not-an-address")
    with pytest.raises(ValueError, match="SAFECLASS_TRUSTED_PROXIES"):
        Settings.from_env()
