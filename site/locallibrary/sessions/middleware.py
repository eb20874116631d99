"""The session middleware (pure ASGI): loads the session before the app, saves it after.

Policy, as in Django: the row is written and the cookie sent only when the session changed (or
on every request with `save_every_request`, or when a signed-in session was last seen
`touch_interval` ago or more, to renew its expiry); never on a 5xx response; an emptied session is
deleted and its cookie cleared; a response whose view read the session says `Vary: Cookie`.
A request without a well-formed session cookie costs no I/O; an unknown or expired key is never
adopted, and a new session always gets a new key.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from locallibrary.sessions.config import SessionConfig
from locallibrary.sessions.cookies import (
    delete_cookie_header,
    session_cookies,
    set_cookie_header,
)
from locallibrary.sessions.deferred import DeferredSessions
from locallibrary.sessions.session import Session
from locallibrary.sessions.stores.base import SessionStore


class SessionMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        store: SessionStore,
        config: SessionConfig | None = None,
        clock: Callable[[], float] = time.time,
        deferred: DeferredSessions | None = None,
    ) -> None:
        """`deferred` keeps new sessions in a signed cookie until the browser returns it."""
        self.app = app
        self.store = store
        self.config = config or SessionConfig()
        self.clock = clock
        self.deferred = deferred
        self.companion_name = f"{self.config.cookie_name}_new"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        cookie_header = _header(scope, b"cookie")
        key, companion = (
            session_cookies(cookie_header, self.config.cookie_name, self.companion_name)
            if cookie_header
            else (None, None)
        )
        stored = await self.store.load(key) if key else None
        data = None if stored is None else stored.data
        deferred = False
        if key and data is None and companion and self.deferred:
            data = self.deferred.unsign(companion, key, self.clock())
            deferred = data is not None
        session = Session(
            key if data is not None else None,
            data or {},
            self.config,
            self.clock,
            deferred=deferred,
            user_id=None if stored is None else stored.user_id,
            signed_in_at=None if stored is None else stored.signed_in_at,
            owner=None if stored is None else stored.owner,
        )
        scope["session"] = session
        had_cookie = data is not None
        # Written at most once per touch_interval if unchanged: a busy browser's reads stay reads.
        touch = (
            stored is not None
            and stored.user_id is not None
            and self.clock() - stored.last_seen_at >= self.config.touch_interval
        )

        async def send_with_session(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message["headers"] = list(message.get("headers", []))
                if session.accessed:
                    _vary_on_cookie(headers)
                if message["status"] < 500:
                    await self._save(
                        session, headers, scope, had_cookie, companion is not None, touch
                    )
            await send(message)

        await self.app(scope, receive, send_with_session)

    async def _save(
        self,
        session: Session,
        headers: list[tuple[bytes, bytes]],
        scope: Scope,
        had_cookie: bool,
        had_companion: bool,
        touch: bool,
    ) -> None:
        # Nested changes need a read first: an unread session cannot have changed.
        changed = session.modified or (session.accessed and session.has_changes())
        if not (changed or self.config.save_every_request or touch):
            return
        await session.save(self.store, self.deferred, _header(scope, b"user-agent"))
        secure = scope.get("scheme") == "https"
        config, now = self.config, self.clock()

        def set_cookie(value: str) -> None:
            headers.append((b"set-cookie", value.encode("latin-1")))

        if session.session_key is None:
            if had_cookie:
                set_cookie(delete_cookie_header(config, secure=secure))
        else:
            max_age = None if session.get_expire_at_browser_close() else session.get_expiry_age()
            key = session.session_key
            set_cookie(set_cookie_header(config, key, max_age=max_age, secure=secure, now=now))
            if session.deferred_token is not None:
                set_cookie(
                    set_cookie_header(
                        config,
                        session.deferred_token,
                        max_age=max_age,
                        secure=secure,
                        now=now,
                        name=self.companion_name,
                    )
                )
                return
        if had_companion:
            set_cookie(delete_cookie_header(config, secure=secure, name=self.companion_name))


def _vary_on_cookie(headers: list[tuple[bytes, bytes]]) -> None:
    """Add Cookie to the response's Vary header (kept in one header, as Starlette does)."""
    for index, (name, value) in enumerate(headers):
        if name.lower() == b"vary":
            if b"cookie" not in value.lower().replace(b" ", b"").split(b","):
                headers[index] = (name, value + b", Cookie")
            return
    headers.append((b"vary", b"Cookie"))


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return ""
