"""The catalog's pages: the home page with its counts, the lists, the detail pages, the forms."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from locallibrary.catalog import editing, queries, visitor, vocabulary
from locallibrary.catalog.page_index import PageIndex
from locallibrary.catalog.pagination import PER_PAGE_CHOICES, InvalidPage, Page
from locallibrary.catalog.state import CatalogState, CurrentCatalog
from locallibrary.database import Database
from locallibrary.loans.queries import hold_on_book
from locallibrary.sessions import session_of
from locallibrary.web.errors import error_page, not_found
from locallibrary.web.forms import local_path, see_other
from locallibrary.web.htmx import FRAGMENT_VARY, wants_fragment
from locallibrary.web.notice import NOTICE_DISMISSED
from locallibrary.web.page_cache import PageCache
from locallibrary.web.templating import Frame, Site, page_response, render

FetchPage = Callable[[Database, PageIndex, int, str | None, int, int], Awaitable[Page[Any]]]
# The lists whose page size the per-page form sets ("loans" is the desk's All borrowed).
LISTS = {
    "books": "book",
    "authors": "author",
    "genres": "genre",
    "languages": "language",
    "loans": "loan",
}
# Each list's page of rows, by its kind.
FETCH: dict[str, FetchPage] = {
    "book": queries.book_page,
    "author": queries.author_page,
    "genre": vocabulary.term_page,
    "language": vocabulary.term_page,
}
# Where the home page's counts box goes (a comment: autoescaped text can never contain it).
COUNTS_BOX_SLOT = "<!-- counts box -->"


class CatalogViews:
    """The pages that show the catalog, with what they read besides the request: the database,
    the catalog's current state, the lists' page indexes and the pages kept in memory."""

    def __init__(self, database: Database, site: Site, pages: PageCache) -> None:
        self.database = database
        self.site = site
        self.pages = pages
        self.catalog = CurrentCatalog(database)
        self.books = PageIndex(queries.BOOKS)
        self.authors = PageIndex(queries.AUTHORS)
        self.genres = PageIndex(vocabulary.GENRES)
        self.languages = PageIndex(vocabulary.LANGUAGES)

    async def index(self, request: Request) -> Response:
        """The home page. It is the same for every visitor with the same recently viewed books
        but for the counts box, so the page is kept with a slot where each visitor's box goes."""
        num_visits = session_of(request).increment(visitor.NUM_VISITS)
        state = await self.catalog.state()
        frame = Frame.of(self.site, request)
        viewed_ids = visitor.recently_viewed(request.session)

        async def render_page() -> str:
            titles = await queries.book_titles(self.database, viewed_ids)
            recent = [(book_id, titles[book_id]) for book_id in viewed_ids if book_id in titles]
            return render(
                "catalog/index.html",
                frame,
                counts_box=Markup(COUNTS_BOX_SLOT),
                recently_viewed=recent,
            )

        async def render_box() -> str:
            return _counts_box(frame, state, num_visits)

        page = await self.pages.part(frame, state, ("page", *viewed_ids), render_page)
        box = await self.pages.part(frame, state, ("counts box", num_visits), render_box)
        return HTMLResponse(page.replace(COUNTS_BOX_SLOT.encode(), box, 1))

    async def counts_fragment(self, request: Request) -> Response:
        """The polled counts box: read-only, it neither counts a visit nor writes the session.

        Between two visits to the home page a browser polls with the same visit count, so the
        box is usually in memory.
        """
        state = await self.catalog.state()
        frame = Frame.of(self.site, request)
        num_visits = request.session.get(visitor.NUM_VISITS, 0)

        async def render_box() -> Response:
            return HTMLResponse(_counts_box(frame, state, num_visits))

        return await self.pages.page(request, frame, state, (num_visits,), render_box)

    async def book_list(self, request: Request) -> Response:
        state = await self.catalog.state()
        return await self._list_page(request, "books", state, self.books, state.counts.books)

    async def author_list(self, request: Request) -> Response:
        state = await self.catalog.state()
        return await self._list_page(request, "authors", state, self.authors, state.counts.authors)

    async def genre_list(self, request: Request) -> Response:
        state = await self.catalog.state()
        return await self._list_page(request, "genres", state, self.genres, state.counts.genres)

    async def language_list(self, request: Request) -> Response:
        state = await self.catalog.state()
        total = state.counts.languages
        return await self._list_page(request, "languages", state, self.languages, total)

    async def _list_page(
        self, request: Request, name: str, state: CatalogState, index: PageIndex, total: int
    ) -> Response:
        kind = LISTS[name]
        list_id = f"{kind}-list"
        fragment = "_" if wants_fragment(request, list_id) else ""
        per_page = visitor.per_page(request.session)
        frame = Frame.of(self.site, request)
        fetch = FETCH[kind]

        async def render_list() -> Response:
            try:
                page: Page[Any] = await fetch(
                    self.database,
                    index,
                    state.version,
                    request.query_params.get("page"),
                    per_page,
                    total,
                )
            except InvalidPage as invalid:
                return not_found(request, str(invalid))
            return page_response(
                f"catalog/{fragment}{kind}_list.html",
                frame,
                page=page,
                list_id=list_id,
                list_name=name,
                per_page_choices=PER_PAGE_CHOICES,
            )

        variant = (fragment, per_page)
        return await self.pages.page(request, frame, state, variant, render_list, FRAGMENT_VARY)

    async def book_detail(self, request: Request) -> Response:
        book_id: int = request.path_params["id"]
        state = await self.catalog.state()
        frame = Frame.of(self.site, request)

        async def render_book() -> Response:
            book = await queries.book_detail(self.database, book_id)
            if book is None:
                return not_found(request, "There is no book with that number in the catalog.")
            viewer = frame.viewer
            # The viewer's hold on it: holds move the catalog version too (0006_loans).
            hold = None if viewer is None else await hold_on_book(self.database, viewer.id, book_id)
            # Librarians see who changed the book last; the page is kept per viewer.
            staff = viewer is not None and viewer.is_librarian
            changed = await editing.last_change(self.database, "book", book_id) if staff else None
            return page_response(
                "catalog/book_detail.html",
                frame,
                book=book,
                copies_shown=queries.COPIES_SHOWN,
                hold=hold,
                last_change=changed,
            )

        response = await self.pages.page(request, frame, state, (), render_book)
        if response.status_code == 200:
            visitor.remember_viewed(session_of(request), book_id)
        return response

    async def author_detail(self, request: Request) -> Response:
        author_id: int = request.path_params["id"]
        state = await self.catalog.state()
        frame = Frame.of(self.site, request)

        async def render_author() -> Response:
            detail = await queries.author_detail(self.database, author_id)
            if detail is None:
                return not_found(request, "There is no author with that number in the catalog.")
            return page_response(
                "catalog/author_detail.html",
                frame,
                author=detail.author,
                books=detail.books,
                more=detail.more,
                shown=queries.BOOKS_SHOWN,
            )

        return await self.pages.page(request, frame, state, (), render_author)

    async def genre_detail(self, request: Request) -> Response:
        return await self._term_detail(request, "genre", vocabulary.genre_detail)

    async def language_detail(self, request: Request) -> Response:
        return await self._term_detail(request, "language", vocabulary.language_detail)

    async def _term_detail(
        self, request: Request, kind: str, fetch: vocabulary.FetchDetail
    ) -> Response:
        term_id: int = request.path_params["id"]
        state = await self.catalog.state()
        frame = Frame.of(self.site, request)

        async def render_term() -> Response:
            detail = await fetch(self.database, term_id)
            if detail is None:
                return not_found(request, f"There is no {kind} with that number in the catalog.")
            return page_response(
                "catalog/term_detail.html",
                frame,
                kind=kind,
                term=detail.term,
                books=detail.books,
                more=detail.more,
                shown=queries.BOOKS_SHOWN,
            )

        return await self.pages.page(request, frame, state, (), render_term)


def _counts_box(frame: Frame, state: CatalogState, num_visits: int) -> str:
    return render("catalog/_counts.html", frame, counts=state.counts, num_visits=num_visits)


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
        query = form.get("q")
    if (list_name not in LISTS and list_name != "search") or per_page is None:
        return error_page(request, 400, "Choose how many results to show per page from the list.")
    request.session[visitor.PER_PAGE] = per_page
    path = request.url_for(str(list_name)).path
    if list_name == "search" and isinstance(query, str):  # back to the same search's results
        path += "?" + urlencode({"q": query})
    return see_other(path)


async def dismiss_notice(request: Request) -> Response:
    """Hide the site notice for the rest of the session."""
    async with request.form(max_files=0) as form:  # as in set_per_page
        next_path = form.get("next")
    request.session[NOTICE_DISMISSED] = True
    if request.headers.get("hx-request") == "true":
        response = Response(status_code=200)  # htmx swaps the notice out for nothing
    else:
        response = see_other(local_path(next_path, request.url_for("index").path))
    response.headers["Vary"] = "HX-Request"
    return response
