"""Deletes that protect data: an author with books, a book with copies, a copy on loan, a genre
or a language in use stay; the confirmation page says what blocks the delete and links there;
a POST from it deletes what nothing depends on, and records who did. On both databases."""

from __future__ import annotations

import uuid

import pytest
from starlette.testclient import TestClient

from tests.db import sql
from tests.html import links, parse, text
from tests.web.editing.helpers import first, post


def copy_path(copy_id: object) -> str:
    return str(copy_id if isinstance(copy_id, uuid.UUID) else uuid.UUID(str(copy_id)))


def blocked_page(librarian: TestClient, path: str) -> tuple[str, list[str]]:
    """The confirmation page's reason and links; it offers no Delete button."""
    tree = parse(librarian.get(path).text)
    assert tree.css("form.edit-form button") == [], "no Delete button while something blocks it"
    return text(tree.css_first(".blocked p")), links(tree, ".blockers a")


# A row others depend on, and the books that depend on it (:id), for each protected kind.
CASES = {
    "author with books": (
        "SELECT min(author_id) FROM catalog_book",
        "author",
        "The library has books by this author",
        "SELECT id FROM catalog_book WHERE author_id = :id",
    ),
    "genre in use": (
        "SELECT min(genre_id) FROM catalog_book_genre",
        "genre",
        "Books have this genre",
        "SELECT book_id FROM catalog_book_genre WHERE genre_id = :id",
    ),
    "language in use": (
        "SELECT min(language_id) FROM catalog_book",
        "language",
        "Books are in this language",
        "SELECT id FROM catalog_book WHERE language_id = :id",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_a_row_others_depend_on_is_not_deleted(
    librarian: TestClient, database_url: str, case: str
) -> None:
    statement, kind, reason, dependents = CASES[case]
    row_id = first(database_url, statement)
    books = {f"/catalog/book/{book_id}" for (book_id,) in sql(database_url, dependents, id=row_id)}
    path = f"/catalog/{kind}/{row_id}/delete"
    said, blocker_links = blocked_page(librarian, path)
    assert reason in said
    assert blocker_links and set(blocker_links) <= books
    assert len(blocker_links) == min(len(books), 10)
    response = post(librarian, path, [])
    assert response.status_code == 409
    assert reason in text(parse(response.text).css_first(".blocked p"))
    count = f"SELECT count(*) FROM catalog_{kind} WHERE id = :id"
    assert sql(database_url, count, id=row_id) == [(1,)]


def test_a_book_with_copies_is_not_deleted(librarian: TestClient, database_url: str) -> None:
    [(book_id, copy_id)] = sql(
        database_url, "SELECT book_id, id FROM catalog_bookinstance ORDER BY book_id, id LIMIT 1"
    )
    said, blocker_links = blocked_page(librarian, f"/catalog/book/{book_id}/delete")
    assert "The library has copies of this book" in said
    copies = sql(
        database_url, "SELECT id FROM catalog_bookinstance WHERE book_id = :id", id=book_id
    )
    assert sorted(blocker_links) == sorted(
        f"/catalog/copy/{copy_path(c)}/update" for (c,) in copies
    )
    assert post(librarian, f"/catalog/book/{book_id}/delete", []).status_code == 409
    assert first(database_url, "SELECT count(*) FROM catalog_book WHERE id = :id", id=book_id) == 1


def test_a_copy_on_loan_is_not_deleted_and_one_back_is(
    librarian: TestClient, database_url: str
) -> None:
    [(copy_id, book_id)] = sql(
        database_url,
        "SELECT id, book_id FROM catalog_bookinstance WHERE status = 'o' ORDER BY id LIMIT 1",
    )
    path = f"/catalog/copy/{copy_path(copy_id)}/delete"
    said, blocker_links = blocked_page(librarian, path)
    assert "This copy is on loan" in said
    assert blocker_links == [f"/catalog/copy/{copy_path(copy_id)}/update"]
    assert post(librarian, path, []).status_code == 409
    # Back from loan, it can go.
    sql(database_url, "UPDATE catalog_bookinstance SET status = 'a' WHERE id = :id", id=copy_id)
    deleted = post(librarian, path, [])
    assert deleted.status_code == 303
    assert deleted.headers["location"] == f"/catalog/book/{book_id}"
    assert sql(
        database_url, "SELECT count(*) FROM catalog_bookinstance WHERE id = :id", id=copy_id
    ) == [(0,)]


@pytest.mark.parametrize(
    ("kind", "body", "listing"),
    [
        ("author", [("first_name", "Nobody"), ("last_name", "Unread")], "/catalog/authors/"),
        ("genre", [("name", "Unused genre")], "/catalog/genres/"),
        ("language", [("name", "Unused language")], "/catalog/languages/"),
    ],
)
def test_a_row_nothing_depends_on_is_deleted_from_its_confirmation_page(
    librarian: TestClient, database_url: str, kind: str, body: list[tuple[str, str]], listing: str
) -> None:
    created = post(librarian, f"/catalog/{kind}/create", body)
    row_id = int(created.headers["location"].rsplit("/", 1)[1])
    confirm = parse(librarian.get(f"/catalog/{kind}/{row_id}/delete").text)
    form = confirm.css_first("form.edit-form")
    assert form.attributes["method"] == "post"
    assert form.attributes["action"] == f"/catalog/{kind}/{row_id}/delete"
    deleted = post(librarian, f"/catalog/{kind}/{row_id}/delete", [])
    assert deleted.status_code == 303 and deleted.headers["location"] == listing
    assert sql(database_url, f"SELECT count(*) FROM catalog_{kind} WHERE id = :id", id=row_id) == [
        (0,)
    ]
    assert sql(
        database_url,
        "SELECT action FROM catalog_changes WHERE table_name = :t AND row_id = :r ORDER BY id",
        t=f"catalog_{kind}",
        r=str(row_id),
    ) == [("create",), ("delete",)]
    assert librarian.get(f"/catalog/{kind}/{row_id}/delete").status_code == 404


def test_a_book_without_copies_is_deleted(librarian: TestClient, database_url: str) -> None:
    book_id = (
        first(
            database_url,
            "SELECT min(id) FROM catalog_book WHERE id NOT IN (SELECT book_id FROM catalog_bookinstance)",
        )
        or None
    )
    if book_id is None:  # every demo book has copies: make one without
        [(book_id,)] = sql(database_url, "SELECT min(id) FROM catalog_book")
        sql(database_url, "DELETE FROM catalog_bookinstance WHERE book_id = :id", id=book_id)
    assert post(librarian, f"/catalog/book/{book_id}/delete", []).status_code == 303
    assert sql(database_url, "SELECT count(*) FROM catalog_book WHERE id = :id", id=book_id) == [
        (0,)
    ]
