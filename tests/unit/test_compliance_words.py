"""Every sentence of the compliance report is in the pages' catalogue, so it reads in Welsh.

The report's sentences are written in the app layer (app/reports/compliance.py), which gettext's
tools do not read; web/compliance_words.py lists them for the catalogue. This reads the report's
source for every sentence it can say and checks each is listed there, and that Welsh renders.
"""

from __future__ import annotations

import ast
from pathlib import Path

from safeclass.app.reports import compliance
from safeclass.app.reports.compliance import Said, Span, say, span_words
from safeclass.web import compliance_words, i18n

SOURCE = Path(compliance.__file__).read_text(encoding="utf-8")


def _strings(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _strings(node.body) + _strings(node.orelse)
    return []


def sentences() -> set[str]:
    """Each template the report passes to `Said` or `gettext`, and its fixed words."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(SOURCE)):
        if isinstance(node, ast.Call) and node.args:
            f = node.func
            name = f.id if isinstance(f, ast.Name) else getattr(f, "attr", None)
            if name in ("Said", "gettext"):
                found.update(_strings(node.args[0]))
    found.update(compliance.TITLES.values())
    found.update(compliance.OUTCOME_WORDS.values())
    found.update({compliance.LOG_VERIFIES, compliance.LOG_DOES_NOT_VERIFY})
    return found


def test_every_sentence_of_the_report_is_listed_for_translation():
    listed = set(compliance_words.WORDS)
    assert "Pupils held from %(start)s to %(end)s (%(span)s) for lack of staff." in sentences()
    assert sorted(sentences() - listed) == []
    assert set(compliance_words.SHORT) == set(compliance.RULE_KEYS)


def test_a_sentence_reads_in_welsh_with_its_values_and_lengths_of_time():
    welsh = i18n.translations("cy")
    held = Said(
        "Pupils held from %(start)s to %(end)s (%(span)s) for lack of staff.",
        {"start": "10:05:01", "end": "10:05:41", "span": Span(40)},
    )
    assert say(held, compliance.English()) == (
        "Pupils held from 10:05:01 to 10:05:41 (40 seconds) for lack of staff."
    )
    assert say(held, welsh) == (
        "Disgyblion wedi'u dal o 10:05:01 i 10:05:41 (40 eiliad) am nad oedd digon o staff."
    )
    english = compliance.English()
    assert span_words(Span(125), english) == "2 minutes 5 seconds"
    assert span_words(Span(60), english) == "1 minute"
    assert span_words(Span(1), english) == "1 second"
