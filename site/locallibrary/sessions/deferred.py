"""Deferred sessions: a new session's data rides in a signed cookie until the browser returns it.

A client that never sends cookies back (a crawler, an uptime probe) would otherwise leave one
stored session per request. So a new session gets its opaque key at once, but its data goes into
a companion cookie, signed with the site's secret and bound to that key. When the browser sends
both back, it has shown that it keeps cookies, and the next change stores the session under the
same key. Data too large for a cookie is stored at once, as before.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from typing import Any

from itsdangerous import BadData, Signer
from itsdangerous.encoding import base64_decode, base64_encode

from locallibrary.sessions.codec import decode

SALT = "locallibrary.sessions.deferred"


class DeferredSessions:
    def __init__(self, secret_key: str | Callable[[], str], max_bytes: int = 2048) -> None:
        """`secret_key` is the key, or a function that gives it once the site has started
        (a key stored in the database is known only then); it is asked for on first use."""
        self.secret_key = secret_key
        self.max_bytes = max_bytes

    @cached_property
    def signer(self) -> Signer:
        # The token is itsdangerous's signature over base64url JSON. The key is derived from
        # the secret and the salt once, here: a Serializer would derive it again for every token.
        secret_key = self.secret_key if isinstance(self.secret_key, str) else self.secret_key()
        derived_key = Signer(secret_key, salt=SALT).derive_key()
        return Signer(derived_key, key_derivation="none")

    def fits(self, text: str) -> bool:
        return len(text.encode("utf-8")) <= self.max_bytes

    def sign(self, key: str, text: str, expires_at: int) -> str:
        # At most max_bytes of text make a token of about 2.8 KB, within any browser's limits.
        return self.signer.sign(base64_encode(f"{key}:{expires_at}:{text}")).decode("ascii")

    def unsign(self, token: str, key: str, now: float) -> dict[str, Any] | None:
        """The data in `token` if we signed it, for this very key, and it has not expired."""
        try:
            payload = base64_decode(self.signer.unsign(token)).decode("utf-8")
            signed_key, expires_at, text = payload.split(":", 2)
            expired = int(expires_at) <= now
        except (BadData, ValueError):  # not signed by us, or by an older version of this code
            return None
        if signed_key != key or expired:
            return None
        return decode(text)
