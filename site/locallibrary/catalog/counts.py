"""The catalog's record counts: one query, kept for a moment in memory.

The counts box is polled by every open home page, and the lists need their totals; counting
300,000 copies for each of those requests would make them cost more as the catalog grows. So
the counts are read at most once per `max_age` seconds per process. Only the first read is
waited for (by every request that arrives meanwhile). After that, a request that finds the
counts stale is answered with them at once while one refresh runs in the background
(stale-while-revalidate): under load, a refresh waits its turn for the GIL on a database
thread, and the requests that needed it used to wait with it. A refresh that fails drops the
counts, so that the next request reads them itself and meets the error (a 503 page).
A `max_age` of 0 turns the cache off.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from databases import Database
from sqlalchemy import func, select

from locallibrary.catalog.tables import CopyStatus, author, book, book_instance, genre
from locallibrary.database import one_line

logger = logging.getLogger("locallibrary")


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
        self._first_read = asyncio.Lock()
        self._refresh: asyncio.Task[None] | None = None

    async def get(self, db: Database) -> CatalogCounts:
        if self.max_age <= 0:  # no cache: every request counts
            return await count_catalog(db)
        counts = self._counts
        if counts is None:
            async with self._first_read:
                if self._counts is None:  # another request may have read them meanwhile
                    await self._read(db)
            assert self._counts is not None
            return self._counts
        if self.clock() - self._read_at >= self.max_age and self._refresh is None:
            self._refresh = asyncio.create_task(self._refresh_in_background(db))
        return counts

    async def settle(self) -> None:
        """Wait for the refresh in progress, if any (at shutdown, and in tests)."""
        if self._refresh is not None:
            await asyncio.shield(self._refresh)

    async def _read(self, db: Database) -> None:
        self._counts = await count_catalog(db)
        self._read_at = self.clock()

    async def _refresh_in_background(self, db: Database) -> None:
        try:
            await self._read(db)
        except Exception as error:  # no one awaits this task: say it, and read afresh next time
            logger.warning("could not refresh the catalog counts: %s", one_line(error))
            self._counts = None
        finally:
            self._refresh = None
