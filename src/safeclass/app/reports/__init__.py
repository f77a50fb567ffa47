"""Reports built from the register and the timeline: CSV for the school's spreadsheet, and PDF."""

from safeclass.app.reports.pdf import register_pdf
from safeclass.app.reports.spreadsheet import register_csv

__all__ = ["register_csv", "register_pdf"]
