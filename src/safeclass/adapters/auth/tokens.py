"""Random tokens for links and cookies, and their hash: named here for the auth adapters.

The functions are pure and the app makes tokens too (invitation links), so they live in
`safeclass.app.tokens`.
"""

from __future__ import annotations

from safeclass.app.tokens import TOKEN_BYTES, hash_token, new_token

__all__ = ["TOKEN_BYTES", "hash_token", "new_token"]
