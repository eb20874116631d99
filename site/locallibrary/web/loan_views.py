"""The loans' pages: the desk's (lend, all borrowed, renew, mark returned) and the patrons' (my
borrowed books and history, holds, the due-dates calendar).

Every form posts and redirects (post/redirect/get), so each works without JavaScript; with htmx,
"mark returned" swaps only the list and the due date is checked as it is typed.

"All borrowed" and "My borrowed books" are kept in the page cache (web/page_cache.py) like the
catalog's pages: every change to a loan or a hold moves the catalog version (0006_loans), and so
does a new name or email of a user, or a deleted user (0009_users_shown_on_loans). Their key
holds the viewer and today's date, which decides what is overdue. No browser keeps them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from locallibrary.accounts.users import User, user_by_email
from locallibrary.catalog import visitor
from locallibrary.catalog.page_index import PageIndex
from locallibrary.catalog.pagination import PER_PAGE_CHOICES, InvalidPage, page_count
from locallibrary.catalog.state import CurrentCatalog
from locallibrary.database import Database
from locallibrary.loans import desk, queries
from locallibrary.loans.calendar import due_dates_calendar
from locallibrary.loans.queries import Patron
from locallibrary.web.authentication import signed_in_account
from locallibrary.web.errors import error_page, not_found
from locallibrary.web.forms import local_path, see_other
from locallibrary.web.htmx import FRAGMENT_VARY, wants_fragment
from locallibrary.web.loan_forms import LendForm, RenewForm, ReturnForm
from locallibrary.web.page_cache import PageCache
from locallibrary.web.templating import Frame, Site, page_response, render

LOAN_LIST_ID = "loan-list"
NO_STORE = {"Cache-Control": "no-store"}
PATRON_DONE = {
    "cleared": "Your loan history is cleared.",
    "cancelled": "Your hold is cancelled.",
}


def today() -> dt.date:
    """The library's date: what is overdue, and the kept pages' key."""
    return dt.date.today()


class LoanViews:
    def __init__(
        self, database: Database, site: Site, catalog: CurrentCatalog, pages: PageCache
    ) -> None:
        self.database = database
        self.site = site
        self.catalog = catalog
        self.pages = pages
        self.open_loans = PageIndex(queries.OPEN_LOANS)
        self.open_loan_count = queries.OpenLoanCount()

    def _page(
        self, request: Request, template: str, status_code: int = 200, **context: Any
    ) -> Response:
        frame = Frame.of(self.site, request)
        response = page_response(template, frame, status_code, today=today(), **context)
        response.headers.update(NO_STORE)
        return response

    # -- the desk ------------------------------------------------------------------------------

    async def lend(self, request: Request) -> Response:
        if request.method == "GET":
            form = LendForm(copy=request.query_params.get("copy", "")[:64])
            lent = await self._loan_from_query(request, "lent")
            return self._page(request, "loans/lend.html", form=form, lent=lent)
        async with request.form(max_files=0) as data:
            form = LendForm(formdata=data)
        if not form.validate():
            return self._page(request, "loans/lend.html", form=form, lent=None)
        patron = await self._patron(form)
        if patron is None:
            return self._page(request, "loans/lend.html", form=form, lent=None)
        try:
            loan_id = await desk.lend(
                self.database, form.copy_id, patron.id, _due(form), _account(request).id
            )
        except desk.DeskError as refused:
            _show(form, refused)
            return self._page(request, "loans/lend.html", form=form, lent=None)
        return see_other(f"{request.url_for('lend').path}?lent={loan_id}")

    async def _patron(self, form: LendForm) -> User | Patron | None:
        """The patron the form names by email or name; None with the field's error if none
        (or several) match."""
        given = (form.patron.data or "").strip()
        if "@" in given:
            account = await user_by_email(self.database, given)
            if account is None:
                form.patron.errors = ["No account has that email."]
            return account
        named = await queries.patrons_named(self.database, given)
        if len(named) == 1:
            return named[0]
        form.patron.errors = [
            "Several accounts have that name: enter the patron's email."
            if named
            else "No account has that name. Enter the patron's email or full name."
        ]
        return None

    async def all_borrowed(self, request: Request) -> Response:
        """Every open loan by due date, a page at a time, as the visitor's page size says."""
        state = await self.catalog.state()
        per_page = visitor.per_page(request.session)
        fragment = "_" if wants_fragment(request, LOAN_LIST_ID) else ""
        frame = Frame.of(self.site, request)
        date = today()

        async def render_list() -> Response:
            total = await self.open_loan_count.count(self.database, state.version)
            raw_page = request.query_params.get("page")
            returned = _small_number(request.query_params.get("returned"))
            if returned is not None and raw_page and raw_page.isdigit():
                # Back from marking loans returned: the list may have fewer pages now.
                raw_page = str(min(int(raw_page[:9]), page_count(total, per_page)))
            try:
                page = await queries.open_loans_page(
                    self.database, self.open_loans, state.version, raw_page, per_page, total
                )
            except InvalidPage as invalid:
                return not_found(request, str(invalid))
            return page_response(
                f"loans/{fragment}loan_list.html",
                frame,
                today=date,
                page=page,
                list_id=LOAN_LIST_ID,
                list_name="loans",
                per_page_choices=PER_PAGE_CHOICES,
                returned=returned,
                renewed=await self._loan_from_query(request, "renewed"),
            )

        variant = ("all borrowed", date, fragment, per_page)
        response = await self.pages.page(request, frame, state, variant, render_list, FRAGMENT_VARY)
        response.headers.update(NO_STORE)
        return response

    async def mark_returned(self, request: Request) -> Response:
        """Close the ticked loans (or the one row's); back to the list, which htmx swaps."""
        async with request.form(max_files=0) as data:
            form = ReturnForm(formdata=data)
        back = request.url_for("loans").path
        if not form.validate() or not form.loan_ids:
            return error_page(
                request,
                400,
                "Tick the loans to mark returned, then press the button.",
                way_on=("Back to all borrowed", back),
            )
        returned = await desk.mark_returned(self.database, form.loan_ids)
        page = form.page.data or 1
        return see_other(f"{back}?page={page}&returned={returned}")

    async def renew(self, request: Request) -> Response:
        loan_id: int = request.path_params["id"]
        loan = await queries.loan(self.database, loan_id)
        if loan is None:
            return not_found(request, "There is no such loan.")
        if request.method == "GET" or loan.returned:
            return self._page(request, "loans/renew.html", loan=loan, form=RenewForm())
        async with request.form(max_files=0) as data:
            form = RenewForm(formdata=data)
        if not form.validate():
            return self._page(request, "loans/renew.html", loan=loan, form=form)
        try:
            await desk.renew(self.database, loan_id, _due(form))
        except desk.DeskError as refused:
            _show(form, refused)
            return self._page(request, "loans/renew.html", loan=loan, form=form)
        return see_other(f"{request.url_for('loans').path}?renewed={loan_id}")

    async def check_due_date(self, request: Request) -> Response:
        """The due date's message as it is typed (htmx swaps it in beside the field)."""
        form = RenewForm(formdata=request.query_params)
        form.validate()
        markup = render("loans/_due_back_feedback.html", Frame.of(self.site, request), form=form)
        return HTMLResponse(markup, headers=NO_STORE)

    async def _loan_from_query(self, request: Request, name: str) -> queries.OpenLoan | None:
        loan_id = _small_number(request.query_params.get(name))
        return None if loan_id is None else await queries.loan(self.database, loan_id)

    # -- the patron's pages --------------------------------------------------------------------

    async def my_loans(self, request: Request) -> Response:
        account = _account(request)
        state = await self.catalog.state()
        frame = Frame.of(self.site, request)
        date = today()

        async def render_loans() -> Response:
            params = request.query_params
            return page_response(
                "loans/my_loans.html",
                frame,
                today=date,
                loans=await queries.patron_open_loans(self.database, account.id),
                holds=await queries.patron_holds(self.database, account.id),
                history=await queries.patron_history(self.database, account.id),
                message=PATRON_DONE.get(params.get("done", "")),
                held=_small_number(params.get("held")),
            )

        response = await self.pages.page(request, frame, state, ("my loans", date), render_loans)
        response.headers.update(NO_STORE)
        return response

    async def clear_history(self, request: Request) -> Response:
        await desk.clear_history(self.database, _account(request).id)
        return see_other(f"{request.url_for('my_loans').path}?done=cleared")

    async def calendar(self, request: Request) -> Response:
        """The patron's due dates, for their calendar program."""
        loans = await queries.patron_open_loans(self.database, _account(request).id)
        return Response(
            due_dates_calendar(loans, dt.datetime.now(dt.UTC)),
            media_type="text/calendar",
            headers={
                "Content-Disposition": 'attachment; filename="library-due-dates.ics"',
                **NO_STORE,
            },
        )

    async def place_hold(self, request: Request) -> Response:
        book_id: int = request.path_params["id"]
        try:
            place = await desk.place_hold(self.database, book_id, _account(request).id)
        except desk.DeskError as refused:
            back = request.url_for("book_detail", id=book_id).path
            return error_page(request, 400, refused.message, way_on=("Back to the book", back))
        return see_other(f"{request.url_for('my_loans').path}?held={place}")

    async def cancel_hold(self, request: Request) -> Response:
        hold_id: int = request.path_params["id"]
        async with request.form(max_files=0) as data:
            next_path = data.get("next")
        mine = request.url_for("my_loans").path
        try:
            await desk.cancel_hold(self.database, hold_id, _account(request).id)
        except desk.DeskError as refused:
            return error_page(request, 400, refused.message, way_on=("Your loans", mine))
        return see_other(local_path(next_path, f"{mine}?done=cancelled"))


def _account(request: Request) -> User:
    account = signed_in_account(request)
    assert account is not None, "the route is declared signed_in_only or librarians_only"
    return account


def _due(form: LendForm | RenewForm) -> dt.date:
    due_back = form.due_back.data
    assert due_back is not None, "the form has validated: InputRequired"
    return due_back


def _show(form: Any, refused: desk.DeskError) -> None:
    """The desk's refusal beside the field it is about, or above the form."""
    if refused.field is not None:
        getattr(form, refused.field).errors = [refused.message]
    else:
        form.form_errors.append(refused.message)


def _small_number(raw: str | None) -> int | None:
    """A positive number from a query parameter of our own redirects, or None."""
    if raw is None or not raw.isascii() or not raw.isdigit() or len(raw) > 9:
        return None
    number = int(raw)
    return number if number > 0 else None
