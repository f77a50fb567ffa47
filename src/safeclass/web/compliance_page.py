"""The compliance pages: one session's report, its PDF, and the school-wide summary.

- `GET /staff/sessions/{id}/compliance`: each rule of the policy version that governed the
  lesson, held or not, with its clause and the log's evidence (app/reports/compliance.py). The
  log is verified afresh on every view, and the stored short form corrected with it.
- `GET /staff/sessions/{id}/compliance.pdf`: the same, to print or keep, in the page's language.
- `GET /staff/compliance?from=…&to=…`: the head's and the DSL's view across the school's ended
  sessions of a date range (the last 30 days unless chosen): each session held or not per rule,
  and the breaches counted, from the stored results (`compliance.school_summary`).

Who may: the route table's rows (`route_access`): the lesson's own staff, the head and the DSL
for a session; the head and the DSL for the school.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from safeclass.app.reports import compliance
from safeclass.app.reports.compliance import Outcome
from safeclass.app.reports.compliance_pdf import compliance_pdf
from safeclass.app.school_records import StoredSession
from safeclass.web import i18n
from safeclass.web.compliance_words import SHORT
from safeclass.web.deps import AllowedSession, AllowedStaff, services_of
from safeclass.web.render import not_now, render

# a page works out lessons with no stored result for this long, then leaves the rest to a task
PAGE_BUDGET_S = 2.0

router = APIRouter(include_in_schema=False)

PAGE = "/staff/sessions/{session_id}/compliance"
PDF = "/staff/sessions/{session_id}/compliance.pdf"
SCHOOL = "/staff/compliance"
DEFAULT_DAYS = 30
MAX_DAYS = 400
_UNSAFE = re.compile(r"[^A-Za-z0-9]+")
_MARK = {Outcome.HELD: "✓", Outcome.NOT_HELD: "✗", Outcome.UNPROVEN: "?"}
_CELL_CLASS = {Outcome.HELD: "held", Outcome.NOT_HELD: "not-held", Outcome.UNPROVEN: "unproven"}


@dataclass(frozen=True, slots=True)
class RuleView:
    key: str
    title: str
    clause: str
    outcome: str  # an Outcome value, for the tag's style
    outcome_words: str
    evidence: list[str]


def ready(stored: StoredSession, now: dt.datetime) -> bool:
    """The report is whole once the lesson has ended (or its planned end has passed)."""
    if stored.status == "cancelled":
        return False
    end = stored.plan.starts_at + dt.timedelta(minutes=stored.plan.minutes)
    return stored.status == "ended" or now >= end


@router.get(PAGE, response_class=HTMLResponse)
async def session_compliance_page(
    session_id: str, access: AllowedSession, request: Request
) -> Response:
    """One lesson's compliance report."""
    report = await _report_of(request, session_id, access)
    if isinstance(report, HTMLResponse):
        return report
    language = i18n.language_of(request)
    words = i18n.translations(language)
    zone = ZoneInfo(report.timezone)
    start = report.planned_start.astimezone(zone)
    rules = [
        RuleView(
            r.key,
            words.gettext(r.title),
            r.clause,
            r.outcome.value,
            words.gettext(compliance.OUTCOME_WORDS[r.outcome]),
            [compliance.say(s, words) for s in r.evidence],
        )
        for r in report.rules
    ]
    return render(
        request,
        "compliance.html",
        session_id=session_id,
        report=report,
        when=format_datetime(start, "EEEE d MMMM y, HH:mm", locale=language),
        rules=rules,
        not_held=sum(r.outcome == Outcome.NOT_HELD.value for r in rules),
    )


@router.get(PDF)
async def session_compliance_pdf(
    session_id: str, access: AllowedSession, request: Request
) -> Response:
    """The report as a PDF, in the page's language."""
    report = await _report_of(request, session_id, access)
    if isinstance(report, HTMLResponse):
        return report
    words = i18n.translations(i18n.language_of(request))
    body = await asyncio.to_thread(compliance_pdf, report, words)
    zone = ZoneInfo(report.timezone)
    day = report.planned_start.astimezone(zone).date().isoformat()
    title = _UNSAFE.sub("-", report.title).strip("-").lower()[:60] or "lesson"
    return Response(
        body,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="compliance-{day}-{title}.pdf"',
            "Cache-Control": "no-store",
        },
    )


@router.get(SCHOOL, response_class=HTMLResponse)
async def school_compliance_page(request: Request, staff: AllowedStaff) -> HTMLResponse:
    """Compliance across the school's sessions in a date range."""
    services = services_of(request)
    now = services.clock.now()
    async with services.engine.connect() as conn:
        policy = await services.records.current_policy(conn, staff.school_id)
    zone = ZoneInfo(policy.school.timezone)
    today = now.astimezone(zone).date()
    start, end, error = _range(request, today)
    summary = await compliance.school_summary(
        services.engine,
        services.compliance_results,
        services.event_log,
        staff.school_id,
        start,
        end,
        policy.school.timezone,
        now=now,
        budget_s=PAGE_BUDGET_S,
    )
    language = i18n.language_of(request)
    words = i18n.translations(language)
    rules = summary.rules
    # each cell's markup made once, not once per cell: 840 lessons are 11,000 cells
    markup = {None: Markup("<td></td>")} | {
        o: Markup('<td class="c-{}">{}<span class="visually-hidden"> {}</span></td>').format(
            _CELL_CLASS[o], _MARK[o], words.gettext(compliance.OUTCOME_WORDS[o])
        )
        for o in Outcome
    }

    def cells(line: compliance.SessionLine) -> Markup:
        return Markup("").join(markup[line.outcomes.get(key)] for key in rules)

    days: dict[dt.date, str] = {}  # Babel is slow: each day's words once, not each lesson's

    def when(at: dt.datetime) -> str:
        day = at.date()
        if day not in days:
            days[day] = format_date(day, "EEE d MMM", locale=language)
        return f"{days[day]}, {at:%H:%M}"

    return render(
        request,
        "compliance_school.html",
        summary=summary,
        start=start.isoformat(),
        end=end.isoformat(),
        range_words=words.gettext("%(start)s to %(end)s")
        % {
            "start": format_date(start, "d MMMM y", locale=language),
            "end": format_date(end, "d MMMM y", locale=language),
        },
        error=error,
        rules=[
            (key, words.gettext(SHORT[key]), words.gettext(compliance.TITLES[key])) for key in rules
        ],
        counts={key: summary.breaches_of(key) for key in rules},
        lines=[(s, when(s.starts_at), cells(s)) for s in summary.sessions],
    )


def _range(request: Request, today: dt.date) -> tuple[dt.date, dt.date, str]:
    """The dates asked for (`from`, `to`), else the last 30 days; an error code if unusable."""
    default = (today - dt.timedelta(days=DEFAULT_DAYS - 1), today)
    asked_from = request.query_params.get("from", "").strip()
    asked_to = request.query_params.get("to", "").strip()
    if not asked_from and not asked_to:
        return (*default, "")
    try:
        start = dt.date.fromisoformat(asked_from) if asked_from else default[0]
        end = dt.date.fromisoformat(asked_to) if asked_to else today
    except ValueError:
        return (*default, "not_a_date")
    if end < start:
        return (*default, "backwards")
    if (end - start).days >= MAX_DAYS:
        return (*default, "too_long")
    return start, end, ""


async def _report_of(
    request: Request, session_id: str, access: AllowedSession
) -> compliance.ComplianceReport | HTMLResponse:
    """The lesson's report for its page and its PDF, or the page saying it is not ready yet."""
    services = services_of(request)
    if not ready(access.session, services.clock.now()):
        return _not_ready(request, session_id)
    return await compliance.session_compliance(
        services.engine,
        services.compliance_results,
        services.event_log,
        session_id,
        access.session.school_id,
        services.clock.now(),
    )


def _not_ready(request: Request, session_id: str) -> HTMLResponse:
    gettext = i18n.translations(i18n.language_of(request)).gettext
    return not_now(
        request,
        gettext("The compliance report is ready once the lesson has ended."),
        f"/staff/sessions/{session_id}",
        gettext("Back to the lesson"),
    )
