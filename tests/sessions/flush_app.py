"""The site with one route more, for tests only: `POST /test/flush` flushes the session, as
signing out will (django's `logout()` does the same)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from locallibrary.sessions import session_of
from locallibrary.web.app import create_app as create_site


async def flush(request: Request) -> Response:
    session_of(request).flush()
    return PlainTextResponse("flushed\n")


def create_app() -> Starlette:
    app = create_site()
    app.router.routes.insert(0, Route("/test/flush", flush, methods=["POST"]))
    return app
