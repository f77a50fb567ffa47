"""The compliance reports' sessions and kept results on the database
(`app.reports.compliance.ComplianceResults`).

A session's plan and policy (`sessions.load_session`), its log's head (`session_log_heads`), its
DSL alerts' rows (`deliveries.alert_deliveries`, the one query for them), and its result in
short (`compliance_results`, one row a session), written when its room ends and whenever its
report is made, and read by the school-wide summary.
"""

from __future__ import annotations

import datetime as dt
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from safeclass.adapters.store.deliveries import alert_deliveries
from safeclass.adapters.store.sessions import load_session
from safeclass.adapters.store.tables import ComplianceResult, SessionLogHead
from safeclass.adapters.store.tables import Session as SessionRow
from safeclass.app.reports.compliance import EndedSession, StoredResult
from safeclass.app.school_records import StoredSession
from safeclass.app.undelivered import AlertDelivery


class StoreComplianceResults:
    """Sessions, log heads and kept results, through one engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def load_session(self, session_id: str, school_id: str | None = None) -> StoredSession:
        return await load_session(self.engine, session_id, school_id)

    async def log_head(self, conn: AsyncConnection, session_id: str) -> tuple[str, int] | None:
        head = (
            await conn.execute(
                select(SessionLogHead.last_hash, SessionLogHead.last_seq).where(
                    SessionLogHead.session_id == session_id
                )
            )
        ).first()
        return (head[0], int(head[1])) if head is not None else None

    async def alert_deliveries(self, conn: AsyncConnection, session_id: str) -> list[AlertDelivery]:
        return await alert_deliveries(conn, session_id)

    async def keep(self, result: StoredResult) -> None:
        values = {
            "school_id": result.school_id,
            "starts_at": result.starts_at,
            "head_hash": result.head_hash,
            "last_seq": result.last_seq,
            "verified": result.verified,
            "outcomes": result.outcomes,
            "breaches": result.breaches,
            "settled": result.settled,
            "computed_at": result.computed_at,
        }
        table = cast(Table, ComplianceResult.__table__)
        change = table.update().where(table.c.session_id == result.session_id).values(**values)
        async with self.engine.begin() as conn:
            found = await conn.execute(change)
            if found.rowcount:
                return
        try:
            async with self.engine.begin() as conn:
                await conn.execute(table.insert().values(session_id=result.session_id, **values))
        except IntegrityError:  # stored at the same moment by another (the room's end, a page)
            async with self.engine.begin() as conn:
                await conn.execute(change)

    async def ended_sessions(
        self, school_id: str, since: dt.datetime, until: dt.datetime
    ) -> list[EndedSession]:
        query = (
            select(
                SessionRow.id,
                SessionRow.title,
                SessionRow.starts_at,
                SessionLogHead.last_hash,
                ComplianceResult.session_id,
                ComplianceResult.school_id,
                ComplianceResult.starts_at,
                ComplianceResult.head_hash,
                ComplianceResult.last_seq,
                ComplianceResult.verified,
                ComplianceResult.outcomes,
                ComplianceResult.breaches,
                ComplianceResult.settled,
                ComplianceResult.computed_at,
            )
            .outerjoin(SessionLogHead, SessionLogHead.session_id == SessionRow.id)
            .outerjoin(ComplianceResult, ComplianceResult.session_id == SessionRow.id)
            .where(
                SessionRow.school_id == school_id,
                SessionRow.status == "ended",
                SessionRow.starts_at >= since,
                SessionRow.starts_at < until,
            )
            .order_by(SessionRow.starts_at, SessionRow.id)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            EndedSession(
                sid,
                title,
                starts_at,
                head,
                None
                if kept_id is None
                else StoredResult(
                    kept_id,
                    kept_school,
                    kept_start,
                    head_hash,
                    int(last_seq),
                    bool(verified),
                    outcomes,
                    int(breaches),
                    bool(settled),
                    computed_at,
                ),
            )
            for (
                sid,
                title,
                starts_at,
                head,
                kept_id,
                kept_school,
                kept_start,
                head_hash,
                last_seq,
                verified,
                outcomes,
                breaches,
                settled,
                computed_at,
            ) in rows
        ]
