"""Pages in the middle of a list at the cost of the first: every hundredth key of the list.

`LIMIT 10 OFFSET 50000` makes the database step over fifty thousand rows, so deep pages cost
more the deeper they are, and a crawler walking them stalls everyone else. Instead, each list
keeps the key (its sort columns) of every `every`-th row, read in one pass over its index and
kept while the catalog version it was read at is current. A page then starts from the entry
just before it and steps over fewer than `every` entries of the index: a page costs the same at
any page number. The pass runs off the event loop, once per catalog change, and only when a deep
page is asked for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from locallibrary.database import Database, Row

EVERY = 100


@dataclass(frozen=True)
class OrderedList:
    """A list's order and the SQL that pages it (see queries.py for the statements)."""

    name: str
    key: tuple[str, ...]  # the sort columns, last the id
    first_rows: str  # :skip entries from the start of the index, then :limit rows
    rows_from: str  # :skip entries from the entry (:key0, :key1, …), then :limit rows
    entries: str  # the key of every :every-th row, in order


class PageIndex:
    def __init__(self, listing: OrderedList, every: int = EVERY) -> None:
        self.listing = listing
        self.every = every
        self._entries: list[tuple[Any, ...]] = []
        self._version: int | None = None  # the catalog version the entries were read at
        self._reading = asyncio.Lock()

    async def rows(self, db: Database, version: int, offset: int, limit: int) -> Sequence[Row]:
        """The `limit` rows from position `offset` of the list, as of catalog `version`."""
        if offset < self.every:
            return await db.fetch_all(self.listing.first_rows, {"skip": offset, "limit": limit})
        entries = await self.entries(db, version)
        slot = offset // self.every
        if slot >= len(entries):  # the list is shorter than the page asked for
            return []
        values: dict[str, Any] = {f"key{i}": value for i, value in enumerate(entries[slot])}
        values.update(skip=offset - slot * self.every, limit=limit)
        return await db.fetch_all(self.listing.rows_from, values)

    async def entries(self, db: Database, version: int) -> list[tuple[Any, ...]]:
        """The entries, read again if the catalog has changed since they were read.

        They are read after `version` was, so they are at least that new: a later request
        that sees a newer version reads them again, and none ever gets older ones.
        """
        if self._version != version:
            async with self._reading:  # one pass at a time; the others wait for its result
                if self._version != version:
                    rows = await db.fetch_all_off_loop(self.listing.entries, {"every": self.every})
                    width = len(self.listing.key)
                    self._entries = [tuple(row[i] for i in range(width)) for row in rows]
                    self._version = version
        return self._entries
