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

A page is also kept gzip-compressed, once a browser that accepts gzip has asked for it:
compressing a 4 KB page takes about 40 µs, more than everything else a cached page costs.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass

from locallibrary.catalog.counts import CatalogCounts
from locallibrary.web.compression import gzip_compress

# About 5 KB each: a few megabytes at most, whatever the size of the catalog.
MAX_PAGES = 1024


@dataclass
class _Page:
    counts: CatalogCounts  # beside which it was rendered
    body: bytes
    gzipped: bytes | None = None  # compressed when first asked for


class PageCache:
    def __init__(self, max_pages: int = MAX_PAGES) -> None:
        self.max_pages = max_pages
        self._pages: OrderedDict[Hashable, _Page] = OrderedDict()

    def get(self, key: Hashable, counts: CatalogCounts, gzipped: bool = False) -> bytes | None:
        """The page stored under `key`, if it was rendered beside these very counts; with
        `gzipped`, its gzip-compressed body."""
        page = self._pages.get(key)
        if page is None or page.counts is not counts:
            return None
        self._pages.move_to_end(key)
        if not gzipped:
            return page.body
        if page.gzipped is None:
            page.gzipped = gzip_compress(page.body)
        return page.gzipped

    def put(self, key: Hashable, counts: CatalogCounts, body: bytes) -> None:
        """Keep `body`, rendered beside `counts`; the least recently used page makes room."""
        self._pages[key] = _Page(counts, body)
        self._pages.move_to_end(key)
        if len(self._pages) > self.max_pages:
            self._pages.popitem(last=False)

    def __len__(self) -> int:
        return len(self._pages)
