"""The catalog's pages: the home page with its counts, the lists, the detail pages, the forms."""

from __future__ import annotations

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from locallibrary.catalog import queries, visitor
from locallibrary.catalog.counts import CatalogCounts, CountsCache
from locallibrary.catalog.page_cache import Render, cached_page, cached_part
from locallibrary.catalog.pagination import PER_PAGE_CHOICES, InvalidPage, Page
from locallibrary.database import SiteDatabase
from locallibrary.web.errors import error_page, not_found
from locallibrary.web.forms import local_path, see_other
from locallibrary.web.htmx import FRAGMENT_VARY, wants_fragment
from locallibrary.web.templating import templates

LISTS = {"books": "book", "authors": "author"}
# Where the home page's counts box goes (a comment: autoescaped text can never contain it).
COUNTS_BOX_SLOT = b"<!-- counts box -->"


def _database(request: Request) -> SiteDatabase:
    database: SiteDatabase = request.app.state.database
    return database


async def _counts(request: Request) -> CatalogCounts:
    cache: CountsCache = request.app.state.counts
    return await cache.get(_database(request))


async def home_redirect(request: Request) -> Response:
    return RedirectResponse(request.url_for("index").path, status_code=302)


async def index(request: Request) -> Response:
    """The home page. It is the same for every visitor with the same recently viewed books but
    for the counts box, so the page is kept with a slot where each visitor's box goes."""
    num_visits = request.session.increment(visitor.NUM_VISITS)
    counts = await _counts(request)
    viewed_ids = visitor.recently_viewed(request.session)

    async def render_page() -> Response:
        titles = await queries.book_titles(_database(request), viewed_ids)
        recent = [(book_id, titles[book_id]) for book_id in viewed_ids if book_id in titles]
        return templates.TemplateResponse(
            request,
            "catalog/index.html",
            {"counts_box": Markup(COUNTS_BOX_SLOT.decode()), "recently_viewed": recent},
        )

    page = await cached_part(request, counts, ("page", *viewed_ids), render_page)
    box = await cached_part(
        request, counts, ("counts box", num_visits), _counts_box(request, counts, num_visits)
    )
    return HTMLResponse(page.replace(COUNTS_BOX_SLOT, box, 1))


def _counts_box(request: Request, counts: CatalogCounts, num_visits: int) -> Render:
    """What renders the counts box, for the page cache."""

    async def render() -> Response:
        return templates.TemplateResponse(
            request, "catalog/_counts.html", {"counts": counts, "num_visits": num_visits}
        )

    return render


async def counts_fragment(request: Request) -> Response:
    """The polled counts box: read-only, it neither counts a visit nor writes the session.

    Between two visits to the home page a browser polls with the same visit count, so the box
    is usually in the page cache.
    """
    counts = await _counts(request)
    num_visits = request.session.get(visitor.NUM_VISITS, 0)
    render = _counts_box(request, counts, num_visits)
    return await cached_page(request, counts, (num_visits,), render)


async def book_list(request: Request) -> Response:
    counts = await _counts(request)
    return await _list_page(request, "books", queries.book_page, counts, counts.books)


async def author_list(request: Request) -> Response:
    counts = await _counts(request)
    return await _list_page(request, "authors", queries.author_page, counts, counts.authors)


async def _list_page(
    request: Request, name: str, fetch: queries.PageQuery, counts: CatalogCounts, total: int
) -> Response:
    kind = LISTS[name]
    list_id = f"{kind}-list"
    fragment = "_" if wants_fragment(request, list_id) else ""
    per_page = visitor.per_page(request.session)

    async def render() -> Response:
        try:
            page: Page[object] = await fetch(
                _database(request), request.query_params.get("page"), per_page, total
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

    response = await cached_page(request, counts, (fragment, per_page), render)
    response.headers.add_vary_header(FRAGMENT_VARY)
    return response


async def book_detail(request: Request) -> Response:
    book_id: int = request.path_params["id"]

    async def render() -> Response:
        book = await queries.book_detail(_database(request), book_id)
        if book is None:
            return not_found(request, "There is no book with that number in the catalog.")
        return templates.TemplateResponse(request, "catalog/book_detail.html", {"book": book})

    response = await cached_page(request, await _counts(request), (), render)
    if response.status_code == 200:
        visitor.remember_viewed(request.session, book_id)
    return response


async def author_detail(request: Request) -> Response:
    author_id: int = request.path_params["id"]

    async def render() -> Response:
        detail = await queries.author_detail(_database(request), author_id)
        if detail is None:
            return not_found(request, "There is no author with that number in the catalog.")
        return templates.TemplateResponse(
            request, "catalog/author_detail.html", {"author": detail.author, "books": detail.books}
        )

    return await cached_page(request, await _counts(request), (), render)


async def set_per_page(request: Request) -> Response:
    """Remember the visitor's page size, then show the list again from its first page.

    htmx follows the redirect with its own headers, so it gets just the list to swap in.
    """
    form = await request.form()
    list_name = form.get("list")
    per_page = next((n for n in PER_PAGE_CHOICES if str(n) == form.get("per_page")), None)
    if list_name not in LISTS or per_page is None:
        return error_page(request, 400, "Choose how many results to show per page from the list.")
    request.session[visitor.PER_PAGE] = per_page
    return see_other(request.url_for(str(list_name)).path)


async def dismiss_notice(request: Request) -> Response:
    """Hide the site notice for the rest of the session."""
    form = await request.form()
    request.session[visitor.NOTICE_DISMISSED] = True
    if request.headers.get("hx-request") == "true":
        response = Response(status_code=200)  # htmx swaps the notice out for nothing
    else:
        response = see_other(local_path(form.get("next"), request.url_for("index").path))
    response.headers["Vary"] = "HX-Request"
    return response
