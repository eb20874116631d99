"""The garbage collector is set for serving while the site runs, and set back when it stops; and
the catalog's pages give it nothing to do."""

from __future__ import annotations

import gc
from urllib.parse import urlencode

from starlette.testclient import TestClient

from locallibrary.settings import Settings
from locallibrary.web.app import create_app
from locallibrary.web.heap import YOUNG_THRESHOLD
from tests.accounts.helpers import LIBBY, Account, add_account
from tests.asgi import InProcessSite, RawRequest, in_process_site
from tests.conftest import DatabaseFactory
from tests.db import sql


def test_the_heap_is_frozen_while_the_site_runs_and_thawed_after(settings: Settings) -> None:
    before = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    with TestClient(create_app(settings)) as client:
        assert client.get("/catalog/").status_code == 200
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (YOUNG_THRESHOLD, *before[1:])
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_serving_the_catalogs_pages_leaves_no_reference_cycles_behind(
    databases_factory: DatabaseFactory,
) -> None:
    """Garbage in a reference cycle is freed only by the collector, whose pass over tens of
    thousands of such objects held the event loop for about 90 ms (docs/performance.md). So no
    catalog page may leave any: each of them, rendered afresh, for a visitor and a librarian;
    nor the pages of loans and sessions a librarian opens. (Pages with a WTForms form still
    do: a form and its fields refer to each other. They are the few that send forms.)

    On SQLite, whose layer is our own. On PostgreSQL, `databases` makes each statement a new
    SQLAlchemy `text()` clause, whose bound parameters are cyclic garbage (a few objects a
    query), so the collector still has work there."""
    database_url = databases_factory.new("sqlite")
    settings = Settings(database_url=database_url, secret_key="test-secret")
    add_account(database_url, LIBBY)
    [(author_id,)] = sql(database_url, "SELECT min(id) FROM catalog_author")
    book_ids = [book_id for (book_id,) in sql(database_url, "SELECT id FROM catalog_book")]
    paths = [
        "/catalog/",
        "/catalog/_counts",
        "/catalog/books/",
        "/catalog/books/?page=2",
        "/catalog/authors/",
        f"/catalog/author/{author_id}",
        "/catalog/genres/",
        "/catalog/genre/1",
        "/catalog/languages/",
        "/catalog/language/1",
        "/catalog/search?q=the",
        *(f"/catalog/book/{book_id}" for book_id in book_ids),
    ]
    with in_process_site(create_app(settings)) as site:
        librarian = signed_in_cookie(site, LIBBY)
        signed_in_only = ["/loans/", "/loans/mine/", "/accounts/sessions/"]
        for cookie in ((), librarian):
            gc.collect()
            gc.disable()
            try:
                for path in paths + (signed_in_only if cookie else []):
                    headers = ((b"host", b"testserver"), *cookie)
                    assert site.send(RawRequest("GET", path.encode(), headers)).status == 200
                left_in_cycles = gc.collect()
            finally:
                gc.enable()
            assert left_in_cycles == 0, "librarian" if cookie else "visitor"


def signed_in_cookie(site: InProcessSite, account: Account) -> tuple[tuple[bytes, bytes], ...]:
    """The cookie header of a browser that signed in as `account`."""
    body = urlencode({"email": account.email, "password": account.password, "next": ""})
    response = site.send(
        RawRequest(
            "POST",
            b"/accounts/sign-in",
            (
                (b"host", b"testserver"),
                (b"content-type", b"application/x-www-form-urlencoded"),
                (b"origin", b"http://testserver"),
            ),
            body.encode(),
        )
    )
    assert response.status == 303, response.body[:500]
    cookies = [value.split(b";")[0] for name, value in response.headers if name == b"set-cookie"]
    return ((b"cookie", b"; ".join(cookies)),)
