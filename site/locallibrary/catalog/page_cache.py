"""Rendered catalog pages, kept in memory while the counts they were rendered beside are current.

A list or detail page, or the polled counts box, is a function of the catalog and of a few
things of the request: its URL, the visitor's page size or visit count, whether the site notice
shows, and whether htmx asked for a fragment.
Rendering one (its queries, then Jinja) costs a few hundred microseconds; sending it again from
memory, a few. So each process keeps the pages it rendered last, each with the catalog counts
(CountsCache) that were current when it was rendered. When the counts are read again (every
CATALOG_CACHE_SECONDS), every page rendered before is rendered afresh on its next request: a
page is never older than the counts the home page shows. With the cache off, the counts are
new on every request, so no page is ever served again.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

from locallibrary.catalog.counts import CatalogCounts

# About 5 KB each: a few megabytes at most, whatever the size of the catalog.
MAX_PAGES = 1024


class PageCache:
    def __init__(self, max_pages: int = MAX_PAGES) -> None:
        self.max_pages = max_pages
        self._pages: OrderedDict[Hashable, tuple[CatalogCounts, bytes]] = OrderedDict()

    def get(self, key: Hashable, counts: CatalogCounts) -> bytes | None:
        """The page stored under `key`, if it was rendered beside these very counts."""
        entry = self._pages.get(key)
        if entry is None or entry[0] is not counts:
            return None
        self._pages.move_to_end(key)
        return entry[1]

    def put(self, key: Hashable, counts: CatalogCounts, body: bytes) -> None:
        """Keep `body`, rendered beside `counts`; the least recently used page makes room."""
        self._pages[key] = (counts, body)
        self._pages.move_to_end(key)
        if len(self._pages) > self.max_pages:
            self._pages.popitem(last=False)

    def __len__(self) -> int:
        return len(self._pages)
