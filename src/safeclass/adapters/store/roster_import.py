"""A roster import's reads and writes on the database (`app.roster_import.RosterRecords`).

The school, its classes (`school_records`), and its pupils with their guardians and consent
(`pupil_records`), each statement on the import's one connection; the app module matches the
file's rows to the pupils and decides what changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from safeclass.adapters.store import pupil_records, school_records
from safeclass.adapters.store.db import OnEngine
from safeclass.app.school_records import ClassRecord, NewPupil, PupilRecord, SchoolRecord
from safeclass.core import Consent


class StoreRoster(OnEngine):
    """A school's pupils and classes as an import writes them, through one engine."""

    async def require_school(self, conn: AsyncConnection, key: str) -> SchoolRecord:
        return await school_records.require_school(conn, key)

    async def lock_school(self, conn: AsyncConnection, school_id: str) -> None:
        await school_records.lock_school(conn, school_id)

    async def list_pupils(self, conn: AsyncConnection, school_id: str) -> list[PupilRecord]:
        return await pupil_records.list_pupils(conn, school_id)

    async def list_classes(self, conn: AsyncConnection, school_id: str) -> list[ClassRecord]:
        return await school_records.list_classes(conn, school_id)

    async def upsert_class(
        self, conn: AsyncConnection, school_id: str, name: str
    ) -> tuple[ClassRecord, bool]:
        return await school_records.upsert_class(conn, school_id, name)

    async def add_pupils(
        self, conn: AsyncConnection, school_id: str, new: Sequence[NewPupil], *, now: dt.datetime
    ) -> list[str]:
        return await pupil_records.add_pupils(conn, school_id, new, now=now)

    async def update_pupil(
        self,
        conn: AsyncConnection,
        school_id: str,
        pupil_id: str,
        changes: Mapping[str, Any],
        *,
        now: dt.datetime,
    ) -> None:
        await pupil_records.update_pupil(conn, school_id, pupil_id, changes, now=now)

    async def add_guardian(
        self,
        conn: AsyncConnection,
        school_id: str,
        pupil_id: str,
        *,
        name: str | None,
        email: str | None,
        phone: str | None,
        now: dt.datetime,
    ) -> None:
        await pupil_records.add_guardian(
            conn, school_id, pupil_id, name=name, email=email, phone=phone, now=now
        )

    async def update_guardian(
        self,
        conn: AsyncConnection,
        school_id: str,
        guardian_id: int,
        *,
        name: str | None,
        email: str | None,
        phone: str | None,
        now: dt.datetime,
    ) -> None:
        await pupil_records.update_guardian(
            conn, school_id, guardian_id, name=name, email=email, phone=phone, now=now
        )

    async def set_consent(
        self,
        conn: AsyncConnection,
        school_id: str,
        pupil_id: str,
        basis: Consent,
        *,
        source: str,
        recorded_at: dt.datetime,
        now: dt.datetime,
    ) -> None:
        await pupil_records.set_consent(
            conn, school_id, pupil_id, basis, source=source, recorded_at=recorded_at, now=now
        )
