"""The catalog's queries: each page's data in a known, small number of round trips.

Every statement is written out here as SQL with named parameters, and each read made on the
event loop is bounded: a point lookup by key, or a page of an index (tests/database/test_plans.py
checks each plan for sorts and table scans). Lists are read in index order; a page in the middle
of a list starts from the nearest entry of its page index (page_index.py), so it costs what the
first page does.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from locallibrary.catalog.ids import MAX_ID
from locallibrary.catalog.page_index import OrderedList, PageIndex
from locallibrary.catalog.pagination import Page, page_number
from locallibrary.catalog.tables import CopyStatus
from locallibrary.database import Database, Row
from locallibrary.database.values import as_date, as_uuid


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
    copies: list[Copy]  # the first COPIES_SHOWN, by due date
    more_copies: bool  # the book has more copies than these
    on_shelf: bool  # one of its copies (shown or not) is available


@dataclass(frozen=True)
class AuthorDetail:
    author: AuthorRef
    books: list[BookRow]  # the first BOOKS_SHOWN, by title
    more: bool  # the author has more books than these


# A page of a list is `LIMIT :limit` rows from the row found by stepping `:skip` entries along the
# list's index: from its start, or from the page index's entry (:key0, :key1, …). The steps walk
# only the index, the rows read are the page's own.
BOOKS = OrderedList(
    name="books",
    key=("title", "id"),
    first_rows="""
        SELECT book.id, book.title, book.author_id, author.first_name, author.last_name
        FROM catalog_book AS book
        LEFT JOIN catalog_author AS author ON author.id = book.author_id
        WHERE (book.title, book.id) >= (
            SELECT title, id FROM catalog_book ORDER BY title, id LIMIT 1 OFFSET :skip
        )
        ORDER BY book.title, book.id
        LIMIT :limit
    """,
    rows_from="""
        SELECT book.id, book.title, book.author_id, author.first_name, author.last_name
        FROM catalog_book AS book
        LEFT JOIN catalog_author AS author ON author.id = book.author_id
        WHERE (book.title, book.id) >= (
            SELECT title, id FROM catalog_book
            WHERE (title, id) >= (:key0, :key1)
            ORDER BY title, id
            LIMIT 1 OFFSET :skip
        )
        ORDER BY book.title, book.id
        LIMIT :limit
    """,
    entries="""
        SELECT title, id FROM (
            SELECT title, id, row_number() OVER (ORDER BY title, id) AS position
            FROM catalog_book
        ) AS ordered
        WHERE position % :every = 1
        ORDER BY title, id
    """,
)
AUTHORS = OrderedList(
    name="authors",
    key=("last_name", "first_name", "id"),
    first_rows="""
        SELECT id, first_name, last_name, date_of_birth, date_of_death
        FROM catalog_author
        WHERE (last_name, first_name, id) >= (
            SELECT last_name, first_name, id FROM catalog_author
            ORDER BY last_name, first_name, id
            LIMIT 1 OFFSET :skip
        )
        ORDER BY last_name, first_name, id
        LIMIT :limit
    """,
    rows_from="""
        SELECT id, first_name, last_name, date_of_birth, date_of_death
        FROM catalog_author
        WHERE (last_name, first_name, id) >= (
            SELECT last_name, first_name, id FROM catalog_author
            WHERE (last_name, first_name, id) >= (:key0, :key1, :key2)
            ORDER BY last_name, first_name, id
            LIMIT 1 OFFSET :skip
        )
        ORDER BY last_name, first_name, id
        LIMIT :limit
    """,
    entries="""
        SELECT last_name, first_name, id FROM (
            SELECT last_name, first_name, id,
                   row_number() OVER (ORDER BY last_name, first_name, id) AS position
            FROM catalog_author
        ) AS ordered
        WHERE position % :every = 1
        ORDER BY last_name, first_name, id
    """,
)

BOOK = """
    SELECT book.id, book.title, book.summary, book.isbn, book.author_id,
           author.first_name, author.last_name, language.name AS language
    FROM catalog_book AS book
    LEFT JOIN catalog_author AS author ON author.id = book.author_id
    LEFT JOIN catalog_language AS language ON language.id = book.language_id
    WHERE book.id = :book_id
"""
BOOK_GENRES = """
    SELECT genre.name
    FROM catalog_book_genre AS book_genre
    JOIN catalog_genre AS genre ON genre.id = book_genre.genre_id
    WHERE book_genre.book_id = :book_id
"""
# How many copies a book's page shows: a library may hold hundreds of one title.
COPIES_SHOWN = 100
BOOK_COPIES = """
    SELECT id, imprint, due_back, status
    FROM catalog_bookinstance
    WHERE book_id = :book_id
    ORDER BY due_back, id
    LIMIT :limit
"""
# Whether a copy of the book is on the shelf, by key in the index on (status, book_id): asked by
# the book's page only when some copies are not shown, and by every hold placed (loans/desk.py).
BOOK_ON_SHELF = """
    SELECT id FROM catalog_bookinstance WHERE book_id = :book_id AND status = 'a' LIMIT 1
"""
AUTHOR = """
    SELECT id, first_name, last_name, date_of_birth, date_of_death
    FROM catalog_author
    WHERE id = :author_id
"""
# How many of their books an author's, a genre's or a language's page shows: a page of an index,
# however many books an author ("Anonymous") or a genre has.
BOOKS_SHOWN = 100
AUTHOR_BOOKS = """
    SELECT id, title FROM catalog_book WHERE author_id = :author_id ORDER BY title, id
    LIMIT :limit
"""
# Titles of up to five books (the recently viewed list) in one query; unused places hold 0,
# which is no book's id.
MAX_TITLES = 5
BOOK_TITLES = "SELECT id, title FROM catalog_book WHERE id IN (:id0, :id1, :id2, :id3, :id4)"

# The reads made on the event loop, for the test of their plans (with values that exercise them).
BOUNDED_READS: dict[str, tuple[str, dict[str, Any]]] = {
    "book list, first rows": (BOOKS.first_rows, {"limit": 10, "skip": 0}),
    "book list, rows from an index entry": (
        BOOKS.rows_from,
        {"key0": "M", "key1": 0, "skip": 5, "limit": 10},
    ),
    "author list, first rows": (AUTHORS.first_rows, {"limit": 10, "skip": 0}),
    "author list, rows from an index entry": (
        AUTHORS.rows_from,
        {"key0": "M", "key1": "", "key2": 0, "skip": 5, "limit": 10},
    ),
    "book": (BOOK, {"book_id": 1}),
    "book's genres": (BOOK_GENRES, {"book_id": 1}),
    "book's copies": (BOOK_COPIES, {"book_id": 1, "limit": COPIES_SHOWN + 1}),
    "book on the shelf": (BOOK_ON_SHELF, {"book_id": 1}),
    "author": (AUTHOR, {"author_id": 1}),
    "author's books": (AUTHOR_BOOKS, {"author_id": 1, "limit": BOOKS_SHOWN + 1}),
    "book titles": (BOOK_TITLES, {f"id{i}": i + 1 for i in range(MAX_TITLES)}),
}


def _author_ref(row: Row) -> AuthorRef | None:
    if row["author_id"] is None:
        return None
    return AuthorRef(row["author_id"], row["first_name"], row["last_name"])


def author_ref(row: Row) -> AuthorRef:
    """An author as read by AUTHOR or the author list."""
    return AuthorRef(
        row["id"],
        row["first_name"],
        row["last_name"],
        as_date(row["date_of_birth"]),
        as_date(row["date_of_death"]),
    )


async def _page_rows(
    db: Database, index: PageIndex, version: int, raw_page: str | None, per_page: int, total: int
) -> tuple[int, Sequence[Row]]:
    """The page number `raw_page` asks for (InvalidPage if none such) and its rows."""
    number = page_number(raw_page, total, per_page)
    return number, await index.rows(db, version, (number - 1) * per_page, per_page)


async def book_page(
    db: Database, index: PageIndex, version: int, raw_page: str | None, per_page: int, total: int
) -> Page[BookRow]:
    """One page of the book list, in title order, as of catalog `version`; `total` is the
    number of books."""
    number, rows = await _page_rows(db, index, version, raw_page, per_page, total)
    items = [BookRow(row["id"], row["title"], _author_ref(row)) for row in rows]
    return Page(items, number, per_page, total)


async def author_page(
    db: Database, index: PageIndex, version: int, raw_page: str | None, per_page: int, total: int
) -> Page[AuthorRef]:
    """One page of the author list, by last then first name, as of catalog `version`; `total`
    is the number of authors."""
    number, rows = await _page_rows(db, index, version, raw_page, per_page, total)
    return Page([author_ref(row) for row in rows], number, per_page, total)


async def book_detail(db: Database, book_id: int) -> BookDetail | None:
    if not 0 < book_id <= MAX_ID:
        return None
    row = await db.fetch_one(BOOK, {"book_id": book_id})
    if row is None:
        return None
    genres = await db.fetch_all(BOOK_GENRES, {"book_id": book_id})
    rows = await db.fetch_all(BOOK_COPIES, {"book_id": book_id, "limit": COPIES_SHOWN + 1})
    copies = [
        Copy(as_uuid(c["id"]), c["imprint"], as_date(c["due_back"]), CopyStatus(c["status"]))
        for c in rows[:COPIES_SHOWN]
    ]
    more_copies = len(rows) > COPIES_SHOWN
    on_shelf = any(copy.status is CopyStatus.AVAILABLE for copy in copies) or (
        more_copies and await db.fetch_one(BOOK_ON_SHELF, {"book_id": book_id}) is not None
    )
    return BookDetail(
        id=row["id"],
        title=row["title"],
        summary=row["summary"],
        isbn=row["isbn"],
        author=_author_ref(row),
        language=row["language"],
        genres=sorted(genre["name"] for genre in genres),  # a handful: sorted here, not by SQL
        copies=copies,
        more_copies=more_copies,
        on_shelf=on_shelf,
    )


async def author_detail(db: Database, author_id: int) -> AuthorDetail | None:
    if not 0 < author_id <= MAX_ID:
        return None
    row = await db.fetch_one(AUTHOR, {"author_id": author_id})
    if row is None:
        return None
    ref = author_ref(row)
    books = await db.fetch_all(AUTHOR_BOOKS, {"author_id": author_id, "limit": BOOKS_SHOWN + 1})
    shown = [BookRow(b["id"], b["title"], ref) for b in books[:BOOKS_SHOWN]]
    return AuthorDetail(ref, shown, more=len(books) > BOOKS_SHOWN)


async def book_titles(db: Database, book_ids: list[int]) -> dict[int, str]:
    """Titles of the given books, the first five of them, for lists kept elsewhere (recently
    viewed); ids that are no book's are left out."""
    wanted = [book_id for book_id in book_ids if 0 < book_id <= MAX_ID][:MAX_TITLES]
    values = {f"id{i}": 0 for i in range(MAX_TITLES)}
    values.update({f"id{i}": book_id for i, book_id in enumerate(wanted)})
    rows = await db.fetch_all(BOOK_TITLES, values)
    return {row["id"]: row["title"] for row in rows}
