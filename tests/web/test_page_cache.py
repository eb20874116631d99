"""Rendered pages kept in memory: served again only at the catalog version they were rendered
at, kept apart by all they depend on, and never a stale page after a change to the catalog."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import httpx2
import pytest
from starlette.testclient import TestClient

from locallibrary.settings import Settings
from locallibrary.web.app import create_app
from locallibrary.web.page_cache import PageCache
from tests.db import sql
from tests.html import parse, text, texts

VERSION = 7
FRAGMENT = {"HX-Request": "true", "HX-Target": "book-list"}


def test_a_page_is_served_only_at_the_version_it_was_rendered_at() -> None:
    pages = PageCache()
    pages.put("key", VERSION, b"page")
    assert pages.get("key", VERSION) == b"page"
    assert pages.get("key", VERSION + 1) is None
    assert pages.get("other key", VERSION) is None


def test_the_least_recently_used_page_makes_room() -> None:
    pages = PageCache(max_pages=2)
    pages.put("a", VERSION, b"A")
    pages.put("b", VERSION, b"B")
    assert pages.get("a", VERSION) == b"A"  # "b" is now the least recently used
    pages.put("c", VERSION, b"C")
    assert [pages.get(key, VERSION) for key in "abc"] == [b"A", None, b"C"]


def test_a_cache_of_no_pages_keeps_nothing() -> None:
    pages = PageCache(max_pages=0)
    pages.put("a", VERSION, b"A")
    assert pages.get("a", VERSION) is None


@pytest.fixture
def cached_client(settings: Settings) -> Iterator[TestClient]:
    """The site as it runs: its page cache is always on."""
    with TestClient(create_app(settings), base_url="http://testserver") as test_client:
        yield test_client


def first_book(database_url: str) -> tuple[int, str]:
    [(book_id, title)] = sql(database_url, "SELECT id, title FROM catalog_book ORDER BY id LIMIT 1")
    return book_id, title


def as_another_visitor(client: TestClient, path: str) -> str:
    """A page as a browser with no cookies sees it, from the same app on the same event loop."""
    kept = dict(client.cookies)
    client.cookies.clear()
    try:
        response = client.get(path)
        assert response.status_code == 200
        return response.text
    finally:
        client.cookies = kept


def page_title(client: TestClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return text(parse(response.text).css_first("h1"))


def test_a_page_is_kept_until_the_catalog_changes_then_rendered_afresh(
    cached_client: TestClient, database_url: str
) -> None:
    book_id, title = first_book(database_url)
    path = f"/catalog/book/{book_id}"
    assert page_title(cached_client, path) == f"Title: {title}"
    pages = cached_client.app.state.catalog.pages  # type: ignore[attr-defined]
    [key] = [key for key in pages._pages if path in key]
    pages._pages[key].body = pages._pages[key].body.replace(title.encode(), b"From memory")
    assert page_title(cached_client, path) == "Title: From memory"  # served from memory

    sql(database_url, "UPDATE catalog_book SET title = 'Retitled' WHERE id = :id", id=book_id)
    assert page_title(cached_client, path) == "Title: Retitled"


def test_a_page_served_from_memory_still_counts_as_viewed(
    cached_client: TestClient, database_url: str
) -> None:
    book_id, title = first_book(database_url)
    path = f"/catalog/book/{book_id}"
    as_another_visitor(cached_client, path)  # now the page is in memory
    response = cached_client.get(path)
    assert "Cookie" in response.headers["vary"]
    home = parse(cached_client.get("/catalog/").text)
    assert texts(home, ".recent li a") == [title]


def test_a_missing_page_is_not_kept(cached_client: TestClient, database_url: str) -> None:
    path = "/catalog/book/999999"
    assert cached_client.get(path).status_code == 404
    sql(
        database_url,
        "INSERT INTO catalog_book (id, title, summary, isbn) VALUES (999999, 'New', '', '9990000000001')",
    )
    assert page_title(cached_client, path) == "Title: New"


def test_each_visitor_gets_the_page_for_their_own_page_size(cached_client: TestClient) -> None:
    default_size = len(parse(as_another_visitor(cached_client, "/catalog/books/")).css(".items li"))
    cached_client.post("/catalog/preferences/per-page", data={"list": "books", "per_page": "25"})
    assert default_size != 25
    assert len(parse(cached_client.get("/catalog/books/").text).css(".items li")) == 25
    again = parse(as_another_visitor(cached_client, "/catalog/books/"))
    assert len(again.css(".items li")) == default_size


def test_a_dismissed_notice_stays_dismissed_on_cached_pages(cached_client: TestClient) -> None:
    assert parse(as_another_visitor(cached_client, "/catalog/books/")).css_first("#site-notice")
    cached_client.post("/catalog/notice/dismiss", data={"next": "/catalog/books/"})
    assert parse(cached_client.get("/catalog/books/").text).css_first("#site-notice") is None
    assert parse(as_another_visitor(cached_client, "/catalog/books/")).css_first("#site-notice")


def test_the_fragment_and_the_full_page_are_kept_apart(cached_client: TestClient) -> None:
    fragment = cached_client.get("/catalog/books/", headers=FRAGMENT).text
    full_page = cached_client.get("/catalog/books/").text
    assert "<html" not in fragment and "<html" in full_page
    assert cached_client.get("/catalog/books/", headers=FRAGMENT).text == fragment


def test_the_polled_box_shows_each_visitor_their_own_visits(cached_client: TestClient) -> None:
    poll = {"HX-Request": "true"}
    cached_client.get("/catalog/")
    cached_client.get("/catalog/")
    kept = dict(cached_client.cookies)
    cached_client.cookies.clear()
    cached_client.get("/catalog/")  # another visitor, once
    assert "visited this page 1 time." in cached_client.get("/catalog/_counts", headers=poll).text
    cached_client.cookies = kept
    assert "visited this page 2 times." in cached_client.get("/catalog/_counts", headers=poll).text
    cached_client.get("/catalog/")
    assert "visited this page 3 times." in cached_client.get("/catalog/_counts", headers=poll).text


def test_the_home_page_shows_each_visitor_their_own_visits_and_books(
    cached_client: TestClient, database_url: str
) -> None:
    book_id, title = first_book(database_url)
    as_another_visitor(cached_client, "/catalog/")  # the page without books is in memory
    cached_client.get(f"/catalog/book/{book_id}")
    cached_client.get("/catalog/")
    home = parse(cached_client.get("/catalog/").text)
    assert text(home.css_first(".visits")) == "You have visited this page 2 times."
    assert texts(home, ".recent li a") == [title]
    other = parse(as_another_visitor(cached_client, "/catalog/"))
    assert text(other.css_first(".visits")) == "You have visited this page 1 time."
    assert texts(other, ".recent li a") == []
    assert len(other.css("#catalog-counts")) == 1


def test_a_page_is_compressed_once_when_first_asked_for_gzipped() -> None:
    pages = PageCache()
    pages.put("a", VERSION, b"<p>page</p>" * 200)
    first = pages.get("a", VERSION, gzipped=True)
    assert first is not None and gzip.decompress(first) == b"<p>page</p>" * 200
    assert pages.get("a", VERSION, gzipped=True) is first


def test_a_cached_page_goes_to_a_gzip_browser_compressed_as_the_first_one(
    cached_client: TestClient,
) -> None:
    def raw_get() -> tuple[httpx2.Headers, bytes]:
        with cached_client.stream(
            "GET", "/catalog/books/", headers={"accept-encoding": "gzip"}
        ) as r:
            return r.headers, b"".join(r.iter_raw())

    rendered_headers, rendered = raw_get()  # rendered, then compressed by the middleware
    cached_headers, cached = raw_get()  # from the page cache, compressed once and kept
    plain = cached_client.get("/catalog/books/", headers={"accept-encoding": "identity"})
    assert gzip.decompress(rendered) == gzip.decompress(cached) == plain.content
    for headers in (rendered_headers, cached_headers, plain.headers):
        assert {v.strip() for v in headers["vary"].split(",")} >= {
            "Accept-Encoding",
            "Cookie",
            "HX-Request",
            "HX-Target",
        }
    assert rendered_headers["content-encoding"] == cached_headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
