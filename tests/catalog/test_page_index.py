"""Pages through the page index: every page at any depth is exactly the rows of a plain
`ORDER BY … LIMIT … OFFSET …`, and a change to the catalog is seen by the next page read."""

from __future__ import annotations

import pytest

from locallibrary.catalog import queries
from locallibrary.catalog.page_index import PageIndex
from locallibrary.catalog.state import CurrentCatalog
from locallibrary.database import Database
from tests.db import sql, with_database


def ordered_ids(database_url: str, table: str, order: str) -> list[int]:
    return [row[0] for row in sql(database_url, f"SELECT id FROM {table} ORDER BY {order}")]


@pytest.mark.parametrize("per_page", [1, 4, 10])
def test_every_book_page_is_the_plain_ordered_slice(database_url: str, per_page: int) -> None:
    # An entry every 3 rows, so that the demo catalog's 56 books need many entries.
    expected = ordered_ids(database_url, "catalog_book", "title, id")

    async def scenario(db: Database) -> list[list[int]]:
        index = PageIndex(queries.BOOKS, every=3)
        state = await CurrentCatalog(db).state()
        pages = []
        for number in range(1, -(-len(expected) // per_page) + 1):
            page = await queries.book_page(
                db, index, state.version, str(number), per_page, state.counts.books
            )
            pages.append([book.id for book in page.items])
        return pages

    pages = with_database(database_url, scenario)
    assert [book_id for page in pages for book_id in page] == expected
    assert all(len(page) == per_page for page in pages[:-1])


def test_every_author_page_is_the_plain_ordered_slice(database_url: str) -> None:
    expected = ordered_ids(database_url, "catalog_author", "last_name, first_name, id")

    async def scenario(db: Database) -> list[int]:
        index = PageIndex(queries.AUTHORS, every=2)
        state = await CurrentCatalog(db).state()
        ids = []
        for number in range(1, -(-len(expected) // 3) + 1):
            page = await queries.author_page(
                db, index, state.version, str(number), 3, state.counts.authors
            )
            ids += [author.id for author in page.items]
        return ids

    assert with_database(database_url, scenario) == expected


def test_a_deep_page_follows_a_change_once_the_version_moves(database_url: str) -> None:
    expected = ordered_ids(database_url, "catalog_book", "title, id")

    async def scenario(db: Database) -> tuple[list[int], list[int], list[int]]:
        index = PageIndex(queries.BOOKS, every=3)
        catalog = CurrentCatalog(db)

        async def tenth_page() -> list[int]:
            state = await catalog.state()
            page = await queries.book_page(db, index, state.version, "10", 2, state.counts.books)
            return [book.id for book in page.items]

        before = await tenth_page()
        # The first book moves to the end of the list: every deep page shifts by one.
        await db.execute(
            "UPDATE catalog_book SET title = 'zzz' WHERE id = :id", {"id": expected[0]}
        )
        return before, await tenth_page(), expected

    before, after, ids = with_database(database_url, scenario)
    assert before == ids[18:20]
    assert after == ids[19:21]
