"""`/healthz`: 200 when the database answers, 503 when it does not.

It is middleware, answered before the session and the pages, the way static files are: a
health check costs one `SELECT 1` and no session work, whatever cookies it carries.
"""

from __future__ import annotations

from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from locallibrary.database import Database

PATH = "/healthz"


class HealthCheck:
    def __init__(self, app: ASGIApp, database: Database) -> None:
        self.app = app
        self.database = database

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH:
            await self.app(scope, receive, send)
            return
        response = await self.check()
        await response(scope, receive, send)

    async def check(self) -> Response:
        try:
            await self.database.fetch_val("SELECT 1")
        except Exception:  # whatever the driver raises, the answer is the same: not healthy
            return PlainTextResponse("database unavailable\n", status_code=503)
        return PlainTextResponse("ok\n")
