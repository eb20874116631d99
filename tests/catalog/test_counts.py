"""The counts cache, and list windows read from the nearer end."""

from __future__ import annotations

import asyncio

import pytest

from locallibrary.catalog.counts import CountsCache, count_catalog
from locallibrary.catalog.pagination import page_window
from locallibrary.database import connect, create_database
from tests.clock import FakeClock
from tests.db import sql


def test_counts_are_cached_for_max_age_then_read_again(database_url: str) -> None:
    clock = FakeClock(100.0)

    async def scenario() -> list[int]:
        database = create_database(database_url)
        await connect(database)
        cache = CountsCache(max_age=1.0, clock=clock)
        try:
            seen = [(await cache.get(database)).authors]
            await database.execute("INSERT INTO catalog_author (first_name, last_name) VALUES ('A', 'B')")
            clock.now += 0.5
            seen.append((await cache.get(database)).authors)  # still the cached counts
            clock.now += 0.6
            seen.append((await cache.get(database)).authors)  # stale: read again
            seen.append((await count_catalog(database)).authors)
            return seen
        finally:
            await database.disconnect()

    first, cached, refreshed, actual = asyncio.run(scenario())
    assert cached == first
    assert refreshed == first + 1 == actual


def test_concurrent_requests_share_one_refresh(database_url: str) -> None:
    calls = 0

    async def scenario() -> None:
        nonlocal calls
        database = create_database(database_url)
        await connect(database)
        original = database.fetch_one

        async def counting_fetch_one(*args: object, **kwargs: object) -> object:
            nonlocal calls
            calls += 1
            return await original(*args, **kwargs)  # type: ignore[arg-type]

        database.fetch_one = counting_fetch_one  # type: ignore[method-assign]
        cache = CountsCache(max_age=60.0)
        try:
            results = await asyncio.gather(*(cache.get(database) for _ in range(20)))
            assert len(set(results)) == 1
        finally:
            await database.disconnect()

    asyncio.run(scenario())
    assert calls == 1


@pytest.mark.parametrize(
    "total,number,per_page,expected",
    [
        (56, 1, 10, (0, 10, False)),
        (56, 3, 10, (20, 10, False)),
        (56, 4, 10, (16, 10, True)),
        (56, 6, 10, (0, 6, True)),
        (100_000, 10_000, 10, (0, 10, True)),
        (0, 1, 10, (0, 10, False)),
        (10, 1, 10, (0, 10, False)),
    ],
)
def test_page_window_reads_from_the_nearer_end(
    total: int, number: int, per_page: int, expected: tuple[int, int, bool]
) -> None:
    window = page_window(total, number, per_page)
    assert (window.offset, window.limit, window.from_end) == expected


def test_every_page_read_from_either_end_lists_each_book_once(client: object, database_url: str) -> None:
    from tests.html import parse, text

    titles: list[str] = []
    page = 1
    while True:
        tree = parse(client.get(f"/catalog/books/?page={page}").text)  # type: ignore[attr-defined]
        titles += [text(a) for a in tree.css("#book-list .items li > a")]
        if tree.css_first(".pagination a[rel=next]") is None:
            break
        page += 1
    [(count,)] = sql(database_url, "SELECT count(*) FROM catalog_book")
    ordered = [t for (t,) in sql(database_url, "SELECT title FROM catalog_book ORDER BY title, id")]
    assert titles == ordered and len(titles) == count
