"""The catalog's pages: the home page with its counts, the lists, the detail pages, the forms."""

from __future__ import annotations

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from locallibrary.catalog import queries, visitor
from locallibrary.catalog.counts import CatalogCounts, CountsCache
from locallibrary.catalog.page_cache import PageCache, Render
from locallibrary.catalog.pagination import PER_PAGE_CHOICES, InvalidPage, Page
from locallibrary.database import SiteDatabase
from locallibrary.web.errors import error_page, not_found
from locallibrary.web.forms import local_path, see_other
from locallibrary.web.htmx import FRAGMENT_VARY, wants_fragment
from locallibrary.web.templating import templates

LISTS = {"books": "book", "authors": "author"}
# Where the home page's counts box goes (a comment: autoescaped text can never contain it).
COUNTS_BOX_SLOT = b"<!-- counts box -->"


class CatalogViews:
    """The pages that show the catalog, with what they read besides the request: the database,
    the counts (kept for CATALOG_CACHE_SECONDS) and the pages kept in memory."""

    def __init__(self, database: SiteDatabase, counts: CountsCache, pages: PageCache) -> None:
        self.database = database
        self.counts = counts
        self.pages = pages

    async def index(self, request: Request) -> Response:
        """The home page. It is the same for every visitor with the same recently viewed books
        but for the counts box, so the page is kept with a slot where each visitor's box goes."""
        num_visits = request.session.increment(visitor.NUM_VISITS)
        counts = await self.counts.get(self.database)
        viewed_ids = visitor.recently_viewed(request.session)

        async def render_page() -> Response:
            titles = await queries.book_titles(self.database, viewed_ids)
            recent = [(book_id, titles[book_id]) for book_id in viewed_ids if book_id in titles]
            return templates.TemplateResponse(
                request,
                "catalog/index.html",
                {"counts_box": Markup(COUNTS_BOX_SLOT.decode()), "recently_viewed": recent},
            )

        page = await self.pages.part(request, counts, ("page", *viewed_ids), render_page)
        box = await self.pages.part(
            request, counts, ("counts box", num_visits), _counts_box(request, counts, num_visits)
        )
        return HTMLResponse(page.replace(COUNTS_BOX_SLOT, box, 1))

    async def counts_fragment(self, request: Request) -> Response:
        """The polled counts box: read-only, it neither counts a visit nor writes the session.

        Between two visits to the home page a browser polls with the same visit count, so the
        box is usually in memory.
        """
        counts = await self.counts.get(self.database)
        num_visits = request.session.get(visitor.NUM_VISITS, 0)
        render = _counts_box(request, counts, num_visits)
        return await self.pages.page(request, counts, (num_visits,), render)

    async def book_list(self, request: Request) -> Response:
        counts = await self.counts.get(self.database)
        return await self._list_page(request, "books", queries.book_page, counts, counts.books)

    async def author_list(self, request: Request) -> Response:
        counts = await self.counts.get(self.database)
        return await self._list_page(
            request, "authors", queries.author_page, counts, counts.authors
        )

    async def _list_page(
        self,
        request: Request,
        name: str,
        fetch: queries.PageQuery,
        counts: CatalogCounts,
        total: int,
    ) -> Response:
        kind = LISTS[name]
        list_id = f"{kind}-list"
        fragment = "_" if wants_fragment(request, list_id) else ""
        per_page = visitor.per_page(request.session)

        async def render() -> Response:
            try:
                page: Page[object] = await fetch(
                    self.database, request.query_params.get("page"), per_page, total
                )
            except InvalidPage as invalid:
                return not_found(request, str(invalid))
            return templates.TemplateResponse(
                request,
                f"catalog/{fragment}{kind}_list.html",
                {
                    "page": page,
                    "list_id": list_id,
                    "list_name": name,
                    "per_page_choices": PER_PAGE_CHOICES,
                },
            )

        response = await self.pages.page(request, counts, (fragment, per_page), render)
        response.headers.add_vary_header(FRAGMENT_VARY)
        return response

    async def book_detail(self, request: Request) -> Response:
        book_id: int = request.path_params["id"]

        async def render() -> Response:
            book = await queries.book_detail(self.database, book_id)
            if book is None:
                return not_found(request, "There is no book with that number in the catalog.")
            return templates.TemplateResponse(request, "catalog/book_detail.html", {"book": book})

        counts = await self.counts.get(self.database)
        response = await self.pages.page(request, counts, (), render)
        if response.status_code == 200:
            visitor.remember_viewed(request.session, book_id)
        return response

    async def author_detail(self, request: Request) -> Response:
        author_id: int = request.path_params["id"]

        async def render() -> Response:
            detail = await queries.author_detail(self.database, author_id)
            if detail is None:
                return not_found(request, "There is no author with that number in the catalog.")
            return templates.TemplateResponse(
                request,
                "catalog/author_detail.html",
                {"author": detail.author, "books": detail.books},
            )

        counts = await self.counts.get(self.database)
        return await self.pages.page(request, counts, (), render)


def _counts_box(request: Request, counts: CatalogCounts, num_visits: int) -> Render:
    """What renders the counts box, for the page cache."""

    async def render() -> Response:
        return templates.TemplateResponse(
            request, "catalog/_counts.html", {"counts": counts, "num_visits": num_visits}
        )

    return render


async def home_redirect(request: Request) -> Response:
    return RedirectResponse(request.url_for("index").path, status_code=302)


async def set_per_page(request: Request) -> Response:
    """Remember the visitor's page size, then show the list again from its first page.

    htmx follows the redirect with its own headers, so it gets just the list to swap in.
    """
    # Closed when done. Our forms have no file fields: a file is a 400, not a temporary file.
    async with request.form(max_files=0) as form:
        list_name = form.get("list")
        per_page = next((n for n in PER_PAGE_CHOICES if str(n) == form.get("per_page")), None)
    if list_name not in LISTS or per_page is None:
        return error_page(request, 400, "Choose how many results to show per page from the list.")
    request.session[visitor.PER_PAGE] = per_page
    return see_other(request.url_for(str(list_name)).path)


async def dismiss_notice(request: Request) -> Response:
    """Hide the site notice for the rest of the session."""
    async with request.form(max_files=0) as form:  # as in set_per_page
        next_path = form.get("next")
    request.session[visitor.NOTICE_DISMISSED] = True
    if request.headers.get("hx-request") == "true":
        response = Response(status_code=200)  # htmx swaps the notice out for nothing
    else:
        response = see_other(local_path(next_path, request.url_for("index").path))
    response.headers["Vary"] = "HX-Request"
    return response
