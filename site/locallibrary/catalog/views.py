"""The catalog's pages: the home page with its counts, the lists and the detail pages."""

from __future__ import annotations

from databases import Database
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from locallibrary.catalog import queries
from locallibrary.catalog.pagination import DEFAULT_PER_PAGE, InvalidPage, Page
from locallibrary.web.errors import not_found
from locallibrary.web.htmx import FRAGMENT_VARY, wants_fragment
from locallibrary.web.templating import templates


def _database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


async def home_redirect(request: Request) -> Response:
    return RedirectResponse(request.url_for("index").path, status_code=302)


async def index(request: Request) -> Response:
    counts = await queries.catalog_counts(_database(request))
    return templates.TemplateResponse(request, "catalog/index.html", {"counts": counts})


async def book_list(request: Request) -> Response:
    try:
        page = await queries.book_page(
            _database(request), request.query_params.get("page"), DEFAULT_PER_PAGE
        )
    except InvalidPage as invalid:
        return not_found(request, str(invalid))
    return _list_response(request, "book", page)


async def author_list(request: Request) -> Response:
    try:
        page = await queries.author_page(
            _database(request), request.query_params.get("page"), DEFAULT_PER_PAGE
        )
    except InvalidPage as invalid:
        return not_found(request, str(invalid))
    return _list_response(request, "author", page)


def _list_response(request: Request, kind: str, page: Page[object]) -> Response:
    list_id = f"{kind}-list"
    fragment = "_" if wants_fragment(request, list_id) else ""
    template = f"catalog/{fragment}{kind}_list.html"
    response = templates.TemplateResponse(request, template, {"page": page, "list_id": list_id})
    response.headers["Vary"] = FRAGMENT_VARY
    return response


async def book_detail(request: Request) -> Response:
    book = await queries.book_detail(_database(request), request.path_params["id"])
    if book is None:
        return not_found(request, "There is no book with that number in the catalog.")
    return templates.TemplateResponse(request, "catalog/book_detail.html", {"book": book})


async def author_detail(request: Request) -> Response:
    detail = await queries.author_detail(_database(request), request.path_params["id"])
    if detail is None:
        return not_found(request, "There is no author with that number in the catalog.")
    return templates.TemplateResponse(
        request, "catalog/author_detail.html", {"author": detail.author, "books": detail.books}
    )
