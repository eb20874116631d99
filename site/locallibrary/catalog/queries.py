"""The catalog's queries: each page's data in a known, small number of round trips.

Every statement is built once, here, with named parameters, and compiled once per process
(locallibrary.database.statements); a request only passes its values.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, bindparam, select

from locallibrary.catalog.ids import MAX_ID
from locallibrary.catalog.pagination import Page, Window, page_number, page_window
from locallibrary.catalog.tables import (
    CopyStatus,
    author,
    book,
    book_genre,
    book_instance,
    genre,
    language,
)
from locallibrary.database import SiteDatabase


@dataclass(frozen=True)
class AuthorRef:
    id: int
    first_name: str
    last_name: str
    date_of_birth: dt.date | None = None
    date_of_death: dt.date | None = None

    @property
    def name(self) -> str:
        # Some authors are known by one name only (Homer).
        return f"{self.last_name}, {self.first_name}" if self.first_name else self.last_name


@dataclass(frozen=True)
class BookRow:
    id: int
    title: str
    author: AuthorRef | None


@dataclass(frozen=True)
class Copy:
    id: uuid.UUID
    imprint: str
    due_back: dt.date | None
    status: CopyStatus


@dataclass(frozen=True)
class BookDetail:
    id: int
    title: str
    summary: str
    isbn: str
    author: AuthorRef | None
    language: str | None
    genres: list[str]
    copies: list[Copy]


@dataclass(frozen=True)
class AuthorDetail:
    author: AuthorRef
    books: list[BookRow]


PageQuery = Callable[[SiteDatabase, str | None, int, int], Awaitable[Page[Any]]]
"""A list page's query: (database, raw page number, page size, rows in the list) -> the page."""


def _author_ref(row: object) -> AuthorRef | None:
    mapping = row._mapping  # type: ignore[attr-defined]
    if mapping["author_id"] is None:
        return None
    return AuthorRef(mapping["author_id"], mapping["first_name"], mapping["last_name"])


def _paged(query: Select[Any], order: list[Any]) -> tuple[Select[Any], Select[Any]]:
    """A page of `query` in `order`, and one read from the end (see pagination.Window)."""
    limit, offset = bindparam("limit"), bindparam("offset")
    forwards = query.order_by(*order).limit(limit).offset(offset)
    backwards = query.order_by(*(column.desc() for column in order)).limit(limit).offset(offset)
    return forwards, backwards


BOOK_PAGE = _paged(
    select(
        book.c.id, book.c.title, book.c.author_id, author.c.first_name, author.c.last_name
    ).select_from(book.outerjoin(author, book.c.author_id == author.c.id)),
    [book.c.title, book.c.id],
)
AUTHOR_PAGE = _paged(select(author), [author.c.last_name, author.c.first_name, author.c.id])

BOOK = (
    select(
        book.c.id,
        book.c.title,
        book.c.summary,
        book.c.isbn,
        book.c.author_id,
        author.c.first_name,
        author.c.last_name,
        language.c.name.label("language"),
    )
    .select_from(
        book.outerjoin(author, book.c.author_id == author.c.id).outerjoin(
            language, book.c.language_id == language.c.id
        )
    )
    .where(book.c.id == bindparam("book_id"))
)
BOOK_GENRES = (
    select(genre.c.name)
    .select_from(genre.join(book_genre, book_genre.c.genre_id == genre.c.id))
    .where(book_genre.c.book_id == bindparam("book_id"))
    .order_by(genre.c.name)
)
BOOK_COPIES = (
    select(
        book_instance.c.id,
        book_instance.c.imprint,
        book_instance.c.due_back,
        book_instance.c.status,
    )
    .where(book_instance.c.book_id == bindparam("book_id"))
    .order_by(book_instance.c.due_back, book_instance.c.id)
)
AUTHOR = select(author).where(author.c.id == bindparam("author_id"))
AUTHOR_BOOKS = (
    select(book.c.id, book.c.title)
    .where(book.c.author_id == bindparam("author_id"))
    .order_by(book.c.title, book.c.id)
)


async def _page_rows(
    db: SiteDatabase, statements: tuple[Select[Any], Select[Any]], window: Window
) -> list[Any]:
    """The page's rows in list order, read from whichever end of the index is nearer."""
    forwards, backwards = statements
    query = backwards if window.from_end else forwards
    rows = await db.fetch_all(query, {"limit": window.limit, "offset": window.offset})
    return rows[::-1] if window.from_end else rows


async def book_page(
    db: SiteDatabase, raw_page: str | None, per_page: int, total: int
) -> Page[BookRow]:
    """One page of the book list, in title order; `total` is the number of books."""
    number = page_number(raw_page, total, per_page)
    rows = await _page_rows(db, BOOK_PAGE, page_window(total, number, per_page))
    items = [BookRow(row.id, row.title, _author_ref(row)) for row in rows]
    return Page(items, number, per_page, total)


async def author_page(
    db: SiteDatabase, raw_page: str | None, per_page: int, total: int
) -> Page[AuthorRef]:
    """One page of the author list, by last then first name; `total` is the number of authors."""
    number = page_number(raw_page, total, per_page)
    rows = await _page_rows(db, AUTHOR_PAGE, page_window(total, number, per_page))
    return Page([AuthorRef(**dict(row._mapping)) for row in rows], number, per_page, total)


async def book_detail(db: SiteDatabase, book_id: int) -> BookDetail | None:
    if not 0 < book_id <= MAX_ID:
        return None
    row = await db.fetch_one(BOOK, {"book_id": book_id})
    if row is None:
        return None
    genres = await db.fetch_all(BOOK_GENRES, {"book_id": book_id})
    copies = await db.fetch_all(BOOK_COPIES, {"book_id": book_id})
    return BookDetail(
        id=row.id,
        title=row.title,
        summary=row.summary,
        isbn=row.isbn,
        author=_author_ref(row),
        language=row.language,
        genres=[g.name for g in genres],
        copies=[Copy(c.id, c.imprint, c.due_back, CopyStatus(c.status)) for c in copies],
    )


async def author_detail(db: SiteDatabase, author_id: int) -> AuthorDetail | None:
    if not 0 < author_id <= MAX_ID:
        return None
    row = await db.fetch_one(AUTHOR, {"author_id": author_id})
    if row is None:
        return None
    ref = AuthorRef(**dict(row._mapping))
    books = await db.fetch_all(AUTHOR_BOOKS, {"author_id": author_id})
    return AuthorDetail(ref, [BookRow(b.id, b.title, ref) for b in books])


async def book_titles(db: SiteDatabase, book_ids: list[int]) -> dict[int, str]:
    """Titles of the given books, for lists kept elsewhere (recently viewed)."""
    if not book_ids:
        return {}
    # Not a statement built once: an IN (...) list is compiled for its number of values.
    rows = await db.fetch_all(select(book.c.id, book.c.title).where(book.c.id.in_(book_ids)))
    return {row.id: row.title for row in rows}
