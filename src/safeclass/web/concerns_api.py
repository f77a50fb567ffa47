"""The concerns API (C16): one concern's record as JSON, for the school's own tools.

`GET /api/concerns/{id}` answers the one rule (`staff_roles.may_read_concern`), as the pages
do: the DSL and the member of staff who wrote it; anyone else is answered 404, as for a concern
that does not exist. Nothing here changes a concern: additions go through the DSL's page.
"""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from pydantic import BaseModel

from safeclass.web.concerns_page import readable
from safeclass.web.deps import AllowedStaff, services_of

router = APIRouter(prefix="/api/concerns", tags=["concerns"])


class PupilOut(BaseModel):
    id: str
    name: str
    mis_id: str


class EntryOut(BaseModel):
    seq: int
    kind: str  # account, addition, action, read
    at: dt.datetime
    happened_at: dt.datetime | None
    by: str
    text: str
    hash: str


class ConcernOut(BaseModel):
    id: str
    session_id: str | None
    pupils: list[PupilOut]
    category: str
    account: str
    happened_at: dt.datetime
    recorded_at: dt.datetime
    recorded_by: str
    status: str  # open, read
    event_seq: int | None
    event_hash: str | None
    dsl_alerted_at: dt.datetime | None
    entries: list[EntryOut]
    hash: str  # the last entry's: what proves the record as it is


@router.get("/{concern_id}")
async def get_concern(concern_id: str, request: Request, staff: AllowedStaff) -> ConcernOut:
    """One concern with every entry, if the caller may read it (the DSL, its writer)."""
    c = await readable(services_of(request), staff, concern_id)
    return ConcernOut(
        id=c.id,
        session_id=c.session_id,
        pupils=[PupilOut(id=p.id, name=p.name, mis_id=p.mis_id) for p in c.pupils],
        category=c.category,
        account=c.summary,
        happened_at=c.happened_at,
        recorded_at=c.raised_at,
        recorded_by=c.raised_by_name,
        status=c.status,
        event_seq=c.event_seq,
        event_hash=c.event_hash,
        dsl_alerted_at=c.alerted_at,
        entries=[
            EntryOut(
                seq=e.seq,
                kind=e.kind,
                at=e.at,
                happened_at=e.happened_at,
                by=e.by_name,
                text=e.text,
                hash=e.hash,
            )
            for e in c.entries
        ],
        hash=c.last_hash,
    )
