"""The plans of the reads made on the event loop: none may sort or scan a table.

A read outside a transaction runs on the event loop itself on SQLite (database/sqlite.py), so
it must be bounded: a point lookup by key or a walk along an index for a page. Each statement
in `queries.BOUNDED_READS` (and the catalog version read by every request, the session read by a
request with a cookie) is explained on the seeded demo catalog, on each engine:

- SQLite: `EXPLAIN QUERY PLAN`; a `SCAN` of anything, a `TEMP B-TREE` (a sort) or an
  `AUTOMATIC` index (built by scanning a table) is a failure. `SEARCH … USING INDEX / INTEGER
  PRIMARY KEY` is a lookup by key.
  A search by a copy's status alone walks every copy of that status, and fails too.
- PostgreSQL: `EXPLAIN (FORMAT JSON)` with sequential scans and sorts turned off, since the
  demo catalog is so small that the planner would rightly choose them: what remains of either
  has no index path. An index scan without an index condition walks the whole index (the
  planner's way around a disabled sort) and counts as a scan.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from locallibrary.accounts import throttle, users
from locallibrary.catalog import authors_named, editing, queries, vocabulary
from locallibrary.catalog.page_index import OrderedList, PageIndex
from locallibrary.catalog.pagination import page_count
from locallibrary.catalog.state import VERSION
from locallibrary.database import Database
from locallibrary.database.sqlite import DATA_VERSION, SQLiteDatabase
from locallibrary.loans import desk
from locallibrary.loans import queries as loan_queries
from locallibrary.sessions.stores import database as session_store
from tests.accounts.helpers import ANN, LIBBY, Account, add_account, sign_in
from tests.conftest import DatabaseFactory
from tests.db import with_database
from tests.loans.helpers import available_copy

READS: dict[str, tuple[str, Any]] = {
    **queries.BOUNDED_READS,
    **vocabulary.BOUNDED_READS,
    **editing.BOUNDED_READS,
    **users.BOUNDED_READS,
    **throttle.BOUNDED_READS,
    **loan_queries.BOUNDED_READS,
    "catalog version": (VERSION, {}),
    # The session store's one read outside a transaction, by its primary key.
    "a session": (session_store.LOAD, {"key": "0" * 64, "now": 0}),
}

# The one scan allowed, and only in these statements: the `LIMIT 1 OFFSET :skip` subquery that
# finds a list's first row from the start of the list's index. It reads the index in order (no
# sort, which would be a TEMP B-TREE or Sort node and fail) and stops after skip + 1 entries;
# the page index keeps skip below its spacing, page_index.EVERY (a page further in starts from
# an entry, through `rows_from`, whose subquery is a SEARCH). The last test holds it to that.
BOUNDED_WALKS = {
    "book list, first rows": ("catalog_book", "ix_catalog_book_title_order"),
    "author list, first rows": ("catalog_author", "ix_catalog_author_name_order"),
    "all borrowed, first rows": ("loans", "ix_loans_open_due"),
    "genre list, first rows": ("catalog_genre", "uq_catalog_genre_name_lower"),
    "language list, first rows": ("catalog_language", "uq_catalog_language_name_lower"),
}
# SQLite reads an expression index's rows from the table too: the walk is as bounded.
NOT_COVERING = {"genre list, first rows", "language list, first rows"}
# A copy's status has four values: a SEARCH on `status` alone walks every copy of one status, not
# a lookup by key. SQLite keeps no statistics here (no ANALYZE), so its choice is the same for
# any data; PostgreSQL chooses by its statistics (which autovacuum keeps), and on the demo
# catalog, where few copies are on loan, rightly walks those few.
STATUS_ONLY = re.compile(r"\(status=\?\)$")


def sqlite_problems(name: str, plan: list[Any]) -> list[str]:
    """The lines of an `EXPLAIN QUERY PLAN` that sort or scan, but for the bounded walks."""
    details = {row["id"]: row["detail"] for row in plan}
    problems = []
    for row in plan:
        detail: str = row["detail"]
        if detail.startswith("SCAN ") and name in BOUNDED_WALKS:
            table, index = BOUNDED_WALKS[name]
            in_subquery = details.get(row["parent"], "").startswith("SCALAR SUBQUERY")
            covering = "USING INDEX" if name in NOT_COVERING else "USING COVERING INDEX"
            if in_subquery and detail == f"SCAN {table} {covering} {index}":
                continue
        if detail.startswith("SCAN ") or "TEMP B-TREE" in detail or "AUTOMATIC" in detail:
            problems.append(detail)
        elif STATUS_ONLY.search(detail):
            problems.append(f"{detail}: every copy of that status")
    return problems


def nodes(
    node: dict[str, Any], parent: dict[str, Any] | None = None, depth: int = 0
) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None, int]]:
    """Each node of a PostgreSQL JSON plan, with its parent and depth."""
    yield node, parent, depth
    for child in node.get("Plans", []):
        yield from nodes(child, node, depth + 1)


def postgres_problems(name: str, plan: dict[str, Any]) -> list[str]:
    """The nodes of an `EXPLAIN (FORMAT JSON)` plan that sort or scan, but for the bounded
    walks (an index-only scan under the subquery's Limit)."""
    problems = []
    for node, parent, _ in nodes(plan):
        kind = node["Node Type"]
        if kind == "Seq Scan" or kind.endswith("Sort"):
            problems.append(f"{kind} {node.get('Relation Name', node.get('Sort Key', ''))}")
        elif kind.startswith(("Index", "Bitmap Index")) and "Index Cond" not in node:
            table, index = BOUNDED_WALKS.get(name, (None, None))
            bounded = (
                parent is not None
                and parent["Node Type"] == "Limit"
                and parent.get("Parent Relationship") == "InitPlan"
                and node.get("Relation Name") == table
                and node["Index Name"] == index
            )
            if not bounded:
                problems.append(f"{kind} on all of {node['Index Name']}")
    return problems


async def explain(db: Database, sql: str, values: dict[str, Any]) -> tuple[str, Any]:
    """The engine and the plan it prints for the statement with these values."""
    if db.engine == "sqlite":
        return "sqlite", list(await db.fetch_all(f"EXPLAIN QUERY PLAN {sql}", values))
    async with db.transaction() as transaction:
        await transaction.execute("SET LOCAL enable_seqscan = off")
        await transaction.execute("SET LOCAL enable_sort = off")
        text = await transaction.fetch_val(f"EXPLAIN (FORMAT JSON) {sql}", values)
    return "postgresql", json.loads(text)[0]["Plan"]


def describe(engine: str, plan: Any) -> str:
    """The plan, one line a step, for the failure message."""
    if engine == "sqlite":
        return "\n".join(f"{row['id']} <- {row['parent']}: {row['detail']}" for row in plan)
    shown = ("Relation Name", "Index Name", "Index Cond", "Filter", "Sort Key", "Subplan Name")
    return "\n".join(
        "  " * depth
        + node["Node Type"]
        + "".join(f"; {key}: {node[key]}" for key in shown if key in node)
        for node, _, depth in nodes(plan)
    )


@pytest.mark.parametrize("name", READS)
def test_a_read_on_the_event_loop_neither_sorts_nor_scans(database_url: str, name: str) -> None:
    sql, values = READS[name]

    engine, plan = with_database(database_url, lambda db: explain(db, sql, values))
    if engine == "sqlite":
        problems = sqlite_problems(name, plan)
    else:
        problems = postgres_problems(name, plan)
    assert problems == [], f"{name} on {engine}:\n{describe(engine, plan)}"


# A line of SQLite's plan that reads a table: the table (or its alias) and how it is read, as in
# `SEARCH book USING COVERING INDEX ix_catalog_book_title_order (title>?)`.
SQLITE_READ = re.compile(r"^(?:SCAN|SEARCH) (?P<table>\S+) USING (?P<how>.+?)(?: \(.*\))?$")


@pytest.mark.parametrize("name", ["book list, first rows", "book list, rows from an index entry"])
def test_a_page_of_the_book_list_reads_its_books_from_the_index_alone(
    database_url: str, name: str
) -> None:
    """A page reads each book's title, id and author_id, all three in ix_catalog_book_title_order
    (migration 0014): both reads of catalog_book (the page's rows, and the subquery that finds
    the first) use the index alone, never the table's rows; the author comes by key. On
    PostgreSQL that is an Index Only Scan (the plan, whatever VACUUM has marked visible)."""
    sql, values = queries.BOUNDED_READS[name]

    engine, plan = with_database(database_url, lambda db: explain(db, sql, values))
    if engine == "sqlite":
        reads = [SQLITE_READ.match(row["detail"]) for row in plan]
        books = [
            read["how"] for read in reads if read and read["table"] in {"book", "catalog_book"}
        ]
        expected = ["COVERING INDEX ix_catalog_book_title_order"] * 2
    else:
        books = [
            f"{node['Node Type']} {node.get('Index Name')}"
            for node, _, _ in nodes(plan)
            if node.get("Relation Name") == "catalog_book"
        ]
        expected = ["Index Only Scan ix_catalog_book_title_order"] * 2
    assert books == expected, f"{name} on {engine}:\n{describe(engine, plan)}"


def test_every_read_the_catalogs_and_accounts_queries_make_has_its_plan_checked() -> None:
    """A statement added to queries.py, vocabulary.py or editing.py (or to the accounts'
    users.py or throttle.py, or the loans' queries.py) without an entry in BOUNDED_READS would
    go unchecked."""
    statements = {
        value
        for module in (queries, vocabulary, editing, authors_named, users, throttle, loan_queries)
        for value in vars(module).values()
        if isinstance(value, str) and value.lstrip().upper().startswith("SELECT")
    }
    for listing in (
        queries.BOOKS,
        queries.AUTHORS,
        vocabulary.GENRES,
        vocabulary.LANGUAGES,
        loan_queries.OPEN_LOANS,
    ):
        statements |= {listing.first_rows, listing.rows_from}
    # Through fetch_all_off_loop.
    statements -= {*loan_queries.OFF_LOOP_READS, *authors_named.OFF_LOOP_READS}
    checked = {sql for sql, _ in READS.values()}
    assert len(statements) > 5
    assert statements <= checked


def test_authors_are_found_by_name_through_the_index_of_names_not_the_table(
    database_url: str,
) -> None:
    """The book form's choice of author (off the event loop, as a short word can match many
    authors) reads the matches from migration 0010's index, then each author by key."""

    async def scenario(db: Database) -> tuple[str, Any]:
        if db.engine == "sqlite":
            values = {"every_word": '"gar"*', "limit": authors_named.SHOWN}
            return await explain(db, authors_named.SQLITE_AUTHORS_NAMED, values)
        # The matches are sorted (they are bounded by the index): only sequential scans are off.
        values = {"words": "gar", "last": 1, "limit": authors_named.SHOWN}
        async with db.transaction() as transaction:
            await transaction.execute("SET LOCAL enable_seqscan = off")
            sql = f"EXPLAIN (FORMAT JSON) {authors_named.POSTGRES_AUTHORS_NAMED}"
            plan = await transaction.fetch_val(sql, values)
        return "postgresql", json.loads(plan)[0]["Plan"]

    engine, plan = with_database(database_url, scenario)
    if engine == "sqlite":
        details = [row["detail"] for row in plan]
        assert any(d.startswith("SCAN catalog_author_fts VIRTUAL TABLE INDEX") for d in details)
        assert "SEARCH author USING INTEGER PRIMARY KEY (rowid=?)" in details, details
    else:
        found = [(node["Node Type"], node.get("Index Name")) for node, _, _ in nodes(plan)]
        assert ("Bitmap Index Scan", "ix_catalog_author_names") in found, describe(engine, plan)
        assert all(kind != "Seq Scan" for kind, _ in found), describe(engine, plan)


@pytest.fixture
def sqlite_url(databases_factory: DatabaseFactory) -> str:
    return databases_factory.new("sqlite")


LISTS = [
    (queries.BOOKS, "SELECT count(*) FROM catalog_book"),
    (queries.AUTHORS, "SELECT count(*) FROM catalog_author"),
]


@pytest.mark.parametrize(("listing", "count"), LISTS, ids=[listing.name for listing, _ in LISTS])
def test_a_page_steps_over_fewer_index_entries_than_the_page_index_spacing(
    sqlite_url: str, listing: OrderedList, count: str
) -> None:
    """What makes the bounded walks bounded: on every page of a list, the OFFSET its statement
    runs with (seen as SQLite runs it) is below the page index's spacing, however deep the
    page. The spacing here is 7, so that the demo catalog has pages far past it."""
    every, per_page = 7, 10

    async def scenario(db: Database) -> tuple[list[int], int]:
        assert isinstance(db, SQLiteDatabase)
        offsets: list[int] = []

        def note_offsets(statement: str) -> None:
            offsets.extend(int(skip) for skip in re.findall(r"OFFSET (\d+)", statement))

        total = await db.fetch_val(count)
        version = await db.fetch_val(VERSION)
        index = PageIndex(listing, every=every)
        fetch = queries.book_page if listing is queries.BOOKS else queries.author_page
        db.reader.set_trace_callback(note_offsets)
        try:
            for number in range(1, page_count(total, per_page) + 1):
                page = await fetch(db, index, version, str(number), per_page, total)
                assert page.items
        finally:
            db.reader.set_trace_callback(None)
        return offsets, total

    offsets, total = with_database(sqlite_url, scenario)
    assert total > 3 * per_page
    assert len(offsets) == page_count(total, per_page)  # one statement a page, each traced
    assert 0 < max(offsets) < every


class RecordingReader:
    """SQLite's reader connection, noting each statement run on it: the reads made on the
    event loop (database/sqlite.py)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self.statements: list[str] = []

    def execute(self, sql: str, values: Any = ()) -> sqlite3.Cursor:
        self.statements.append(sql)
        return self.connection.execute(sql, values)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.connection, name)


@pytest.mark.parametrize("database_kind", ["sqlite"])  # the engine whose reads run on the loop
@pytest.mark.parametrize(
    ("account", "path"), [(ANN, "/loans/mine/"), (LIBBY, "/loans/")], ids=["mine", "all"]
)
def test_the_loans_pages_read_on_the_event_loop_only_statements_checked_here(
    client: TestClient, database_url: str, account: Account, path: str
) -> None:
    """The benchmark's loans rows, "my borrowed books" and "all borrowed": every statement that
    the page runs on the loop for a signed-in browser (its session and user too) is one whose
    plan is checked above."""
    patron = add_account(database_url, ANN)
    librarian = add_account(database_url, LIBBY) if account is LIBBY else patron
    copy_id, _ = available_copy(database_url)
    due = dt.date.today() + dt.timedelta(days=21)
    with_database(database_url, lambda db: desk.lend(db, copy_id, patron, due, librarian))
    assert sign_in(client, account).status_code == 303
    assert client.get(path).status_code == 200  # what is read once per catalog version, read
    database = client.app.state.catalog.database  # type: ignore[attr-defined]
    assert isinstance(database, SQLiteDatabase)
    reader = database._reader = RecordingReader(database.reader)  # type: ignore[assignment]

    response = client.get(path)

    assert response.status_code == 200 and 'class="due"' in response.text  # the loan, shown
    # SQLite's data version (the session store's check that its kept rows are current) reads
    # no table: it has no plan to check.
    checked = {" ".join(sql.split()) for sql, _ in READS.values()} | {DATA_VERSION}
    unchecked = [sql for sql in reader.statements if " ".join(sql.split()) not in checked]
    assert reader.statements and unchecked == [], unchecked
