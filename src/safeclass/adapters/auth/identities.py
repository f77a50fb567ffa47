"""The identity port (`safeclass.app.identity.Identities`) on the database.

Finding who holds a cookie is `identity`; signing in and out is `logins`. This binds both to the
server's engine, so the web layer reaches them through `Services.identities`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from safeclass.adapters.auth import identity, logins
from safeclass.adapters.store.tables import PupilPass, StaffLogin
from safeclass.app.attempt_limits import LoginLimits
from safeclass.app.identity import EndedDevice, PupilIdentity, SignedIn, StaffIdentity


class StoreIdentities:
    """Identities and logins, read and written through one engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def staff_for_token(self, token: str | None, now: dt.datetime) -> StaffIdentity | None:
        return await identity.staff_for_token(self.engine, token, now)

    async def pupil_for_token(
        self, token: str | None, session_id: str, now: dt.datetime
    ) -> PupilIdentity | None:
        return await identity.pupil_for_token(self.engine, token, session_id, now)

    async def sign_in(
        self,
        limiter: LoginLimits,
        *,
        school_key: str,
        email: str,
        password: str,
        client: str,
        now: dt.datetime,
        device_tokens: Sequence[str] = (),
    ) -> SignedIn:
        return await logins.sign_in(
            self.engine,
            limiter,
            school_key=school_key,
            email=email,
            password=password,
            client=client,
            now=now,
            device_tokens=device_tokens,
        )

    async def revoke_login(self, login_id: str, now: dt.datetime) -> None:
        await logins.revoke_login(self.engine, login_id, now)

    async def revoke_all(self, staff_id: str, now: dt.datetime) -> list[str]:
        async with self.engine.begin() as conn:
            return await logins.revoke_all(conn, staff_id, now)

    async def ended_since(self, since: dt.datetime) -> list[EndedDevice]:
        found: list[EndedDevice] = []
        async with self.engine.connect() as conn:
            for table, is_staff in ((StaffLogin, True), (PupilPass, False)):
                rows = await conn.execute(
                    select(table.id, table.revoked_at).where(table.revoked_at > since)
                )
                found += [EndedDevice(r, at, is_staff) for r, at in rows.all() if at is not None]
        return found
