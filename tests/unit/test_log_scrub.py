"""Logs never carry a token, a password or a cookie: the log filter blanks their values."""

from __future__ import annotations

from safeclass.observability import scrub

SESSION = "6c1d2f1e-8f0a-4d5e-9a1b-2c3d4e5f6a7b"


def test_a_pupils_per_session_cookie_is_blanked_but_not_its_name() -> None:
    line = f"cookie header: sc_pupil_{SESSION}=Zx9-secretpass; sc_staff=AbC123"
    cleaned = scrub(line)
    assert "Zx9-secretpass" not in cleaned and "AbC123" not in cleaned
    assert f"sc_pupil_{SESSION}=[redacted]" in cleaned


def test_a_staff_browsers_device_tokens_are_blanked() -> None:
    cleaned = scrub("cookie header: sc_device=Dv1-first.Dv2-second")
    assert "Dv1" not in cleaned and "Dv2" not in cleaned
    assert "sc_device=[redacted]" in cleaned


def test_a_link_token_in_a_path_is_blanked() -> None:
    cleaned = scrub("GET /join/q7Jm0xS4bW9uZ2VzdGxpbmtfdG9rZW4 200")
    assert cleaned == "GET /join/[redacted] 200"


def test_passwords_and_secrets_are_blanked() -> None:
    cleaned = scrub('{"password": "maple-meadow-violet-10", "apisecret": "s3cr3t"}')
    assert "maple-meadow" not in cleaned and "s3cr3t" not in cleaned
