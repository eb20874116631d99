"""The site with a few routes more, for tests only, standing in for the accounts pages:
`POST /test/flush` flushes the session, as signing out will (django's `logout()` does the
same); `POST /test/sign-in` signs the session in as the form's `user_id`; `GET /test/whoami`
tells who the session belongs to; `POST /test/push/{item}` pushes an id onto a long list."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from locallibrary.sessions import session_of
from locallibrary.web.app import create_app as create_site

PUSHED = "pushed"
PUSHED_KEEP = 50


async def flush(request: Request) -> Response:
    session_of(request).flush()
    return PlainTextResponse("flushed\n")


async def sign_in(request: Request) -> Response:
    form = await request.form()
    session_of(request).sign_in(int(str(form["user_id"])))
    return PlainTextResponse("signed in\n")


async def whoami(request: Request) -> Response:
    session = session_of(request)
    return JSONResponse({"user_id": session.user_id, "public_id": session.public_id})


async def push(request: Request) -> Response:
    session_of(request).push_recent(PUSHED, int(request.path_params["item"]), PUSHED_KEEP)
    return PlainTextResponse("pushed\n")


def create_app() -> Starlette:
    app = create_site()
    app.router.routes[:0] = [
        Route("/test/flush", flush, methods=["POST"]),
        Route("/test/sign-in", sign_in, methods=["POST"]),
        Route("/test/whoami", whoami),
        Route("/test/push/{item:int}", push, methods=["POST"]),
    ]
    return app
