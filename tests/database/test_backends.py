"""The database layer on each engine: parameters, values, transactions, and where SQLite's
queries run (reads inline on the event loop's thread, everything else on pooled connections).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import threading
import uuid
from collections.abc import Awaitable, Callable
from contextlib import closing
from typing import Any

import asyncpg
import pytest

from locallibrary.catalog import queries
from locallibrary.catalog.page_index import PageIndex
from locallibrary.catalog.state import VERSION
from locallibrary.database import Database, Queries, is_sqlite
from locallibrary.database.values import as_date, as_uuid
from tests.conftest import DatabaseFactory
from tests.db import with_database

AUTHOR_NAME = "SELECT last_name, id FROM catalog_author WHERE id = :author_id"
AUTHOR_COUNT = "SELECT count(*) FROM catalog_author"
ADD_AUTHOR = "INSERT INTO catalog_author (first_name, last_name) VALUES (:first, :last)"
BOOKS_IN_ORDER = "SELECT id FROM catalog_book ORDER BY title, id"
AUTHORS_IN_ORDER = "SELECT id FROM catalog_author ORDER BY last_name, first_name, id"


class ThreadProbe:
    """A value to bind that notes which thread binds it: the thread that runs the statement."""

    def __init__(self) -> None:
        self.threads: list[int] = []


def _adapt_probe(probe: ThreadProbe) -> int:
    probe.threads.append(threading.get_ident())
    return 1


sqlite3.register_adapter(ThreadProbe, _adapt_probe)


@pytest.fixture
def sqlite_url(databases_factory: DatabaseFactory) -> str:
    """A fresh copy of the seeded SQLite database, for what only SQLite does."""
    return databases_factory.new("sqlite")


def test_named_parameters_bind_each_calls_values(database_url: str) -> None:
    """One statement text, run with each author's id, finds that author; rows read by name and
    by position alike."""

    async def scenario(db: Database) -> tuple[list[Any], list[Any]]:
        authors = await db.fetch_all("SELECT id, last_name FROM catalog_author ORDER BY id")
        found = []
        for author in authors:
            row = await db.fetch_one(AUTHOR_NAME, {"author_id": author["id"]})
            assert row is not None
            assert (row[0], row[1]) == (row["last_name"], row["id"])
            found.append((row["id"], row["last_name"]))
        return found, [(author["id"], author["last_name"]) for author in authors]

    found, expected = with_database(database_url, scenario)
    assert found == expected
    assert len({name for _, name in found}) > 1


def test_fetch_val_reads_the_first_column_or_none_for_no_row(database_url: str) -> None:
    async def scenario(db: Database) -> tuple[Any, Any, Any, Any]:
        first = (await db.fetch_all("SELECT id, last_name FROM catalog_author ORDER BY id"))[0]
        last_name = await db.fetch_val(AUTHOR_NAME, {"author_id": first["id"]})
        missing = await db.fetch_val(AUTHOR_NAME, {"author_id": 0})
        missing_row = await db.fetch_one(AUTHOR_NAME, {"author_id": 0})
        return last_name, first["last_name"], missing, missing_row

    last_name, expected, missing, missing_row = with_database(database_url, scenario)
    assert isinstance(last_name, str) and last_name == expected
    assert missing is None and missing_row is None


def test_dates_and_uuids_bind_as_stored_and_read_back(database_url: str) -> None:
    """Bound `date`s and `UUID`s find the rows the seed stored through SQLAlchemy's types, and
    a row written with them reads back equal (through as_date/as_uuid)."""
    new_id = uuid.UUID("00000000-0000-4000-8000-0000000000ab")
    new_due = dt.date(2031, 2, 28)

    async def scenario(db: Database) -> tuple[int, tuple[Any, Any]]:
        seeded = await db.fetch_one(
            "SELECT id, due_back FROM catalog_bookinstance WHERE due_back IS NOT NULL"
            " ORDER BY id LIMIT 1"
        )
        assert seeded is not None
        seeded_id, seeded_due = as_uuid(seeded["id"]), as_date(seeded["due_back"])
        found = await db.fetch_val(
            "SELECT count(*) FROM catalog_bookinstance WHERE id = :id AND due_back = :due_back",
            {"id": seeded_id, "due_back": seeded_due},
        )
        await db.execute(
            "INSERT INTO catalog_bookinstance (id, book_id, imprint, due_back, status)"
            " VALUES (:id, (SELECT min(id) FROM catalog_book), 'Test imprint', :due_back, 'o')",
            {"id": new_id, "due_back": new_due},
        )
        written = await db.fetch_one(
            "SELECT id, due_back FROM catalog_bookinstance WHERE id = :id", {"id": new_id}
        )
        assert written is not None
        return found, (as_uuid(written["id"]), as_date(written["due_back"]))

    found, written = with_database(database_url, scenario)
    assert found == 1
    assert written == (new_id, new_due)


def test_a_transaction_reads_its_own_writes_and_commits_them(database_url: str) -> None:
    async def scenario(db: Database) -> tuple[int, int, int]:
        before = await db.fetch_val(AUTHOR_COUNT)
        async with db.transaction(write=True) as transaction:
            await transaction.execute(ADD_AUTHOR, {"first": "Ada", "last": "Own-Writes"})
            inside = await transaction.fetch_val(AUTHOR_COUNT)
        return before, inside, await db.fetch_val(AUTHOR_COUNT)

    before, inside, after = with_database(database_url, scenario)
    assert inside == after == before + 1


class Abandoned(Exception):
    """Raised inside a transaction by the test, to end it."""


async def _raise_python_error(transaction: Queries) -> None:
    raise Abandoned


async def _raise_database_error(transaction: Queries) -> None:
    # A duplicate primary key: on PostgreSQL this also aborts the transaction.
    await transaction.execute(
        "INSERT INTO catalog_author (id, first_name, last_name)"
        " SELECT id, 'X', 'Y' FROM catalog_author ORDER BY id LIMIT 1"
    )


@pytest.mark.parametrize(
    ("fail", "raises"),
    [
        (_raise_python_error, (Abandoned,)),
        (_raise_database_error, (sqlite3.IntegrityError, asyncpg.UniqueViolationError)),
    ],
    ids=["python-error", "database-error"],
)
def test_a_transaction_that_raises_rolls_back_and_its_connection_serves_the_next(
    database_url: str,
    fail: Callable[[Queries], Awaitable[None]],
    raises: tuple[type[Exception], ...],
) -> None:
    """The write before the error is undone, and the same connection (known by a temporary
    table, which lives as long as its connection) runs the next transaction, which commits.

    The PostgreSQL pool is held to one connection here, so the next transaction gets that one
    unless the pool dropped it; SQLite's pool hands out its one idle connection.
    """
    url = database_url if is_sqlite(database_url) else f"{database_url}?min_size=1&max_size=1"

    async def scenario(db: Database) -> tuple[int, int, int, int]:
        await db.execute("CREATE TEMPORARY TABLE this_connection (marker INTEGER)")
        await db.execute("INSERT INTO this_connection (marker) VALUES (1)")
        before = await db.fetch_val(AUTHOR_COUNT)
        with pytest.raises(raises):
            async with db.transaction(write=True) as transaction:
                await transaction.execute(ADD_AUTHOR, {"first": "Rolled", "last": "Back"})
                await fail(transaction)
        after_rollback = await db.fetch_val(AUTHOR_COUNT)
        async with db.transaction(write=True) as transaction:
            marker = await transaction.fetch_val("SELECT marker FROM this_connection")
            await transaction.execute(ADD_AUTHOR, {"first": "Next", "last": "Commit"})
        return before, after_rollback, await db.fetch_val(AUTHOR_COUNT), marker

    before, after_rollback, after_next, marker = with_database(url, scenario)
    assert (after_rollback, after_next) == (before, before + 1)
    assert marker == 1  # the same connection


async def _read_then_write(
    db: Database, write: bool, both_have_read: asyncio.Barrier | None
) -> int:
    """Count the authors, then add one: the read decides the write, as in a loan or a renewal."""
    try:
        async with db.transaction(write=write) as transaction:
            seen: int = await transaction.fetch_val(AUTHOR_COUNT)
            if both_have_read is not None:
                await both_have_read.wait()
            else:
                await asyncio.sleep(0.05)  # give the other transaction its chance to begin
            await transaction.execute(ADD_AUTHOR, {"first": "Seen", "last": str(seen)})
    except BaseException:
        if both_have_read is not None:
            await both_have_read.abort()  # the other must not wait for this one
        raise
    return seen


async def _both(db: Database, write: bool, both_have_read: asyncio.Barrier | None) -> list[Any]:
    """Two read-then-write transactions at once, each one's count or error; both are over
    when this returns, so that none is left holding a connection."""
    outcomes = await asyncio.gather(
        *(_read_then_write(db, write, both_have_read) for _ in range(2)), return_exceptions=True
    )
    return list(outcomes)


def test_concurrent_read_then_write_sqlite_transactions_queue_for_the_lock(
    sqlite_url: str,
) -> None:
    """With `write=True` (BEGIN IMMEDIATE) the second waits for the first to commit, then reads
    its row: both succeed, one after the other. The counter-example is the next test."""

    async def scenario(db: Database) -> tuple[list[Any], int, int]:
        before = await db.fetch_val(AUTHOR_COUNT)
        outcomes = await _both(db, True, None)
        return outcomes, before, await db.fetch_val(AUTHOR_COUNT)

    outcomes, before, after = with_database(sqlite_url, scenario)
    assert all(isinstance(outcome, int) for outcome in outcomes), outcomes
    assert sorted(outcomes) == [before, before + 1]
    assert after == before + 2


def test_concurrent_read_then_write_deferred_sqlite_transactions_fail(sqlite_url: str) -> None:
    """What `write=True` prevents. Deferred BEGIN takes no lock: both transactions read, and
    then the second to write holds a snapshot older than the first's write, which SQLite
    cannot upgrade to a write ("database is locked", at once, whatever the busy timeout).
    A barrier makes both read before either writes; it cannot be used with `write=True`,
    where the second transaction does not begin until the first has committed."""

    async def scenario(db: Database) -> tuple[list[Any], int, int]:
        before = await db.fetch_val(AUTHOR_COUNT)
        outcomes = await _both(db, False, asyncio.Barrier(2))
        return outcomes, before, await db.fetch_val(AUTHOR_COUNT)

    outcomes, before, after = with_database(sqlite_url, scenario)
    errors = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    assert outcomes.count(before) == 1 and len(errors) == 1
    assert isinstance(errors[0], sqlite3.OperationalError)
    assert "database is locked" in str(errors[0])
    assert after == before + 1


def test_inline_sqlite_reads_run_on_the_loops_thread_and_start_none(sqlite_url: str) -> None:
    """Through aiosqlite each of these concurrent reads would hold a connection, and a thread."""
    probe = ThreadProbe()

    async def scenario(db: Database) -> tuple[int, int, list[Any]]:
        threads = threading.active_count()
        reads = [
            fetch(f"{AUTHOR_NAME} AND :probe = 1", {"author_id": i, "probe": probe})
            for i in range(1, 30)
            for fetch in (db.fetch_one, db.fetch_all, db.fetch_val)
        ]
        rows = await asyncio.gather(*reads)
        return threading.active_count() - threads, threading.get_ident(), rows

    new_threads, loop_thread, rows = with_database(sqlite_url, scenario)
    assert new_threads == 0
    assert all(row for row in rows)
    assert len(probe.threads) == len(rows) and set(probe.threads) == {loop_thread}


def test_fetch_all_off_loop_runs_on_another_thread_on_sqlite(sqlite_url: str) -> None:
    probe = ThreadProbe()

    async def scenario(db: Database) -> tuple[int, list[Any]]:
        rows = await db.fetch_all_off_loop(
            "SELECT id FROM catalog_author WHERE :probe = 1 ORDER BY id", {"probe": probe}
        )
        return threading.get_ident(), [row["id"] for row in rows]

    loop_thread, ids = with_database(sqlite_url, scenario)
    assert len(ids) > 1
    assert probe.threads and loop_thread not in probe.threads


def test_sqlite_inline_reads_see_other_connections_commits_at_once(sqlite_url: str) -> None:
    async def scenario(db: Database) -> list[int]:
        seen = [await db.fetch_val(AUTHOR_COUNT)]
        with closing(sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))) as other:
            other.execute("INSERT INTO catalog_author (first_name, last_name) VALUES ('A', 'B')")
            other.commit()
        seen.append(await db.fetch_val(AUTHOR_COUNT))
        return seen

    before, after = with_database(sqlite_url, scenario)
    assert after == before + 1


def test_a_write_through_a_sqlite_inline_read_is_refused_and_changes_nothing(
    sqlite_url: str,
) -> None:
    """Outside a transaction a fetch is a read: the loop's connection is read-only."""

    async def scenario(db: Database) -> list[int]:
        before = await db.fetch_val(AUTHOR_COUNT)
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await db.fetch_one(f"{ADD_AUTHOR} RETURNING id", {"first": "A", "last": "B"})
        return [before, await db.fetch_val(AUTHOR_COUNT)]

    before, after = with_database(sqlite_url, scenario)
    assert after == before


def test_the_catalogs_list_pages_on_each_engine(database_url: str) -> None:
    """The first page and a page that starts from a page index entry (an entry every 15 rows
    here, as if the demo catalog were large) are those rows of the list in its order.
    tests/catalog/test_page_index.py walks every page; this is each statement, on each engine."""

    async def scenario(db: Database) -> None:
        version = await db.fetch_val(VERSION)
        books = [row["id"] for row in await db.fetch_all(BOOKS_IN_ORDER)]
        authors = [row["id"] for row in await db.fetch_all(AUTHORS_IN_ORDER)]
        book_index = PageIndex(queries.BOOKS, every=15)
        author_index = PageIndex(queries.AUTHORS, every=15)
        for number, rows in [("1", slice(0, 10)), ("3", slice(20, 30))]:
            book_page = await queries.book_page(db, book_index, version, number, 10, len(books))
            assert [book.id for book in book_page.items] == books[rows]
            author_page = await queries.author_page(
                db, author_index, version, number, 10, len(authors)
            )
            assert [author.id for author in author_page.items] == authors[rows]
        first = book_page.items[0]
        assert first.title and (first.author is None or first.author.last_name)

    with_database(database_url, scenario)


def test_the_catalogs_detail_queries_on_each_engine(database_url: str) -> None:
    async def scenario(db: Database) -> None:
        book = await db.fetch_one(
            "SELECT book_id AS id, count(*) AS genres FROM catalog_book_genre"
            " WHERE book_id IN (SELECT book_id FROM catalog_bookinstance)"
            " GROUP BY book_id ORDER BY count(*) DESC, book_id LIMIT 1"
        )
        assert book is not None and book["genres"] > 1
        detail = await queries.book_detail(db, book["id"])
        assert detail is not None and detail.author is not None
        title = await db.fetch_val(
            "SELECT title FROM catalog_book WHERE id = :id", {"id": book["id"]}
        )
        genres = await db.fetch_all(
            "SELECT name FROM catalog_genre JOIN catalog_book_genre ON genre_id = id"
            " WHERE book_id = :id",
            {"id": book["id"]},
        )
        copies = await db.fetch_all(
            "SELECT id FROM catalog_bookinstance WHERE book_id = :id", {"id": book["id"]}
        )
        assert detail.title == title
        assert detail.genres == sorted(row["name"] for row in genres)
        assert {copy.id for copy in detail.copies} == {as_uuid(row["id"]) for row in copies}
        assert all(
            copy.due_back is None or type(copy.due_back) is dt.date for copy in detail.copies
        )

        by_author = await queries.author_detail(db, detail.author.id)
        assert by_author is not None
        assert by_author.author.name == detail.author.name
        assert detail.id in [written.id for written in by_author.books]

        born = await db.fetch_val(
            "SELECT min(id) FROM catalog_author WHERE date_of_birth IS NOT NULL"
        )
        dated = await queries.author_detail(db, born)
        assert dated is not None and type(dated.author.date_of_birth) is dt.date

        no_such = await db.fetch_val("SELECT max(id) + 1 FROM catalog_book")
        assert await queries.book_detail(db, no_such) is None
        assert await queries.author_detail(db, 0) is None
        titles = await queries.book_titles(db, [no_such, detail.id, 0, queries.MAX_ID + 1])
        assert titles == {detail.id: detail.title}

    with_database(database_url, scenario)
