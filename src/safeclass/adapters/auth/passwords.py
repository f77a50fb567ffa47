"""Staff passwords: argon2id hashes, checking one, and the minimum a new password must meet.

Parameters follow OWASP's argon2id recommendation (19 MiB, 2 passes, 1 lane): about 50 ms a
hash on a small school server, which shares its CPU with the live rooms, and 19 MiB each so a
burst of sign-ins at 08:55 cannot exhaust memory. Hashes made with other parameters still
verify, and `needs_rehash` says when to store a fresh one. A password is never logged, never
kept in an exception, and never part of a `repr`.
"""

from __future__ import annotations

import functools
import string
import threading

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 1024  # longer is surely not a password someone types; refuse before hashing

# The 20 most common passwords in published breach lists. With the length rule, what this
# catches is one of them padded to 12 characters: "password1234", "qwerty123456", "123456123456".
COMMON = (
    "123456",
    "password",
    "123456789",
    "12345678",
    "12345",
    "qwerty",
    "1234567",
    "111111",
    "123123",
    "abc123",
    "1234567890",
    "password1",
    "iloveyou",
    "000000",
    "qwerty123",
    "1q2w3e4r",
    "admin",
    "qwertyuiop",
    "654321",
    "welcome",
)
_PADDING = set(string.digits + string.punctuation + string.whitespace)

_HASHER = PasswordHasher(
    time_cost=2, memory_cost=19 * 1024, parallelism=1, hash_len=32, salt_len=16, type=Type.ID
)
# At most two hashes at once (this machine's cores); more would only queue inside argon2.
_HASHING = threading.BoundedSemaphore(2)


class WeakPasswordError(ValueError):
    """A new password that does not meet the minimum; the message says what to change."""


def check_password(password: str) -> None:
    """Refuse a new password that is too short, too long or one of the most common."""
    if len(password) < MIN_LENGTH:
        raise WeakPasswordError(
            f"A password needs at least {MIN_LENGTH} characters: a short sentence works well"
        )
    if len(password) > MAX_LENGTH:
        raise WeakPasswordError(f"A password can have at most {MAX_LENGTH} characters")
    if len(set(password)) <= 2 or _is_common(password.casefold()):
        raise WeakPasswordError(
            "That password is one of the easiest to guess: choose another "
            "(a short sentence works well)"
        )


def _is_common(folded: str) -> bool:
    for common in COMMON:
        if common in folded and set(folded.replace(common, "")) <= _PADDING:
            return True
    return False


def hash_password(password: str) -> str:
    """The argon2id hash to store (the caller checks the password policy first)."""
    with _HASHING:
        return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether `password` matches; False for a wrong password and for a damaged hash alike."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        with _HASHING:
            return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with other parameters and should be replaced after sign-in."""
    try:
        return _HASHER.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def verify_dummy(password: str) -> None:
    """Spend the time a real check takes, for an unknown email, so timing reveals nothing."""
    verify_password(_dummy_hash(), password)


@functools.cache
def _dummy_hash() -> str:
    return hash_password("no account has this password: it only takes the time a real one does")
