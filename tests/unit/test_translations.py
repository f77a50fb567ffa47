"""The pages' Welsh: every string has a translation, the committed .mo is the .po compiled, and
the browser's language is read as it is meant (issue 10, STYLE.md "The browser")."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from safeclass.web import i18n

WEB = Path(i18n.__file__).resolve().parent
CY = WEB / "locale" / "cy" / "LC_MESSAGES"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
METHODS = [("templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {
    "templates/**.html": {"extensions": "jinja2.ext.i18n"},
    "*.html": {"extensions": "jinja2.ext.i18n"},
}
# the documents the app writes in the reader's language (a subject access archive's summary)
APP_TEMPLATES = WEB.parent / "app" / "templates"
APP_METHODS = [("*.html", "jinja2")]


PRESETS = WEB.parent / "policy" / "presets"
PRESET_METHODS = [("**.toml", "safeclass.web.policy_words.extract_expectations")]


def extracted() -> set[str]:
    """Every msgid in the pages (templates and Python, the room's sentences) and the seed
    policies' expectations, as `scripts/translations` finds them."""
    found = set()
    for folder, methods in (
        (WEB, METHODS),
        (PRESETS, PRESET_METHODS),
        (APP_TEMPLATES, APP_METHODS),
    ):
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(folder), methods, keywords=KEYWORDS, options_map=OPTIONS
        ):
            found.add(message[0] if isinstance(message, tuple) else message)
    return found


def welsh_catalogue():
    with (CY / "messages.po").open("rb") as f:
        return read_po(f, locale="cy")


def test_the_pages_have_strings_to_translate():
    found = extracted()
    assert "Sign in" in found
    assert "Starts in %(num)d minute" in found  # from the Python of the pages, too
    assert "Please read and tick the expectations first" in found  # a refusal, room_words.py
    assert "Be on time, with your device charged and ready." in found  # St Joseph's policy


def test_every_string_of_the_pages_has_a_welsh_translation():
    catalogue = welsh_catalogue()
    missing = []
    for msgid in sorted(extracted()):
        message = catalogue.get(msgid)
        if message is None or message.fuzzy:
            missing.append(msgid)
            continue
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        if isinstance(message.id, tuple) and len(forms) != catalogue.num_plurals:
            missing.append(f"{msgid} (needs all {catalogue.num_plurals} Welsh plural forms)")
        elif not all(form.strip() for form in forms):
            missing.append(msgid)
    assert missing == [], "translate these in locale/cy/LC_MESSAGES/messages.po: " + str(missing)


def test_welsh_has_six_plural_forms():
    assert welsh_catalogue().num_plurals == 6


def test_the_committed_mo_is_the_po_compiled():
    """The server reads the .mo: after editing the .po, run `scripts/translations compile`."""

    def pairs(messages):
        def key(x):
            return tuple(x) if isinstance(x, list | tuple) else x

        return {key(m.id): key(m.string) for m in messages if m.id and not m.fuzzy}

    with (CY / "messages.mo").open("rb") as f:
        compiled = pairs(read_mo(f))
    written = pairs(welsh_catalogue())
    assert compiled == written, "run scripts/translations compile"


def test_the_server_translates_into_welsh_with_its_plural_forms():
    welsh = i18n.translations("cy")
    assert welsh.gettext("Sign in") == "Mewngofnodi"
    assert welsh.ngettext("Starts in %(num)d minute", "Starts in %(num)d minutes", 2) == (
        "Yn dechrau ymhen %(num)d funud"
    )
    assert welsh.ngettext("Starts in %(num)d minute", "Starts in %(num)d minutes", 5) == (
        "Yn dechrau ymhen %(num)d munud"
    )


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("cy", "cy"),
        ("cy-GB,cy;q=0.9,en-GB;q=0.8,en;q=0.7", "cy"),
        ("en-GB,en;q=0.9,cy;q=0.8", "en"),
        ("fr-FR,fr;q=0.9,cy;q=0.5", "cy"),
        ("en;q=0.2,cy;q=0.8", "cy"),
        ("fr", "en"),
        ("", "en"),
        ("cy;q=nonsense", "en"),
    ],
)
def test_the_browsers_language_is_the_first_we_have(header: str, language: str):
    assert i18n.from_accept_language(header) == language
