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

Views go through `cached_page` (a whole response) or `cached_part` (bytes to assemble, as the
home page does around each visitor's counts box).
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


def page_key(request: Request, variant: tuple[object, ...]) -> tuple[object, ...]:
    """All a page depends on besides the catalog: its URL, the notice, and `variant`, what the
    view reads of the request and the session."""
    scope = request.scope
    notice = sees_notice(request.app.state.settings.notice, request.session)
    return (scope.get("root_path", ""), scope["path"], scope["query_string"], notice, *variant)


async def cached_page(
    request: Request, counts: CatalogCounts, variant: tuple[object, ...], render: Render
) -> Response:
    """The page from the app's page cache, or rendered by `render` and kept if it is a 200."""
    pages: PageCache = request.app.state.pages
    key = page_key(request, variant)
    body = pages.get(key, counts)
    if body is not None:
        if len(body) >= MINIMUM_SIZE and accepts_gzip(request.scope):
            # As the compression middleware would send it, without compressing it again.
            return HTMLResponse(pages.get(key, counts, gzipped=True), headers=GZIPPED)
        return HTMLResponse(body)
    response = await render()
    if response.status_code == 200:
        pages.put(key, counts, bytes(response.body))
    return response


async def cached_part(
    request: Request, counts: CatalogCounts, variant: tuple[object, ...], render: Render
) -> bytes:
    """Part of a page, from the page cache or rendered by `render` (which always succeeds)."""
    pages: PageCache = request.app.state.pages
    key = page_key(request, variant)
    body = pages.get(key, counts)
    if body is None:
        body = bytes((await render()).body)
        pages.put(key, counts, body)
    return body
