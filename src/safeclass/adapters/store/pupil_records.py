"""Pupils of a school, their guardians and consent, and a class as the room shows it (C4, C17).

Like school_records, every function takes the caller's `AsyncConnection` and the school's id,
and every query filters by that id: another school's pupil is "not found" (NotInSchoolError),
exactly like one that does not exist. A pupil's `updated_at` moves whenever the pupil, one of
their guardians or their consent changes, so "nothing changed" can be checked on one column.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from safeclass.adapters.store.school_records import (
    NotInSchoolError,
    RecordsError,
    class_in_school,
    current_policy,
    new_id,
)
from safeclass.adapters.store.tables import (
    ConsentChange,
    ConsentRecord,
    GroupMember,
    Guardian,
    Pupil,
    SchoolClass,
)

# The port's values (app/school_records.py), named here too for older imports.
from safeclass.app.school_records import ConsentState as ConsentState
from safeclass.app.school_records import GuardianRecord as GuardianRecord
from safeclass.app.school_records import NewPupil as NewPupil
from safeclass.app.school_records import PupilRecord as PupilRecord
from safeclass.core import Consent
from safeclass.core.names import display_names, is_valid_person_name
from safeclass.policy.model import NameRule

PUPIL_FIELDS = frozenset({"forename", "surname", "class_id", "mis_id", "date_of_birth"})


@dataclass(frozen=True, slots=True)
class ShownPupil:
    """A pupil as staff and the room see them: the name derived by the policy's rule (C4)."""

    id: str
    forename: str
    surname: str
    display_name: str
    consent: Consent


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def add_group_member(
    conn: AsyncConnection, school_id: str, group_id: str, pupil_id: str
) -> None:
    """Put a pupil of this school into one of its groups (idempotent)."""
    group = await class_in_school(conn, school_id, group_id)
    if not group.is_group:
        raise RecordsError(f"'{group.name}' is a class, not a group")
    await _require_pupil(conn, school_id, pupil_id)
    present = await conn.scalar(
        select(func.count())
        .select_from(GroupMember)
        .where(GroupMember.group_id == group_id, GroupMember.pupil_id == pupil_id)
    )
    if not present:
        await conn.execute(insert(GroupMember).values(group_id=group_id, pupil_id=pupil_id))


async def add_pupil(
    conn: AsyncConnection,
    school_id: str,
    *,
    forename: str,
    surname: str,
    class_id: str | None = None,
    mis_id: str | None = None,
    date_of_birth: dt.date | None = None,
    now: dt.datetime | None = None,
) -> str:
    """A new pupil of the school; the names must be real names (C4: CLA-15, CRO-15)."""
    new = NewPupil(forename, surname, class_id, mis_id, date_of_birth)
    return (await add_pupils(conn, school_id, [new], now=now))[0]


async def add_pupils(
    conn: AsyncConnection,
    school_id: str,
    new: Sequence[NewPupil],
    *,
    now: dt.datetime | None = None,
) -> list[str]:
    """Many new pupils with their guardians and consent, in a few statements; their ids."""
    for pupil in new:
        _check_names(pupil.forename, pupil.surname)
    class_ids = sorted({p.class_id for p in new if p.class_id is not None})
    for chunk in _chunks(class_ids):
        found = set(
            await conn.scalars(
                select(SchoolClass.id).where(
                    SchoolClass.school_id == school_id, SchoolClass.id.in_(chunk)
                )
            )
        )
        for class_id in chunk:
            if class_id not in found:
                raise NotInSchoolError("class", class_id)
    now = now or _now()
    ids = [new_id() for _ in new]
    rows = [
        {
            "id": pupil_id,
            "school_id": school_id,
            "class_id": p.class_id,
            "mis_id": p.mis_id,
            "forename": p.forename,
            "surname": p.surname,
            "date_of_birth": p.date_of_birth,
            "created_at": now,
            "updated_at": now,
        }
        for pupil_id, p in zip(ids, new, strict=True)
    ]
    guardians = [
        {
            "school_id": school_id,
            "pupil_id": pupil_id,
            "name": p.guardian_name,
            "email": p.guardian_email,
            "phone": p.guardian_phone,
        }
        for pupil_id, p in zip(ids, new, strict=True)
        if p.has_guardian
    ]
    consents = [
        {
            "pupil_id": pupil_id,
            "school_id": school_id,
            "basis": p.consent.value,
            "recorded_at": p.consent_at or now,
            "source": p.consent_source[:100],
        }
        for pupil_id, p in zip(ids, new, strict=True)
        if p.consent is not None
    ]
    history = [{**c, "changed_at": now} for c in consents]
    for table, values in (
        (Pupil, rows),
        (Guardian, guardians),
        (ConsentRecord, consents),
        (ConsentChange, history),
    ):
        if values:
            await conn.execute(insert(table), values)
    return ids


async def update_pupil(
    conn: AsyncConnection,
    school_id: str,
    pupil_id: str,
    changes: Mapping[str, Any],
    *,
    now: dt.datetime | None = None,
) -> None:
    """Change some of a pupil's fields (forename, surname, class_id, mis_id, date_of_birth).

    `updated_at` is set even when `changes` is empty: a changed guardian or consent is a
    change to the pupil's record too. One statement when all is well.
    """
    unknown = set(changes) - PUPIL_FIELDS
    if unknown:
        raise RecordsError(f"a pupil has no field {', '.join(sorted(unknown))}")
    for label in ("forename", "surname"):
        if label in changes:
            _check_name(label, changes[label])
    query = update(Pupil).where(Pupil.school_id == school_id, Pupil.id == pupil_id)
    class_id = changes.get("class_id")
    if class_id is not None:  # only a class of this school
        query = query.where(
            exists().where(SchoolClass.school_id == school_id, SchoolClass.id == class_id)
        )
    result = await conn.execute(query.values(**changes, updated_at=now or _now()))
    if result.rowcount != 1:
        await _require_pupil(conn, school_id, pupil_id)
        raise NotInSchoolError("class", class_id)


async def add_guardian(
    conn: AsyncConnection,
    school_id: str,
    pupil_id: str,
    *,
    name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    now: dt.datetime | None = None,
) -> int:
    """A parent or carer of the pupil; returns the guardian's id."""
    await update_pupil(conn, school_id, pupil_id, {}, now=now)  # also: is it this school's?
    result = await conn.execute(
        insert(Guardian)
        .values(school_id=school_id, pupil_id=pupil_id, name=name, email=email, phone=phone)
        .returning(Guardian.id)
    )
    return int(result.scalar_one())


async def update_guardian(
    conn: AsyncConnection,
    school_id: str,
    guardian_id: int,
    *,
    name: str | None,
    email: str | None,
    phone: str | None,
    now: dt.datetime | None = None,
) -> None:
    pupil_id = await conn.scalar(
        update(Guardian)
        .where(Guardian.school_id == school_id, Guardian.id == guardian_id)
        .values(name=name, email=email, phone=phone)
        .returning(Guardian.pupil_id)
    )
    if pupil_id is None:
        raise NotInSchoolError("guardian", guardian_id)
    await update_pupil(conn, school_id, pupil_id, {}, now=now)


async def set_consent(
    conn: AsyncConnection,
    school_id: str,
    pupil_id: str,
    basis: Consent | str,
    *,
    source: str,
    recorded_at: dt.datetime | None = None,
    now: dt.datetime | None = None,
    session_id: str | None = None,
) -> None:
    """Record the pupil's consent (C17): its basis, when it was given or refused, and from where.

    The change is also appended to the pupil's consent history (`consent_changes`), which is
    never overwritten; `session_id` is the lesson whose family link made it, if one did.
    """
    basis = Consent(basis)
    now = now or _now()
    await update_pupil(conn, school_id, pupil_id, {}, now=now)  # also: is it this school's?
    values = {"basis": basis.value, "recorded_at": recorded_at or now, "source": source[:100]}
    result = await conn.execute(
        update(ConsentRecord)
        .where(ConsentRecord.school_id == school_id, ConsentRecord.pupil_id == pupil_id)
        .values(**values)
    )
    if result.rowcount == 0:
        await conn.execute(
            insert(ConsentRecord).values(pupil_id=pupil_id, school_id=school_id, **values)
        )
    await conn.execute(
        insert(ConsentChange).values(
            pupil_id=pupil_id, school_id=school_id, changed_at=now, session_id=session_id, **values
        )
    )


async def get_pupil(conn: AsyncConnection, school_id: str, pupil_id: str) -> PupilRecord:
    """One pupil of this school, with guardians and consent; NotInSchoolError otherwise."""
    pupils = await _pupils(conn, school_id, Pupil.id == pupil_id)
    if not pupils:
        raise NotInSchoolError("pupil", pupil_id)
    return pupils[0]


async def list_pupils(
    conn: AsyncConnection, school_id: str, class_id: str | None = None
) -> list[PupilRecord]:
    """The school's pupils (of one class or group when given), by surname and forename."""
    if class_id is None:
        return await _pupils(conn, school_id)
    group = await class_in_school(conn, school_id, class_id)
    if group.is_group:
        members = select(GroupMember.pupil_id).where(GroupMember.group_id == class_id)
        return await _pupils(conn, school_id, Pupil.id.in_(members))
    return await _pupils(conn, school_id, Pupil.class_id == class_id)


async def count_pupils(conn: AsyncConnection, school_id: str) -> int:
    count = await conn.scalar(
        select(func.count()).select_from(Pupil).where(Pupil.school_id == school_id)
    )
    return int(count or 0)


async def pupils_of_class(
    conn: AsyncConnection, school_id: str, class_id: str, rule: NameRule | None = None
) -> list[ShownPupil]:
    """A class or group as the room shows it: names by the policy's rule, clashes told apart.

    Two "Amelia R."s become "Amelia Ro." and "Amelia Ri." (core.names.display_names). `rule`
    defaults to the school's current policy.
    """
    if rule is None:
        rule = (await current_policy(conn, school_id)).identity.name_rule
    pupils = await list_pupils(conn, school_id, class_id)
    shown = display_names(((p.id, p.forename, p.surname) for p in pupils), rule)
    return [ShownPupil(p.id, p.forename, p.surname, shown[p.id], p.consent_basis) for p in pupils]


async def _require_pupil(conn: AsyncConnection, school_id: str, pupil_id: str) -> None:
    found = await conn.scalar(
        select(Pupil.id).where(Pupil.school_id == school_id, Pupil.id == pupil_id)
    )
    if found is None:
        raise NotInSchoolError("pupil", pupil_id)


def _check_names(forename: str, surname: str) -> None:
    _check_name("forename", forename)
    _check_name("surname", surname)


def _check_name(label: str, value: str) -> None:
    if not is_valid_person_name(value):
        raise RecordsError(f"'{value}' cannot be a pupil's {label} (letters only, C4)")


async def _pupils(conn: AsyncConnection, school_id: str, *where: Any) -> list[PupilRecord]:
    rows = (
        await conn.execute(
            select(Pupil, SchoolClass.name.label("class_name"))
            .outerjoin(
                SchoolClass,
                (SchoolClass.id == Pupil.class_id) & (SchoolClass.school_id == school_id),
            )
            .where(Pupil.school_id == school_id, *where)
            .order_by(Pupil.surname, Pupil.forename, Pupil.id)
        )
    ).all()
    ids = [r.id for r in rows]
    guardians = await _guardians(conn, school_id, ids)
    consents = await _consents(conn, school_id, ids)
    return [
        PupilRecord(
            id=r.id,
            school_id=r.school_id,
            class_id=r.class_id,
            class_name=r.class_name,
            mis_id=r.mis_id,
            forename=r.forename,
            surname=r.surname,
            date_of_birth=r.date_of_birth,
            created_at=r.created_at,
            updated_at=r.updated_at,
            guardians=tuple(guardians.get(r.id, ())),
            consent=consents.get(r.id),
        )
        for r in rows
    ]


async def _guardians(
    conn: AsyncConnection, school_id: str, pupil_ids: Sequence[str]
) -> dict[str, list[GuardianRecord]]:
    found: dict[str, list[GuardianRecord]] = {}
    for chunk in _chunks(pupil_ids):
        rows = await conn.execute(
            select(Guardian)
            .where(Guardian.school_id == school_id, Guardian.pupil_id.in_(chunk))
            .order_by(Guardian.id)
        )
        for r in rows:
            record = GuardianRecord(r.id, r.pupil_id, r.name, r.email, r.phone)
            found.setdefault(r.pupil_id, []).append(record)
    return found


async def _consents(
    conn: AsyncConnection, school_id: str, pupil_ids: Sequence[str]
) -> dict[str, ConsentState]:
    found: dict[str, ConsentState] = {}
    for chunk in _chunks(pupil_ids):
        rows = await conn.execute(
            select(ConsentRecord).where(
                ConsentRecord.school_id == school_id, ConsentRecord.pupil_id.in_(chunk)
            )
        )
        for r in rows:
            found[r.pupil_id] = ConsentState(Consent(r.basis), r.recorded_at, r.source)
    return found


@dataclass(frozen=True, slots=True)
class ConsentEntry:
    """One change in a pupil's consent history, as it was recorded."""

    basis: Consent
    source: str
    recorded_at: dt.datetime
    changed_at: dt.datetime
    session_id: str | None


async def consent_history(
    conn: AsyncConnection, school_id: str, pupil_id: str
) -> list[ConsentEntry]:
    """Every change of a pupil's consent, oldest first (another school's pupil has none)."""
    rows = await conn.execute(
        select(ConsentChange)
        .where(ConsentChange.school_id == school_id, ConsentChange.pupil_id == pupil_id)
        .order_by(ConsentChange.changed_at, ConsentChange.id)
    )
    return [
        ConsentEntry(Consent(r.basis), r.source, r.recorded_at, r.changed_at, r.session_id)
        for r in rows
    ]


def _chunks(ids: Sequence[str], size: int = 500) -> Iterable[Sequence[str]]:
    # SQLite allows a limited number of bound parameters per statement.
    for start in range(0, len(ids), size):
        yield ids[start : start + size]
