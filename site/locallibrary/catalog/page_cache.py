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

Views go through `page` (a whole response) or `part` (bytes to assemble, as the home page does
around each visitor's counts box).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from locallibrary.catalog.counts import CatalogCounts
from locallibrary.catalog.visitor import sees_notice
from locallibrary.web.compression import MINIMUM_SIZE, accepts_gzip, gzip_compress

# About 5 KB each (and 1.5 KB compressed): a few megabytes at most, whatever the catalog's size.
MAX_PAGES = 1024
GZIPPED = {"Content-Encoding": "gzip", "Vary": "Accept-Encoding"}

Render = Callable[[], Awaitable[Response]]


@dataclass
class _Page:
    counts: CatalogCounts  # beside which it was rendered
    body: bytes
    gzipped: bytes | None = None  # compressed when first asked for


class PageCache:
    """The pages kept, by all they depend on besides the catalog; `notice` is the site notice,
    which shows on every page of a visitor who has not dismissed it."""

    def __init__(self, max_pages: int = MAX_PAGES, notice: str = "") -> None:
        self.max_pages = max_pages
        self.notice = notice
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

    def key(self, request: Request, variant: tuple[object, ...]) -> tuple[object, ...]:
        """All a page depends on besides the catalog: its URL, the notice, and `variant`, what
        the view reads of the request and the session."""
        scope = request.scope
        notice = sees_notice(self.notice, request.session)
        return (scope.get("root_path", ""), scope["path"], scope["query_string"], notice, *variant)

    async def page(
        self, request: Request, counts: CatalogCounts, variant: tuple[object, ...], render: Render
    ) -> Response:
        """The page from memory, or rendered by `render` and kept if it is a 200."""
        key = self.key(request, variant)
        body = self.get(key, counts)
        if body is not None:
            if len(body) >= MINIMUM_SIZE and accepts_gzip(request.scope):
                # As the compression middleware would send it, without compressing it again.
                return HTMLResponse(self.get(key, counts, gzipped=True), headers=GZIPPED)
            return HTMLResponse(body)
        response = await render()
        if response.status_code == 200:
            self.put(key, counts, bytes(response.body))
        return response

    async def part(
        self, request: Request, counts: CatalogCounts, variant: tuple[object, ...], render: Render
    ) -> bytes:
        """Part of a page, from memory or rendered by `render` (which always succeeds)."""
        key = self.key(request, variant)
        body = self.get(key, counts)
        if body is None:
            body = bytes((await render()).body)
            self.put(key, counts, body)
        return body
