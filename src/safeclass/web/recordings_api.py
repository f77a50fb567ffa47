"""`/api/recordings`: the restricted store of session recordings (C13: WER-10, STJ-09).

Only the roles with `view_recordings` (the DSL and the head) may list or open a recording, and
only their own school's (the routes' rows in `app/route_access.py`): anyone else gets 403,
another school's recording is `404 No such recording`, like one that does not exist or was
deleted by the retention job. Every opening is journalled before the file is sent, and the file
is sent with `Cache-Control: no-store`, so no copy stays in a shared browser's cache.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel

from safeclass.app import recordings
from safeclass.web.deps import AllowedStaff, services_of

router = APIRouter(prefix="/api/recordings", tags=["recordings"])

NO_SUCH_RECORDING = "No such recording"


class RecordingOut(BaseModel):
    id: str
    session_id: str
    shown_name: str
    kinds: list[str]
    started_at: dt.datetime
    seconds: float
    size_bytes: int
    delete_after: dt.datetime


@router.get("")
async def list_recordings(
    staff: AllowedStaff, request: Request, session_id: Annotated[str | None, Query()] = None
) -> list[RecordingOut]:
    """The school's recordings that have not been deleted, oldest first, with when each will be."""
    rows = await services_of(request).recordings.list_recordings(
        staff.school_id, session_id=session_id
    )
    return [
        RecordingOut(
            id=r.id,
            session_id=r.session_id,
            shown_name=r.shown_name,
            kinds=list(r.kinds),
            started_at=r.started_at,
            seconds=round(r.seconds, 1),
            size_bytes=r.size_bytes,
            delete_after=r.delete_after,
        )
        for r in rows
    ]


@router.get("/{recording_id}/file")
async def open_recording(recording_id: str, staff: AllowedStaff, request: Request) -> FileResponse:
    """The recording's WebM (audio and video of one participant); the opening is journalled."""
    services = services_of(request)
    row = await recordings.opened(
        services.recordings,
        services.event_log,
        school_id=staff.school_id,
        recording_id=recording_id,
        staff_id=staff.staff_id,
        now=services.clock.now(),
    )
    if row is None or not row.path.is_file():
        raise HTTPException(404, NO_SUCH_RECORDING)
    return FileResponse(
        row.path,
        media_type="video/webm",
        filename=f"recording-{row.started_at:%Y%m%d-%H%M}-{row.id[:8]}.webm",
        headers={"Cache-Control": "no-store"},
    )
