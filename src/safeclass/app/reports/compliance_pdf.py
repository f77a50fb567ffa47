"""The compliance report as an A4 PDF, in English or Welsh, set as the register's PDF is (pdf.py).

Each rule is a heading with its outcome and clause, then the log's evidence; a log that does
not verify says so at the top, in a box, and lists what its check found.
"""

from __future__ import annotations

from pathlib import Path

from safeclass.app.reports.compliance import (
    LOG_DOES_NOT_VERIFY,
    LOG_VERIFIES,
    OUTCOME_WORDS,
    ComplianceReport,
    English,
    Outcome,
    Words,
    say,
)
from safeclass.app.reports.pdf import DEJAVU_DIR, _Document

_COLOURS = {
    Outcome.HELD: (0, 90, 48),
    Outcome.NOT_HELD: (148, 37, 20),
    Outcome.UNPROVEN: (72, 73, 73),
}


def compliance_pdf(
    report: ComplianceReport, words: Words | None = None, *, font_dir: Path | None = DEJAVU_DIR
) -> bytes:
    """The report as PDF bytes, in the language of `words` (English without)."""
    w = words or English()
    pdf = _Document(font_dir)
    heading = w.gettext("Compliance report")
    pdf.set_title(f"{report.school} - {heading}: {report.title}")
    pdf.set_creator("safeclass")
    pdf.add_page()
    pdf.para(report.school, size=16, bold=True, height=8)
    pdf.para(f"{heading}: {report.title}", size=13, bold=True, height=7)
    start = report.planned_start
    version = w.gettext("policy version %(num)s") % {"num": report.policy_version}
    pdf.para(f"{start:%Y-%m-%d %H:%M} ({report.timezone}); {version}", size=11, height=6)
    pdf.ln(2)
    verdict = w.gettext(LOG_VERIFIES if report.verified else LOG_DOES_NOT_VERIFY)
    if not report.verified:
        pdf.set_text_color(*_COLOURS[Outcome.NOT_HELD])
    pdf.para(verdict, size=12, bold=True, height=7)
    pdf.set_text_color(0, 0, 0)
    for rule in report.rules:
        pdf.ln(2)
        pdf.set_text_color(*_COLOURS[rule.outcome])
        outcome = w.gettext(OUTCOME_WORDS[rule.outcome])
        pdf.para(f"{outcome}: {w.gettext(rule.title)} ({rule.clause})", size=11, bold=True)
        pdf.set_text_color(0, 0, 0)
        for said in rule.evidence:
            pdf.para(f"- {say(said, w)}", size=9, height=4.8)
        if rule.key == "log":
            for problem in report.problems:
                pdf.para(f"! {problem}", size=8, height=4.4)
    return bytes(pdf.output())
