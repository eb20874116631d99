"""Reading the session cookie from a request and writing it into a response."""

from __future__ import annotations

import datetime as dt
from email.utils import format_datetime
from http.cookies import SimpleCookie

from locallibrary.sessions.config import SessionConfig
from locallibrary.sessions.keys import is_well_formed


def session_key_from(cookie_header: str, name: str) -> str | None:
    """The first well-formed session key among the request's cookies named `name`.

    Every other value (garbage, overlong, non-ASCII, a second cookie of the same name) is
    ignored without being looked up.
    """
    for pair in cookie_header.split(";"):
        cookie_name, _, value = pair.strip().partition("=")
        if cookie_name == name and is_well_formed(value):
            return value
    return None


def cookie_value(cookie_header: str, name: str) -> str | None:
    """The first value of the cookie `name`, whatever it holds."""
    for pair in cookie_header.split(";"):
        cookie_name, _, value = pair.strip().partition("=")
        if cookie_name == name:
            return value
    return None


def set_cookie_header(
    config: SessionConfig,
    value: str,
    *,
    max_age: int | None,
    secure: bool,
    now: float,
    name: str | None = None,
) -> str:
    """A Set-Cookie value (for the session cookie unless `name` says otherwise), with the
    session cookie's attributes; `max_age=None` makes a cookie that ends with the browser."""
    name = name or config.cookie_name
    cookie: SimpleCookie = SimpleCookie()
    cookie[name] = value
    morsel = cookie[name]
    morsel["path"] = config.path
    morsel["httponly"] = True
    morsel["samesite"] = config.same_site.capitalize()
    if config.domain:
        morsel["domain"] = config.domain
    if secure or config.secure:
        morsel["secure"] = True
    if max_age is not None:
        morsel["max-age"] = max_age
        morsel["expires"] = format_datetime(
            dt.datetime.fromtimestamp(now + max_age, dt.UTC), usegmt=True
        )
    return morsel.OutputString()


def delete_cookie_header(config: SessionConfig, *, secure: bool, name: str | None = None) -> str:
    """A Set-Cookie value that removes the cookie (expired at the epoch)."""
    return set_cookie_header(config, "", max_age=0, secure=secure, now=0, name=name)
