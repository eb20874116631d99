"""Who may open a page: decorators for the views of signed-in users and of librarians.

A visitor who is not signed in is sent to sign in, and comes back here after; a signed-in
patron on a librarian's page gets the styled 403 page.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from locallibrary.web.authentication import LIBRARIAN, signed_in_account
from locallibrary.web.errors import error_page

Endpoint = Callable[[Request], Awaitable[Response]]


def sign_in_first(request: Request) -> Response:
    """To the sign-in page, which then sends the visitor back to the page that asked.

    A form sent while signed out (from a page left open since) has no page to come back to:
    a GET of its address would be refused, so that visitor comes back to the home page.
    """
    target = request.url_for("sign_in").path
    if request.method in ("GET", "HEAD"):
        query = request.scope["query_string"].decode("latin-1")
        here = request.scope["path"] + (f"?{query}" if query else "")
        target += "?" + urlencode({"next": here})
    return RedirectResponse(target, status_code=303)


def signed_in_only(endpoint: Endpoint) -> Endpoint:
    @functools.wraps(endpoint)
    async def guarded(request: Request) -> Response:
        if signed_in_account(request) is None:
            return sign_in_first(request)
        return await endpoint(request)

    return guarded


def librarians_only(endpoint: Endpoint) -> Endpoint:
    @functools.wraps(endpoint)
    async def guarded(request: Request) -> Response:
        if signed_in_account(request) is None:
            return sign_in_first(request)
        if LIBRARIAN not in request.auth.scopes:
            return error_page(request, 403, "This page is for the library's staff.")
        return await endpoint(request)

    return guarded
