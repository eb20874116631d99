"""A clear 503 page while the database is out of reach, instead of a 500 and a traceback."""

from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from locallibrary.database import is_unavailable, one_line
from locallibrary.web.errors import error_page

logger = logging.getLogger("locallibrary")

RETRY_AFTER_SECONDS = 5


class ServiceUnavailable:
    """Turns "the database is unreachable or locked" into a 503 page with Retry-After.

    It sits outside the session middleware, so a failure to connect, to load the session or to
    save it gets the same answer as one in a view. Nothing is half-written:
    every write is all or nothing (a transaction, or one statement in a group commit).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception as error:
            if started or not is_unavailable(error):
                raise
            logger.warning("database unavailable, answered 503: %s", one_line(error))
            response = error_page(
                Request(scope),
                503,
                "The catalog is briefly unavailable. Please try again in a few seconds.",
            )
            response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
            await response(scope, receive, send)
