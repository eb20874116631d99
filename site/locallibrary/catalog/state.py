"""The catalog's version and record counts, exact on every request.

Triggers on every catalog table add one to `catalog_version.version` in the same transaction as
the change (migration 0002), however the change is made: this process, another worker, the CLI
or plain SQL. Each request reads that version, a point lookup of one row. While it is the one
the counts were read at, the counts and every page rendered at that version are current; once
it moves, the counts are read again, before the request is answered. So nothing shown is ever
older than the last committed change, and between changes nothing is counted twice.

The counts are read in the same statement as the version (one snapshot on either engine), and
off the event loop: counting every copy takes milliseconds in a large catalog. Requests that
find the counts out of date wait for one read together.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from locallibrary.database import Database

VERSION = "SELECT version FROM catalog_version WHERE id = 1"
VERSION_AND_COUNTS = """
    SELECT
        (SELECT version FROM catalog_version WHERE id = 1) AS version,
        (SELECT count(*) FROM catalog_book) AS books,
        (SELECT count(*) FROM catalog_bookinstance) AS copies,
        (SELECT count(*) FROM catalog_bookinstance WHERE status = 'a') AS copies_available,
        (SELECT count(*) FROM catalog_author) AS authors,
        (SELECT count(*) FROM catalog_genre) AS genres,
        (SELECT count(*) FROM catalog_language) AS languages
"""


@dataclass(frozen=True)
class CatalogCounts:
    books: int
    copies: int
    copies_available: int
    authors: int
    genres: int
    languages: int  # the language list's length (the counts box does not show it)


@dataclass(frozen=True)
class CatalogState:
    """The catalog as of one committed version: what pages rendered at it may be kept under."""

    version: int
    counts: CatalogCounts


class CurrentCatalog:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._state: CatalogState | None = None
        self._reading = asyncio.Lock()

    async def state(self) -> CatalogState:
        """The catalog's state as of now: its version read afresh, its counts when it moved."""
        version = await self.database.fetch_val(VERSION)
        state = self._state
        if state is not None and state.version == version:
            return state
        async with self._reading:
            state = self._state
            # Another request may have read them meanwhile. (Not `<`: a database restored
            # from a backup may go back to an older version.)
            if state is None or state.version != version:
                state = self._state = await self._read()
        return state

    async def _read(self) -> CatalogState:
        rows = await self.database.fetch_all_off_loop(VERSION_AND_COUNTS)
        row = rows[0]
        counts = CatalogCounts(
            books=row["books"],
            copies=row["copies"],
            copies_available=row["copies_available"],
            authors=row["authors"],
            genres=row["genres"],
            languages=row["languages"],
        )
        return CatalogState(row["version"], counts)
