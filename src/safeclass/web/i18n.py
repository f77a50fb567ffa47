"""Which language a page is in, and its translations: English, or Welsh (Cymraeg).

The strings live in the templates (and a few here, marked with `_`) in English; Welsh comes from
the gettext catalogue `locale/cy/LC_MESSAGES/messages.po`, compiled to `messages.mo` beside it
(`scripts/translations` extracts, updates and compiles; both files are committed, so a clean
clone works without a build step). Babel supplies the catalogues' tools and Welsh's six plural
forms; Jinja2's i18n extension puts `gettext`/`ngettext` into the templates.

The language of a page is, first to last: `?lang=` in the address (the switch on every page,
which also sets the `sc_lang` cookie so the choice sticks), the `sc_lang` cookie, the browser's
Accept-Language, then English.
"""

from __future__ import annotations

import functools
from pathlib import Path

from babel.support import NullTranslations, Translations
from starlette.requests import HTTPConnection

LANG_COOKIE = "sc_lang"
LANG_PARAM = "lang"
DEFAULT = "en"
LANGUAGES = ("en", "cy")
# How each language names itself, for the switch.
NATIVE_NAMES = {"en": "English", "cy": "Cymraeg"}
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"


def chosen_in_address(request: HTTPConnection) -> str | None:
    """The language asked for with `?lang=` (the switch), if it is one we have."""
    asked = request.query_params.get(LANG_PARAM, "").strip().lower()
    return asked if asked in LANGUAGES else None


def language_of(request: HTTPConnection) -> str:
    """The language to answer this request (or the room's socket, at its handshake) in."""
    chosen = chosen_in_address(request)
    if chosen is not None:
        return chosen
    cookie = request.cookies.get(LANG_COOKIE, "").strip().lower()
    if cookie in LANGUAGES:
        return cookie
    return from_accept_language(request.headers.get("accept-language", ""))


def from_accept_language(header: str) -> str:
    """The browser's most preferred language that we have (q-values honoured), else English."""
    best, best_q = DEFAULT, 0.0
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        q -= position * 1e-6  # equal q: the earlier wins
        if primary in LANGUAGES and q > best_q:
            best, best_q = primary, q
    return best


@functools.cache
def translations(language: str) -> NullTranslations:
    """The compiled catalogue for `language` (English is the source: no catalogue)."""
    if language == DEFAULT:
        return NullTranslations()
    return Translations.load(str(LOCALE_DIR), [language], DOMAIN)
