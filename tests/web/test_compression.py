"""Gzip: text bodies from the minimum size, to browsers that accept it, always with Vary."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from locallibrary.web.compression import Compression, accepts_gzip

PAGE = "<p>" + "A page of the catalog. " * 100 + "</p>"
GZIP = {"accept-encoding": "gzip, deflate, br"}
IDENTITY = {"accept-encoding": "identity"}


async def page(request: Request) -> Response:
    return HTMLResponse(PAGE, headers={"vary": "Cookie"})


async def small(request: Request) -> Response:
    return HTMLResponse("<p>short</p>")


async def image(request: Request) -> Response:
    return Response(PAGE.encode(), media_type="image/png")


async def encoded(request: Request) -> Response:
    return Response(
        gzip.compress(PAGE.encode()), headers={"content-encoding": "gzip"}, media_type="text/html"
    )


async def no_content(request: Request) -> Response:
    return Response(status_code=204)


async def stream(request: Request) -> Response:
    async def chunks() -> AsyncIterator[str]:
        for _ in range(3):
            yield PAGE

    return StreamingResponse(chunks(), media_type="text/html")


@pytest.fixture
def client() -> TestClient:
    app = Starlette(
        routes=[
            Route(f"/{endpoint.__name__}", endpoint)
            for endpoint in (page, small, image, encoded, no_content, stream)
        ],
    )
    # Raw bodies: httpx would decompress them, hiding what was sent.
    return TestClient(Compression(app, minimum_size=1000))


def raw(client: TestClient, path: str, headers: dict[str, str]) -> tuple[dict[str, str], bytes]:
    with client.stream("GET", path, headers=headers) as response:
        return dict(response.headers), b"".join(response.iter_raw())


def test_a_page_is_compressed_for_a_browser_that_accepts_gzip(client: TestClient) -> None:
    headers, body = raw(client, "/page", GZIP)
    assert headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == PAGE.encode()
    assert headers["content-length"] == str(len(body)) and len(body) < len(PAGE) / 5
    assert headers["vary"] == "Cookie, Accept-Encoding"


def test_a_page_is_sent_as_it_is_otherwise_but_still_varies(client: TestClient) -> None:
    for request_headers in (IDENTITY, {"accept-encoding": "br"}):
        headers, body = raw(client, "/page", request_headers)
        assert "content-encoding" not in headers
        assert body == PAGE.encode() and headers["content-length"] == str(len(body))
        assert headers["vary"] == "Cookie, Accept-Encoding"


@pytest.mark.parametrize("path", ["/small", "/image", "/encoded", "/no_content"])
def test_what_is_not_worth_compressing_is_sent_untouched(client: TestClient, path: str) -> None:
    bare = Starlette(routes=client.app.app.routes)  # type: ignore[attr-defined]
    expected_headers, expected_body = raw(TestClient(bare), path, GZIP)
    headers, body = raw(client, path, GZIP)
    assert (headers, body) == (expected_headers, expected_body)
    assert headers.get("content-encoding") == ("gzip" if path == "/encoded" else None)


def test_a_streamed_page_is_compressed_chunk_by_chunk(client: TestClient) -> None:
    headers, body = raw(client, "/stream", GZIP)
    assert headers["content-encoding"] == "gzip" and "content-length" not in headers
    assert gzip.decompress(body) == PAGE.encode() * 3
    assert "Accept-Encoding" in headers["vary"]


@pytest.mark.parametrize(
    ("accept_encoding", "accepted"),
    [
        ([], False),
        (["gzip, deflate, br, zstd"], True),
        (["deflate, GZip;q=0.5"], True),
        (["identity"], False),
        (["gzip;q=0, deflate"], False),
        (["gzip; q=0.000"], False),
        (["gzip;q=oops"], False),
        (["*"], True),
        (["*;q=0"], False),
        (["br, *;q=0.1"], True),
        (["*, gzip;q=0"], False),
        (["x-gzip"], True),
        (["br", "gzip"], True),  # two headers are one list
        (["gzipped, nogzip"], False),
    ],
)
def test_gzip_is_accepted_as_the_accept_encoding_header_weighs_it(
    accept_encoding: list[str], accepted: bool
) -> None:
    headers = [(b"accept-encoding", value.encode()) for value in accept_encoding]
    assert accepts_gzip({"type": "http", "headers": headers}) is accepted


def test_a_browser_that_refuses_gzip_gets_the_page_as_it_is(client: TestClient) -> None:
    response = client.get("/page", headers={"accept-encoding": "gzip;q=0, identity"})
    assert "content-encoding" not in response.headers
    assert response.text == PAGE
    assert "Accept-Encoding" in response.headers["vary"]
