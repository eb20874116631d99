"""Search over HTTP and in the database, on SQLite and PostgreSQL: what it finds, in what order,
kept in step with the catalog by triggers, safe with any input, remembered in the session."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from urllib.parse import quote_plus

import hypothesis
import pytest
from hypothesis import strategies as st
from starlette.testclient import TestClient

from locallibrary.catalog import search
from locallibrary.catalog.pagination import InvalidPage
from locallibrary.catalog.seed import demo_catalog
from locallibrary.database import Database, connect, create_database
from locallibrary.database.migrate import upgrade
from locallibrary.database.sqlite import SQLiteDatabase
from locallibrary.sessions.keys import stored_id
from tests.conftest import DatabaseFactory, _seed
from tests.db import session_rows, sql, with_database
from tests.html import links, parse, text, texts

HTMX_RESULTS = {"HX-Request": "true", "HX-Target": "search-results"}
DEMO = demo_catalog()


def titles(client: TestClient, query: str, **params: str) -> list[str]:
    response = client.get("/catalog/search", params={"q": query, **params})
    assert response.status_code == 200
    return texts(parse(response.text), "#search-results .results li > a")


def status(markup: str) -> str:
    return text(parse(markup).css_first("#search-status"))


def add_book(
    url: str,
    title: str,
    *,
    first: str = "Ann",
    last: str = "Writer",
    summary: str = "",
    isbn: str,
    genre: str | None = None,
) -> int:
    """A book (and its author, and genre) added in plain SQL, as any other writer would."""
    [(author_id,)] = sql(
        url,
        "INSERT INTO catalog_author (first_name, last_name) VALUES (:f, :l) RETURNING id",
        f=first,
        l=last,
    )
    [(book_id,)] = sql(
        url,
        "INSERT INTO catalog_book (title, author_id, summary, isbn)"
        " VALUES (:t, :a, :s, :i) RETURNING id",
        t=title,
        a=author_id,
        s=summary,
        i=isbn,
    )
    if genre is not None:
        [(genre_id,)] = sql(
            url, "INSERT INTO catalog_genre (name) VALUES (:n) RETURNING id", n=genre
        )
        sql(url, "INSERT INTO catalog_book_genre VALUES (:b, :g)", b=book_id, g=genre_id)
    return book_id


# --- What it finds -----------------------------------------------------------------------------


def test_case_and_accents_do_not_matter(client: TestClient, database_url: str) -> None:
    add_book(
        database_url,
        "Cien años de soledad",
        first="Gabriel",
        last="García Márquez",
        isbn="9780060883287",
    )
    add_book(database_url, "Über den Wolken", isbn="9780000000017")
    assert titles(client, "garcia marquez") == ["Cien años de soledad"]
    assert titles(client, "GARCÍA MÁRQUEZ") == ["Cien años de soledad"]
    assert titles(client, "anos soledad") == ["Cien años de soledad"]
    found = titles(client, "über")  # as a prefix, also Nietzsche's Übermensch
    assert found == titles(client, "uber") == titles(client, "UBER")
    assert found[0] == "Über den Wolken"
    assert sorted(titles(client, "bronte")) == ["Jane Eyre", "Wuthering Heights"]
    assert titles(client, "bronte") == titles(client, "BRONTË")


def test_the_last_word_matches_as_a_prefix(client: TestClient) -> None:
    assert titles(client, "tolk") == ["The Hobbit"]
    assert titles(client, "hobbit tolk") == ["The Hobbit"]
    assert titles(client, "tolk hobbit") == []  # only the last word is a prefix


def test_every_word_must_match(client: TestClient) -> None:
    assert sorted(titles(client, "austen")) == [
        "Emma",
        "Pride and Prejudice",
        "Sense and Sensibility",
    ]
    assert titles(client, "austen emma") == ["Emma"]


def test_genres_summaries_and_isbns_are_searched(client: TestClient, database_url: str) -> None:
    book_id = add_book(
        database_url,
        "A Plain Title",
        summary="A lighthousekeeper's quiet year.",
        isbn="9781234567897",
        genre="Nautical Fiction",
    )
    assert titles(client, "lighthousekeeper") == ["A Plain Title"]
    assert titles(client, "nautical") == ["A Plain Title"]
    assert titles(client, "978-1-234-56789-7") == ["A Plain Title"]
    response = client.get("/catalog/search", params={"q": "9781234567897"})
    assert links(parse(response.text), "#search-results .results li > a") == [
        f"/catalog/book/{book_id}"
    ]


def test_isbn_then_title_then_author_then_genre_then_summary(
    client: TestClient, database_url: str
) -> None:
    # Added in the reverse of the expected order, so that ids cannot explain the order.
    add_book(database_url, "In the summary", summary="zebrine stripes", isbn="9780000000024")
    add_book(database_url, "In the genre", isbn="9780000000031", genre="Zebrine Tales")
    add_book(database_url, "In the author", last="Zebrine", isbn="9780000000048")
    add_book(database_url, "Zebrine in the title", isbn="9780000000055")
    assert titles(client, "zebrine") == [
        "Zebrine in the title",
        "In the author",
        "In the genre",
        "In the summary",
    ]
    # Every word in the title comes before some of them there (and the rest in the summary).
    add_book(database_url, "Zebrine", summary="a quagga", isbn="9780000000093")
    add_book(database_url, "Quagga Zebrine", summary="words", isbn="9780000000109")
    assert titles(client, "zebrine quagga")[:2] == ["Quagga Zebrine", "Zebrine"]
    # An ISBN comes before books that mention its digits.
    add_book(database_url, "Mentions it", summary="see 9780000000055", isbn="9780000000062")
    assert titles(client, "9780000000055") == ["Zebrine in the title", "Mentions it"]


def test_an_empty_or_one_letter_query_gives_a_hint_not_the_catalog(client: TestClient) -> None:
    for query in ("", "   ", "t", "é", '"*'):
        response = client.get("/catalog/search", params={"q": query})
        assert response.status_code == 200
        tree = parse(response.text)
        assert tree.css(".results li") == []
        assert "at least two letters" in text(tree.css_first("#search-results .hint"))


def test_nothing_found_says_so(client: TestClient) -> None:
    response = client.get("/catalog/search", params={"q": "qwxzvk"})
    assert status(response.text) == "Nothing found."
    assert "No book matches" in text(parse(response.text).css_first("#search-results"))


def test_results_show_author_availability_and_the_count_in_a_live_region(
    client: TestClient, database_url: str
) -> None:
    [(book_id,)] = sql(database_url, "SELECT id FROM catalog_book WHERE title = 'The Hobbit'")
    sql(database_url, "UPDATE catalog_bookinstance SET status = 'o' WHERE book_id = :b", b=book_id)
    [(copies,)] = sql(
        database_url, "SELECT count(*) FROM catalog_bookinstance WHERE book_id = :b", b=book_id
    )
    sql(
        database_url,
        "UPDATE catalog_bookinstance SET status = 'a' WHERE id IN"
        " (SELECT id FROM catalog_bookinstance WHERE book_id = :b ORDER BY id LIMIT 1)",
        b=book_id,
    )
    tree = parse(client.get("/catalog/search", params={"q": "hobbit"}).text)
    live = tree.css_first("#search-status")
    assert live.attributes.get("role") == "status"
    assert text(live) == "1 book found."
    [item] = tree.css("#search-results .results li")
    assert text(item.css_first(".byline")) == "(Tolkien, J. R. R.)"
    plural = "copy" if copies == 1 else "copies"
    assert text(item.css_first(".availability")) == f"1 of {copies} {plural} available"
    assert texts(item, "mark") == ["Hobbit"]


def test_htmx_gets_the_results_and_the_new_count_out_of_band(client: TestClient) -> None:
    response = client.get("/catalog/search", params={"q": "austen"}, headers=HTMX_RESULTS)
    assert response.status_code == 200
    assert "HX-Target" in response.headers["vary"]
    tree = parse(response.text)
    assert tree.css_first("h1") is None  # not the whole page
    assert len(tree.css("#search-results .results li")) == 3
    update = tree.css_first("#search-status")
    assert update.attributes.get("hx-swap-oob") == "innerHTML"
    assert text(update) == "3 books found."
    # The whole page for any other request: direct loads, boosted navigation, history restores.
    for headers in (
        {},
        {"HX-Request": "true"},
        {**HTMX_RESULTS, "HX-History-Restore-Request": "true"},
    ):
        page = parse(client.get("/catalog/search?q=austen", headers=headers).text)
        assert text(page.css_first("h1")) == "Search the catalog"


def test_the_header_box_is_on_every_page_and_live_on_the_search_page(client: TestClient) -> None:
    home = parse(client.get("/catalog/").text).css_first("header form[role=search]")
    assert home.attributes.get("action") == "/catalog/search"
    assert home.attributes.get("method") == "get"
    assert "hx-get" not in home.attributes  # elsewhere a plain form: Enter loads the search page
    box = parse(client.get("/catalog/search?q=tolk").text).css_first("header input[name=q]")
    assert box.attributes.get("value") == "tolk"
    assert box.attributes.get("hx-trigger") == "input changed delay:300ms, search"
    assert box.attributes.get("hx-replace-url") == "true"
    assert box.attributes.get("hx-sync") == "closest form:queue last"
    assert box.attributes.get("hx-target") == "#search-results"


# --- Safe with any input -----------------------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"


def test_markup_in_a_query_or_a_title_is_only_ever_text(
    client: TestClient, database_url: str
) -> None:
    add_book(database_url, f"{SCRIPT} Tolkien's Imitator", isbn="9780000000079")
    for query in (
        SCRIPT,
        "script alert",
        "tolkien imitat",
        f'"><img src=x onerror=alert(1)> {SCRIPT}',
    ):
        for headers in ({}, HTMX_RESULTS):
            response = client.get("/catalog/search", params={"q": query}, headers=headers)
            assert response.status_code == 200
            assert SCRIPT not in response.text and "<img" not in response.text
            tree = parse(response.text)
            assert all(node.attributes.get("src") for node in tree.css("script"))
            assert tree.css("img") == []
    tree = parse(client.get("/catalog/search", params={"q": "script alert"}).text)
    [link] = tree.css("#search-results .results li > a")
    assert link.text() == f"{SCRIPT} Tolkien's Imitator"  # shown as the text it is
    assert texts(link, "mark") == ["script", "alert", "script"]
    box = tree.css_first("header input[name=q]")
    assert box.attributes.get("value") == "script alert"


QUERY_SYNTAX = [
    '"',
    '"unclosed',
    "*",
    "tolk*",
    "NEAR(",
    "NEAR(hobbit tolkien, 2)",
    "-hobbit",
    "hobbit -tolkien",
    "title:hobbit",
    ":",
    "^hobbit",
    "hobbit AND",
    "OR hobbit",
    "NOT",
    "hobbit NOT tolkien",
    "(hobbit",
    "hobbit)",
    "{title}: hobbit",
    "'",
    "''hobbit''",
    "\\",
    "&|!<->",
    "hobbit:*",
    "x" * 5000,
    "hobbit " * 300,
    "\x00\x01\x1b[2J hobbit \x7f",
    "\u202e hobbit",
]


@pytest.mark.parametrize("query", QUERY_SYNTAX)
def test_query_syntax_and_long_queries_are_only_words(client: TestClient, query: str) -> None:
    response = client.get("/catalog/search", params={"q": query}, headers=HTMX_RESULTS)
    assert response.status_code == 200
    shown = status(response.text)
    assert shown in {"", "Type at least two letters to search."} or shown.endswith(" found.")


def test_hobbit_with_any_syntax_around_it_finds_the_hobbit(client: TestClient) -> None:
    for query in (
        '"hobbit"',
        "hobbit*",
        "(hobbit)",
        "-hobbit",
        "^hobbit",
        "hobbit:",
        "hobbit)",
    ):
        assert titles(client, query) == ["The Hobbit"], query


def test_a_long_query_is_cut_to_the_documented_length(client: TestClient) -> None:
    long = "hobbit " + "a" * 400
    tree = parse(client.get("/catalog/search", params={"q": long}).text)
    value = tree.css_first("header input[name=q]").attributes.get("value") or ""
    assert len(value) == search.MAX_QUERY_CHARS
    assert (
        search.parse_query("one two three four five six seven eight nine ten eleven").words[-1]
        == "ten"
    )


@pytest.mark.parametrize("raw", [b"%FF%FE", b"hobbit%C3%28", b"%ED%A0%80tolk", b"%00%0A"])
def test_invalid_utf8_in_the_query_is_not_an_error(client: TestClient, raw: bytes) -> None:
    response = client.get("/catalog/search?q=" + raw.decode())
    assert response.status_code == 200


@pytest.fixture
def connected(database_url: str) -> Iterator[tuple[asyncio.Runner, Database]]:
    """The site's database object for the test's database, on a loop kept for the test."""
    with asyncio.Runner() as runner:
        database = create_database(database_url)
        runner.run(connect(database))
        try:
            yield runner, database
        finally:
            runner.run(database.disconnect())


words = st.one_of(
    st.text(max_size=12),
    st.sampled_from(['"', "*", "NEAR(", "-", ":", "^", "AND", "OR", "NOT", "(", ")", "'", "\\"]),
    st.sampled_from(["hobbit", "tolk", "austen", "brontë", "9780261102217"]),
)


@hypothesis.settings(
    max_examples=150,
    deadline=None,
    database=None,
    # One database and connection for all examples: searching writes nothing.
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture],
)
@hypothesis.given(typed=st.lists(words, max_size=14).map(" ".join), page=st.integers(1, 3))
def test_any_text_gives_results_or_nothing_never_an_error(
    connected: tuple[asyncio.Runner, Database], typed: str, page: int
) -> None:
    runner, database = connected
    query = search.parse_query(typed)
    assert len(query.text) <= search.MAX_QUERY_CHARS and len(query.words) <= search.MAX_WORDS
    if not query.searchable:
        return
    try:
        found = runner.run(search.search(database, query, str(page), 10))
    except InvalidPage:
        assert page > 1  # past the last page of the results
        return
    assert found.number == page
    assert len(found.items) == min(10, found.total - (page - 1) * 10)


# --- Kept in step with the catalog -------------------------------------------------------------


def test_catalog_changes_reach_the_search_at_once(client: TestClient, database_url: str) -> None:
    """Every kind of change, in plain SQL: the triggers keep the index in step, and the page
    cache keeps no result older than the catalog."""
    assert titles(client, "hobbit") == ["The Hobbit"]  # now in the page cache
    [(book_id, author_id)] = sql(
        database_url, "SELECT id, author_id FROM catalog_book WHERE title = 'The Hobbit'"
    )
    sql(
        database_url,
        "UPDATE catalog_book SET title = 'There and Back Again' WHERE id = :b",
        b=book_id,
    )
    assert titles(client, "hobbit") == ["There and Back Again"]  # by its summary now
    assert titles(client, "there back") == ["There and Back Again"]

    sql(database_url, "UPDATE catalog_author SET last_name = 'Tolkin' WHERE id = :a", a=author_id)
    assert titles(client, "tolkien") == []
    assert titles(client, "tolkin") == ["There and Back Again"]

    [(genre_id,)] = sql(
        database_url, "INSERT INTO catalog_genre (name) VALUES ('Quixotry') RETURNING id"
    )
    sql(database_url, "INSERT INTO catalog_book_genre VALUES (:b, :g)", b=book_id, g=genre_id)
    assert titles(client, "quixotry") == ["There and Back Again"]
    sql(database_url, "UPDATE catalog_genre SET name = 'Whimsy' WHERE id = :g", g=genre_id)
    assert titles(client, "quixotry") == []
    assert titles(client, "whimsy") == ["There and Back Again"]
    sql(database_url, "DELETE FROM catalog_genre WHERE id = :g", g=genre_id)
    assert titles(client, "whimsy") == []

    sql(database_url, "UPDATE catalog_book SET summary = 'Smaug sleeps' WHERE id = :b", b=book_id)
    assert titles(client, "smaug") == ["There and Back Again"]
    sql(database_url, "DELETE FROM catalog_author WHERE id = :a", a=author_id)
    assert titles(client, "tolkin") == []
    assert titles(client, "smaug") == ["There and Back Again"]
    sql(database_url, "DELETE FROM catalog_book WHERE id = :b", b=book_id)
    assert titles(client, "smaug") == []
    [(documents,)] = sql(database_url, "SELECT count(*) FROM catalog_search")
    [(books,)] = sql(database_url, "SELECT count(*) FROM catalog_book")
    assert documents == books


def test_the_migration_indexes_the_catalog_already_there(
    databases_factory: DatabaseFactory, database_kind: str
) -> None:
    url = databases_factory.new(database_kind, migrated=False)
    upgrade(url, "0007")  # the revision before search
    asyncio.run(_seed(url))
    upgrade(url)

    async def find(db: Database) -> list[str]:
        page = await search.search(db, search.parse_query("tolk"), None, 10)
        return [hit.title for hit in page.items]

    assert with_database(url, find) == ["The Hobbit"]
    [(documents,)] = sql(url, "SELECT count(*) FROM catalog_search")
    assert documents == len(DEMO["books"])


def test_a_search_is_never_read_on_the_event_loop(sqlite_client: tuple[TestClient, str]) -> None:
    """SQLite: the loop's connection sees the catalog version and the session, not the search."""
    client, _ = sqlite_client
    database = client.app.state.catalog.database  # type: ignore[attr-defined]
    assert isinstance(database, SQLiteDatabase)
    on_the_loop: list[str] = []
    database.reader.set_trace_callback(on_the_loop.append)
    try:
        assert titles(client, "austen", nocache="1") != []
    finally:
        database.reader.set_trace_callback(None)
    assert on_the_loop and not any("catalog_search" in statement for statement in on_the_loop)


@pytest.fixture
def sqlite_client(databases_factory: DatabaseFactory) -> Iterator[tuple[TestClient, str]]:
    from locallibrary.settings import Settings
    from locallibrary.web.app import create_app

    url = databases_factory.new("sqlite")
    settings = Settings(database_url=url, secret_key="test-secret")
    with TestClient(create_app(settings), base_url="http://testserver") as test_client:
        yield test_client, url


# --- The session: page size, recent searches ---------------------------------------------------


def test_results_are_paged_by_the_visitors_page_size_keeping_the_query(
    client: TestClient,
) -> None:
    query = "the"  # in many titles and summaries of the demo catalog
    first = parse(client.get("/catalog/search", params={"q": query}).text)
    total = int(text(first.css_first("#search-status")).split()[0])
    assert total > 10
    assert len(first.css(".results li")) == 10
    pages = -(-total // 10)
    assert text(first.css_first(".pagination-current")) == f"Page 1 of {pages}"
    assert links(first, ".pagination a[rel=next]") == [f"?q={query}&page=2"]
    second = parse(client.get("/catalog/search", params={"q": query, "page": "2"}).text)
    assert text(second.css_first(".pagination-current")) == f"Page 2 of {pages}"
    assert not set(texts(first, ".results li > a")) & set(texts(second, ".results li > a"))
    assert (
        client.get("/catalog/search", params={"q": query, "page": str(pages + 1)}).status_code
        == 404
    )

    response = client.post(
        "/catalog/preferences/per-page",
        data={"list": "search", "per_page": "25", "q": query},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/catalog/search?q={query}"
    tree = parse(client.get(response.headers["location"]).text)
    assert len(tree.css(".results li")) == min(25, total)
    assert text(tree.css_first(".pagination-current")) == f"Page 1 of {-(-total // 25)}"
    assert tree.css_first("#search-results-per-page option[selected]").attributes["value"] == "25"


def recent(client: TestClient) -> list[str]:
    return texts(parse(client.get("/catalog/search").text), ".recent-searches a")


def test_the_last_five_searches_are_offered_under_the_empty_box(client: TestClient) -> None:
    assert recent(client) == []
    for query in ("austen", "dickens", "tolstoy", "hugo", "dumas", "verne", "austen"):
        client.get("/catalog/search", params={"q": query})
    assert recent(client) == ["austen", "verne", "dumas", "hugo", "tolstoy"]
    tree = parse(client.get("/catalog/search").text)
    assert links(tree, ".recent-searches a")[0] == "/catalog/search?q=austen"
    # What htmx asks for while the visitor types is not a search to remember.
    client.get(
        "/catalog/search",
        params={"q": "wel"},
        headers={**HTMX_RESULTS, "HX-Trigger": "site-search-q"},
    )
    client.get(
        "/catalog/search",
        params={"q": "wells"},
        headers={**HTMX_RESULTS, "HX-Trigger": "site-search"},
    )
    assert recent(client)[:2] == ["wells", "austen"]


def test_searching_writes_the_session_only_when_the_list_changes(
    client: TestClient, database_url: str
) -> None:
    client.get("/catalog/")
    client.get("/catalog/")  # the second visit stores the session (a deferred one until then)
    key = stored_id(client.cookies["sessionid"])
    before = session_rows(database_url)[key]
    assert "set-cookie" in client.get("/catalog/search", params={"q": "austen"}).headers
    stored = session_rows(database_url)[key]
    assert stored != before
    for params, headers in (
        ({"q": "austen"}, {}),  # the newest search again
        ({"q": "austen", "page": "1"}, {}),
        ({"q": "austen"}, HTMX_RESULTS),
        ({"q": "aust"}, {**HTMX_RESULTS, "HX-Trigger": "site-search-q"}),  # typing
        ({"q": ""}, {}),
        ({"q": "a"}, {}),
    ):
        response = client.get("/catalog/search", params=params, headers=headers)
        assert response.status_code == 200
        assert "set-cookie" not in response.headers, params
        assert session_rows(database_url)[key] == stored, params
    client.get("/catalog/search", params={"q": "dickens"})
    assert session_rows(database_url)[key] != stored


def test_a_remembered_search_links_back_to_the_same_query(client: TestClient) -> None:
    typed = 'jane "eyre" & <b>'
    client.get("/catalog/search", params={"q": typed})
    tree = parse(client.get("/catalog/search").text)
    [link] = tree.css(".recent-searches a")
    assert text(link) == typed
    assert link.attributes["href"] == "/catalog/search?q=" + quote_plus(typed)
    assert titles(client, typed) == ["Jane Eyre"]
