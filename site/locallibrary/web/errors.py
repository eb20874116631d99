"""Error pages: the site's own styled page for every 4xx and 5xx, never a traceback."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from locallibrary.web.templating import Frame, page_response

logger = logging.getLogger("locallibrary")

TITLES = {
    400: "Bad request",
    403: "Forbidden",
    404: "Page not found",
    405: "Method not allowed",
    413: "Too large",
    429: "Too many attempts",
    503: "Service unavailable",
}


def error_page(
    request: Request,
    status_code: int,
    detail: str | None = None,
    way_on: tuple[str, str] | None = None,
) -> Response:
    """The styled page for a 4xx or 5xx; `way_on` is a link (text, path) to what to do next."""
    title = TITLES.get(status_code, "Something went wrong")
    return page_response(
        "errors/error.html",
        Frame.of(request.app.state.site, request),
        status_code=status_code,
        code=status_code,
        title=title,
        detail=detail,
        way_on=way_on,
    )


async def http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    detail = exc.detail if exc.detail != TITLES.get(exc.status_code) else None
    response = error_page(request, exc.status_code, detail)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def server_error(request: Request, exc: Exception) -> Response:
    # ServerErrorMiddleware has logged the traceback; the visitor sees a plain apology.
    return error_page(request, 500, "The error has been logged. Please try again later.")


async def client_disconnected(request: Request, exc: Exception) -> Response:
    # The client left before it had sent its whole body (a cut connection, a closed tab). Nobody
    # reads this answer; giving one keeps the traceback of a 500 out of the server's log.
    return error_page(request, 400, "The request ended before all of it was sent.")


def not_found(request: Request, detail: str | None = None) -> Response:
    return error_page(request, 404, detail)
