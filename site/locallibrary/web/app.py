"""The application, declared in one place: every URL, and the order of the middleware."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.convertors import register_url_convertor
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import ClientDisconnect
from starlette.routing import Route

from locallibrary.accounts import passwords
from locallibrary.accounts.throttle import SignInThrottle
from locallibrary.catalog.ids import CatalogIdConvertor
from locallibrary.database import create_database
from locallibrary.database.middleware import DatabaseLifespan
from locallibrary.mail import mailer_for
from locallibrary.secret_key import SiteSecret
from locallibrary.sessions import (
    DeferredSessions,
    SessionConfig,
    SessionMiddleware,
    database_store,
    periodic_cleanup,
)
from locallibrary.settings import Settings, SettingsError
from locallibrary.web import errors, heap, views
from locallibrary.web.access import Endpoint, librarians_only, signed_in_only
from locallibrary.web.account_views import AccountViews
from locallibrary.web.authentication import SessionAuthentication
from locallibrary.web.compression import Compression
from locallibrary.web.editing_views import EditingViews
from locallibrary.web.health import HealthCheck
from locallibrary.web.loan_views import LoanViews
from locallibrary.web.page_cache import PageCache
from locallibrary.web.query_string import PercentEncodedQueryString
from locallibrary.web.refused import RefuseToStart
from locallibrary.web.search_views import SearchViews
from locallibrary.web.security import CrossOriginProtection, SecurityHeaders
from locallibrary.web.static import StaticFiles
from locallibrary.web.templating import Site, environment
from locallibrary.web.unavailable import ServiceUnavailable

# Before any route is declared: Starlette looks convertors up by name when it compiles a path.
register_url_convertor("catalog_id", CatalogIdConvertor())

ERROR_HANDLERS = {
    ClientDisconnect: errors.client_disconnected,
    400: errors.http_exception,
    404: errors.http_exception,
    405: errors.http_exception,
    500: errors.server_error,
}


def create_app(settings: Settings | None = None) -> Starlette:
    """The site; without `settings`, as the environment configures it (uvicorn's factory)."""
    if settings is None:
        try:
            settings = Settings.from_environ()
        except SettingsError as error:  # one line from the server, not a factory's traceback
            return Starlette(middleware=[Middleware(RefuseToStart, reason=str(error))])
    configure_logging()
    environment.auto_reload = settings.debug  # re-reading templates costs a stat per render
    database = create_database(settings.database_url, settings.database_busy_timeout)
    # No cache in front: every request reads its session, so none is ever behind a write that
    # another worker acknowledged (on SQLite an indexed read on the loop, on PostgreSQL a round
    # trip).
    session_store = database_store(database)
    secret = SiteSecret(settings.secret_key)

    site = Site(notice=settings.notice, poll_milliseconds=int(settings.counts_poll_seconds * 1000))
    pages = PageCache()
    catalog = views.CatalogViews(database, site, pages)
    searches = SearchViews(database, site, pages, catalog.catalog)
    editing = EditingViews(database, site)
    mailer = mailer_for(settings.mail_url, settings.mail_from)
    throttle = SignInThrottle(database)
    accounts = AccountViews(
        database, site, session_store, throttle, mailer, secret, settings.site_url
    )
    loans = LoanViews(database, site, catalog.catalog, pages)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Made now, so that the first sign-in for an unknown email costs what every later one
        # does, not an extra hash (passwords.verify_against_nobody).
        await passwords.dummy_hash()
        with heap.tuned_for_serving():
            interval = settings.session_cleanup_seconds
            async with (
                periodic_cleanup(session_store, interval),
                periodic_cleanup(throttle, interval, what="sign-in failure counters"),
            ):
                yield
        session_store.close()

    # Outermost first. Static files and the health check are answered before the session and
    # the pages, so they cost no session work.
    app = Starlette(
        debug=settings.debug,
        # The router tries the routes in this order: the most requested come first, starting
        # with the counts box, which every open home page polls.
        routes=[
            Route("/catalog/_counts", catalog.counts_fragment, name="counts"),
            Route("/catalog/", catalog.index, name="index"),
            Route("/catalog/books/", catalog.book_list, name="books"),
            Route("/catalog/book/{id:catalog_id}", catalog.book_detail, name="book_detail"),
            Route("/catalog/authors/", catalog.author_list, name="authors"),
            Route("/catalog/author/{id:catalog_id}", catalog.author_detail, name="author_detail"),
            Route("/catalog/genres/", catalog.genre_list, name="genres"),
            Route("/catalog/genre/{id:catalog_id}", catalog.genre_detail, name="genre_detail"),
            Route("/catalog/languages/", catalog.language_list, name="languages"),
            Route(
                "/catalog/language/{id:catalog_id}",
                catalog.language_detail,
                name="language_detail",
            ),
            Route("/catalog/search", searches.search, name="search"),
            Route("/", views.home_redirect),
            Route(
                "/catalog/preferences/per-page",
                views.set_per_page,
                methods=["POST"],
                name="set_per_page",
            ),
            Route(
                "/catalog/notice/dismiss",
                views.dismiss_notice,
                methods=["POST"],
                name="dismiss_notice",
            ),
            # Librarians edit the catalog (web/editing_views.py): each kind's create, edit and
            # delete pages, and the checks that the book and author forms make as one types.
            *[
                route
                for kind, id_type in EDITABLE.items()
                for route in (
                    staff_route(
                        f"/catalog/{kind}/create", editing.creating(kind), f"{kind}_create"
                    ),
                    staff_route(
                        f"/catalog/{kind}/{{id:{id_type}}}/update",
                        editing.updating(kind),
                        f"{kind}_update",
                    ),
                    staff_route(
                        f"/catalog/{kind}/{{id:{id_type}}}/delete",
                        editing.deleting(kind),
                        f"{kind}_delete",
                    ),
                )
            ],
            staff_route(
                "/catalog/book/_authors", editing.author_choices, "book_author_choices", GET
            ),
            staff_route("/catalog/book/_check/isbn", editing.check_isbn, "book_check_isbn", POST),
            staff_route(
                "/catalog/book/{id:catalog_id}/_check/isbn",
                editing.check_isbn,
                "book_update_check_isbn",
                POST,
            ),
            staff_route(
                "/catalog/author/_check/dates", editing.check_dates, "author_check_dates", POST
            ),
            Route("/accounts/sign-in", accounts.sign_in, methods=["GET", "POST"], name="sign_in"),
            Route("/accounts/sign-out", accounts.sign_out, methods=["POST"], name="sign_out"),
            Route(
                "/accounts/sessions/",
                signed_in_only(accounts.your_sessions),
                name="your_sessions",
            ),
            Route(
                "/accounts/sessions/sign-out",
                signed_in_only(accounts.sign_out_session),
                methods=["POST"],
                name="sign_out_session",
            ),
            Route(
                "/accounts/sessions/sign-out-others",
                signed_in_only(accounts.sign_out_other_sessions),
                methods=["POST"],
                name="sign_out_other_sessions",
            ),
            Route(
                "/accounts/password/",
                signed_in_only(accounts.change_password),
                methods=["GET", "POST"],
                name="change_password",
            ),
            Route(
                "/accounts/password/forgot",
                accounts.forgot_password,
                methods=["GET", "POST"],
                name="forgot_password",
            ),
            Route(
                "/accounts/password/forgot/sent", accounts.reset_link_sent, name="reset_link_sent"
            ),
            Route(
                "/accounts/password/reset/{token}",
                accounts.reset_password,
                methods=["GET", "POST"],
                name="reset_password",
            ),
            # The desk's pages (librarians), then the patrons' (signed in).
            Route("/loans/", librarians_only(loans.all_borrowed), name="loans"),
            Route("/loans/lend", librarians_only(loans.lend), methods=["GET", "POST"], name="lend"),
            Route(
                "/loans/return",
                librarians_only(loans.mark_returned),
                methods=["POST"],
                name="mark_returned",
            ),
            Route(
                "/loans/{id:catalog_id}/renew",
                librarians_only(loans.renew),
                methods=["GET", "POST"],
                name="renew",
            ),
            Route(
                "/loans/due-date/check",
                librarians_only(loans.check_due_date),
                name="check_due_date",
            ),
            Route("/loans/mine/", signed_in_only(loans.my_loans), name="my_loans"),
            Route(
                "/loans/mine/history/clear",
                signed_in_only(loans.clear_history),
                methods=["POST"],
                name="clear_history",
            ),
            Route(
                "/loans/mine/due-dates.ics",
                signed_in_only(loans.calendar),
                name="loan_calendar",
            ),
            Route(
                "/loans/holds/book/{id:catalog_id}",
                signed_in_only(loans.place_hold),
                methods=["POST"],
                name="place_hold",
            ),
            Route(
                "/loans/holds/{id:catalog_id}/cancel",
                signed_in_only(loans.cancel_hold),
                methods=["POST"],
                name="cancel_hold",
            ),
        ],
        middleware=[
            Middleware(PercentEncodedQueryString),  # before anything reads the URL
            Middleware(SecurityHeaders),
            Middleware(StaticFiles, debug=settings.debug),
            Middleware(DatabaseLifespan, database=database, ready=secret.load),
            Middleware(HealthCheck, database=database),
            Middleware(CrossOriginProtection),
            Middleware(Compression),
            Middleware(ServiceUnavailable),
            Middleware(
                SessionMiddleware,
                store=session_store,
                config=session_config(settings),
                deferred=DeferredSessions(lambda: secret.value),
            ),
            Middleware(AuthenticationMiddleware, backend=SessionAuthentication(database)),
        ],
        exception_handlers=ERROR_HANDLERS,
        lifespan=lifespan,
    )
    site.use_routes(app.routes)
    app.state.site = site  # for the error pages, which middleware renders too
    app.state.catalog = catalog  # the tests reach its state through it
    app.state.secret = secret  # signs what the views sign: `app.state.secret.value`
    app.state.mailer = mailer
    return app


# The kinds of catalog row that librarians edit, and the convertor of each one's id.
EDITABLE = {
    "author": "catalog_id",
    "book": "catalog_id",
    "copy": "uuid",
    "genre": "catalog_id",
    "language": "catalog_id",
}
GET_AND_POST = ("GET", "POST")
GET = ("GET",)
POST = ("POST",)


def staff_route(
    path: str, endpoint: Endpoint, name: str, methods: tuple[str, ...] = GET_AND_POST
) -> Route:
    """A route for librarians only: anyone else is sent to sign in, or gets a 403."""
    return Route(path, librarians_only(endpoint), methods=list(methods), name=name)


def configure_logging() -> None:
    """The site's own log lines, in uvicorn's style, beside uvicorn's access log."""
    logger = logging.getLogger("locallibrary")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)-9s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def session_config(settings: Settings) -> SessionConfig:
    return SessionConfig(
        cookie_name=settings.session_cookie_name,
        max_age=settings.session_cookie_age,
        secure=settings.session_cookie_secure,
        save_every_request=settings.session_save_every_request,
        max_bytes=settings.session_max_bytes,
        idle_timeout=settings.session_idle_timeout,
        absolute_lifetime=settings.session_absolute_lifetime,
    )
