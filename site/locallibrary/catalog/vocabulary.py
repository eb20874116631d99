"""Genres and languages, the catalog's two vocabularies: their lists and their detail pages.

The lists are paged as the book and author lists are (page_index.py), in name order, whatever
the case, along their unique indexes. A detail page shows the first books of its genre or language: a genre may
hold tens of thousands of a large catalog's books, and a read on the event loop is bounded.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from locallibrary.catalog.ids import MAX_ID
from locallibrary.catalog.page_index import OrderedList, PageIndex
from locallibrary.catalog.pagination import Page, page_number
from locallibrary.catalog.queries import BOOKS_SHOWN
from locallibrary.database import Database


@dataclass(frozen=True)
class Term:
    """A genre or a language."""

    id: int
    name: str


@dataclass(frozen=True)
class TermDetail:
    term: Term
    books: list[tuple[int, str]]  # (id, title), in title order
    more: bool  # the term has more books than those shown


FetchDetail = Callable[[Database, int], Awaitable[TermDetail | None]]


def _listing(name: str, table: str) -> OrderedList:
    # The two lists differ in their table only. They are in the order of the unique index on
    # lower(name), which is also what makes "Fantasy" and "fantasy" one name: unique, so the
    # name is the whole key and needs no id after it.
    return OrderedList(
        name=name,
        key=("lower(name)",),
        first_rows=f"""
            SELECT id, name FROM {table}
            WHERE lower(name) >= (
                SELECT lower(name) FROM {table} ORDER BY lower(name) LIMIT 1 OFFSET :skip
            )
            ORDER BY lower(name)
            LIMIT :limit
        """,
        rows_from=f"""
            SELECT id, name FROM {table}
            WHERE lower(name) >= (
                SELECT lower(name) FROM {table}
                WHERE lower(name) >= :key0
                ORDER BY lower(name)
                LIMIT 1 OFFSET :skip
            )
            ORDER BY lower(name)
            LIMIT :limit
        """,
        entries=f"""
            SELECT sort_key FROM (
                SELECT lower(name) AS sort_key,
                       row_number() OVER (ORDER BY lower(name)) AS position
                FROM {table}
            ) AS ordered
            WHERE position % :every = 1
            ORDER BY sort_key
        """,
    )


GENRES = _listing("genres", "catalog_genre")
LANGUAGES = _listing("languages", "catalog_language")

GENRE = "SELECT id, name FROM catalog_genre WHERE id = :id"
LANGUAGE = "SELECT id, name FROM catalog_language WHERE id = :id"
# By book id along the (genre_id, book_id) index, so that no sort runs; sorted by title here.
# Each title is a look-up by key of its own, not a join, which PostgreSQL's planner could
# make a merge join along the whole of the books' primary key.
GENRE_BOOKS = """
    SELECT book_genre.book_id AS id,
           (SELECT title FROM catalog_book WHERE id = book_genre.book_id) AS title
    FROM catalog_book_genre AS book_genre
    WHERE book_genre.genre_id = :id
    ORDER BY book_genre.book_id
    LIMIT :limit
"""
LANGUAGE_BOOKS = """
    SELECT id, title FROM catalog_book WHERE language_id = :id ORDER BY title, id LIMIT :limit
"""

BOUNDED_READS: dict[str, tuple[str, dict[str, Any]]] = {
    "genre list, first rows": (GENRES.first_rows, {"limit": 10, "skip": 0}),
    "genre list, rows from an index entry": (
        GENRES.rows_from,
        {"key0": "m", "skip": 5, "limit": 10},
    ),
    "language list, first rows": (LANGUAGES.first_rows, {"limit": 10, "skip": 0}),
    "language list, rows from an index entry": (
        LANGUAGES.rows_from,
        {"key0": "m", "skip": 5, "limit": 10},
    ),
    "genre": (GENRE, {"id": 1}),
    "language": (LANGUAGE, {"id": 1}),
    "genre's books": (GENRE_BOOKS, {"id": 1, "limit": BOOKS_SHOWN + 1}),
    "language's books": (LANGUAGE_BOOKS, {"id": 1, "limit": BOOKS_SHOWN + 1}),
}


async def term_page(
    db: Database, index: PageIndex, version: int, raw_page: str | None, per_page: int, total: int
) -> Page[Term]:
    """One page of the genre or language list (the index's), in name order, as of catalog
    `version`; `total` is the list's length."""
    number = page_number(raw_page, total, per_page)
    rows = await index.rows(db, version, (number - 1) * per_page, per_page)
    return Page([Term(row["id"], row["name"]) for row in rows], number, per_page, total)


async def genre_detail(db: Database, genre_id: int) -> TermDetail | None:
    return await _detail(db, GENRE, GENRE_BOOKS, genre_id)


async def language_detail(db: Database, language_id: int) -> TermDetail | None:
    return await _detail(db, LANGUAGE, LANGUAGE_BOOKS, language_id)


async def _detail(db: Database, term_sql: str, books_sql: str, term_id: int) -> TermDetail | None:
    if not 0 < term_id <= MAX_ID:
        return None
    row = await db.fetch_one(term_sql, {"id": term_id})
    if row is None:
        return None
    rows = await db.fetch_all(books_sql, {"id": term_id, "limit": BOOKS_SHOWN + 1})
    books = sorted(((r["id"], r["title"]) for r in rows[:BOOKS_SHOWN]), key=lambda b: b[1])
    return TermDetail(Term(row["id"], row["name"]), books, len(rows) > BOOKS_SHOWN)
