"""Notify adapters: email over SMTP and signed webhooks to a school's messaging platform."""
