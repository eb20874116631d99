"""Deferred sessions: a new session's data rides in a signed cookie until the browser returns it.

A client that never sends cookies back (a crawler, an uptime probe) would otherwise leave one
stored session per request. So a new session gets its opaque key at once, but its data goes into
a companion cookie, signed with the site's secret and bound to that key. When the browser sends
both back, it has shown that it keeps cookies, and the next change stores the session under the
same key. Data too large for a cookie is stored at once, as before.
"""

from __future__ import annotations

from typing import Any

from itsdangerous import BadData, URLSafeSerializer

from locallibrary.sessions.codec import decode

SALT = "locallibrary.sessions.deferred"


class DeferredSessions:
    def __init__(self, secret_key: str, max_bytes: int = 2048) -> None:
        self.serializer = URLSafeSerializer(secret_key, salt=SALT)
        self.max_bytes = max_bytes

    def fits(self, text: str) -> bool:
        return len(text.encode("utf-8")) <= self.max_bytes

    def sign(self, key: str, text: str, expires_at: int) -> str:
        return self.serializer.dumps({"k": key, "d": text, "e": expires_at})

    def unsign(self, token: str, key: str, now: float) -> dict[str, Any] | None:
        """The data in `token` if we signed it, for this very key, and it has not expired."""
        try:
            payload = self.serializer.loads(token)
        except BadData:
            return None
        if not isinstance(payload, dict) or payload.get("k") != key:
            return None
        expires_at, text = payload.get("e"), payload.get("d")
        if not isinstance(expires_at, int) or expires_at <= now or not isinstance(text, str):
            return None
        return decode(text)
