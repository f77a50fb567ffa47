"""School records: schools and their policy versions, staff, classes and groups (C20, C21).

Every function takes the caller's `AsyncConnection`, so several calls share one transaction
(`async with engine.begin() as conn`). Everything a school owns is reached through its
`school_id`, and every query here filters by it: a pupil, class or guardian of another school is
"not found", with the same error as one that does not exist, so no caller can learn or change
another school's data by guessing an id. IDs are uuid4 strings; times are aware UTC.
Pupils, guardians and consent are in `pupil_records`.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from safeclass.adapters.store.tables import (
    PolicyVersion,
    School,
    SchoolClass,
    Staff,
)
from safeclass.app.school_records import (
    ClassRecord,
    NotInSchoolError,
    PolicyRecord,
    RecordsError,
    SchoolExistsError,
    SchoolNotFoundError,
    SchoolRecord,
    StaffRecord,
    StaffRole,
)
from safeclass.policy import Policy, loads

__all__ = [  # the port's values (app/school_records.py), named here too for older imports
    "ClassRecord",
    "NotInSchoolError",
    "PolicyRecord",
    "RecordsError",
    "SchoolExistsError",
    "SchoolNotFoundError",
    "SchoolRecord",
    "StaffRecord",
    "StaffRole",
]

SCHOOL_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_id() -> str:
    return str(uuid.uuid4())


# Schools and policy versions


async def create_school(
    conn: AsyncConnection,
    policy: Policy,
    toml: str,
    *,
    key: str | None = None,
    name: str | None = None,
    now: dt.datetime | None = None,
) -> SchoolRecord:
    """A new school governed by `policy` (whose file text is `toml`), recorded as version 1."""
    key = key or policy.school.key
    if not SCHOOL_KEY.match(key):
        raise RecordsError(
            f"'{key}' cannot be a school key: use lower-case letters, digits and hyphens"
        )
    _check_toml(policy, toml)
    if await school_by_key(conn, key) is not None:
        raise SchoolExistsError(key)
    now = now or _now()
    school = SchoolRecord(new_id(), key, name or policy.school.name, now)
    try:
        await conn.execute(
            insert(School).values(id=school.id, key=key, name=school.name, created_at=now)
        )
    except IntegrityError:  # created by someone else since the check above
        raise SchoolExistsError(key) from None
    await add_policy_version(conn, school.id, policy, toml, now=now)
    return school


async def list_schools(conn: AsyncConnection) -> list[SchoolRecord]:
    """Every school of the deployment (for the server's administrator, not for a school)."""
    rows = await conn.execute(select(School).order_by(School.key))
    return [SchoolRecord(r.id, r.key, r.name, r.created_at) for r in rows]


async def school_by_key(conn: AsyncConnection, key: str) -> SchoolRecord | None:
    row = (await conn.execute(select(School).where(School.key == key))).one_or_none()
    return SchoolRecord(row.id, row.key, row.name, row.created_at) if row else None


async def require_school(conn: AsyncConnection, key: str) -> SchoolRecord:
    school = await school_by_key(conn, key)
    if school is None:
        raise SchoolNotFoundError(key)
    return school


async def lock_school(conn: AsyncConnection, school_id: str) -> None:
    """Serialise writers of one school's records until this transaction ends.

    SQLite already serialises writers (`BEGIN IMMEDIATE`); PostgreSQL locks the school's row,
    so two roster imports into one school cannot both create the same pupil.
    """
    await conn.execute(select(School.id).where(School.id == school_id).with_for_update())


async def add_policy_version(
    conn: AsyncConnection,
    school_id: str,
    policy: Policy,
    toml: str,
    *,
    now: dt.datetime | None = None,
) -> PolicyRecord:
    """Adopt a new version of the school's policy; earlier versions stay for earlier sessions."""
    _check_toml(policy, toml)
    await lock_school(conn, school_id)
    latest = await conn.scalar(
        select(func.max(PolicyVersion.version)).where(PolicyVersion.school_id == school_id)
    )
    values: dict[str, Any] = {
        "school_id": school_id,
        "version": (latest or 0) + 1,
        "toml": toml,
        "adopted": policy.school.adopted,
        "review": policy.school.review,
        "created_at": now or _now(),
    }
    result = await conn.execute(insert(PolicyVersion).values(**values).returning(PolicyVersion.id))
    return PolicyRecord(id=result.scalar_one(), **values)


async def policy_versions(conn: AsyncConnection, school_id: str) -> list[PolicyRecord]:
    """The school's policy history, oldest first."""
    rows = await conn.execute(
        select(PolicyVersion)
        .where(PolicyVersion.school_id == school_id)
        .order_by(PolicyVersion.version)
    )
    return [_policy_record(r) for r in rows]


async def policy_version(conn: AsyncConnection, school_id: str, version_id: int) -> PolicyRecord:
    """One version by its id (what a session records as the policy that governed it)."""
    row = (
        await conn.execute(
            select(PolicyVersion).where(
                PolicyVersion.school_id == school_id, PolicyVersion.id == version_id
            )
        )
    ).one_or_none()
    if row is None:
        raise NotInSchoolError("policy version", version_id)
    return _policy_record(row)


async def current_policy_version(conn: AsyncConnection, school_id: str) -> PolicyRecord:
    row = (
        await conn.execute(
            select(PolicyVersion)
            .where(PolicyVersion.school_id == school_id)
            .order_by(PolicyVersion.version.desc())
            .limit(1)
        )
    ).one_or_none()
    if row is None:
        raise NotInSchoolError("policy", school_id)
    return _policy_record(row)


async def current_policy(conn: AsyncConnection, school_id: str) -> Policy:
    """The policy in force: the latest version, loaded from its TOML."""
    return (await current_policy_version(conn, school_id)).load()


def _check_toml(policy: Policy, toml: str) -> None:
    # The stored text is what governs sessions, so it must be exactly this policy.
    if loads(toml, source="policy text") != policy:
        raise RecordsError("the policy text given does not match the policy")


def _policy_record(row: Any) -> PolicyRecord:
    return PolicyRecord(
        row.id, row.school_id, row.version, row.toml, row.adopted, row.review, row.created_at
    )


# Staff


async def add_staff(
    conn: AsyncConnection,
    school_id: str,
    *,
    name: str,
    email: str,
    role: StaffRole | str,
    password_hash: str | None = None,
    now: dt.datetime | None = None,
) -> StaffRecord:
    """A member of staff with one role; the email (their sign-in) is unique in the school."""
    role = StaffRole(role)
    name = " ".join(name.split())
    email = email.strip().casefold()
    if not name:
        raise RecordsError("a member of staff needs a name")
    if "@" not in email or any(ch.isspace() for ch in email):
        raise RecordsError(f"'{email}' is not an email address")
    if await staff_by_email(conn, school_id, email) is not None:
        raise RecordsError(f"{email} is already a member of staff at this school")
    record = StaffRecord(new_id(), school_id, name, email, role, True, now or _now(), password_hash)
    await conn.execute(
        insert(Staff).values(
            id=record.id,
            school_id=school_id,
            name=name,
            email=email,
            role=role.value,
            password_hash=password_hash,
            active=True,
            created_at=record.created_at,
        )
    )
    return record


async def staff_by_email(conn: AsyncConnection, school_id: str, email: str) -> StaffRecord | None:
    row = (
        await conn.execute(
            select(Staff).where(
                Staff.school_id == school_id, Staff.email == email.strip().casefold()
            )
        )
    ).one_or_none()
    return _staff_record(row) if row else None


async def staff_by_role(
    conn: AsyncConnection, school_id: str, role: StaffRole | str | None = None
) -> list[StaffRecord]:
    """Active staff of the school, by name; only those with `role` when given (e.g. the DSLs)."""
    query = select(Staff).where(Staff.school_id == school_id, Staff.active.is_(True))
    if role is not None:
        query = query.where(Staff.role == StaffRole(role).value)
    rows = await conn.execute(query.order_by(Staff.name, Staff.id))
    return [_staff_record(r) for r in rows]


def _staff_record(row: Any) -> StaffRecord:
    return StaffRecord(
        row.id,
        row.school_id,
        row.name,
        row.email,
        StaffRole(row.role),
        row.active,
        row.created_at,
        row.password_hash,
    )


# Classes and groups


async def list_classes(conn: AsyncConnection, school_id: str) -> list[ClassRecord]:
    rows = await conn.execute(
        select(SchoolClass).where(SchoolClass.school_id == school_id).order_by(SchoolClass.name)
    )
    return [ClassRecord(r.id, r.school_id, r.name, r.is_group) for r in rows]


async def upsert_class(
    conn: AsyncConnection, school_id: str, name: str, *, is_group: bool = False
) -> tuple[ClassRecord, bool]:
    """The class (or group) called `name`, created if the school has none; (record, created).

    Names match case-insensitively: "2b" is the class "2B".
    """
    name = " ".join(name.split())
    if not name:
        raise RecordsError("a class needs a name")
    for existing in await list_classes(conn, school_id):
        if existing.name.casefold() != name.casefold():
            continue
        if existing.is_group != is_group:
            kind = "a group" if existing.is_group else "a class"
            raise RecordsError(f"'{existing.name}' is already {kind} at this school")
        return existing, False
    record = ClassRecord(new_id(), school_id, name, is_group)
    await conn.execute(
        insert(SchoolClass).values(id=record.id, school_id=school_id, name=name, is_group=is_group)
    )
    return record, True


async def class_in_school(conn: AsyncConnection, school_id: str, class_id: str) -> ClassRecord:
    row = (
        await conn.execute(
            select(SchoolClass).where(
                SchoolClass.school_id == school_id, SchoolClass.id == class_id
            )
        )
    ).one_or_none()
    if row is None:
        raise NotInSchoolError("class", class_id)
    return ClassRecord(row.id, row.school_id, row.name, row.is_group)
