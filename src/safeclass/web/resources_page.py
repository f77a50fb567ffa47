"""A lesson's resources on the web (C15): staff add and remove them, pupils and staff open them.

- `POST /staff/sessions/{id}/resources`: add a link or a file (staff who can schedule). Every
  problem comes back as a GOV.UK error summary on a page of its own with the forms as filled in,
  and nothing is saved; on success, back to the lesson's page.
- `POST .../resources/{resource}/remove`: stop offering one (its file is deleted).
- `GET .../resources/{resource}`: the file, for staff who reach the lesson.
- `GET /room/{id}/resources/{resource}`: the file, for the lesson's pupils (their device's pass,
  which opening the family's link gave) and the staff who may be in its room.

A file always goes out as a download (`Content-Disposition: attachment`), with the server's own
type for it and `nosniff`, so nothing uploaded is ever shown or run as a page of this server.
Another session's resource, a removed one and one that never was all answer the same 404.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from safeclass.app import resources
from safeclass.app.identity import STAFF_COOKIE, csrf_token, pupil_cookie
from safeclass.web.deps import AllowedSession, SessionAccess, services_of, staff_in_room
from safeclass.web.lookups import client_address, lookup_limiter
from safeclass.web.render import render

router = APIRouter(include_in_schema=False)

PAGE = "/staff/sessions/{session_id}"
ADD = f"{PAGE}/resources"
REMOVE = f"{PAGE}/resources/{{resource_id}}/remove"
STAFF_FILE = f"{PAGE}/resources/{{resource_id}}"
ROOM_FILE = "/room/{session_id}/resources/{resource_id}"
NO_SUCH = "No such resource"


def file_href(session_id: str, resource_id: str, *, for_staff: bool) -> str:
    """Where a file is opened: the lesson's page's address for staff, the room's for pupils."""
    if for_staff:
        return f"/staff/sessions/{session_id}/resources/{resource_id}"
    return f"/room/{session_id}/resources/{resource_id}"


@router.post(ADD, response_class=HTMLResponse)
async def add_resource(session_id: str, access: AllowedSession, request: Request) -> Response:
    """Add a link (`kind=link`: title, url) or a file (`kind=file`: title, file)."""
    form = await request.form()
    try:
        return await _add(session_id, access, request, form)
    finally:
        await form.close()  # the upload's temporary file


async def _add(
    session_id: str, access: SessionAccess, request: Request, form: FormData
) -> Response:
    services = services_of(request)
    kind = str(form.get("kind", ""))
    title = str(form.get("title", ""))
    values = {"kind": kind, "title": title, "url": str(form.get("url", ""))}
    common = {
        "school_id": access.session.school_id,
        "session_id": session_id,
        "staff_id": access.staff.staff_id,
        "now": services.clock.now(),
    }
    try:
        if kind == "file":
            upload = form.get("file")
            data, name = b"", ""
            if isinstance(upload, UploadFile):
                name = upload.filename or ""
                data = await upload.read(resources.MAX_BYTES + 1)
            await resources.add_file(
                services.resources,
                services.settings.data_dir,
                title=title,
                filename=name,
                data=data,
                **common,  # type: ignore[arg-type]
            )
        else:
            await resources.add_link(
                services.resources,
                title=title,
                url=values["url"],
                **common,  # type: ignore[arg-type]
            )
    except resources.ResourceRefusedError as exc:
        return render(
            request,
            "resources.html",
            status=422,
            csrf_token=csrf_token(request.cookies.get(STAFF_COOKIE, "")),
            session_id=session_id,
            title=access.session.plan.title,
            errors=exc.codes,
            field_errors=dict(reversed(exc.codes)),
            values=values,
            max_mb=resources.MAX_BYTES // (1024 * 1024),
        )
    return RedirectResponse(f"/staff/sessions/{session_id}?done=resource", status_code=303)


@router.post(REMOVE, response_class=HTMLResponse)
async def remove_resource(
    session_id: str, resource_id: str, access: AllowedSession, request: Request
) -> Response:
    """Stop offering a resource: families no longer see it; the register still lists it."""
    services = services_of(request)
    try:
        await resources.remove(
            services.resources,
            services.settings.data_dir,
            session_id=session_id,
            resource_id=resource_id,
            staff_id=access.staff.staff_id,
            now=services.clock.now(),
        )
    except resources.NoSuchResourceError:
        raise HTTPException(404, NO_SUCH) from None
    return RedirectResponse(f"/staff/sessions/{session_id}?done=resource_removed", status_code=303)


@router.get(STAFF_FILE)
async def staff_file(
    session_id: str, resource_id: str, access: AllowedSession, request: Request
) -> Response:
    """A resource's file, for staff who reach the lesson."""
    return await _send(request, session_id, resource_id)


@router.get(ROOM_FILE)
async def room_file(session_id: str, resource_id: str, request: Request) -> Response:
    """A resource's file, for the lesson's own pupils and the staff who may be in its room;
    anyone else gets 403, whether or not the session or the resource exists."""
    services = services_of(request)
    now = services.clock.now()
    held = request.cookies.get(pupil_cookie(session_id))
    pupil = await services.identities.pupil_for_token(held, session_id, now)
    if pupil is None:
        staff = await services.identities.staff_for_token(request.cookies.get(STAFF_COOKIE), now)
        if staff is None or await staff_in_room(services, staff, session_id) is None:
            if held is not None:  # a pupil cookie that opens nothing counts, as on the room page
                await lookup_limiter(request).failed(client_address(request), now)
            raise HTTPException(403, "Please open your link again")
    return await _send(request, session_id, resource_id)


async def _send(request: Request, session_id: str, resource_id: str) -> Response:
    services = services_of(request)
    try:
        found, path = await resources.file_of(
            services.resources, services.settings.data_dir, session_id, resource_id
        )
    except resources.NoSuchResourceError:
        raise HTTPException(404, NO_SUCH) from None
    return _download(found, path)


def _download(found: resources.Resource, path: Path) -> FileResponse:
    name = found.filename or "file"
    plain = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return FileResponse(
        path,
        media_type=found.content_type or "application/octet-stream",
        headers={
            "Content-Disposition": f"attachment; filename=\"{plain}\"; filename*=UTF-8''"
            + quote(name),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Referrer-Policy": "no-referrer",
        },
    )
