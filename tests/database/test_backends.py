"""The site's `databases` backends: statements compiled once, and SQLite reads on the loop."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import threading
import uuid
from typing import Any

import pytest
from sqlalchemy import bindparam, func, select

from locallibrary.catalog import queries
from locallibrary.catalog.tables import author, book_instance
from locallibrary.database import SiteDatabase
from tests.db import with_database

AUTHOR_NAME = select(author.c.last_name).where(author.c.id == bindparam("author_id"))
AUTHOR_COUNT = select(func.count()).select_from(author)


def test_a_statement_built_once_runs_with_each_calls_values(database_url: str) -> None:
    async def scenario(db: SiteDatabase) -> tuple[list[str], list[str], Any]:
        rows = await db.fetch_all(select(author.c.id, author.c.last_name).order_by(author.c.id))
        names = [(await db.fetch_one(AUTHOR_NAME, {"author_id": row.id})).last_name for row in rows]
        # fetch_val takes values too, and reads the first column.
        assert await db.fetch_val(AUTHOR_NAME, {"author_id": rows[0].id}) == names[0]
        missing = await db.fetch_one(AUTHOR_NAME, {"author_id": 0})
        return names, [row.last_name for row in rows], missing

    names, expected, missing = with_database(database_url, scenario)
    assert names == expected and len(set(names)) > 1
    assert missing is None


def test_values_come_back_as_their_column_types(database_url: str) -> None:
    """Dates and UUIDs are converted on both engines, by attribute, position and name."""

    async def scenario(db: SiteDatabase) -> None:
        copy = await db.fetch_one(
            select(book_instance.c.id, book_instance.c.due_back)
            .where(book_instance.c.due_back.is_not(None))
            .limit(1)
        )
        assert copy is not None
        assert isinstance(copy.id, uuid.UUID) and isinstance(copy.due_back, dt.date)
        assert copy[0] == copy.id and copy._mapping["due_back"] == copy.due_back

    with_database(database_url, scenario)


def test_the_catalogs_statements_compile_on_each_engine(database_url: str) -> None:
    async def scenario(db: SiteDatabase) -> None:
        first = (await queries.book_page(db, None, 10, 56)).items[0]
        detail = await queries.book_detail(db, first.id)
        assert detail is not None and detail.title == first.title
        assert first.author is not None
        by_author = await queries.author_detail(db, first.author.id)
        assert by_author is not None and first.id in [b.id for b in by_author.books]

    with_database(database_url, scenario)


@pytest.fixture
def sqlite_url(databases_factory: Any) -> str:
    url: str = databases_factory.new("sqlite")
    return url


def test_concurrent_sqlite_reads_take_no_thread(sqlite_url: str) -> None:
    """Through aiosqlite each of these reads would hold a connection, and so a thread."""

    async def scenario(db: SiteDatabase) -> tuple[int, list[Any]]:
        threads = threading.active_count()
        names = await asyncio.gather(
            *(db.fetch_one(AUTHOR_NAME, {"author_id": i}) for i in range(1, 30))
        )
        return threading.active_count() - threads, names

    new_threads, names = with_database(sqlite_url, scenario)
    assert new_threads == 0
    assert all(name is not None for name in names)


def test_sqlite_reads_see_other_connections_commits_at_once(sqlite_url: str) -> None:
    async def scenario(db: SiteDatabase) -> list[int]:
        seen = [await db.fetch_val(AUTHOR_COUNT)]
        with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as other:
            other.execute("INSERT INTO catalog_author (first_name, last_name) VALUES ('A', 'B')")
        seen.append(await db.fetch_val(AUTHOR_COUNT))
        return seen

    before, after = with_database(sqlite_url, scenario)
    assert after == before + 1


def test_a_sqlite_transaction_reads_its_own_writes(sqlite_url: str) -> None:
    async def scenario(db: SiteDatabase) -> list[int]:
        seen = [await db.fetch_val(AUTHOR_COUNT)]
        transaction = await db.transaction()
        await db.execute("INSERT INTO catalog_author (first_name, last_name) VALUES ('A', 'B')")
        seen.append(await db.fetch_val(AUTHOR_COUNT))  # through the transaction's connection
        await transaction.rollback()
        seen.append(await db.fetch_val(AUTHOR_COUNT))
        return seen

    before, inside, after = with_database(sqlite_url, scenario)
    assert (inside, after) == (before + 1, before)


def test_a_write_through_a_sqlite_read_is_refused_and_changes_nothing(sqlite_url: str) -> None:
    """Outside a transaction a fetch is a read: the loop's connection is read-only."""

    async def scenario(db: SiteDatabase) -> list[int]:
        before = await db.fetch_val(AUTHOR_COUNT)
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await db.fetch_one(
                "INSERT INTO catalog_author (first_name, last_name) VALUES ('A', 'B') RETURNING id"
            )
        return [before, await db.fetch_val(AUTHOR_COUNT)]

    before, after = with_database(sqlite_url, scenario)
    assert after == before
