"""The words of a pupil's records, for their page and their archive's summary: each kind of
record, what erasure takes, and why a record is kept.

`app.subject_access` and `app.erasure` name each kind of record in English (the CLI and the
school's journal use those names); these are the same names in the reader's language, kept here
once for the page (web/subject_access_page.py) and `summary.html` alike (scripts/translations
extracts this file).
"""

from __future__ import annotations

from babel.support import NullTranslations


def held_words(gettext: NullTranslations) -> dict[str, str]:
    """The archive's kinds of record (PupilFile.counts) in words."""
    _ = gettext.gettext
    return {
        "school record": _("School record"),
        "guardians": _("Parents and carers"),
        "consent": _("Consent"),
        "invitations": _("Invitation links (never the link itself)"),
        "sessions (attendance)": _("Lessons and attendance"),
        "logged events": _("Things the lessons' logs say about them"),
        "chat messages": _("Their chat messages"),
        "notes": _("Notes by staff"),
        "concerns": _("Safeguarding concerns"),
        "parents' reports": _("What their parents told the school"),
        "recordings": _("Recordings (listed, not copied)"),
        "notices to parents": _("Notices sent to their parents"),
    }


def erased_words(gettext: NullTranslations) -> dict[str, str]:
    """The kinds of record erasure takes (ErasurePlan.erase) in words."""
    _ = gettext.gettext
    return {
        "school record": _("School record"),
        "guardians": _("Parents and carers"),
        "consent": _("Consent"),
        "consent history": _("Every change to their consent"),
        "the head's attendance rows": _("Their attendance in the head teacher's view"),
        "class and group places": _("Places in a class or group"),
        "names on lessons' class lists": _("Their name on lessons' class lists"),
        "invitation links": _("Invitation links"),
        "devices let in by a link": _("Devices let in by a link"),
        "parents' reports": _("What their parents told the school"),
        "recordings": _("Recordings"),
        "concerns past their retention date": _("Concerns past their keep-until date"),
        "log: chat messages": _("Their chat messages, in the lessons' logs"),
        "log: names in the waiting room": _("Their name, in the lessons' logs"),
        "log: reasons for a removal": _("Why they were removed, in the lessons' logs"),
        "log: notes": _("Notes about them, in the lessons' logs"),
        "log: refused attempts' messages": _("Messages about things they tried, in the logs"),
        "log: concerns in the log": _("Concerns past their date, in the lessons' logs"),
        "log: notes to the DSL": _("Notes to the safeguarding lead, in the lessons' logs"),
        "notices to parents": _("Notices sent to their parents"),
    }


def kept_words(gettext: NullTranslations) -> dict[str, tuple[str, str]]:
    """What erasure keeps (Kept.kind): (the record in words, why it is kept)."""
    _ = gettext.gettext
    law = _(
        "A safeguarding record is kept until its keep-until date, whoever asks "
        "(Keeping Children Safe in Education, and the school's policy)."
    )
    return {
        "safeguarding concerns": (_("Safeguarding concerns"), law),
        "concerns and alerts in the lessons' logs": (
            _("Concerns and alerts in the lessons' logs"),
            law,
        ),
        "name, date of birth and MIS number": (
            _("Name, date of birth and MIS number"),
            _("The concerns kept must say which child they are about."),
        ),
        "recordings of a lesson with a concern": (
            _("Recordings of a lesson with a concern"),
            _("They may be evidence for the concern; they are deleted on their own date."),
        ),
    }
