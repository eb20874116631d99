"""Security headers on every response, and cross-origin protection of every form."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx2 as httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from locallibrary.settings import Settings
from locallibrary.web.app import create_app
from locallibrary.web.security import SecurityHeaders
from tests.db import session_rows
from tests.html import parse, text
from tests.live_server import live_server


@pytest.mark.parametrize(
    "path",
    [
        "/catalog/",
        "/catalog/books/",
        "/catalog/_counts",
        "/static/css/site.css",
        "/healthz",
        "/no/such/page",
    ],
)
def test_every_response_carries_the_security_headers(client: TestClient, path: str) -> None:
    headers = client.get(path).headers
    csp = headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    assert "strict-transport-security" not in headers


def test_hsts_only_over_https(settings: object) -> None:
    from locallibrary.web.app import create_app

    with TestClient(create_app(settings), base_url="https://testserver") as client:  # type: ignore[arg-type]
        assert client.get("/catalog/").headers["strict-transport-security"].startswith("max-age=")


def test_a_security_header_the_response_sets_itself_is_left_as_set() -> None:
    async def framed(request: Request) -> Response:
        return PlainTextResponse("ok", headers={"X-Frame-Options": "SAMEORIGIN"})

    app = Starlette(routes=[Route("/", framed)], middleware=[Middleware(SecurityHeaders)])
    response = TestClient(app).get("/")
    assert response.headers.get_list("x-frame-options") == ["SAMEORIGIN"]
    assert response.headers["x-content-type-options"] == "nosniff"  # the others are added


def test_pages_have_no_inline_script_or_style(client: TestClient) -> None:
    for path in ("/catalog/", "/catalog/books/", "/catalog/authors/", "/catalog/book/1"):
        tree = parse(client.get(path).text)
        assert tree.css("script:not([src])") == [], path
        assert tree.css("style") == [] and tree.css("[style]") == [], path
        assert not [n for n in tree.css("*") if any(a.startswith("on") for a in n.attributes)], path


FORMS = [
    ("/catalog/preferences/per-page", {"per_page": "25", "list": "books"}),
    ("/catalog/notice/dismiss", {"next": "/catalog/"}),
]


@pytest.mark.parametrize("path,form", FORMS)
@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
    ],
    ids=["cross-site", "same-site", "foreign-origin", "null-origin"],
)
def test_cross_origin_posts_are_refused_and_change_nothing(
    client: TestClient,
    database_url: str,
    path: str,
    form: dict[str, str],
    headers: dict[str, str],
) -> None:
    client.get("/catalog/")
    client.get("/catalog/")  # a stored session
    before = session_rows(database_url)
    response = client.post(path, data=form, headers=headers, follow_redirects=False)
    assert response.status_code == 403
    assert text(parse(response.text).css_first("h1")) == "Forbidden"
    assert session_rows(database_url) == before


def test_a_refused_post_as_a_new_app_s_first_request_gets_the_403_page(
    settings: Settings,
) -> None:
    """The 403 is answered before the router has seen the request; its page's links must not
    need the router in the request's scope (later pages would find them remembered)."""
    with TestClient(create_app(settings)) as client:
        response = client.post("/catalog/notice/dismiss", headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403
    assert text(parse(response.text).css_first("h1")) == "Forbidden"


@pytest.mark.parametrize(
    "headers",
    [{"Sec-Fetch-Site": "same-origin"}, {"Origin": "http://testserver"}, {}],
    ids=["same-origin", "own-origin", "no-browser-headers"],
)
def test_same_origin_posts_are_accepted(client: TestClient, headers: dict[str, str]) -> None:
    response = client.post(
        "/catalog/notice/dismiss",
        data={"next": "/catalog/"},
        headers=headers,
        follow_redirects=False,
    )
    assert response.status_code == 303


ORIGINS = [
    # (the site as the browser reached it, the Origin the browser sent, accepted)
    ("http://testserver", "http://testserver", True),
    ("http://testserver", "http://testserver:80", True),
    ("http://testserver", "HTTP://TestServer", True),
    ("http://testserver", "https://testserver", False),
    ("http://testserver", "http://testserver:8000", False),
    ("http://testserver", "http://evil.example", False),
    ("http://testserver", "http://testserver.evil.example", False),
    ("http://testserver", "http://testserver/catalog/", False),
    ("http://testserver", "http://testserver:99999", False),
    ("http://testserver", "http://user@testserver", False),
    ("https://testserver", "https://testserver", True),
    ("https://testserver", "https://testserver:443", True),
    ("https://testserver", "http://testserver", False),
    ("https://testserver", "https://testserver:8443", False),
    ("http://testserver:8080", "http://testserver:8080", True),
    ("http://testserver:8080", "http://testserver", False),
    ("http://testserver:8080", "https://testserver:8080", False),
    ("http://testserver:8080", "http://other.example:8080", False),
]


@pytest.mark.parametrize("site,origin,accepted", ORIGINS)
def test_origin_must_match_scheme_host_and_port(
    settings: Settings, site: str, origin: str, accepted: bool
) -> None:
    with TestClient(create_app(settings), base_url=site) as client:
        response = client.post(
            "/catalog/notice/dismiss",
            data={"next": "/catalog/"},
            headers={"Origin": origin},
            follow_redirects=False,
        )
    assert response.status_code == (303 if accepted else 403)


def test_origin_scheme_is_the_one_the_proxy_reports(database_url: str) -> None:
    """Behind a proxy that ends TLS, the browser's origin is https although the server hears
    plain HTTP; uvicorn's --proxy-headers puts X-Forwarded-Proto into the scope's scheme."""
    with live_server({"DATABASE_URL": database_url}, ["--proxy-headers"]) as server:
        netloc = urlsplit(server.url).netloc

        def post(origin: str, forwarded_proto: str) -> int:
            headers = {"Origin": origin, "X-Forwarded-Proto": forwarded_proto}
            return httpx.post(
                f"{server.url}/catalog/notice/dismiss", data={"next": "/catalog/"}, headers=headers
            ).status_code

        assert post(f"https://{netloc}", forwarded_proto="https") == 303
        assert post(f"http://{netloc}", forwarded_proto="https") == 403
        assert post(f"http://{netloc}", forwarded_proto="http") == 303
        assert post(f"https://{netloc}", forwarded_proto="http") == 403


def test_error_pages_show_no_traceback_unless_debug(database_url: str) -> None:
    from starlette.routing import Route

    from locallibrary.settings import Settings
    from locallibrary.web.app import create_app

    async def broken(request: object) -> None:
        raise RuntimeError("secret internals")

    for debug in (False, True):
        app = create_app(Settings(database_url=database_url, debug=debug))
        app.router.routes.insert(0, Route("/broken", broken))
        with TestClient(app, raise_server_exceptions=False) as client:
            response = client.get("/broken")
        assert response.status_code == 500
        assert ("secret internals" in response.text) is debug
