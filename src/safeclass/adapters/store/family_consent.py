"""A family's link and their child's consent on the database
(`app.family_consent.FamilyConsentRecords`).

The link's records are `StoreInvitations`'; the consent is `consent_records` (and its history,
`consent_changes`, which `pupil_records.set_consent` appends to and never overwrites).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from safeclass.adapters.store import pupil_records
from safeclass.adapters.store.invitations import StoreInvitations
from safeclass.adapters.store.tables import ConsentRecord
from safeclass.app.school_records import ConsentState
from safeclass.core import Consent


class StoreFamilyConsent(StoreInvitations):
    """Families' links and their children's consent, through one engine."""

    async def consent_of(
        self, conn: AsyncConnection, school_id: str, pupil_id: str
    ) -> ConsentState | None:
        row = (
            await conn.execute(
                select(ConsentRecord).where(
                    ConsentRecord.school_id == school_id, ConsentRecord.pupil_id == pupil_id
                )
            )
        ).one_or_none()
        return ConsentState(Consent(row.basis), row.recorded_at, row.source) if row else None

    async def set_consent(
        self,
        conn: AsyncConnection,
        school_id: str,
        pupil_id: str,
        basis: Consent,
        *,
        source: str,
        now: dt.datetime,
        session_id: str | None,
    ) -> None:
        await pupil_records.set_consent(
            conn, school_id, pupil_id, basis, source=source, now=now, session_id=session_id
        )

    async def consents_from(
        self, school_id: str, pupil_ids: Sequence[str], basis: Consent, source: str
    ) -> dict[str, dt.datetime]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(ConsentRecord.pupil_id, ConsentRecord.recorded_at).where(
                    ConsentRecord.school_id == school_id,
                    ConsentRecord.pupil_id.in_(list(pupil_ids)),
                    ConsentRecord.basis == basis.value,
                    ConsentRecord.source == source,
                )
            )
            return {r.pupil_id: r.recorded_at for r in rows}
