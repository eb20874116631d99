"""Small helpers for the site's POST forms (post/redirect/get, and their htmx variant)."""

from __future__ import annotations

from starlette.responses import RedirectResponse


def local_path(value: object, default: str) -> str:
    """`value` if it is a path on this site, else `default`: redirects never leave the site."""
    if (
        isinstance(value, str)
        and value.startswith("/")
        and not value.startswith("//")
        and "\\" not in value
        and value.isprintable()
        and len(value) <= 2000
    ):
        return value
    return default


def see_other(path: str) -> RedirectResponse:
    """The redirect after a POST: the browser (or htmx) GETs `path` next."""
    return RedirectResponse(path, status_code=303)
