"""Password reset tokens: signed, valid for an hour, and void once the password changes.

Nothing is stored. A token is the user's id and a fingerprint of their password hash, signed
with the site's secret (itsdangerous) and stamped with the time. Setting a password makes a new
hash (Argon2 salts each one), so the fingerprint no longer matches: the token is void once the
password has changed, which also makes it single use, since using it sets a new password.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

from itsdangerous import BadData, TimestampSigner, URLSafeTimedSerializer

from locallibrary.accounts.users import User, user_and_password_hash
from locallibrary.database import Database

RESET_TOKEN_SECONDS = 3600
SALT = "locallibrary.accounts.reset"
# Ours are under 100 characters; anything much longer is refused before any work on it.
MAX_TOKEN_LENGTH = 200


class _SignerAt(TimestampSigner):
    """A signer whose clock reads `now`, so that the time is passed in (and tests need no sleep)."""

    def __init__(self, *args: Any, now: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.now = now

    def get_timestamp(self) -> int:
        return int(self.now)


def _serializer(secret_key: str, now: float | None) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        secret_key,
        salt=SALT,
        signer=_SignerAt,
        signer_kwargs={"now": time.time() if now is None else now},
    )


def fingerprint(password_hash: str) -> str:
    # Half a SHA-256: a new hash never matches by chance, and the token does not carry the hash.
    return hashlib.sha256(password_hash.encode()).hexdigest()[:32]


async def reset_token(
    database: Database, secret_key: str, user_id: int, now: float | None = None
) -> str | None:
    """A token that lets whoever holds it set this user's password; None if there is no user."""
    found = await user_and_password_hash(database, user_id)
    if found is None:
        return None
    user, password_hash = found
    return _serializer(secret_key, now).dumps([user.id, fingerprint(password_hash)])


async def user_for_reset_token(
    database: Database, secret_key: str, token: str, now: float | None = None
) -> User | None:
    """The user whose password `token` may set, or None: for a token that is expired, tampered
    with, made before their password last changed, or not a token at all."""
    if len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        return None
    try:
        payload = _serializer(secret_key, now).loads(token, max_age=RESET_TOKEN_SECONDS)
    except BadData:
        return None
    match payload:
        case [int() as user_id, str() as token_fingerprint]:
            found = await user_and_password_hash(database, user_id)
        case _:  # signed by us, so never; but a payload is only data until it is checked
            return None
    if found is None or not hmac.compare_digest(fingerprint(found[1]), token_fingerprint):
        return None
    return found[0]
