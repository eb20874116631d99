"""Gzip for the site's pages and fragments, for browsers that accept it (pure ASGI).

Starlette's GZipMiddleware does the same, but costs something on every response, compressed or
not (a responder object per request that normalizes its list of excluded types again, and
header objects built to read and write the headers), which the polled counts box felt
(docs/performance.md). Here a response that is not compressed costs one look at its headers.

As Starlette does: only text is compressed, and only from `minimum_size` bytes; a body of that
size or more is sent with `Vary: Accept-Encoding`, compressed or not, so that caches keep both
versions apart. Responses already encoded, partial ones (206) and those without a body are sent
as they are. A streamed body is compressed chunk by chunk, each chunk flushed.
"""

from __future__ import annotations

import zlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send

COMPRESSED_TYPES = (b"text/", b"application/json", b"application/javascript", b"image/svg+xml")
LEVEL = 6  # zlib's default; on pages of a few KB, level 9 is no smaller
MINIMUM_SIZE = 1000  # bytes: below it, compression saves less than it costs
PASSED_THROUGH = frozenset({204, 206, 304})
VARY = (b"vary", b"Accept-Encoding")


def accepts_gzip(scope: Scope) -> bool:
    """Whether the request's Accept-Encoding allows gzip: listed (or `*` is) with a weight above
    0, as RFC 9110 says; `gzip;q=0` refuses it. No header, no gzip."""
    accepted = b""
    for name, value in scope["headers"]:
        if name == b"accept-encoding":
            accepted += b"," + value  # several headers are one list
    if not accepted:
        return False
    wildcard = False
    for item in accepted.lower().split(b","):
        coding, _, parameters = item.partition(b";")
        coding = coding.strip()
        if coding in (b"gzip", b"x-gzip"):
            return _weight(parameters) > 0
        if coding == b"*":
            wildcard = _weight(parameters) > 0
    return wildcard


def _weight(parameters: bytes) -> float:
    """The `q` of a coding's parameters: 1 when absent, 0 when unreadable (not sent gzip)."""
    for parameter in parameters.split(b";"):
        name, _, value = parameter.partition(b"=")
        if name.strip() == b"q":
            try:
                return float(value)
            except ValueError:
                return 0.0
    return 1.0


class Compression:
    def __init__(self, app: ASGIApp, minimum_size: int = MINIMUM_SIZE) -> None:
        self.app = app
        self.minimum_size = minimum_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        gzip = accepts_gzip(scope)
        start: Message | None = None  # held back until the first body says how large it is
        compressor: zlib._Compress | None = None
        passing = False

        async def send_compressed(message: Message) -> None:
            nonlocal start, compressor, passing
            if passing:
                await send(message)
            elif message["type"] not in ("http.response.start", "http.response.body"):
                if start is not None:  # a body sent otherwise (pathsend): the response as it is
                    await send(start)
                    start, passing = None, True
                await send(message)
            elif message["type"] == "http.response.start":
                passing = message["status"] in PASSED_THROUGH or not _compressible(
                    message, self.minimum_size
                )
                if passing:
                    await send(message)
                else:
                    start = message
            elif start is not None:  # the first body
                body, more_body = message.get("body", b""), message.get("more_body", False)
                first, start = start, None
                if len(body) < self.minimum_size and not more_body:
                    passing = True
                    await send(first)
                    await send(message)
                    return
                headers = _with_vary(list(first.get("headers", [])))
                if gzip:
                    compressor = _compressor()
                    body = _compress(compressor, body, more_body)
                    headers = [(n, v) for n, v in headers if n.lower() != b"content-length"]
                    headers.append((b"content-encoding", b"gzip"))
                    if not more_body:
                        headers.append((b"content-length", str(len(body)).encode()))
                    message = {**message, "body": body}
                else:
                    passing = True
                await send({**first, "headers": headers})
                await send(message)
            else:  # the rest of a streamed body
                assert compressor is not None
                body, more_body = message.get("body", b""), message.get("more_body", False)
                await send({**message, "body": _compress(compressor, body, more_body)})

        await self.app(scope, receive, send_compressed)


def _compressible(start: Message, minimum_size: int) -> bool:
    """Whether the response may be compressed: text, not encoded yet, and not declared shorter
    than `minimum_size` (a shorter one is sent at once, not held back for its body)."""
    content_type = b""
    for name, value in start.get("headers", []):
        lowered = name.lower()
        if lowered == b"content-encoding":
            return False
        if lowered == b"content-type":
            content_type = value.lower()
        elif lowered == b"content-length" and value.isdigit() and int(value) < minimum_size:
            return False
    return content_type.startswith(COMPRESSED_TYPES)


def _with_vary(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The headers with Accept-Encoding added to Vary (kept in one header, as Starlette does)."""
    for index, (name, value) in enumerate(headers):
        if name.lower() == b"vary":
            if b"accept-encoding" in value.lower():
                return list(headers)
            return [*headers[:index], (name, value + b", Accept-Encoding"), *headers[index + 1 :]]
    return [*headers, VARY]


def gzip_compress(body: bytes) -> bytes:
    """`body` gzip-compressed as this middleware would send it (for pages kept compressed)."""
    return _compress(_compressor(), body, more_body=False)


def _compressor() -> zlib._Compress:
    return zlib.compressobj(LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)


def _compress(compressor: zlib._Compress, body: bytes, more_body: bool) -> bytes:
    if more_body:
        return compressor.compress(body) + compressor.flush(zlib.Z_SYNC_FLUSH)
    return compressor.compress(body) + compressor.flush()
