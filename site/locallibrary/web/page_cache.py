"""Rendered catalog pages, kept in memory while the catalog version they were rendered at holds.

A list or detail page, or the polled counts box, is a function of the catalog and of a few
things of the request: its frame (root path, address, whether the site notice shows) and what
the view names as its variant (the visitor's page size or visit count, whether htmx asked for
a fragment). Rendering one (its queries, then Jinja) costs far more than sending it again from
memory. So each process keeps the pages it rendered last, each with the catalog version
(catalog/state.py) it was rendered at, and sends one again only while that version is current:
after any committed change to the catalog, every page is rendered afresh on its next request.

What goes in is rendered from the frame and the variant only (web/templating.py): nothing of
the session or the settings reaches the template, and the frame's signed-in user is part of the
key, so a kept page cannot carry one visitor's data to another.

A page is also kept gzip-compressed, once a browser that accepts gzip has asked for it:
compressing a page costs more than everything else a kept page costs.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from locallibrary.catalog.state import CatalogState
from locallibrary.web.compression import MINIMUM_SIZE, accepts_gzip, gzip_compress
from locallibrary.web.templating import Frame

# A few kilobytes each: a few megabytes at most, whatever the catalog's size.
MAX_PAGES = 1024

Render = Callable[[], Awaitable[Response]]
RenderPart = Callable[[], Awaitable[str]]


@dataclass
class _Page:
    version: int  # the catalog version it was rendered at
    body: bytes
    gzipped: bytes | None = None  # compressed when first asked for


class PageCache:
    def __init__(self, max_pages: int = MAX_PAGES) -> None:
        self.max_pages = max_pages
        self._pages: OrderedDict[Hashable, _Page] = OrderedDict()

    def get(self, key: Hashable, version: int, gzipped: bool = False) -> bytes | None:
        """The page stored under `key`, if it was rendered at this catalog version; with
        `gzipped`, its gzip-compressed body."""
        page = self._pages.get(key)
        if page is None or page.version != version:
            return None
        self._pages.move_to_end(key)
        if not gzipped:
            return page.body
        if page.gzipped is None:
            page.gzipped = gzip_compress(page.body)
        return page.gzipped

    def put(self, key: Hashable, version: int, body: bytes) -> None:
        """Keep `body`, rendered at `version`; the least recently used page makes room."""
        if self.max_pages <= 0:
            return
        self._pages[key] = _Page(version, body)
        self._pages.move_to_end(key)
        if len(self._pages) > self.max_pages:
            self._pages.popitem(last=False)

    @staticmethod
    def key(frame: Frame, variant: tuple[object, ...]) -> tuple[object, ...]:
        """All a page depends on besides the catalog: its frame and its variant.

        A signed-in user's pages are their own (the header names them): no two users, and no
        user and an anonymous visitor, ever share one.
        """
        return (frame.root_path, frame.here, frame.notice is not None, frame.viewer, *variant)

    async def page(
        self,
        request: Request,
        frame: Frame,
        state: CatalogState,
        variant: tuple[object, ...],
        render: Render,
        vary: str | None = None,
    ) -> Response:
        """The page from memory, or rendered by `render` and kept if it is a 200; `vary` names
        the request headers the variant depends on, for the response's Vary header."""
        key = self.key(frame, variant)
        body = self.get(key, state.version)
        if body is None:
            response = await render()
            if response.status_code == 200:
                self.put(key, state.version, bytes(response.body))
            if vary is not None:
                response.headers.add_vary_header(vary)
            return response
        if len(body) >= MINIMUM_SIZE and accepts_gzip(request.scope):
            # As the compression middleware would send it, without compressing it again.
            varies = "Accept-Encoding" if vary is None else f"{vary}, Accept-Encoding"
            gzipped = self.get(key, state.version, gzipped=True)
            return HTMLResponse(gzipped, headers={"Content-Encoding": "gzip", "Vary": varies})
        return HTMLResponse(body, headers=None if vary is None else {"Vary": vary})

    async def part(
        self, frame: Frame, state: CatalogState, variant: tuple[object, ...], render: RenderPart
    ) -> bytes:
        """Part of a page, from memory or rendered by `render`."""
        key = self.key(frame, variant)
        body = self.get(key, state.version)
        if body is None:
            body = (await render()).encode()
            self.put(key, state.version, body)
        return body
