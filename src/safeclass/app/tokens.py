"""Random tokens for links and cookies, and the hash that is all the database ever keeps.

Tokens carry 256 bits from the OS's CSPRNG, so a plain SHA-256 is the right hash for them (slow
password hashing is for low-entropy secrets); the comparison happens in the database by hash.
"""

from __future__ import annotations

import hashlib
import secrets

TOKEN_BYTES = 32


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
