"""What the server runs when the site's settings cannot be used: a start-up that fails in one line."""

from __future__ import annotations

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send


class RefuseToStart:
    """Fails the server's start-up with `reason`, as DatabaseLifespan does for a database out of
    reach: the server prints the one line and exits non-zero, where an exception raised by the
    app factory would print a traceback.

    A server that sends no lifespan events (uvicorn's `--lifespan off`) starts anyway; each
    request then gets a 503 that points at the server's log, never a page of a site that is not
    set up.
    """

    def __init__(self, app: ASGIApp, reason: str) -> None:
        self.app = app
        self.reason = reason

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.failed", "message": self.reason})
            return
        if scope["type"] == "http":
            response = PlainTextResponse(
                "The site is not configured; the server's log says why.\n", status_code=503
            )
            await response(scope, receive, send)
