"""A librarian's save on the editing pages shows on the next request to every worker: the book's
page, the lists, the genre pages and the counts. Two real servers share one database (SQLite
file or PostgreSQL); each has the pages in memory before the save, made through the other."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

import httpx2 as httpx
import pytest

from tests.accounts.helpers import LIBBY, add_account
from tests.catalog.test_seen_at_once import book_heading, counts, list_titles
from tests.db import sql
from tests.html import parse, texts
from tests.live_server import LiveServer, live_server
from tests.web.editing.helpers import FORM, book_body, form_fields, replaced


@pytest.fixture
def workers(database_url: str) -> Iterator[tuple[LiveServer, LiveServer]]:
    env = {"DATABASE_URL": database_url, "SECRET_KEY": "seen-at-once-secret"}
    with live_server(env) as first, live_server(env) as second:
        yield first, second


def signed_in(worker: LiveServer, database_url: str) -> dict[str, str]:
    """Libby's session cookie, signed in through `worker`; good for every worker."""
    add_account(database_url, LIBBY)
    response = httpx.post(
        worker.url + "/accounts/sign-in",
        data={"email": LIBBY.email, "password": LIBBY.password, "next": ""},
    )
    assert response.status_code == 303
    return {"sessionid": response.cookies["sessionid"]}


def save(
    worker: LiveServer, path: str, pairs: list[tuple[str, str]], cookies: dict[str, str]
) -> None:
    response = httpx.post(
        worker.url + path, content=urlencode(pairs), headers=FORM, cookies=cookies
    )
    assert response.status_code == 303, response.text


def genre_names(worker: LiveServer) -> list[str]:
    return texts(parse(httpx.get(worker.url + "/catalog/genres/").text), ".items li a")


def test_a_saved_book_and_a_new_genre_show_in_every_worker(
    workers: tuple[LiveServer, LiveServer], database_url: str
) -> None:
    first_worker, second_worker = workers
    cookies = signed_in(first_worker, database_url)
    [(book_id,)] = sql(database_url, "SELECT id FROM catalog_book ORDER BY title, id LIMIT 1")
    before = counts(first_worker)
    for worker in workers:  # every page in memory, twice over
        for _ in range(2):
            book_heading(worker, book_id), list_titles(worker), counts(worker), genre_names(worker)

    edit = httpx.get(f"{first_worker.url}/catalog/book/{book_id}/update", cookies=cookies)
    save(
        first_worker,
        f"/catalog/book/{book_id}/update",
        replaced(form_fields(edit), title="0 Retitled"),
        cookies,
    )
    for worker in workers:
        assert book_heading(worker, book_id) == "Title: 0 Retitled"
        assert list_titles(worker)[0] == "0 Retitled"

    save(second_worker, "/catalog/genre/create", [("name", "Aaa first genre")], cookies)
    save(
        second_worker,
        "/catalog/book/create",
        book_body(database_url, title="0 A new book"),
        cookies,
    )
    for worker in workers:
        assert genre_names(worker)[0] == "Aaa first genre"
        assert counts(worker)["genres"] == before["genres"] + 1
        assert counts(worker)["books"] == before["books"] + 1
        assert list_titles(worker)[0] == "0 A new book"
