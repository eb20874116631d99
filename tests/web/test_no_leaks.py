"""Pages kept in memory never carry one visitor's data to another, by construction.

Templates are rendered from an explicit context (web/templating.py): their own content and a
frame, never the request, the session or the settings. These tests put unique markers in one
visitor's session and show that no page any other visitor gets contains them, on every page
the page cache keeps, whichever of the two asks first; and that each patron's kept "My borrowed
books" is their own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import httpx2
import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from locallibrary.loans import desk
from locallibrary.sessions.keys import stored_id
from locallibrary.settings import TEMPLATES_DIR, Settings
from locallibrary.web.app import create_app
from tests.accounts.helpers import ANN, BOB, add_account, sign_in
from tests.db import sql, with_database
from tests.loans.helpers import IN_THREE_WEEKS, available_copy
from tests.web.editing.helpers import EDITING_WORDS

MARKER = "marker-7f3a9c1e-only-in-one-session"
MARKED_VISITS = 987_654_320  # a visit count no other visitor could reach
POLL = {"HX-Request": "true"}
FRAGMENTS = {
    "/catalog/books/": "book-list",
    "/catalog/authors/": "author-list",
    "/catalog/search": "search-results",  # the empty box: the hint and the recent searches
}
SEARCH_RESULTS = "/catalog/search?q=austen"
# Lists too short for a second page at the marked visitor's page size.
SHORT_FRAGMENTS = {"/catalog/genres/": "genre-list", "/catalog/languages/": "language-list"}


@pytest.fixture
def app_client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), base_url="http://testserver") as client:
        yield client


def cached_pages(client: TestClient, database_url: str) -> list[tuple[str, dict[str, str]]]:
    """Every GET page of the app, with ids of real rows, and the htmx fragments of the lists."""
    [(book_id,)] = sql(database_url, "SELECT min(id) FROM catalog_book")
    [(author_id,)] = sql(database_url, "SELECT min(id) FROM catalog_author")
    pages: list[tuple[str, dict[str, str]]] = []
    for route in client.app.routes:  # type: ignore[attr-defined]
        assert isinstance(route, Route)
        if "GET" not in (route.methods or ()) or not route.path.startswith("/catalog/"):
            continue  # the account pages are never kept, and some need a token
        if any(word in route.path for word in EDITING_WORDS):
            continue  # never kept (no-store); anyone but a librarian is sent away from them
        path = re.sub(
            r"\{id:\w+\}", str(author_id if "author" in route.path else book_id), route.path
        )
        pages.append((path, POLL if path.endswith("_counts") else {}))
        if path in FRAGMENTS:
            pages.append((path, {"HX-Request": "true", "HX-Target": FRAGMENTS[path]}))
            pages.append((f"{path}?page=2", {}))
        if path in SHORT_FRAGMENTS:
            pages.append((path, {"HX-Request": "true", "HX-Target": SHORT_FRAGMENTS[path]}))
    pages.append((SEARCH_RESULTS, {}))
    pages.append((SEARCH_RESULTS, {"HX-Request": "true", "HX-Target": "search-results"}))
    return pages


def mark_the_session(client: TestClient, database_url: str) -> None:
    """Give this client's session a marker, a visit count and choices no one else has."""
    client.get("/catalog/")
    client.post("/catalog/preferences/per-page", data={"list": "books", "per_page": "25"})
    key = stored_id(client.cookies["sessionid"])
    [(text,)] = sql(database_url, "SELECT data FROM sessions WHERE key = :key", key=key)
    data = json.loads(text) | {
        "secret_note": MARKER,
        "num_visits": MARKED_VISITS,
        "recent_searches": [MARKER],
    }
    sql(
        database_url,
        "UPDATE sessions SET data = :data WHERE key = :key",
        data=json.dumps(data),
        key=key,
    )
    home = client.get("/catalog/").text
    assert f"visited this page {MARKED_VISITS + 1} times" in home  # the marks are in effect


@pytest.mark.parametrize("marked_first", [True, False], ids=["marked first", "other first"])
def test_no_page_shows_one_visitors_session_to_another(
    app_client: TestClient, database_url: str, marked_first: bool
) -> None:
    mark_the_session(app_client, database_url)
    # Two browsers on the same app and event loop: each its own cookie jar.
    jars = {"marked": app_client.cookies, "other": httpx2.Cookies()}
    pages = cached_pages(app_client, database_url)
    order = ["marked", "other"] if marked_first else ["other", "marked"]
    seen: dict[str, list[str]] = {"marked": [], "other": []}
    for _ in range(2):  # the second round comes from memory
        for path, headers in pages:
            for visitor in order:
                app_client.cookies = jars[visitor]
                response = app_client.get(path, headers=headers)
                assert response.status_code == 200, path
                jars[visitor] = app_client.cookies
                seen[visitor].append(response.text)
    marked = " ".join(seen["marked"])
    assert str(MARKED_VISITS + 1) in marked  # the marked visitor sees their own count
    assert MARKER in marked  # and their own recent searches, under the empty search box
    for body in seen["other"]:
        assert MARKER not in body
        assert str(MARKED_VISITS + 1) not in body and str(MARKED_VISITS) not in body


@pytest.mark.parametrize("ann_first", [True, False], ids=["Ann first", "others first"])
def test_no_page_shows_one_users_name_or_email_to_another_user_or_a_visitor(
    app_client: TestClient, database_url: str, ann_first: bool
) -> None:
    add_account(database_url, ANN)
    add_account(database_url, BOB)
    jars: dict[str, httpx2.Cookies] = {}
    for name, account in (("ann", ANN), ("bob", BOB)):
        app_client.cookies = httpx2.Cookies()
        assert sign_in(app_client, account).status_code == 303
        jars[name] = app_client.cookies
    jars["anonymous"] = httpx2.Cookies()
    pages = [*cached_pages(app_client, database_url), ("/accounts/sessions/", {})]
    order = ["ann", "bob", "anonymous"] if ann_first else ["anonymous", "bob", "ann"]
    seen: dict[str, list[str]] = {name: [] for name in order}
    for _ in range(2):  # the second round comes from memory
        for path, headers in pages:
            for visitor in order:
                app_client.cookies = jars[visitor]
                response = app_client.get(path, headers=headers)
                assert response.status_code == 200, path
                jars[visitor] = app_client.cookies
                seen[visitor].append(response.text)
    assert ANN.name in " ".join(seen["ann"])
    for visitor in ("bob", "anonymous"):
        for body in seen[visitor]:
            assert ANN.name not in body and ANN.email not in body


def test_templates_name_no_request_session_or_settings() -> None:
    """What a template may print is what its view passes: these names are not passed."""
    forbidden = re.compile(r"\b(request|session|settings|secret_key|database_url)\b")
    offenders = [
        str(path.relative_to(TEMPLATES_DIR))
        for path in TEMPLATES_DIR.rglob("*.html")
        if forbidden.search(re.sub(r"\{#.*?#\}", "", path.read_text(), flags=re.S))
    ]
    assert offenders == []


@pytest.mark.parametrize("ann_first", [True, False], ids=["Ann first", "Bob first"])
def test_my_borrowed_books_kept_in_memory_are_each_patrons_own(
    app_client: TestClient, database_url: str, ann_first: bool
) -> None:
    """ "My borrowed books" is kept per viewer: Bob never gets Ann's loans, nor her name."""
    accounts = {"ann": add_account(database_url, ANN), "bob": add_account(database_url, BOB)}
    titles = {}
    for offset, name in enumerate(("ann", "bob")):
        copy_id, book_id = available_copy(database_url, offset)
        with_database(
            database_url,
            lambda db, c=copy_id, p=accounts[name]: desk.lend(db, c, p, IN_THREE_WEEKS, p),
        )
        [(titles[name],)] = sql(
            database_url, "SELECT title FROM catalog_book WHERE id = :id", id=book_id
        )
    assert titles["ann"] != titles["bob"]
    jars: dict[str, httpx2.Cookies] = {}
    for name, account in (("ann", ANN), ("bob", BOB)):
        app_client.cookies = httpx2.Cookies()
        assert sign_in(app_client, account).status_code == 303
        jars[name] = app_client.cookies
    seen: dict[str, list[str]] = {"ann": [], "bob": []}
    for _ in range(2):  # the second round comes from memory
        for name in ("ann", "bob") if ann_first else ("bob", "ann"):
            app_client.cookies = jars[name]
            response = app_client.get("/loans/mine/")
            assert response.status_code == 200
            seen[name].append(response.text)
    assert all(titles["ann"] in body and ANN.name in body for body in seen["ann"])
    for body in seen["bob"]:
        assert titles["bob"] in body
        assert titles["ann"] not in body and ANN.name not in body and ANN.email not in body
