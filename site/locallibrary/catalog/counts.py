"""The catalog's record counts: one query, kept for a moment in memory.

The counts box is polled by every open home page, and the lists need their totals; counting
300,000 copies for each of those requests would make them cost more as the catalog grows. So
the counts are read at most once per `max_age` seconds per process; concurrent requests that
find them stale wait for one refresh instead of each running it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from databases import Database
from sqlalchemy import func, select

from locallibrary.catalog.tables import CopyStatus, author, book, book_instance, genre


@dataclass(frozen=True)
class CatalogCounts:
    books: int
    copies: int
    copies_available: int
    authors: int
    genres: int


async def count_catalog(db: Database) -> CatalogCounts:
    """All five counts in one query (a scalar subquery each)."""

    def count(table_query: object) -> object:
        return select(func.count()).select_from(table_query).scalar_subquery()  # type: ignore[arg-type]

    available = (
        select(func.count())
        .select_from(book_instance)
        .where(book_instance.c.status == CopyStatus.AVAILABLE.value)
        .scalar_subquery()
    )
    # Counting every copy takes milliseconds in a large catalog. A transaction holds a connection
    # of its own, which on SQLite runs off the event loop, where indexed reads run inline.
    async with db.transaction():
        row = await db.fetch_one(
            select(
                count(book).label("books"),
                count(book_instance).label("copies"),
                available.label("copies_available"),
                count(author).label("authors"),
                count(genre).label("genres"),
            )
        )
    assert row is not None
    return CatalogCounts(**dict(row._mapping))


class CountsCache:
    def __init__(self, max_age: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_age = max_age
        self.clock = clock
        self._counts: CatalogCounts | None = None
        self._read_at = 0.0
        self._refreshing = asyncio.Lock()

    async def get(self, db: Database) -> CatalogCounts:
        if self._fresh():
            assert self._counts is not None
            return self._counts
        async with self._refreshing:
            if not self._fresh():  # another request may have refreshed them meanwhile
                self._counts = await count_catalog(db)
                self._read_at = self.clock()
        assert self._counts is not None
        return self._counts

    def _fresh(self) -> bool:
        return self._counts is not None and self.clock() - self._read_at < self.max_age
