"""Reading the session cookie from a request and writing it into a response."""

from __future__ import annotations

import re
from email.utils import formatdate
from functools import lru_cache

from locallibrary.sessions.config import SessionConfig
from locallibrary.sessions.keys import is_well_formed

# RFC 6265's cookie-octets: printable ASCII but for space, '"', ',', ';' and '\\'.
_COOKIE_VALUE = re.compile(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*")


def session_cookies(cookie_header: str, name: str, companion: str) -> tuple[str | None, str | None]:
    """The session key and the companion cookie's value, in one pass over the request's cookies.

    The key is the first well-formed value of the cookie `name`; every other value (garbage,
    overlong, non-ASCII) is ignored without being looked up. The companion is the first value
    of the cookie `companion`, whatever it holds.
    """
    key = companion_value = None
    for pair in cookie_header.split(";"):
        cookie_name, _, value = pair.strip().partition("=")
        if cookie_name == name:
            if key is None and is_well_formed(value):
                key = value
        elif cookie_name == companion and companion_value is None:
            companion_value = value
    return key, companion_value


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
    session cookie's attributes; `max_age=None` makes a cookie that ends with the browser.

    The values are ours (session keys, signed tokens) and never need quoting; SessionConfig
    checked the name, path and domain.
    """
    if not _COOKIE_VALUE.fullmatch(value):
        raise ValueError(f"not a cookie value: {value!r}")
    parts = [f"{name or config.cookie_name}={value}"]
    if config.domain:
        parts.append(f"Domain={config.domain}")
    if max_age is not None:
        parts.append(f"expires={_http_date(int(now) + max_age)}")
    parts.append("HttpOnly")
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    parts.append(f"Path={config.path}")
    parts.append(f"SameSite={config.same_site.capitalize()}")
    if secure or config.secure:
        parts.append("Secure")
    return "; ".join(parts)


@lru_cache(maxsize=8)  # requests in the same second share the date
def _http_date(seconds: int) -> str:
    return formatdate(seconds, usegmt=True)


def delete_cookie_header(config: SessionConfig, *, secure: bool, name: str | None = None) -> str:
    """A Set-Cookie value that removes the cookie (expired at the epoch)."""
    return set_cookie_header(config, "", max_age=0, secure=secure, now=0, name=name)
