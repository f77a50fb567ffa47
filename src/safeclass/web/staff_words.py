"""Words the staff pages share: a pupil's consent and a colleague's role in plain words.

Consent is a code in the records (implied, given, refused, C17) and what it means depends on the
school's policy (an implied consent lets a pupil take part only where the policy does not ask
for a parent's yes). A page shows what it means for the lesson, never the code.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from babel.support import NullTranslations

from safeclass.core import Consent
from safeclass.policy.model import ConsentBasis


def consent_words(gettext: NullTranslations, consent: str, basis: ConsentBasis) -> tuple[bool, str]:
    """(takes part, what the school knows), e.g. (False, "Does not take part: the parents said
    no")."""
    _ = gettext.gettext
    if consent == Consent.REFUSED:
        return False, _("Does not take part: the parents said no")
    if consent == Consent.GIVEN:
        return True, _("Takes part: the parents said yes")
    if basis is ConsentBasis.EXPLICIT:
        return False, _("Does not take part yet: the parents have not said yes")
    return True, _("Takes part: the parents have not said no")


def withdrawn_words(gettext: NullTranslations, when: str) -> str:
    """A consent a parent withdrew through their child's link (C23), and when ("Sat 5 Dec,
    09:30"): staff see it came from the family, not the office."""
    return gettext.gettext(
        "Does not take part: the parent withdrew consent through the link (%(when)s)"
    ) % {"when": when}


def short_when(when: dt.datetime, zone: ZoneInfo, language: str, day: dt.date | None = None) -> str:
    """A time in the school's zone: "09:30" on `day`, else "Sat 5 Dec, 09:30"."""
    local = when.astimezone(zone)
    at = format_time(local, "HH:mm", locale=language)
    if local.date() == day:
        return at
    return f"{format_date(local, 'EEE d MMM', locale=language)}, {at}"


def role_words(gettext: NullTranslations, role: str) -> str:
    """A colleague's role as staff say it."""
    _ = gettext.gettext
    words = {
        "teacher": _("teacher"),
        "assistant": _("teaching assistant"),
        "dsl": _("safeguarding lead"),
        "head": _("head teacher"),
        "admin": _("school office"),
    }
    return words.get(role, role)
