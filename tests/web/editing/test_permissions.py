"""Who may use the editing pages: librarians; a patron gets the styled 403, an anonymous visitor
is sent to sign in. And every form is refused when it comes from another site. On both
databases, for every editing route of the app (found in its routing table)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from tests.accounts.helpers import ANN, sign_in
from tests.db import sql
from tests.html import parse, text
from tests.web.editing.helpers import EDITING_WORDS, book_body


def editing_paths(client: TestClient, database_url: str) -> list[tuple[str, list[str]]]:
    """Each editing route's path with the id of a real row, and its methods."""
    [(copy_id,)] = sql(database_url, "SELECT id FROM catalog_bookinstance ORDER BY id LIMIT 1")
    copy_text = str(copy_id)
    if len(copy_text) == 32:  # SQLite keeps a UUID as 32 hex digits
        copy_text = f"{copy_text[:8]}-{copy_text[8:12]}-{copy_text[12:16]}-{copy_text[16:20]}-{copy_text[20:]}"
    paths = []
    for route in client.app.routes:  # type: ignore[attr-defined]
        assert isinstance(route, Route)
        if any(word in route.path for word in EDITING_WORDS):
            path = route.path.replace("{id:catalog_id}", "1").replace("{id:uuid}", copy_text)
            paths.append((path, sorted((route.methods or set()) - {"HEAD"})))
    return paths


def test_every_editing_route_is_found(client: TestClient, database_url: str) -> None:
    paths = editing_paths(client, database_url)
    # Create, update, delete for each kind; three checks and the book form's choice of author.
    assert len(paths) == 5 * 3 + 4


def assert_sent_to_sign_in(response, path: str, method: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 303, (method, path)
    target = urlsplit(response.headers["location"])
    assert target.path == "/accounts/sign-in"
    if method == "GET":
        assert parse_qs(target.query) == {"next": [path]}


def test_an_anonymous_visitor_is_sent_to_sign_in_everywhere(
    client: TestClient, database_url: str
) -> None:
    before = sql(database_url, "SELECT count(*) FROM catalog_changes")
    for path, methods in editing_paths(client, database_url):
        for method in methods:
            response = client.request(
                method,
                path,
                data={"name": "x"} if method == "POST" else None,
                follow_redirects=False,
            )
            assert_sent_to_sign_in(response, path, method)
    assert sql(database_url, "SELECT count(*) FROM catalog_changes") == before


def test_a_patron_gets_403_everywhere(
    client: TestClient, database_url: str, patron_id: int
) -> None:
    assert sign_in(client, ANN).status_code == 303
    for path, methods in editing_paths(client, database_url):
        for method in methods:
            response = client.request(
                method, path, data={"name": "x"} if method == "POST" else None
            )
            assert response.status_code == 403, (method, path)
            assert text(parse(response.text).css_first("h1")) == "Forbidden"
    assert sql(database_url, "SELECT count(*) FROM catalog_changes") == [(0,)]


def test_a_librarian_opens_every_editing_page_and_its_controls_are_labelled(
    librarian: TestClient, database_url: str
) -> None:
    for path, methods in editing_paths(librarian, database_url):
        if "GET" in methods and "/_" not in path:  # pages, not the fragments swapped into them
            response = librarian.get(path)
            assert response.status_code == 200, path
            assert response.headers["cache-control"] == "no-store"
            # Labelled controls, one heading (as tests/web/test_accessibility.py checks).
            tree = parse(response.text)
            assert len(tree.css("h1")) == 1, path
            labelled = {node.attributes.get("for") for node in tree.css("label")}
            for control in tree.css("select, textarea, input:not([type=hidden])"):
                assert control.attributes.get("id") in labelled, (path, control.html)


@pytest.mark.parametrize(
    "headers",
    [{"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}],
    ids=["Sec-Fetch-Site", "Origin"],
)
def test_every_form_is_refused_from_another_site(
    librarian: TestClient, database_url: str, headers: dict[str, str]
) -> None:
    """A librarian's browser, led by another site to send each form (with a body that would be
    valid), gets a 403 and nothing is stored."""
    tables = ("catalog_book", "catalog_author", "catalog_genre", "catalog_bookinstance")
    before = {table: sql(database_url, f"SELECT * FROM {table} ORDER BY id") for table in tables}
    body = book_body(database_url) + [
        ("name", "Forged"),
        ("last_name", "Forged"),
        ("imprint", "Forged"),
        ("book_id", "1"),
        ("status", "a"),
        ("version", "1"),
    ]
    for path, methods in editing_paths(librarian, database_url):
        if "POST" in methods:
            response = librarian.post(
                path,
                content="&".join(f"{k}={v}" for k, v in body),
                headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
            )
            assert response.status_code == 403, path
    after = {table: sql(database_url, f"SELECT * FROM {table} ORDER BY id") for table in tables}
    assert after == before
    assert sql(database_url, "SELECT count(*) FROM catalog_changes") == [(0,)]
