"""Generated bad input at every route: never a 500, always a proper page, no stored data changed.

Hypothesis makes the requests from the app's own routing table, so a route is covered as soon
as it is declared: its path with generated parameters (enormous digit strings among them), the
methods it allows and some it does not, query strings, headers and form bodies, with invalid
UTF-8 and control characters wherever bytes go. Paths that no route declares are thrown in too:
the ones the middleware answers (`/healthz`, static files) and unknown ones. Requests reach the
app as the server hands them over (tests/asgi.py), on both databases, in the production
configuration (every cache on). Last, a few requests that no client library would send go to the
real server over loopback, to show that what uvicorn itself refuses is answered too.
"""

from __future__ import annotations

import asyncio
import gzip
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_from_bytes, unquote, urlsplit

import httpx2 as httpx
import hypothesis
import pytest
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from starlette.routing import Route

from locallibrary.catalog.tables import metadata as catalog_metadata
from locallibrary.database import async_driver_url
from locallibrary.sessions.keys import stored_id
from locallibrary.sessions.stores.table import sessions
from locallibrary.settings import NODE_MODULES_DIR, STATIC_DIR, Settings
from locallibrary.web import health
from locallibrary.web.app import create_app
from locallibrary.web.errors import TITLES
from tests.asgi import InProcessSite, RawRequest, RawResponse, in_process_site
from tests.db import sql
from tests.html import parse, text
from tests.live_server import live_server

EXAMPLES_PER_TARGET = 30  # about 300 requests per database: a few seconds

SERVER_ADDRESS = "127.0.0.1:8000"  # where tests/asgi.py says the server listens
# A session that a browser holds: no generated request knows its key, so none may change it.
STORED_SESSION_KEY = "k" * 32
STORED_SESSION_ID = stored_id(STORED_SESSION_KEY)  # what the sessions table holds
STORED_SESSION_DATA = '{"num_visits": 3, "per_page": 25, "recently_viewed": [1, 2]}'


# --- What generated requests are made of ------------------------------------------------------

# Characters that may stand unescaped in a path; `%` too, for escapes that are not escapes.
PATH_CHARACTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@%"
NASTY_BYTES = [
    b"\xff",
    b"\xfe\xff",
    b"\xc3\x28",  # a broken two-byte sequence
    b"\xc0\xaf",  # an overlong '/'
    b"\xed\xa0\x80",  # a UTF-16 surrogate
    b"\xf4\x90\x80\x80",  # past U+10FFFF
    b"\x00",
    b"\r\n",
    b"\x1b[2J",
    b"\x7f",
    "\u202e".encode(),  # right-to-left override
    "é".encode(),
    b"/",
    b"\\",
    b"..",
]


def percent_encoded(data: bytes) -> str:
    return quote_from_bytes(data, safe="")


enormous_digits = st.one_of(
    st.integers(4000, 6000).map(lambda n: "9" * n),  # past Python's int-string limit
    st.integers(4000, 6000).map(lambda n: "0" * n + "1"),
)
digits = st.one_of(
    st.text("0123456789", min_size=1, max_size=12),
    st.integers(-(2**64), 2**64).map(str),
    st.sampled_from(["0", "2147483647", "2147483648", "4294967296", "9223372036854775808"]),
    enormous_digits,
)
segment = st.lists(
    st.one_of(
        st.text(PATH_CHARACTERS, max_size=12),
        st.binary(max_size=12).map(percent_encoded),
        st.sampled_from(NASTY_BYTES).map(percent_encoded),
    ),
    max_size=4,
).map("".join)
path_parameter = st.one_of(digits, segment)
query_bytes = st.one_of(
    digits.map(str.encode),
    segment.map(str.encode),
    st.sampled_from(NASTY_BYTES),  # raw, unescaped: the server passes the query's bytes on
    st.binary(max_size=16).map(lambda data: data.replace(b" ", b"").replace(b"#", b"")),
)
query_key = st.one_of(
    st.sampled_from([b"page", b"per_page", b"list", b"next", b"v", b"page[]", b"q", b""]),
    query_bytes,
)
query_string = st.one_of(
    st.none(),
    st.lists(st.tuples(query_key, st.one_of(st.none(), query_bytes)), min_size=1, max_size=5).map(
        lambda pairs: b"&".join(k if v is None else k + b"=" + v for k, v in pairs)
    ),
)


def header_text(max_size: int = 60) -> st.SearchStrategy[bytes]:
    """Any byte a header value can carry on the wire: all of latin-1 but CR, LF and NUL."""
    characters = st.characters(codec="latin-1", exclude_characters="\r\n\x00")
    return st.text(characters, max_size=max_size).map(lambda value: value.encode("latin-1"))


session_key_shaped = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=32, max_size=32)
cookie = st.lists(
    st.one_of(
        session_key_shaped.map(lambda key: f"sessionid={key}".encode()),
        header_text(40).map(lambda value: b"sessionid=" + value),
        header_text(200).map(lambda value: b"sessionid_new=" + value),
        st.sampled_from([b"sessionid", b"=", b";;", b'sessionid="\\"', b"sessionid=%ff"]),
    ),
    min_size=1,
    max_size=3,
).map(b"; ".join)
HEADER_VALUES: dict[bytes, st.SearchStrategy[bytes]] = {
    b"host": st.sampled_from(
        [b"testserver", b"", b"evil.example", b"testserver:99999", b"[::1", b"\xff", b"a" * 300]
    ),
    b"origin": st.sampled_from(
        [b"http://testserver", b"null", b"https://testserver", b"http://[", b"http://x:abc"]
    ),
    b"sec-fetch-site": st.sampled_from([b"same-origin", b"cross-site", b"none", b"", b"NONE"]),
    b"cookie": cookie,
    b"hx-request": st.sampled_from([b"true", b"false", b""]),
    b"hx-target": st.sampled_from([b"book-list", b"author-list", b"", b"\xff"]),
    b"hx-history-restore-request": st.sampled_from([b"true", b"false"]),
    b"accept-encoding": st.sampled_from(
        [b"gzip", b"gzip;q=0", b"*", b"br, gzip;q=abc", b"identity;q=0", b"gzip;q=99999999999"]
    ),
    b"content-type": st.sampled_from(
        [
            b"application/x-www-form-urlencoded",
            b"application/x-www-form-urlencoded; charset=utf-16",
            b"multipart/form-data",
            b"multipart/form-data; boundary=",
            b"multipart/form-data; boundary=X",
            b'multipart/form-data; boundary="\xff"',
            b"text/plain",
        ]
    ),
    b"content-length": st.sampled_from([b"0", b"-1", b"abc", b"99999999999999999999"]),
    b"if-none-match": st.sampled_from([b"*", b'"abc"', b'W/"x"', b'"']),
    b"if-modified-since": st.sampled_from([b"Thu, 01 Jan 1970 00:00:00 GMT", b"yesterday"]),
    b"range": st.sampled_from(
        [b"bytes=0-0", b"bytes=-1", b"bytes=99999999999999999999-", b"bytes=5-1", b"chars=1-2"]
    ),
    b"x-forwarded-proto": st.sampled_from([b"https", b"gopher", b""]),
    b"referer": header_text(),
    b"user-agent": header_text(),
    b"accept": st.sampled_from([b"text/html", b"*/*", b"application/json;q=abc"]),
    b"transfer-encoding": st.sampled_from([b"chunked", b"gzip", b"identity"]),
    b"expect": st.sampled_from([b"100-continue", b"something"]),
}
header_name = st.one_of(
    st.sampled_from(sorted(HEADER_VALUES)),
    st.text("abcdefghijklmnopqrstuvwxyz0123456789-!#$%&'*+.^_`|~", min_size=1, max_size=20).map(
        str.encode
    ),
)
header = header_name.flatmap(
    lambda name: st.tuples(
        st.just(name), st.one_of(HEADER_VALUES.get(name, header_text()), header_text())
    )
)
headers = st.tuples(st.booleans(), st.lists(header, max_size=8)).map(
    lambda has_host_and_rest: (
        (((b"host", b"testserver"),) if has_host_and_rest[0] else ()) + tuple(has_host_and_rest[1])
    )
)

FORM_KEYS = [b"list", b"per_page", b"next"]
form_value = st.one_of(
    st.sampled_from(
        [
            b"books",
            b"authors",
            b"25",
            b"10",
            b"/catalog/",
            b"//evil.example/",
            b"/\\evil.example",
            b"https://evil.example/",
            b"/%0d%0aSet-Cookie:%20x=1",
            b"/" + b"a" * 3000,
        ]
    ),
    query_bytes,
)
form_pairs = st.lists(
    st.tuples(st.one_of(st.sampled_from(FORM_KEYS), query_key), form_value), max_size=6
)
urlencoded_form = form_pairs.map(
    lambda pairs: (
        b"application/x-www-form-urlencoded",
        b"&".join(key + b"=" + value for key, value in pairs),
    )
)
too_many_fields = st.integers(990, 1100).map(
    lambda n: (b"application/x-www-form-urlencoded", b"&".join([b"list=books"] * n))
)


@st.composite
def multipart_form(draw: st.DrawFn) -> tuple[bytes, bytes]:
    boundary = draw(st.sampled_from([b"X", b"----boundary", b"\xff"]))
    parts = []
    for name, value in draw(form_pairs):
        filename = draw(st.one_of(st.none(), st.sampled_from([b"a.txt", b"", b"\xff", b"../../x"])))
        disposition = b'form-data; name="' + name + b'"'
        if filename is not None:
            disposition += b'; filename="' + filename + b'"'
        parts.append(
            b"--"
            + boundary
            + b"\r\nContent-Disposition: "
            + disposition
            + b"\r\n\r\n"
            + value
            + b"\r\n"
        )
    body = b"".join(parts) + b"--" + boundary + b"--\r\n"
    cut = draw(st.one_of(st.none(), st.integers(0, len(body))))  # sometimes cut short
    return b"multipart/form-data; boundary=" + boundary, body if cut is None else body[:cut]


body = st.one_of(
    st.just((None, b"")),
    urlencoded_form,
    multipart_form(),
    too_many_fields,
    st.tuples(st.none(), st.binary(max_size=500)),
)

OTHER_METHODS = [
    "GET",
    "HEAD",
    "POST",
    "PUT",
    "DELETE",
    "PATCH",
    "OPTIONS",
    "TRACE",
    "PROPFIND",
    "get",
]


# --- The targets: every route of the app, and what it answers outside its routes --------------


def route_paths(route: Route) -> st.SearchStrategy[str]:
    """The route's own path with every parameter generated, sometimes with more after it."""
    parameters = st.fixed_dictionaries({name: path_parameter for name in route.param_convertors})
    suffix = st.sampled_from(["", "", "", "", "/", "//", "/..", "%2F", "%00"]) | segment.map(
        lambda more: "/" + more
    )
    return st.tuples(parameters, suffix).map(
        lambda drawn: route.path_format.format(**drawn[0]) + drawn[1]
    )


def paths_outside_the_router() -> list[str]:
    """What middleware answers before the router: the health check and every static file."""
    files = [f"/static/{p.relative_to(STATIC_DIR)}" for p in STATIC_DIR.rglob("*") if p.is_file()]
    htmx = NODE_MODULES_DIR / "htmx.org" / "dist"
    files += [f"/static/vendor/htmx/{p.name}" for p in htmx.glob("htmx.min.js*")]
    return [health.PATH, *sorted(files)]


def targets(routes: list[Route]) -> dict[str, st.SearchStrategy[tuple[str, str]]]:
    """(method, path) for each route of the app, for unknown paths, and for the paths that
    middleware answers before the router."""
    aimed = {
        route.path: st.tuples(
            st.sampled_from(sorted(route.methods or ["GET"])) | st.sampled_from(OTHER_METHODS),
            route_paths(route),
        )
        for route in routes
    }
    prefixes = st.sampled_from(
        ["/", "/catalog/", "/catalog/book/", "/static/", "/static/vendor/htmx/"]
    )
    unknown = st.tuples(prefixes, st.lists(segment, min_size=1, max_size=3)).map(
        lambda drawn: drawn[0] + "/".join(drawn[1])
    )
    aimed["a path no route declares"] = st.tuples(st.sampled_from(OTHER_METHODS), unknown)
    aimed["a path answered before the router"] = st.tuples(
        st.sampled_from(OTHER_METHODS), st.sampled_from(paths_outside_the_router())
    )
    return aimed


def requests(target: st.SearchStrategy[tuple[str, str]]) -> st.SearchStrategy[RawRequest]:
    def build(
        drawn: tuple[tuple[str, str], bytes | None, tuple[Any, ...], tuple[bytes | None, bytes]],
    ) -> RawRequest:
        (method, path), query, header_lines, (content_type, content) = drawn
        target = path.encode("ascii") + (b"" if query is None else b"?" + query)
        if content_type is not None:
            header_lines = ((b"content-type", content_type), *header_lines)
        return RawRequest(method, target, tuple(header_lines), content)

    return st.tuples(target, query_string, headers, body).map(build)


# --- What every answer must be -----------------------------------------------------------------


def assert_proper_answer(request: RawRequest, response: RawResponse) -> None:
    assert response.status < 500, response.body[:2000]
    assert response.header("x-content-type-options") == "nosniff", "the security headers"
    content = response.body
    if response.header("content-encoding") == "gzip":
        content = gzip.decompress(content)
    if response.status >= 400 and content:
        assert (response.header("content-type") or "").startswith("text/html"), content[:300]
        page = content.decode("utf-8")
        tree = parse(page)
        assert text(tree.css_first("h1")) == TITLES.get(response.status, "Something went wrong")
        assert tree.css_first("nav.sidebar") is not None, "the error page has the site's layout"
        assert "Traceback" not in page
    if response.status in (301, 302, 303, 307, 308):
        assert_stays_on_the_site(request, response.header("location") or "")


def assert_stays_on_the_site(request: RawRequest, location: str) -> None:
    if location.startswith("/"):
        assert location[1:2] not in ("/", "\\"), location
        return
    # Starlette's redirect to the path with its slash added or removed is absolute: to the host
    # that the request named, or (naming none it can use) to the server's own address.
    named = next((value for name, value in request.headers if name.lower() == b"host"), b"")
    sites = (f"http://{named.decode('latin-1')}/", f"http://{SERVER_ADDRESS}/")
    assert unquote(location).startswith(sites), location


# --- The stored data, before and after ---------------------------------------------------------


async def snapshot(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every catalog table, and the session that existed before."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    async with engine.connect() as conn:
        for table in catalog_metadata.sorted_tables:
            result = await conn.execute(select(table).order_by(*table.primary_key.columns))
            rows[table.name] = [tuple(row) for row in result]
        stored = select(sessions).where(sessions.c.key == STORED_SESSION_ID)
        rows["sessions"] = [tuple(row) for row in await conn.execute(stored)]
    return rows


def sync_snapshot(database_url: str) -> dict[str, list[tuple[Any, ...]]]:
    async def read() -> dict[str, list[tuple[Any, ...]]]:
        engine = create_async_engine(async_driver_url(database_url))
        try:
            return await snapshot(engine)
        finally:
            await engine.dispose()

    return asyncio.run(read())


@dataclass
class SiteUnderTest:
    site: InProcessSite
    routes: list[Route]
    engine: AsyncEngine

    def snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        return self.site.run(snapshot(self.engine))


def store_a_session(database_url: str) -> None:
    sql(
        database_url,
        "INSERT INTO sessions (key, data, expires_at) VALUES (:key, :data, :expires)",
        key=STORED_SESSION_ID,
        data=STORED_SESSION_DATA,
        expires=int(time.time()) + 3600,
    )


@pytest.fixture
def site_under_test(database_url: str) -> Iterator[SiteUnderTest]:
    store_a_session(database_url)
    # The production configuration: the catalog's and the sessions' caches on.
    app = create_app(Settings(database_url=database_url, secret_key="generated-input-secret"))
    routes = [route for route in app.routes if isinstance(route, Route)]
    with in_process_site(app) as site:
        engine = create_async_engine(async_driver_url(database_url))
        try:
            yield SiteUnderTest(site, routes, engine)
        finally:
            site.run(engine.dispose())


def test_no_generated_request_gets_a_500_or_changes_stored_data(
    site_under_test: SiteUnderTest,
) -> None:
    before = site_under_test.snapshot()
    assert before["sessions"] and before["catalog_book"], "there is data to keep"
    # One run per target, so that every route gets its share of the examples.
    for aimed_at, target in targets(site_under_test.routes).items():
        throw_requests(site_under_test, aimed_at, target, before)


def throw_requests(
    site_under_test: SiteUnderTest,
    aimed_at: str,
    target: st.SearchStrategy[tuple[str, str]],
    before: dict[str, list[tuple[Any, ...]]],
) -> None:
    @hypothesis.settings(
        max_examples=EXAMPLES_PER_TARGET,
        deadline=None,
        database=None,  # nothing written into the repository; failures print their example
        suppress_health_check=[hypothesis.HealthCheck.too_slow],
    )
    @hypothesis.given(request=requests(target))
    def any_request(request: RawRequest) -> None:
        hypothesis.note(f"aimed at {aimed_at}")
        response = site_under_test.site.send(request)
        assert_proper_answer(request, response)
        assert site_under_test.snapshot() == before

    any_request()


# --- What the real server gets: requests that no client library would send --------------------

ENORMOUS_ID = b"9" * 5000
RAW_REQUESTS = {
    "an id of 5,000 digits": b"GET /catalog/book/" + ENORMOUS_ID + b" HTTP/1.1\r\nHost: x\r\n",
    "an asterisk for a path": b"GET * HTTP/1.1\r\nHost: x\r\n",
    "a raw byte that is not UTF-8 in the path": b"GET /catalog/\xff HTTP/1.1\r\nHost: x\r\n",
    "a raw byte that is not UTF-8 in the query": b"GET /catalog/?\xff HTTP/1.1\r\nHost: x\r\n",
    "a raw Arabic-Indic digit as the page": (
        b"GET /catalog/books/?page=\xd9\xa3 HTTP/1.1\r\nHost: x\r\n"
    ),
    "a control character in the path": b"GET /catalog/\x01 HTTP/1.1\r\nHost: x\r\n",
    "a header line without a colon": b"GET /catalog/ HTTP/1.1\r\nHost: x\r\nno colon\r\n",
    "a control character in a header": b"GET /catalog/ HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n",
    "bytes that are not UTF-8 in headers": (
        b"GET /catalog/ HTTP/1.1\r\nHost: \xff\r\nCookie: sessionid=\xff\xfe\r\nX-A: \xc3\x28\r\n"
    ),
    "a header of 100 KB": b"GET /catalog/ HTTP/1.1\r\nHost: x\r\nX-A: " + b"a" * 100_000 + b"\r\n",
    "an unknown method": b"FOO /catalog/ HTTP/1.1\r\nHost: x\r\n",
    "an unknown HTTP version": b"GET /catalog/ HTTP/9.9\r\nHost: x\r\n",
    "a Content-Length that is not a number": (
        b"POST /catalog/notice/dismiss HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n"
    ),
    "both Content-Length and chunked": (
        b"POST /catalog/notice/dismiss HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
        b"Transfer-Encoding: chunked\r\n"
    ),
    "a TLS handshake on the HTTP port": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
}


def send_raw(address: tuple[str, int], head: bytes) -> bytes:
    """Send `head` (up to its last header line, if it has any) and read what comes back until
    the server closes the connection."""
    request = head + b"Connection: close\r\n\r\n" if head.endswith(b"\r\n") else head
    received = b""
    with socket.create_connection(address, timeout=15) as connection:
        connection.sendall(request)
        while chunk := connection.recv(65536):
            received += chunk
    return received


def status_of(response: bytes) -> int:
    status_line = response.split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1.1 "), response[:200]
    return int(status_line.split()[1])


def test_malformed_requests_to_the_real_server_get_no_500(database_url: str) -> None:
    store_a_session(database_url)
    before = sync_snapshot(database_url)
    with live_server({"DATABASE_URL": database_url}) as server:
        address = (urlsplit(server.url).hostname or "", urlsplit(server.url).port or 0)
        statuses = {name: status_of(send_raw(address, raw)) for name, raw in RAW_REQUESTS.items()}

        # A client that goes away in the middle of its form: the view finds the body cut short.
        with socket.create_connection(address, timeout=15) as connection:
            connection.sendall(
                b"POST /catalog/preferences/per-page HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n"
                b"list=bo"
            )
            # A round trip on another connection: the server has read the head and waits.
            assert httpx.get(f"{server.url}/healthz").status_code == 200
        assert httpx.get(f"{server.url}/healthz").status_code == 200, "the server still serves"
        log = server.output()
    assert all(status < 500 for status in statuses.values()), statuses
    assert statuses["an id of 5,000 digits"] == statuses["an asterisk for a path"] == 404
    assert "Traceback" not in log and "Exception in ASGI application" not in log, log[-3000:]
    assert sync_snapshot(database_url) == before
