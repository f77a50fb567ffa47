"""The head teacher's view (C19: CRO-02, CRO-09, CRO-17), `/staff/oversight`, for the roles with
`oversee_sessions`.

Attendance and punctuality by week, by class and by pupil, over a period (this term by default:
the last 13 weeks), for one class or all; behaviour notes, rewards, incidents, removals and
cameras turned off, and how many concerns were raised (never what they say: that is the DSL's);
the school-wide compliance summary's counts (`app/reports/compliance.py`), linked to its
table; and the policy's review date, warned of 30 days ahead and flagged once past. Each
chart is SVG drawn here (`charts`) with a table beside it and a CSV to download
(`/staff/oversight/{table}.csv`, every cell defused like the register's). One pupil's own
history: `/staff/oversight/pupils/{id}`.

The figures are sums over the stored rows of each ended session (`app/oversight.py`), so the
page stays fast for a term of a whole school.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from safeclass.app import oversight
from safeclass.app.oversight import Counts, Line, Mark, Overview, Review
from safeclass.app.register import Attendance
from safeclass.app.reports.compliance import TITLES, school_summary
from safeclass.app.reports.spreadsheet import safe_cell
from safeclass.policy import Policy, loads
from safeclass.web import i18n
from safeclass.web.charts import Bar, Series, pattern_defs, stacked_bars
from safeclass.web.deps import AllowedStaff, services_of
from safeclass.web.render import render

router = APIRouter(include_in_schema=False)

PAGE = "/staff/oversight"
TABLE_CSV = "/staff/oversight/{table}.csv"
PUPIL_PAGE = "/staff/oversight/pupils/{pupil_id}"
TABLES = ("weeks", "classes", "pupils", "behaviour")
DEFAULT_WEEKS = 13  # a term
PAGE_BUDGET_S = 2.0  # the page adds up ended sessions for this long, then leaves it to a task
NO_SUCH_PUPIL = "No such pupil"


@dataclass(frozen=True, slots=True)
class Period:
    since: dt.date
    until: dt.date
    class_id: str | None

    def query(self) -> str:
        """The filter as a query string, for the CSV links."""
        q = f"from={self.since.isoformat()}&to={self.until.isoformat()}"
        return q + (f"&class={self.class_id}" if self.class_id else "")


def _date(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def period_of(request: Request, today: dt.date, class_ids: Sequence[str]) -> Period:
    """The period and class asked for (`from`, `to`, `class`); the last 13 weeks by default,
    and anything that does not make sense read as the default."""
    params = request.query_params
    until = _date(params.get("to")) or today
    since = _date(params.get("from")) or until - dt.timedelta(weeks=DEFAULT_WEEKS)
    if since > until:
        since, until = until, since
    chosen = params.get("class") or None
    return Period(since, until, chosen if chosen in class_ids else None)


@functools.lru_cache(maxsize=32)
def _policy(toml: str, version: int) -> Policy:
    """A stored policy version, parsed once (versions never change once written)."""
    return loads(toml, source=f"policy version {version}")


async def _setting(request: Request, staff: Any) -> tuple[Policy, ZoneInfo, dt.date, list[Any]]:
    services = services_of(request)
    async with services.engine.connect() as conn:
        record = await services.records.current_policy_version(conn, staff.school_id)
        classes = await services.records.list_classes(conn, staff.school_id)
    policy = _policy(record.toml, record.version)
    zone = ZoneInfo(policy.school.timezone)
    return policy, zone, services.clock.now().astimezone(zone).date(), classes


async def _overview(
    request: Request,
    staff: Any,
    zone: ZoneInfo,
    period: Period,
    classes: list[Any],
    **options: Any,
) -> Overview:
    """The school's (or the chosen class's) figures for the period, as the page and its CSV
    downloads ask for them (`options`: how many recent lines, which pupils, a time budget)."""
    services = services_of(request)
    return await oversight.overview(
        services.engine,
        services.attendance,
        services.event_log,
        staff.school_id,
        zone,
        period.since,
        period.until,
        services.clock.now(),
        period.class_id,
        class_names={c.id: c.name for c in classes},
        **options,
    )


def review_words(policy: Policy, today: dt.date, language: str) -> tuple[Review, str]:
    """The policy's review date in a sentence, and how urgent it is (CRO-17)."""
    gettext = i18n.translations(language).gettext
    state = oversight.review_state(policy, today)
    when = format_date(policy.school.review, "d MMMM y", locale=language)
    if state is Review.OVERDUE:
        words = gettext(
            "The policy's review is overdue since %(date)s. Review it and adopt a new version."
        )
    elif state is Review.TODAY:
        words = gettext("The policy is due for review today, %(date)s.")
    else:
        words = gettext("The policy is due for review on %(date)s.")
    return state, words % {"date": when}


def _both(
    chart_id: str,
    title: str,
    description: str,
    series: Sequence[Series],
    bars: Sequence[Bar],
    *,
    share: bool = True,
) -> tuple[Markup, Markup]:
    """The chart for a wide screen and for a phone (site.css shows one of the two)."""
    wide = stacked_bars(chart_id, title, description, series, bars, share=share)
    narrow = stacked_bars(
        f"{chart_id}-narrow", title, description, series, bars, share=share, narrow=True
    )
    return wide, narrow


def _attendance_chart(
    chart_id: str,
    title: str,
    description: str,
    gettext: Callable[[str], str],
    rows: Sequence[tuple[str, Counts]],
) -> tuple[Markup, Markup]:
    """A bar a row of on time, late, absent and other, labelled with the share who came."""
    percent = gettext("%(num)d%%")
    return _both(
        chart_id,
        title,
        description,
        _series(gettext),
        [Bar(label, _values(c), percent % {"num": c.percent(c.came)}) for label, c in rows],
    )


def _series(gettext: Callable[[str], str]) -> list[Series]:
    return [
        Series(gettext("On time"), "s-0"),
        Series(gettext("Late"), "s-1"),
        Series(gettext("Absent"), "s-2"),
        Series(gettext("Other"), "s-3"),
    ]


def _values(c: Counts) -> tuple[int, int, int, int]:
    return (c.on_time, c.late, c.absent, c.other)


def mark_words(gettext: Callable[[str], str]) -> dict[Mark, str]:
    return {
        Mark.INCIDENT: gettext("Incidents"),
        Mark.BEHAVIOUR: gettext("Behaviour notes"),
        Mark.REWARD: gettext("Rewards"),
        Mark.NOTE: gettext("Other notes"),
        Mark.REMOVAL: gettext("Removals"),
        Mark.CAMERA_OFF: gettext("Cameras turned off by staff"),
        Mark.CONCERN: gettext("Concerns raised"),
    }


def one_mark_words(gettext: Callable[[str], str]) -> dict[Mark, str]:
    """What one mark is, for the list of the latest."""
    return {
        Mark.INCIDENT: gettext("Incident"),
        Mark.BEHAVIOUR: gettext("Behaviour note"),
        Mark.REWARD: gettext("Reward"),
        Mark.NOTE: gettext("Note"),
        Mark.REMOVAL: gettext("Removal"),
        Mark.CAMERA_OFF: gettext("Camera turned off by staff"),
        Mark.CONCERN: gettext("Concern raised"),
    }


def week_label(line: Line, language: str) -> str:
    gettext = i18n.translations(language).gettext
    week = dt.date.fromisoformat(line.key)
    return gettext("Week of %(date)s") % {"date": format_date(week, "d MMM", locale=language)}


def _class_label(line: Line, gettext: Callable[[str], str]) -> str:
    return line.label or gettext("No class")


@router.get(PAGE, response_class=HTMLResponse)
async def oversight_page(request: Request, staff: AllowedStaff) -> HTMLResponse:
    """Attendance, punctuality and behaviour across the school's sessions, with charts."""
    services = services_of(request)
    policy, zone, today, classes = await _setting(request, staff)
    period = period_of(request, today, [c.id for c in classes])
    found = await _overview(
        request,
        staff,
        zone,
        period,
        classes,
        pupils=oversight.Pupils.ALL if period.class_id else oversight.Pupils.MOST_MISSED,
        budget_s=PAGE_BUDGET_S,
    )
    # the school-wide compliance summary over the same period, in counts (C15)
    compliance = await school_summary(
        services.engine,
        services.compliance_results,
        services.event_log,
        staff.school_id,
        period.since,
        period.until,
        str(zone),
        budget_s=PAGE_BUDGET_S,
    )
    language = i18n.language_of(request)
    gettext = i18n.translations(language).gettext
    weeks = [(week_label(w, language), w) for w in found.weeks]
    week_chart = _attendance_chart(
        "chart-weeks",
        gettext("Attendance by week"),
        gettext(
            "For each week, the share of expected pupils who came on time, came late, were "
            "absent, or other. The table below has the same figures."
        ),
        gettext,
        [(label, w.counts) for label, w in weeks],
    )
    class_rows = [(_class_label(c, gettext), c) for c in found.classes]
    class_chart = _attendance_chart(
        "chart-classes",
        gettext("Attendance by class"),
        gettext(
            "For each class, the share of expected pupils who came on time, came late, were "
            "absent, or other. The table below has the same figures."
        ),
        gettext,
        [(label, c.counts) for label, c in class_rows],
    )
    names = mark_words(gettext)
    behaviour_rows = [(names[m], found.behaviour[m]) for m in oversight.MARK_ORDER]
    behaviour_chart = _both(
        "chart-behaviour",
        gettext("Behaviour"),
        gettext("How many of each kind were recorded in the period. The table below has them."),
        [Series(gettext("Recorded"), "s-0")],
        [Bar(label, (n,), str(n)) for label, n in behaviour_rows],
        share=False,
    )
    review_state, review_sentence = review_words(policy, today, language)
    return render(
        request,
        "oversight.html",
        period=period,
        query=period.query(),
        classes=classes,
        found=found,
        since_words=format_date(period.since, "d MMMM y", locale=language),
        until_words=format_date(period.until, "d MMMM y", locale=language),
        defs=pattern_defs(),
        week_chart=week_chart,
        weeks=weeks,
        class_chart=class_chart,
        class_rows=class_rows,
        behaviour_chart=behaviour_chart,
        behaviour_rows=behaviour_rows,
        pupils=found.pupils,
        all_pupils=found.on_roll,
        recent=[
            (
                format_date(line.at, "EEE d MMM", locale=language)
                + " "
                + format_time(line.at, "HH:mm", locale=language),
                one_mark_words(gettext)[line.kind],
                line,
            )
            for line in found.recent
        ],
        concerns=found.behaviour[Mark.CONCERN],
        compliance=compliance,
        compliance_broken=[
            (gettext(TITLES[key]), compliance.breaches_of(key))
            for key in compliance.rules
            if compliance.breaches_of(key)
        ],
        compliance_query=f"from={period.since.isoformat()}&to={period.until.isoformat()}",
        review_state=review_state.value,
        review_sentence=review_sentence,
    )


@router.get(PUPIL_PAGE, response_class=HTMLResponse)
async def pupil_page(pupil_id: str, request: Request, staff: AllowedStaff) -> HTMLResponse:
    """One pupil's own row of every session in the period, newest first."""
    services = services_of(request)
    _policy, zone, today, classes = await _setting(request, staff)
    period = period_of(request, today, [c.id for c in classes])
    try:
        history = await oversight.pupil_history(
            services.engine,
            services.attendance,
            services.event_log,
            staff.school_id,
            pupil_id,
            zone,
            period.since,
            period.until,
            services.clock.now(),
        )
    except oversight.NoSuchPupilError:
        raise HTTPException(404, NO_SUCH_PUPIL) from None
    language = i18n.language_of(request)
    gettext = i18n.translations(language).gettext
    names = mark_words(gettext)
    return render(
        request,
        "oversight_pupil.html",
        period=period,
        query=period.query(),
        history=history,
        since_words=format_date(period.since, "d MMMM y", locale=language),
        until_words=format_date(period.until, "d MMMM y", locale=language),
        status_words=status_words(gettext),
        behaviour=[(names[m], n) for m, n in history.behaviour.items() if n],
        rows=[
            (
                format_date(s.starts_at, "EEE d MMM y", locale=language),
                format_time(s.starts_at, "HH:mm", locale=language),
                s,
            )
            for s in history.sessions
        ],
    )


def status_words(gettext: Callable[[str], str]) -> dict[str, str]:
    return {
        Attendance.ATTENDED.value: gettext("Attended"),
        Attendance.REMOVED.value: gettext("Removed"),
        Attendance.DENIED.value: gettext("Turned away"),
        Attendance.NOT_ADMITTED.value: gettext("Not let in"),
        Attendance.OPTED_OUT.value: gettext("Opted out"),
        Attendance.ABSENT.value: gettext("Absent"),
    }


# -- the CSV downloads ---------------------------------------------------------------------------

COUNT_HEADINGS = (
    "Sessions",
    "Pupils expected",
    "On time",
    "Late",
    "Absent",
    "Other",
    "Attended (%)",
)


def _count_cells(line: Line) -> list[str]:
    c = line.counts
    return [
        str(line.sessions),
        str(c.expected),
        str(c.on_time),
        str(c.late),
        str(c.absent),
        str(c.other),
        str(c.percent(c.came)),
    ]


def table_csv(table: str, found: Overview) -> str:
    """One of the page's tables as CSV (RFC 4180), every cell defused (`safe_cell`)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    rows: list[list[str]]
    if table == "weeks":
        header = ["Week beginning", *COUNT_HEADINGS]
        rows = [[w.key, *_count_cells(w)] for w in found.weeks]
    elif table == "classes":
        header = ["Class", *COUNT_HEADINGS]
        rows = [[c.label, *_count_cells(c)] for c in found.classes]
    elif table == "pupils":
        header = ["Pupil", "Class", *COUNT_HEADINGS]
        rows = [[p.label, p.extra, *_count_cells(p)] for p in found.pupils]
    else:
        kinds = [m.value for m in oversight.MARK_ORDER]
        header = ["Class", *kinds]
        names = {c.key: c.label for c in found.classes}
        rows = [
            [names.get(cid, cid), *(str(counts[m]) for m in oversight.MARK_ORDER)]
            for cid, counts in sorted(
                found.behaviour_by_class.items(), key=lambda kv: names.get(kv[0], kv[0])
            )
        ]
        rows.append(["All", *(str(found.behaviour[m]) for m in oversight.MARK_ORDER)])
    writer.writerow(header)
    for row in rows:
        writer.writerow(safe_cell(cell) for cell in row)
    return out.getvalue()


@router.get(TABLE_CSV)
async def table_as_csv(table: str, request: Request, staff: AllowedStaff) -> Response:
    """A chart's figures as CSV for the school's spreadsheet, for the page's period and class."""
    if table not in TABLES:
        raise HTTPException(404, "No such table")
    _policy, zone, today, classes = await _setting(request, staff)
    period = period_of(request, today, [c.id for c in classes])
    found = await _overview(
        request,
        staff,
        zone,
        period,
        classes,
        recent=0,
        pupils=oversight.Pupils.ALL if table == "pupils" else oversight.Pupils.NONE,
    )
    name = f"{table}-{period.since.isoformat()}-to-{period.until.isoformat()}.csv"
    return Response(
        table_csv(table, found).encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
