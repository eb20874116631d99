"""Static files: content-hashed URLs, far-future caching, compression, no session or database."""

from __future__ import annotations

import hashlib
import re

from starlette.testclient import TestClient

from locallibrary.settings import STATIC_DIR, Settings
from locallibrary.web.app import create_app
from tests.html import parse


def asset_urls(client: TestClient, page: str = "/catalog/") -> list[str]:
    response = client.get(page)
    return [
        n.attributes.get("src") or n.attributes.get("href") or ""
        for n in parse(response.text).css("script[src], link[href]")
    ]


def test_pages_reference_assets_by_content_hash(client: TestClient) -> None:
    urls = asset_urls(client)
    css = next(u for u in urls if u.startswith("/static/css/site.css"))
    digest = hashlib.md5((STATIC_DIR / "css/site.css").read_bytes(), usedforsecurity=False)
    assert css == f"/static/css/site.css?v={digest.hexdigest()[:12]}"
    assert all(re.search(r"\?v=[0-9a-f]{12}$", u) for u in urls), urls


def test_assets_are_cached_for_a_year(client: TestClient) -> None:
    for url in asset_urls(client):
        response = client.get(url)
        assert response.status_code == 200, url
        cache_control = response.headers["cache-control"]
        assert "max-age=31536000" in cache_control and "immutable" in cache_control, url


def test_htmx_is_sent_compressed_to_browsers_that_accept_it(client: TestClient) -> None:
    url = next(u for u in asset_urls(client) if "htmx" in u)
    response = client.get(url, headers={"accept-encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert "htmx" in response.text[:3000]  # httpx decompresses it


def test_revalidation_answers_not_modified(client: TestClient) -> None:
    first = client.get("/static/css/site.css")
    etag = first.headers["etag"]
    again = client.get("/static/css/site.css", headers={"if-none-match": etag})
    assert again.status_code == 304


def test_html_pages_are_compressed_when_accepted(client: TestClient) -> None:
    response = client.get("/catalog/books/", headers={"accept-encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"


def test_a_site_served_below_a_root_path_links_and_serves_its_assets_there(
    settings: Settings,
) -> None:
    app = create_app(settings)
    with TestClient(app, base_url="http://testserver", root_path="/library") as client:
        urls = asset_urls(client, "/library/catalog/")
        assert len(urls) == 4 and all(u.startswith("/library/static/") for u in urls), urls
        for url in urls:
            assert client.get(url).status_code == 200, url
        missing = client.get("/library/static/css/missing.css")
        assert missing.status_code == 404
        assert asset_urls(client, "/library/static/css/missing.css") == urls  # the site's 404
