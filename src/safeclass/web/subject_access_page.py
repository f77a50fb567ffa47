"""A pupil's records for the DSL and the head: a subject access export, and erasure (UK GDPR).

`/staff/pupils/{pupil_id}/records` says what is held about the pupil, kind by kind, with the
archive to download (`records.zip`, app/subject_access.py); `/erase` shows, before anything
is touched, what would be erased and what must be kept, until when and why; posting it erases
(app/erasure.py) and the page says what was done. Only roles with `handle_subject_access` reach
them (route_access); another school's pupil is "not found", like one that does not exist. Each
export and erasure is written in the school's journal, without its content.
"""

from __future__ import annotations

from dataclasses import dataclass

from babel.dates import format_date
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from safeclass.app.erasure import ErasurePlan, LessonLiveError, erase_pupil, plan_erasure
from safeclass.app.identity import STAFF_COOKIE, csrf_token
from safeclass.app.pupil_files import PupilNotFoundError
from safeclass.app.subject_access import (
    export_pupil,
    gather,
    journal_export,
)
from safeclass.app.subject_access_words import erased_words, held_words, kept_words
from safeclass.web import i18n
from safeclass.web.deps import AllowedStaff, services_of
from safeclass.web.render import not_now, render

router = APIRouter(include_in_schema=False)

RECORDS = "/staff/pupils/{pupil_id}/records"
ARCHIVE = "/staff/pupils/{pupil_id}/records.zip"
ERASE = "/staff/pupils/{pupil_id}/erase"
NO_SUCH_PUPIL = "No such pupil"


@dataclass(frozen=True, slots=True)
class Line:
    words: str
    count: int


@dataclass(frozen=True, slots=True)
class KeptLine:
    words: str
    count: int
    until: str  # in words, or "" when no date is set
    why: str


@router.get(RECORDS, response_class=HTMLResponse)
async def records_page(pupil_id: str, request: Request, staff: AllowedStaff) -> HTMLResponse:
    """What is held about the pupil, kind by kind, and the archive to download."""
    services = services_of(request)
    gettext = i18n.translations(i18n.language_of(request))
    try:
        found = await gather(
            services.engine, services.pupil_files, pupil_id, staff.school_id, services.clock.now()
        )
    except PupilNotFoundError:
        raise HTTPException(404, NO_SUCH_PUPIL) from None
    words = held_words(gettext)
    return render(
        request,
        "pupil_records.html",
        pupil_id=found.pupil_id,
        name=found.name,
        class_name=found.record["class"],
        lines=[Line(words.get(k, k), n) for k, n in found.counts().items()],
    )


@router.get(ARCHIVE)
async def records_archive(pupil_id: str, request: Request, staff: AllowedStaff) -> Response:
    """The archive: summary.html and the records as JSON and CSV, in one zip (journalled)."""
    services = services_of(request)
    now = services.clock.now()
    try:
        language = i18n.language_of(request)
        archive = await export_pupil(
            services.engine,
            services.pupil_files,
            pupil_id,
            staff.school_id,
            now,
            translations=i18n.translations(language),
            language=language,
        )
    except PupilNotFoundError:
        raise HTTPException(404, NO_SUCH_PUPIL) from None
    found = archive.file
    await journal_export(
        services.event_log, found.school_id, found.pupil_id, staff.staff_id, now, found.counts()
    )
    return Response(
        archive.data,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{archive.filename}"',
            "Cache-Control": "no-store",
        },
    )


@router.get(ERASE, response_class=HTMLResponse)
async def erase_page(pupil_id: str, request: Request, staff: AllowedStaff) -> HTMLResponse:
    """Before anything is touched: what would be erased, what must be kept, until when, why."""
    services = services_of(request)
    now = services.clock.now()
    try:
        plan = await plan_erasure(
            services.engine,
            pupil_id,
            staff.school_id,
            now.date(),
            files=services.pupil_files,
            records=services.erasure,
        )
    except PupilNotFoundError:
        raise HTTPException(404, NO_SUCH_PUPIL) from None
    return _plan_page(request, plan, done=False)


@router.post(ERASE, response_class=HTMLResponse)
async def erase(pupil_id: str, request: Request, staff: AllowedStaff) -> HTMLResponse:
    """Erase what the law allows, keep the rest, and say which is which."""
    services = services_of(request)
    now = services.clock.now()
    async with services.engine.connect() as conn:
        try:
            await services.pupil_files.find_pupil(conn, pupil_id, staff.school_id)
        except PupilNotFoundError:
            raise HTTPException(404, NO_SUCH_PUPIL) from None
    try:
        result = await erase_pupil(
            services.engine,
            services.event_log,
            pupil_id,
            staff.school_id,
            staff.staff_id,
            now,
            files=services.pupil_files,
            records=services.erasure,
        )
    except LessonLiveError:
        gettext = i18n.translations(i18n.language_of(request)).gettext
        return not_now(
            request,
            gettext("One of this pupil's lessons is live now. Erase once it has ended."),
            f"/staff/pupils/{pupil_id}/records",
            gettext("Back to the records"),
        )
    return _plan_page(request, result.plan, done=True, problems=list(result.problems))


def _plan_page(
    request: Request, plan: ErasurePlan, *, done: bool, problems: list[str] | None = None
) -> HTMLResponse:
    language = i18n.language_of(request)
    gettext = i18n.translations(language)
    erased, kept = erased_words(gettext), kept_words(gettext)
    kept_lines = []
    for k in plan.kept:
        words, why = kept.get(k.kind, (k.kind, k.why))
        until = format_date(k.until, "d MMMM y", locale=language) if k.until else ""
        kept_lines.append(KeptLine(words, k.count, until, why))
    return render(
        request,
        "pupil_erase.html",
        pupil_id=plan.pupil_id,
        name=plan.name,
        done=done,
        erase_lines=[Line(erased.get(k, k), n) for k, n in plan.erase.items()],
        kept_lines=kept_lines,
        record_kept=plan.keep_record,
        problems=problems or [],
        csrf_token=csrf_token(request.cookies.get(STAFF_COOKIE, "")),
    )
