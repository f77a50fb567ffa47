"""Staff accounts beyond adding them: every account with its state, new passwords, disabling.

Adding staff and finding them by email are `school_records`' (`add_staff`, `staff_by_email`);
this module holds what that one does not: the list including disabled accounts, setting a
password, and disabling an account, which also signs it out everywhere (C21: CLA-16, CRO-03).
Like school_records, every query filters by the school.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from safeclass.adapters.auth.logins import revoke_all
from safeclass.adapters.store.school_records import (
    NotInSchoolError,
    StaffRecord,
    StaffRole,
    staff_by_email,
)
from safeclass.adapters.store.tables import Staff, StaffLogin


@dataclass(frozen=True, slots=True)
class Account:
    staff: StaffRecord
    has_password: bool
    live_logins: int  # browsers signed in now


async def accounts(conn: AsyncConnection, school_id: str, now: dt.datetime) -> list[Account]:
    """Every member of staff of the school, disabled ones too, by name."""
    live = (
        select(StaffLogin.staff_id, func.count().label("n"))
        .where(
            StaffLogin.school_id == school_id,
            StaffLogin.revoked_at.is_(None),
            StaffLogin.expires_at > now,
        )
        .group_by(StaffLogin.staff_id)
        .subquery()
    )
    rows = await conn.execute(
        select(Staff, live.c.n)
        .outerjoin(live, live.c.staff_id == Staff.id)
        .where(Staff.school_id == school_id)
        .order_by(Staff.name, Staff.id)
    )
    return [
        Account(
            StaffRecord(
                r.id,
                r.school_id,
                r.name,
                r.email,
                StaffRole(r.role),
                r.active,
                r.created_at,
                None,  # the hash stays in the database
            ),
            r.password_hash is not None,
            r.n or 0,
        )
        for r in rows
    ]


async def require_staff(conn: AsyncConnection, school_id: str, email: str) -> StaffRecord:
    staff = await staff_by_email(conn, school_id, email)
    if staff is None:
        raise NotInSchoolError("member of staff", email.strip().casefold())
    return staff


async def set_password(
    conn: AsyncConnection, school_id: str, staff_id: str, password_hash: str, now: dt.datetime
) -> list[str]:
    """Store a new password hash and sign the account out everywhere; the revoked login ids."""
    await conn.execute(
        update(Staff)
        .where(Staff.school_id == school_id, Staff.id == staff_id)
        .values(password_hash=password_hash)
    )
    return await revoke_all(conn, staff_id, now)


async def disable_staff(
    conn: AsyncConnection, school_id: str, email: str, now: dt.datetime
) -> tuple[StaffRecord, list[str]]:
    """Disable an account: it cannot sign in, and its logins end; (record, revoked login ids)."""
    staff = await require_staff(conn, school_id, email)
    await conn.execute(
        update(Staff).where(Staff.school_id == school_id, Staff.id == staff.id).values(active=False)
    )
    return staff, await revoke_all(conn, staff.id, now)
