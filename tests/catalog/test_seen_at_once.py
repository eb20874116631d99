"""After any committed change to the catalog, the next request in every worker shows it.

Two real servers (one uvicorn worker each, so that each request goes to a chosen worker) share
one database, SQLite file or PostgreSQL. Each has every page in memory before the change; the
change is made behind their backs, in plain SQL or with the CLI; the next request to each shows
it: the counts box, the home page, the list and the detail page.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.db import sql
from tests.html import parse, text, texts
from tests.live_server import LiveServer, live_server

POLL = {"HX-Request": "true"}


@pytest.fixture
def workers(database_url: str) -> Iterator[tuple[LiveServer, LiveServer]]:
    env = {"DATABASE_URL": database_url, "SECRET_KEY": "seen-at-once-secret"}
    with live_server(env) as first, live_server(env) as second:
        yield first, second


def get(worker: LiveServer, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    response = httpx.get(worker.url + path, headers=headers)
    assert response.status_code in (200, 404), response.text
    return response


def counts(worker: LiveServer) -> dict[str, int]:
    box = parse(get(worker, "/catalog/_counts", POLL).text)
    return {
        node.attributes["data-count"] or "": int(text(node)) for node in box.css("[data-count]")
    }


def home_counts(worker: LiveServer) -> dict[str, int]:
    home = parse(get(worker, "/catalog/").text)
    return {
        node.attributes["data-count"] or "": int(text(node)) for node in home.css("[data-count]")
    }


def book_heading(worker: LiveServer, book_id: int) -> str:
    response = get(worker, f"/catalog/book/{book_id}")
    return text(parse(response.text).css_first("h1")) if response.status_code == 200 else "404"


def copy_statuses(worker: LiveServer, book_id: int) -> list[str]:
    return texts(parse(get(worker, f"/catalog/book/{book_id}").text), ".copies .status")


def list_titles(worker: LiveServer) -> list[str]:
    return texts(parse(get(worker, "/catalog/books/").text), ".items li a")


def pages_of_the_list(worker: LiveServer) -> str:
    return text(parse(get(worker, "/catalog/books/").text).css_first(".pagination-current"))


def everything(worker: LiveServer, book_id: int) -> tuple[object, ...]:
    """Every page the tests look at, read (and so kept in memory) once."""
    return (
        counts(worker),
        home_counts(worker),
        book_heading(worker, book_id),
        copy_statuses(worker, book_id),
        list_titles(worker),
        pages_of_the_list(worker),
    )


def first_book(database_url: str) -> tuple[int, str]:
    [(book_id, title)] = sql(
        database_url, "SELECT id, title FROM catalog_book ORDER BY title, id LIMIT 1"
    )
    return book_id, title


def test_a_changed_title_shows_in_every_worker(
    workers: tuple[LiveServer, LiveServer], database_url: str
) -> None:
    book_id, title = first_book(database_url)
    for worker in workers:
        everything(worker, book_id)
        everything(worker, book_id)  # now from memory
        assert book_heading(worker, book_id) == f"Title: {title}"
    sql(
        database_url, "UPDATE catalog_book SET title = 'A retitled book' WHERE id = :id", id=book_id
    )
    for worker in workers:
        assert book_heading(worker, book_id) == "Title: A retitled book"
        assert list_titles(worker)[0] == "A retitled book"


def test_a_copys_new_status_shows_in_every_worker(
    workers: tuple[LiveServer, LiveServer], database_url: str
) -> None:
    [(copy_id, book_id)] = sql(
        database_url,
        "SELECT id, book_id FROM catalog_bookinstance WHERE status = 'a' ORDER BY id LIMIT 1",
    )
    before = [everything(worker, book_id) for worker in workers]
    available = counts(workers[0])["copies_available"]
    sql(
        database_url,
        "UPDATE catalog_bookinstance SET status = 'm' WHERE id = :id",
        id=copy_id,
    )
    for worker, seen in zip(workers, before, strict=True):
        assert counts(worker)["copies_available"] == available - 1
        assert home_counts(worker)["copies_available"] == available - 1
        assert copy_statuses(worker, book_id) != seen[3]
        assert "Maintenance" in copy_statuses(worker, book_id)


def test_an_added_and_a_deleted_book_show_in_every_worker(
    workers: tuple[LiveServer, LiveServer], database_url: str
) -> None:
    book_id, _ = first_book(database_url)
    books = counts(workers[0])["books"]
    for worker in workers:
        everything(worker, book_id)
    new_id = 900_001
    sql(
        database_url,
        "INSERT INTO catalog_book (id, title, summary, isbn)"
        " VALUES (:id, '0 A new first book', '', '9780000000019')",
        id=new_id,
    )
    for worker in workers:
        assert counts(worker)["books"] == books + 1
        assert home_counts(worker)["books"] == books + 1
        assert list_titles(worker)[0] == "0 A new first book"
        assert book_heading(worker, new_id) == "Title: 0 A new first book"

    sql(database_url, "DELETE FROM catalog_book WHERE id = :id", id=new_id)
    for worker in workers:
        assert counts(worker)["books"] == books
        assert list_titles(worker)[0] != "0 A new first book"
        assert book_heading(worker, new_id) == "404"


def test_books_added_by_the_cli_show_in_every_worker(
    workers: tuple[LiveServer, LiveServer], database_url: str
) -> None:
    books = counts(workers[0])["books"]
    pages = pages_of_the_list(workers[0])
    for worker in workers:
        counts(worker)
        pages_of_the_list(worker)
    subprocess.run(  # 15 synthetic books beside the demo catalog
        [str(Path(sys.executable).parent / "locallibrary"), "seed", "--books", "15"],
        env={**os.environ, "DATABASE_URL": database_url},
        check=True,
        capture_output=True,
    )
    for worker in workers:
        assert counts(worker)["books"] == books + 15
        assert pages_of_the_list(worker) != pages


def test_a_copy_added_in_plain_sql_counts_at_once(
    workers: tuple[LiveServer, LiveServer], database_url: str
) -> None:
    book_id, _ = first_book(database_url)
    before = counts(workers[1])
    for worker in workers:
        everything(worker, book_id)
    sql(
        database_url,
        "INSERT INTO catalog_bookinstance (id, book_id, imprint, status)"
        " VALUES (:id, :book_id, 'New imprint', 'a')",
        id=uuid.uuid4().hex if "sqlite" in database_url else str(uuid.uuid4()),
        book_id=book_id,
    )
    for worker in workers:
        after = counts(worker)
        assert after["copies"] == before["copies"] + 1
        assert after["copies_available"] == before["copies_available"] + 1
