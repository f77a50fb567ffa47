"""Staff passwords and the CSRF token: argon2id, the minimum, no leaks."""

from __future__ import annotations

import datetime as dt

import pytest
from argon2 import PasswordHasher

from safeclass.adapters.auth import passwords
from safeclass.adapters.auth.identity import StaffIdentity
from safeclass.adapters.auth.logins import SignedIn, csrf_matches, csrf_token
from safeclass.adapters.auth.passwords import WeakPasswordError, check_password

GOOD = "the owl and the pussycat"
NOW = dt.datetime(2026, 11, 24, 8, 55, tzinfo=dt.UTC)


# covers: C21, CLA-16, CRO-03
def test_a_password_is_stored_as_an_argon2id_hash_that_verifies_only_itself():
    stored = passwords.hash_password(GOOD)
    assert stored.startswith("$argon2id$")
    assert GOOD not in stored
    assert passwords.verify_password(stored, GOOD)
    assert not passwords.verify_password(stored, GOOD.upper())
    assert not passwords.verify_password(stored, "")
    assert passwords.hash_password(GOOD) != stored  # salted


def test_a_damaged_hash_is_a_failed_check_not_an_error():
    assert not passwords.verify_password("not a hash", GOOD)
    assert not passwords.verify_password("$argon2id$v=19$m=1,t=1,p=1$xx$yy", GOOD)
    assert passwords.needs_rehash("not a hash")


def test_a_hash_made_with_weaker_parameters_still_verifies_and_asks_to_be_replaced():
    old = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(GOOD)
    assert passwords.verify_password(old, GOOD)
    assert passwords.needs_rehash(old)
    assert not passwords.needs_rehash(passwords.hash_password(GOOD))


def test_an_unknown_email_still_costs_one_hash_check():
    passwords.verify_dummy(GOOD)  # returns nothing, raises nothing, whatever is given
    passwords.verify_dummy("")


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short pass", "at least 12 characters"),
        ("", "at least 12 characters"),
        ("x" * 1025, "at most 1024"),
        ("aaaaaaaaaaaa", "easiest to guess"),
        ("abababababab", "easiest to guess"),
        ("password1234", "easiest to guess"),
        ("Password2024!", "easiest to guess"),
        ("qwertyuiop12", "easiest to guess"),
        ("123456123456", "easiest to guess"),
        ("1234567890123", "easiest to guess"),
        ("!!Welcome2025!!", "easiest to guess"),
        ("iloveyou iloveyou", "easiest to guess"),
    ],
)
def test_a_weak_new_password_is_refused_with_what_to_change(password: str, reason: str):
    with pytest.raises(WeakPasswordError, match=reason) as caught:
        check_password(password)
    if password:
        assert password not in str(caught.value)  # the message never repeats the password


@pytest.mark.parametrize(
    "password", [GOOD, "Mrs Khan teaches 2B", "my password is purple", "Llongyfarchiadau!"]
)
def test_a_long_uncommon_password_is_accepted(password: str):
    check_password(password)


def test_the_csrf_token_belongs_to_its_login_and_does_not_reveal_it():
    token = "t" * 43
    assert csrf_matches(token, csrf_token(token))
    assert not csrf_matches(token, csrf_token("u" * 43))
    assert not csrf_matches(token, None)
    assert not csrf_matches(token, "")
    assert token not in csrf_token(token)


def test_a_signed_in_result_never_shows_its_token():
    signed = SignedIn(
        StaffIdentity("s", "sc", "teacher", "Mrs Khan", "l"), "secret-token", NOW, "device-token"
    )
    assert "secret-token" not in repr(signed) and "device-token" not in repr(signed)
