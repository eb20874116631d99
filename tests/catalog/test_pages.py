"""Every catalog page over HTTP, on SQLite and PostgreSQL, read as HTML."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid

import pytest
from starlette.testclient import TestClient

from locallibrary.catalog.queries import BOOKS_SHOWN, COPIES_SHOWN
from locallibrary.catalog.seed import demo_catalog
from tests.db import sql
from tests.html import links, parse, text, texts

DEMO = demo_catalog()
DEMO_BOOKS = sorted(DEMO["books"], key=lambda b: b["title"])


def counts(markup: str) -> dict[str, int]:
    tree = parse(markup)
    return {node.attributes["data-count"]: int(text(node)) for node in tree.css("[data-count]")}


def test_root_redirects_to_the_catalog(client: TestClient) -> None:
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"] == "/catalog/"


def test_home_page_shows_the_record_counts(client: TestClient) -> None:
    response = client.get("/catalog/")
    assert response.status_code == 200
    shown = counts(response.text)
    assert shown["books"] == len(DEMO["books"])
    assert shown["authors"] == len(DEMO["authors"])
    assert shown["genres"] == len(DEMO["genres"])
    assert 1 * len(DEMO["books"]) <= shown["copies"] <= 4 * len(DEMO["books"])
    assert 0 < shown["copies_available"] < shown["copies"]


def test_layout_has_the_sidebar_and_local_assets(client: TestClient) -> None:
    tree = parse(client.get("/catalog/").text)
    assert texts(tree, "nav.sidebar a") == [
        "Home",
        "All books",
        "All authors",
        "All genres",
        "All languages",
    ]
    assert tree.css_first("body").attributes.get("hx-boost") == "true"
    scripts = [node.attributes["src"] or "" for node in tree.css("script[src]")]
    assert any(src.startswith("/static/vendor/htmx/htmx.min.js?v=") for src in scripts)
    assert all(src.startswith("/static/") for src in scripts), "no script from another origin"
    config = json.loads(tree.css_first('meta[name="htmx-config"]').attributes["content"] or "")
    assert config["historyCacheSize"] == 0


def test_htmx_is_served_from_static(client: TestClient) -> None:
    response = client.get("/static/vendor/htmx/htmx.min.js")
    assert response.status_code == 200
    assert "htmx" in response.text[:2000]


def test_book_list_first_page(client: TestClient) -> None:
    response = client.get("/catalog/books/")
    assert response.status_code == 200
    tree = parse(response.text)
    titles = [text(a) for a in tree.css("#book-list .items li > a")]
    assert titles == [b["title"] for b in DEMO_BOOKS[:10]]
    pages = -(-len(DEMO_BOOKS) // 10)
    assert text(tree.css_first(".pagination-current")) == f"Page 1 of {pages}"
    assert texts(tree, ".pagination a") == ["next", "last »"]
    assert "HX-Request" in response.headers["vary"]


def test_book_list_middle_and_last_pages(client: TestClient) -> None:
    pages = -(-len(DEMO_BOOKS) // 10)
    tree = parse(client.get("/catalog/books/?page=2").text)
    assert texts(tree, ".pagination a") == ["« first", "previous", "next", "last »"]
    assert links(tree, ".pagination a") == ["?page=1", "?page=1", "?page=3", f"?page={pages}"]
    last = parse(client.get(f"/catalog/books/?page={pages}").text)
    titles = [text(a) for a in last.css("#book-list .items li > a")]
    assert titles == [b["title"] for b in DEMO_BOOKS[(pages - 1) * 10 :]]
    assert texts(last, ".pagination a") == ["« first", "previous"]


def test_pagination_links_swap_only_the_list(client: TestClient) -> None:
    tree = parse(client.get("/catalog/books/").text)
    link = tree.css_first(".pagination a[rel=next]")
    assert link.attributes["hx-get"] == "?page=2"
    assert link.attributes["hx-target"] == "#book-list"
    assert link.attributes["hx-push-url"] == "true"


def test_htmx_request_for_the_list_gets_the_fragment(client: TestClient) -> None:
    headers = {"HX-Request": "true", "HX-Target": "book-list"}
    response = client.get("/catalog/books/?page=2", headers=headers)
    assert response.status_code == 200
    assert "<html" not in response.text
    tree = parse(response.text)
    assert tree.css_first("#book-list") is not None
    assert tree.css_first("nav.sidebar") is None
    assert [text(a) for a in tree.css(".items li > a")] == [b["title"] for b in DEMO_BOOKS[10:20]]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HX-Request": "true", "HX-Boosted": "true"},
        {"HX-Request": "true", "HX-History-Restore-Request": "true"},
        {"HX-Request": "true", "HX-Target": "book-list", "HX-History-Restore-Request": "true"},
    ],
    ids=["direct", "boosted", "history-restore", "history-restore-with-target"],
)
def test_other_requests_for_the_list_get_the_full_page(
    client: TestClient, headers: dict[str, str]
) -> None:
    response = client.get("/catalog/books/?page=2", headers=headers)
    assert response.status_code == 200
    assert parse(response.text).css_first("nav.sidebar") is not None
    assert "HX-Request" in response.headers["vary"]


def test_author_list_is_ordered_by_last_then_first_name(client: TestClient) -> None:
    expected = sorted(DEMO["authors"], key=lambda a: (a["last_name"], a["first_name"]))
    tree = parse(client.get("/catalog/authors/").text)
    names = [text(a) for a in tree.css("#author-list .items li > a")]
    assert names == [
        f"{a['last_name']}, {a['first_name']}" if a["first_name"] else a["last_name"]
        for a in expected[:10]
    ]


def _find_book_link(client: TestClient, title: str) -> str:
    page = 1
    while True:
        tree = parse(client.get(f"/catalog/books/?page={page}").text)
        for anchor in tree.css("#book-list .items li > a"):
            if text(anchor) == title:
                return anchor.attributes["href"] or ""
        if tree.css_first(".pagination a[rel=next]") is None:
            raise AssertionError(f"{title!r} is not in the book list")
        page += 1


def test_book_detail_shows_everything_about_the_book(client: TestClient) -> None:
    entry = DEMO_BOOKS[0]
    href = _find_book_link(client, entry["title"])
    response = client.get(href)
    assert response.status_code == 200
    tree = parse(response.text)
    assert text(tree.css_first("h1")) == f"Title: {entry['title']}"
    facts = {text(div.css_first("dt")): div.css_first("dd") for div in tree.css(".facts div")}
    first, last = entry["author"]
    assert text(facts["Author"]) == (f"{last}, {first}" if first else last)
    assert re.fullmatch(r"/catalog/author/\d+", facts["Author"].css_first("a").attributes["href"])
    assert text(facts["Summary"]) == " ".join(entry["summary"].split())
    assert text(facts["ISBN"]) == entry["isbn"]
    assert text(facts["Language"]) == entry["language"]
    assert text(facts["Genre"]) == ", ".join(sorted(entry["genres"]))
    rows = tree.css(".copies tbody tr")
    assert 1 <= len(rows) <= 4
    for row in rows:
        status = row.css_first(".status")
        label = text(status)
        assert label in {"Available", "On loan", "Maintenance", "Reserved"}
        assert status.attributes["class"].split()[1] in {
            "status-a",
            "status-o",
            "status-m",
            "status-r",
        }
        due = text(row.css("td")[1])
        if label == "On loan":
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", due)
        else:
            assert due == "—"


def test_author_detail_lists_the_authors_books(client: TestClient) -> None:
    austen = [b["title"] for b in DEMO_BOOKS if b["author"] == ["Jane", "Austen"]]
    assert len(austen) >= 2
    book_page = parse(client.get(_find_book_link(client, austen[0])).text)
    author_href = book_page.css_first(".facts a").attributes["href"] or ""
    tree = parse(client.get(author_href).text)
    assert text(tree.css_first("h1")) == "Author: Austen, Jane"
    assert "1775-12-16" in text(tree.css_first(".byline"))
    assert [text(a) for a in tree.css(".items li > a")] == sorted(austen)


def test_all_copies_statuses_appear_in_the_demo_catalog(client: TestClient) -> None:
    seen: set[str] = set()
    page = 1
    while len(seen) < 4 and page < 10:
        tree = parse(client.get(f"/catalog/books/?page={page}").text)
        for href in links(tree, "#book-list .items li > a"):
            seen.update(texts(parse(client.get(href).text), ".copies .status"))
        page += 1
    assert seen == {"Available", "On loan", "Maintenance", "Reserved"}


def test_empty_catalog_pages(empty_database_url: str) -> None:
    from locallibrary.settings import Settings
    from locallibrary.web.app import create_app

    with TestClient(create_app(Settings(database_url=empty_database_url))) as client:
        assert set(counts(client.get("/catalog/").text).values()) == {0}
        tree = parse(client.get("/catalog/books/").text)
        assert "There are no books" in text(tree.css_first("#book-list"))
        assert tree.css_first(".pagination") is None
        assert client.get("/catalog/books/?page=2").status_code == 404


@pytest.mark.parametrize("many", [BOOKS_SHOWN, BOOKS_SHOWN + 1])
def test_an_authors_and_a_genres_page_show_their_first_hundred_books_however_many(
    client: TestClient, database_url: str, many: int
) -> None:
    """A page of an index, not all of an author's or a genre's books ("Anonymous" may have
    thousands): the first hundred by title, saying so when there are more."""
    sql(database_url, "INSERT INTO catalog_author (first_name, last_name) VALUES ('', 'Anonymous')")
    sql(database_url, "INSERT INTO catalog_genre (name) VALUES ('Chapbooks')")
    [(author_id, genre_id)] = sql(
        database_url,
        "SELECT (SELECT id FROM catalog_author WHERE last_name = 'Anonymous'),"
        " (SELECT id FROM catalog_genre WHERE name = 'Chapbooks')",
    )
    for n in reversed(range(many)):  # not in title order
        sql(
            database_url,
            "INSERT INTO catalog_book (title, author_id, summary, isbn)"
            " VALUES (:title, :author, '', :isbn)",
            title=f"Tract {n:03d}",
            author=author_id,
            isbn=f"979{n:010d}",
        )
    sql(
        database_url,
        "INSERT INTO catalog_book_genre (book_id, genre_id)"
        " SELECT id, :genre FROM catalog_book WHERE author_id = :author",
        genre=genre_id,
        author=author_id,
    )
    note = f"The first {BOOKS_SHOWN} of them."
    for path in (f"/catalog/author/{author_id}", f"/catalog/genre/{genre_id}"):
        tree = parse(client.get(path).text)
        titles = [text(a) for a in tree.css(".items li > a")]
        assert len(titles) == BOOKS_SHOWN and titles == sorted(titles), path
        assert (note in text(tree.css_first("article"))) == (many > BOOKS_SHOWN), path
        if "author" in path:  # the first hundred by title (a genre's: by when they were added)
            assert titles == [f"Tract {n:03d}" for n in range(BOOKS_SHOWN)]


def _add_copies(database_url: str, book_id: int, copies: list[tuple[dt.date, str]]) -> None:
    """Copies of the book, each (due date, status), in one statement."""
    rows, values = [], {}
    for n, (due_back, status) in enumerate(copies):
        rows.append(f"(:id{n}, :book_id, 'Imprint', :due{n}, :status{n})")
        values |= {f"id{n}": _copy_id(database_url), f"due{n}": due_back, f"status{n}": status}
    sql(
        database_url,
        "INSERT INTO catalog_bookinstance (id, book_id, imprint, due_back, status)"
        f" VALUES {', '.join(rows)}",
        book_id=book_id,
        **values,
    )


def _copy_id(database_url: str) -> str:
    return uuid.uuid4().hex if "sqlite" in database_url else str(uuid.uuid4())


def _new_book(database_url: str, title: str) -> int:
    [(book_id,)] = sql(
        database_url,
        "INSERT INTO catalog_book (title, summary, isbn) VALUES (:title, '', '9790000000001')"
        " RETURNING id",
        title=title,
    )
    return int(book_id)


@pytest.mark.parametrize("many", [COPIES_SHOWN, COPIES_SHOWN + 1])
def test_a_books_page_shows_its_first_hundred_copies_however_many(
    client: TestClient, database_url: str, many: int
) -> None:
    """A library may hold hundreds of one title: the page shows the first hundred by due date,
    saying so when there are more."""
    book_id = _new_book(database_url, "Set Text")
    first_due = dt.date(2030, 1, 1)
    dues = [first_due + dt.timedelta(days=n) for n in range(many)]
    _add_copies(database_url, book_id, [(due, "o") for due in reversed(dues)])
    tree = parse(client.get(f"/catalog/book/{book_id}").text)
    shown = texts(tree, ".copies tbody td.due")
    assert shown == [due.isoformat() for due in dues[:COPIES_SHOWN]]
    note = f"The first {COPIES_SHOWN} copies, by due date."
    assert (note in text(tree.css_first(".copies"))) == (many > COPIES_SHOWN)


@pytest.mark.parametrize("on_shelf", [True, False])
def test_a_copy_on_the_shelf_but_not_shown_still_counts_for_holds(
    client: TestClient, database_url: str, on_shelf: bool
) -> None:
    """Holds are for books with no copy on the shelf: one past the hundred shown counts too."""
    book_id = _new_book(database_url, "Set Text")
    on_loan = [(dt.date(2030, 1, 1) + dt.timedelta(days=n), "o") for n in range(COPIES_SHOWN)]
    last = (dt.date(2099, 1, 1), "a" if on_shelf else "m")  # after the others, not shown
    _add_copies(database_url, book_id, [*on_loan, last])
    tree = parse(client.get(f"/catalog/book/{book_id}").text)
    assert "Available" not in texts(tree, ".copies .status")
    assert ("No copy is on the shelf." in text(tree.css_first(".copies"))) == (not on_shelf)
