"""Query strings as browsers send them: every byte outside ASCII percent-encoded.

A browser percent-encodes each byte of a URL that is not ASCII; a hand-made request need not, and
the server hands the query's bytes on as they came. Starlette builds `request.url` by decoding
the query string as UTF-8, strictly, so a byte that is not UTF-8 raised there, a 500: in the
router's redirect to the path with its slash added or removed, and on every page that names its
own URL (the notice's form). Encoded first, every query string decodes, and nothing a browser
sends is changed.
"""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Receive, Scope, Send

_NOT_ASCII = re.compile(rb"[\x80-\xff]")


class PercentEncodedQueryString:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        query: bytes = scope.get("query_string", b"")
        if scope["type"] == "http" and not query.isascii():
            encoded = _NOT_ASCII.sub(lambda byte: b"%%%02X" % byte[0][0], query)
            scope = {**scope, "query_string": encoded}
        await self.app(scope, receive, send)
