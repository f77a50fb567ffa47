"""A class's list for staff, `/staff/classes/{class_id}`: each pupil with their consent in words.

The names are those the room shows (the policy's name rule, C4), the consent is what it means
for live lessons under this school's policy (C17), and for each family only whether a parent's
email address is on record (so staff know who needs a printed letter), never the address. Any
member of staff of the school may see it; another school's class is "not found".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from safeclass.app import staff_roles
from safeclass.app.school_records import ConsentState, NotInSchoolError
from safeclass.core import Consent
from safeclass.core.commands import PARENT_BY_LINK
from safeclass.core.names import display_names
from safeclass.web import i18n
from safeclass.web.deps import AllowedStaff, services_of
from safeclass.web.render import render
from safeclass.web.staff_words import consent_words, short_when, withdrawn_words

router = APIRouter(include_in_schema=False)

CLASS_PAGE = "/staff/classes/{class_id}"
NO_SUCH_CLASS = "No such class"


@dataclass(frozen=True, slots=True)
class RosterLine:
    id: str
    name: str
    takes_part: bool
    consent_words: str
    has_email: bool


@router.get(CLASS_PAGE, response_class=HTMLResponse)
async def class_page(class_id: str, request: Request, staff: AllowedStaff) -> HTMLResponse:
    """The class or group's pupils, with their consent in plain words."""
    services = services_of(request)
    language = i18n.language_of(request)
    gettext = i18n.translations(language)
    async with services.engine.connect() as conn:
        try:
            found = await services.records.class_in_school(conn, staff.school_id, class_id)
        except NotInSchoolError:
            raise HTTPException(404, NO_SUCH_CLASS) from None
        policy = await services.records.current_policy(conn, staff.school_id)
        pupils = await services.records.list_pupils(conn, staff.school_id, class_id)
    zone = ZoneInfo(policy.school.timezone)
    shown = display_names(
        ((p.id, p.forename, p.surname) for p in pupils), policy.identity.name_rule
    )
    lines = []
    for p in sorted(pupils, key=lambda p: (shown[p.id].casefold(), p.id)):
        takes_part, words = consent_words(gettext, p.consent_basis.value, policy.consent.basis)
        withdrawn = withdrawn_at(p.consent)
        if withdrawn is not None:  # the family, through their link (C23): and when
            words = withdrawn_words(gettext, short_when(withdrawn, zone, language))
        lines.append(
            RosterLine(p.id, shown[p.id], takes_part, words, any(g.email for g in p.guardians))
        )
    return render(
        request,
        "class.html",
        class_id=found.id,
        name=found.name,
        is_group=found.is_group,
        pupils=lines,
        taking_part=sum(line.takes_part for line in lines),
        may_schedule=staff_roles.may(staff.role, staff_roles.Capability.SCHEDULE_SESSIONS),
        may_see_records=staff_roles.may(staff.role, staff_roles.Capability.HANDLE_SUBJECT_ACCESS),
    )


def withdrawn_at(consent: ConsentState | None) -> dt.datetime | None:
    """When a parent withdrew the consent on record through their child's link; None when the
    consent on record is not that."""
    if consent is None or consent.basis is not Consent.REFUSED or consent.source != PARENT_BY_LINK:
        return None
    return consent.recorded_at
