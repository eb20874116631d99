"""The search page, `/catalog/search?q=…`: a whole page, or only its results for htmx.

The results of a query depend on the catalog, the query and the page size only, so they are
kept in the page cache, and sent again while the catalog version holds. The hint shown for an
empty box lists the visitor's recent searches, which are part of its key.

A search is remembered in the session when it is asked for as a page (without JavaScript, or
from another page's header box) or sent from the box with Enter; the requests htmx makes as the
visitor types are not, or the list would hold every prefix typed on the way to a word.
"""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from locallibrary.catalog import search, visitor
from locallibrary.catalog.pagination import PER_PAGE_CHOICES, InvalidPage
from locallibrary.catalog.state import CurrentCatalog
from locallibrary.database import Database
from locallibrary.sessions import session_of
from locallibrary.web.errors import not_found
from locallibrary.web.htmx import FRAGMENT_VARY, wants_fragment
from locallibrary.web.page_cache import PageCache
from locallibrary.web.templating import Frame, Site, page_response

RESULTS_ID = "search-results"
# The box's id: htmx names the element that triggered a request in HX-Trigger.
SEARCH_BOX_ID = "site-search-q"


class SearchViews:
    def __init__(
        self, database: Database, site: Site, pages: PageCache, catalog: CurrentCatalog
    ) -> None:
        self.database = database
        self.site = site
        self.pages = pages
        self.catalog = catalog

    async def search(self, request: Request) -> Response:
        query = search.parse_query(request.query_params.get("q", ""))
        fragment = wants_fragment(request, RESULTS_ID)
        template = "catalog/_search_results.html" if fragment else "catalog/search.html"
        per_page = visitor.per_page(request.session)
        recent = () if query.text else tuple(visitor.recent_searches(request.session))
        state = await self.catalog.state()
        frame = Frame.of(self.site, request)

        async def render() -> Response:
            page = None
            if query.searchable:
                try:
                    page = await search.search(
                        self.database, query, request.query_params.get("page"), per_page
                    )
                except InvalidPage as invalid:
                    return not_found(request, str(invalid))
            return page_response(
                template,
                frame,
                query=query,
                page=page,
                recent=recent,
                highlight=search.highlight,
                # The lists' page links and page size form, with the query kept.
                list_id=RESULTS_ID,
                list_name="search",
                link_query=urlencode({"q": query.text}),
                per_page_choices=PER_PAGE_CHOICES,
                oob=fragment,
            )

        variant = ("search", fragment, per_page, *recent)
        response = await self.pages.page(request, frame, state, variant, render, FRAGMENT_VARY)
        typing = request.headers.get("hx-trigger") == SEARCH_BOX_ID
        if response.status_code == 200 and query.searchable and not typing:
            visitor.remember_search(session_of(request), query.text)
        return response
