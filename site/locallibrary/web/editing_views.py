"""The librarians' pages that change the catalog: create, edit and delete each kind of row.

Every form posts and redirects (post/redirect/get) and works without JavaScript; under
`hx-boost` htmx sends it and swaps the answer in. Errors stand beside their fields, with the
rest of the form as it was typed. Two fields are also checked as they are typed (htmx posts the
form to a check URL, which answers with the field's error slot): the ISBN, and an author's
dates. What the database decides (catalog/editing.py) comes back as a field's error (a value
in use), a conflict page (the row changed since the form was loaded), or a confirmation page
that says what blocks a delete.

The routes are declared in app.py, each behind `librarians_only`; these pages are never kept,
by the page cache or the browser's.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from locallibrary.catalog import authors_named, editing
from locallibrary.catalog.editing import RowId
from locallibrary.catalog.ids import MAX_ID
from locallibrary.catalog.queries import AuthorRef
from locallibrary.database import Database
from locallibrary.web.access import Endpoint
from locallibrary.web.authentication import signed_in_account
from locallibrary.web.catalog_forms import (
    FORMS,
    NOT_COLUMNS,
    BookForm,
    CopyForm,
    EditForm,
    options,
    row_values,
)
from locallibrary.web.errors import not_found
from locallibrary.web.forms import see_other
from locallibrary.web.templating import Frame, Site, page_response, render

NO_SUCH = "There is no such {kind} in the catalog (it may have been deleted meanwhile)."
BROKEN = (
    "Something this refers to (an author, a language, a genre or a book) was deleted "
    "meanwhile: check the choices and save again."
)


class EditingViews:
    def __init__(self, database: Database, site: Site) -> None:
        self.database = database
        self.site = site

    def _page(self, request: Request, template: str, status: int = 200, **context: Any) -> Response:
        response = page_response(
            template, Frame.of(self.site, request), status_code=status, **context
        )
        # A form a librarian is filling in is theirs: kept by no cache, the browser's included.
        response.headers["Cache-Control"] = "no-store"
        return response

    def _path(self, route: str, **params: Any) -> str:
        return self.site.path_for(route, params)

    # -- the endpoints, one per kind and page (app.py declares their routes) ----------------

    def creating(self, kind: str) -> Endpoint:
        async def create(request: Request) -> Response:
            return await self.create(request, kind)

        return create

    def updating(self, kind: str) -> Endpoint:
        async def update(request: Request) -> Response:
            return await self.update(request, kind)

        return update

    def deleting(self, kind: str) -> Endpoint:
        async def delete(request: Request) -> Response:
            return await self.delete(request, kind)

        return delete

    # -- forms -----------------------------------------------------------------------------

    async def _form(self, kind: str, formdata: FormData | None = None, **data: Any) -> EditForm:
        form = FORMS[kind](formdata=formdata, data=data or None)
        if isinstance(form, BookForm):
            choices = await editing.choices(self.database)
            form.language_id.choices = options(choices["language"])
            form.genres.choices = options(choices["genres"])
            await self._offer_authors(form)
        return form

    async def _offer_authors(self, form: BookForm, *also: int) -> None:
        """The authors the form offers: the one chosen (and `also`, as a conflict shows the
        row's own), then the first of those whose names match what was typed."""
        offered: list[AuthorRef] = []
        chosen = form.author_id.data if isinstance(form.author_id.data, int) else None
        for author_id in (chosen, *also):
            if author_id is not None and 0 < author_id <= MAX_ID:
                author = await authors_named.author(self.database, author_id)
                if author is not None and author not in offered:
                    offered.append(author)
        shown = authors_named.SHOWN
        typed = form.author_name.data or ""
        # One more than is shown, to know whether there are more.
        named = await authors_named.authors_named(self.database, typed, shown + 1)
        form.more_authors = len(named) > shown
        offered += [author for author in named[:shown] if author not in offered]
        form.offered_authors = offered
        form.author_id.choices = options((author.id, author.name) for author in offered)

    async def _valid(self, form: EditForm) -> bool:
        """The form's own rules, then what the catalog can tell before saving."""
        valid = form.validate()
        if isinstance(form, BookForm):
            valid = _choose_author(form) and valid
        if isinstance(form, CopyForm) and form.book_id.data and not form.book_id.errors:
            if await editing.book_title(self.database, form.book_id.data) is None:
                form.book_id.errors = ["There is no book with that number."]
                valid = False
        return valid

    def _form_page(
        self,
        request: Request,
        kind: str,
        form: EditForm,
        row_id: RowId | None,
        status: int = 200,
        book_title: str | None = None,
    ) -> Response:
        if row_id is None:
            action, heading = self._path(f"{kind}_create"), f"Add {_article(kind)} {kind}"
        else:
            action, heading = self._path(f"{kind}_update", id=row_id), f"Edit {kind}"
        return self._page(
            request,
            "catalog/editing/form.html",
            status,
            kind=kind,
            form=form,
            action=action,
            heading=heading,
            checks=self._checks(kind, row_id),
            book_title=book_title,
        )

    def _checks(self, kind: str, row_id: RowId | None) -> dict[str, str]:
        """The fields checked as they are typed, and where their checks go."""
        if kind == "book":
            if row_id is None:
                return {"isbn": self._path("book_check_isbn")}
            return {"isbn": self._path("book_update_check_isbn", id=row_id)}
        if kind == "author":
            check = self._path("author_check_dates")
            return {"date_of_birth": check, "date_of_death": check}
        return {}

    # -- create and update -----------------------------------------------------------------

    async def create(self, request: Request, kind: str) -> Response:
        if request.method == "GET":
            prefill: dict[str, Any] = {}
            book = _book_id(request.query_params.get("book"))
            if kind == "copy" and book is not None:
                prefill["book_id"] = book
            form = await self._form(kind, **prefill)
            title = await self._copy_of(form)
            return self._form_page(request, kind, form, None, book_title=title)
        async with request.form(max_files=0) as data:
            form = await self._form(kind, data)
        if not await self._valid(form):
            return self._form_page(request, kind, form, None, book_title=await self._copy_of(form))
        try:
            row_id = await editing.create(self.database, kind, row_values(form), _user_id(request))
        except (editing.Taken, editing.Broken) as refused:
            return self._refused(request, kind, form, None, refused)
        return see_other(self._shown(kind, row_id, row_values(form)))

    async def update(self, request: Request, kind: str) -> Response:
        row_id: RowId = request.path_params["id"]
        if request.method == "GET":
            current = await editing.load(self.database, kind, row_id)
            if current is None:
                return not_found(request, NO_SUCH.format(kind=kind))
            form = await self._form(kind, **current)
            title = await self._copy_of(form)
            return self._form_page(request, kind, form, row_id, book_title=title)
        async with request.form(max_files=0) as data:
            form = await self._form(kind, data)
        if form.version.data is None and not form.version.errors:
            form.version.errors = ["The form was sent without the version it was loaded at."]
        if not await self._valid(form) or form.version.data is None:
            return self._form_page(
                request, kind, form, row_id, book_title=await self._copy_of(form)
            )
        try:
            await editing.update(
                self.database,
                kind,
                row_id,
                form.version.data,
                row_values(form),
                _user_id(request),
            )
        except editing.Gone:
            return not_found(request, NO_SUCH.format(kind=kind))
        except editing.Conflict as conflict:
            if isinstance(form, BookForm):
                await self._offer_authors(form, conflict.current["author_id"])
            return self._conflict_page(request, kind, row_id, form, conflict.current)
        except (editing.Taken, editing.Broken) as refused:
            return self._refused(request, kind, form, row_id, refused)
        return see_other(self._shown(kind, row_id, row_values(form)))

    def _refused(
        self,
        request: Request,
        kind: str,
        form: EditForm,
        row_id: RowId | None,
        refused: editing.Taken | editing.Broken,
    ) -> Response:
        """The form again, saying why the catalog refused it: beside the field a taken value
        is in, or above the form."""
        if isinstance(refused, editing.Taken):
            form[refused.field].errors = [refused.message]
        else:
            form.form_errors.append(BROKEN)
        return self._form_page(request, kind, form, row_id)

    async def _copy_of(self, form: EditForm) -> str | None:
        """The title of the book a copy's form names, to show beside its number."""
        if not isinstance(form, CopyForm):
            return None
        book_id = form.book_id.data
        if not isinstance(book_id, int) or not 0 < book_id <= MAX_ID:
            return None
        return await editing.book_title(self.database, book_id)

    def _conflict_page(
        self,
        request: Request,
        kind: str,
        row_id: RowId,
        form: EditForm,
        current: dict[str, Any],
    ) -> Response:
        """Their values beside the current ones, and a form that saves theirs over these."""
        rows = [
            (field.label.text, _shown(field, field.data), _shown(field, current.get(field.name)))
            for field in form
            if field.name not in NOT_COLUMNS
        ]
        again = [
            (name, value) for name, value in _resubmission(form) if name not in NOT_COLUMNS
        ] + [("version", str(current["version"]))]
        return self._page(
            request,
            "catalog/editing/conflict.html",
            409,
            kind=kind,
            rows=rows,
            again=again,
            action=self._path(f"{kind}_update", id=row_id),
        )

    def _shown(self, kind: str, row_id: RowId, values: Mapping[str, Any]) -> str:
        """Where a saved row is seen: its page, or for a copy its book's."""
        if kind == "copy":
            return self._path("book_detail", id=values["book_id"])
        return self._path(f"{kind}_detail", id=row_id)

    # -- delete ----------------------------------------------------------------------------

    async def delete(self, request: Request, kind: str) -> Response:
        row_id: RowId = request.path_params["id"]
        current = await editing.load(self.database, kind, row_id)
        if current is None:
            return not_found(request, NO_SUCH.format(kind=kind))
        if request.method == "GET":
            found = await editing.blockers(self.database, kind, row_id)
            return self._delete_page(request, kind, row_id, current, found)
        try:
            await editing.delete(self.database, kind, row_id, _user_id(request))
        except editing.Gone:
            return not_found(request, NO_SUCH.format(kind=kind))
        except editing.Blocked as blocked:
            return self._delete_page(request, kind, row_id, current, blocked.blockers, 409)
        if kind == "copy":
            return see_other(self._path("book_detail", id=current["book_id"]))
        return see_other(self._path(_list_of(kind)))

    def _delete_page(
        self,
        request: Request,
        kind: str,
        row_id: RowId,
        current: dict[str, Any],
        found: editing.Blockers | None,
        status: int = 200,
    ) -> Response:
        blockers = None
        if found is not None:
            links = [(b.label, self._blocker_path(b)) for b in found.rows]
            blockers = {"reason": found.reason, "links": links, "more": found.more}
        return self._page(
            request,
            "catalog/editing/delete.html",
            status,
            kind=kind,
            label=_label(kind, current),
            blockers=blockers,
            action=self._path(f"{kind}_delete", id=row_id),
            back=self._back(kind, row_id, current),
        )

    def _blocker_path(self, blocker: editing.Blocker) -> str:
        if blocker.kind == "copy":
            return self._path("copy_update", id=blocker.id)
        return self._path("book_detail", id=blocker.id)

    def _back(self, kind: str, row_id: RowId, current: dict[str, Any]) -> str:
        if kind == "copy":
            return self._path("book_detail", id=current["book_id"])
        return self._path(f"{kind}_detail", id=row_id)

    # -- checks as the librarian types -----------------------------------------------------

    async def author_choices(self, request: Request) -> Response:
        """The book form's choice of author, for what is typed in its author box so far."""
        form = BookForm(formdata=request.query_params)  # of the rest, nothing is shown
        await self._offer_authors(form)
        return self._fragment(request, "catalog/editing/_author_choices.html", form=form)

    async def check_isbn(self, request: Request) -> Response:
        """The ISBN field's error slot: its check digit, and whether another book has it."""
        book_id: int | None = request.path_params.get("id")
        async with request.form(max_files=0) as data:
            form = BookForm(formdata=data)  # only the ISBN is checked: no choices are read
        field = form["isbn"]
        if _validate_field(form, "isbn") and field.data:
            holder = await editing.isbn_holder(self.database, field.data)
            if holder is not None and holder != book_id:
                field.errors = ["Another book has this ISBN."]
        return self._slots(request, form, ["isbn"])

    async def check_dates(self, request: Request) -> Response:
        """The error slots of an author's dates: each a date, death not before birth."""
        async with request.form(max_files=0) as data:
            form = await self._form("author", data)
        for name in ("date_of_birth", "date_of_death"):
            _validate_field(form, name)
        return self._slots(request, form, ["date_of_death", "date_of_birth"])

    def _slots(self, request: Request, form: EditForm, names: list[str]) -> Response:
        """The first field's slot, to swap in where the check came from, and the others'
        out of band."""
        fields = [form[name] for name in names]
        return self._fragment(request, "catalog/editing/_slots.html", fields=fields)

    def _fragment(self, request: Request, template: str, **context: Any) -> Response:
        """A part of a form that htmx swaps in as the librarian types; kept by no cache."""
        response = HTMLResponse(render(template, Frame.of(self.site, request), **context))
        response.headers["Cache-Control"] = "no-store"
        return response


def _choose_author(form: BookForm) -> bool:
    """Whether the form names its author, after validation: the one chosen, or else the one
    author whose name matches what was typed. If none, an error that says what to do (the form
    then offers the authors who match)."""
    field, typed = form.author_id, form.author_name.data
    if field.errors:  # sent as something that is no author the form offers
        field.errors = ["That author is not in the catalog (deleted meanwhile?): choose again."]
    elif field.data is not None:
        return True
    elif len(form.offered_authors) == 1 and not form.more_authors and typed:
        field.data = form.offered_authors[0].id
        return True
    elif not typed:
        field.errors = ["Type part of the author's name, then choose the author."]
    elif form.offered_authors:
        field.errors = [f"More than one author's name has “{typed}”: choose one."]
    else:
        field.errors = [f"No author's name has “{typed}”. Add the author first, or type less."]
    return False


def _validate_field(form: EditForm, name: str) -> bool:
    """One field's rules, its form's `validate_<name>` method included (which
    `Field.validate` alone does not run)."""
    method = getattr(form, f"validate_{name}", None)
    extra = [] if method is None else [lambda _form, field: method(field)]
    return bool(form[name].validate(form, extra_validators=extra))


def _user_id(request: Request) -> int:
    account = signed_in_account(request)
    assert account is not None, "the route is declared librarians_only"
    return account.id


def _book_id(raw: str | None) -> int | None:
    if raw is None or not raw.isascii() or not raw.isdigit() or len(raw) > 10:
        return None
    value = int(raw)
    return value if 0 < value <= MAX_ID else None


def _article(kind: str) -> str:
    return "an" if kind == "author" else "a"


def _list_of(kind: str) -> str:
    return {"author": "authors", "book": "books", "genre": "genres", "language": "languages"}[kind]


def _label(kind: str, row: Mapping[str, Any]) -> str:
    if kind == "author":
        return f"{row['last_name']}, {row['first_name']}" if row["first_name"] else row["last_name"]
    if kind == "book":
        return str(row["title"])
    if kind == "copy":
        return f"{row['imprint']} ({row['id']})"
    return str(row["name"])


def _shown(field: Any, value: Any) -> str:
    """A value as a person reads it: a choice by its label, a date in ISO form."""
    if value is None or value == "" or value == []:
        return "—"
    choices = {choice.value: choice.label for choice in getattr(field, "choices", None) or []}
    if isinstance(value, list):
        return ", ".join(str(choices.get(item, item)) for item in value)
    if choices:
        return str(choices.get(value, value))
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _resubmission(form: EditForm) -> list[tuple[str, str]]:
    """The form's values as the fields of a form that sends them again."""
    pairs: list[tuple[str, str]] = []
    for field in form:
        value = field.data
        if isinstance(value, list):
            pairs.extend((field.name, str(item)) for item in value)
        elif isinstance(value, dt.date):
            pairs.append((field.name, value.isoformat()))
        elif isinstance(value, uuid.UUID):
            pairs.append((field.name, str(value)))
        else:
            pairs.append((field.name, "" if value is None else str(value)))
    return pairs
