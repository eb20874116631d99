"""Security for every response: strict headers, and cross-origin protection for state changes."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from locallibrary.web.errors import error_page

# No inline script or style and no eval anywhere: htmx is configured for it (see base.html).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}
HSTS = "max-age=63072000; includeSubDomains"


class SecurityHeaders:
    """Adds the security headers to every HTTP response; HSTS only to those sent over HTTPS.

    A header the response already sets is left as it is.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        added = _HTTPS_HEADERS if scope.get("scheme") == "https" else _HEADERS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message["headers"] = list(message.get("headers", []))
                for name, _ in headers:
                    if name.lower() in _NAMES:  # the response set one itself: it stays as set
                        present = {name.lower() for name, _ in headers}
                        headers.extend(header for header in added if header[0] not in present)
                        break
                else:
                    headers.extend(added)
            await send(message)

        await self.app(scope, receive, send_with_headers)


_HEADERS = [(name.encode(), value.encode()) for name, value in HEADERS.items()]
_HTTPS_HEADERS = [*_HEADERS, (b"strict-transport-security", HSTS.encode())]
_NAMES = frozenset(name for name, _ in _HTTPS_HEADERS)


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CrossOriginProtection:
    """Refuses state-changing requests that a browser sent from another site (CSRF).

    As Go's `http.CrossOriginProtection` does: browsers say where a request comes from in
    `Sec-Fetch-Site` (all current ones) or, failing that, `Origin`. A POST whose
    `Sec-Fetch-Site` is not `same-origin` (or `none`, typed by the user), or whose `Origin` is not
    this site's origin, gets 403 and reaches no view. Requests with neither header are not from a
    browser (curl, tests) and pass. No tokens are needed in forms, so every form works as plain
    HTML.

    An origin is a scheme, a host and a port, and all three must match: a page served over plain
    HTTP, or on another port of the same host, is another site that could forge our forms. Our
    own scheme is the ASGI scope's, which the server sets from `X-Forwarded-Proto` when it
    honours proxy headers; our host and port are those of the `Host` header.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS or _same_origin(scope):
            await self.app(scope, receive, send)
            return
        response = error_page(
            Request(scope), 403, "This form was sent from another site, so it was refused."
        )
        await response(scope, receive, send)


def _same_origin(scope: Scope) -> bool:
    headers = Headers(scope=scope)
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
    origin = headers.get("origin")
    if origin is None:
        return True
    theirs = _parse_origin(origin)
    ours = _parse_origin(f"{scope.get('scheme', 'http')}://{headers.get('host', '')}")
    return theirs is not None and theirs == ours


DEFAULT_PORTS = {"http": 80, "https": 443}


def _parse_origin(serialized: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an origin as browsers send it, `https://example.org:8443`, with
    the scheme's default port filled in; None for anything else (`null`, a path, a bad port)."""
    try:
        parts = urlsplit(serialized)
        port = parts.port
    except ValueError:  # an unclosed IPv6 bracket, a port that is not a number from 0 to 65535
        return None
    default_port = DEFAULT_PORTS.get(parts.scheme)
    if default_port is None or not parts.hostname or "@" in parts.netloc:
        return None
    if parts.path or parts.query or parts.fragment:
        return None
    return parts.scheme, parts.hostname, default_port if port is None else port
