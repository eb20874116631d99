"""The counts cache, and list windows read from the nearer end."""

from __future__ import annotations

import asyncio

import pytest
from databases import Database

from locallibrary.catalog.counts import CountsCache, count_catalog
from locallibrary.catalog.pagination import page_window
from locallibrary.database import SiteDatabase
from tests.clock import FakeClock
from tests.db import sql, with_database

INSERT_AUTHOR = "INSERT INTO catalog_author (first_name, last_name) VALUES ('A', 'B')"


def test_counts_are_cached_for_max_age_then_refreshed(database_url: str) -> None:
    clock = FakeClock(100.0)
    cache = CountsCache(max_age=1.0, clock=clock)

    async def scenario(database: SiteDatabase) -> list[int]:
        seen = [(await cache.get(database)).authors]
        await database.execute(INSERT_AUTHOR)
        clock.now += 0.5
        seen.append((await cache.get(database)).authors)  # still the cached counts
        clock.now += 0.6
        seen.append((await cache.get(database)).authors)  # stale: answered, and refreshed
        await cache.settle()
        seen.append((await cache.get(database)).authors)
        seen.append((await count_catalog(database)).authors)
        return seen

    first, cached, stale, refreshed, actual = with_database(database_url, scenario)
    assert cached == stale == first
    assert refreshed == first + 1 == actual


def test_a_max_age_of_zero_counts_on_every_request(database_url: str) -> None:
    cache = CountsCache(max_age=0.0)

    async def scenario(database: SiteDatabase) -> tuple[int, int]:
        before = (await cache.get(database)).authors
        await database.execute(INSERT_AUTHOR)
        return before, (await cache.get(database)).authors

    before, after = with_database(database_url, scenario)
    assert after == before + 1


def with_blocked_counting(database: Database) -> tuple[asyncio.Event, list[int]]:
    """Make the database's fetch_one count its calls and wait for the returned event."""
    proceed, calls = asyncio.Event(), [0]
    original = database.fetch_one

    async def blocked_fetch_one(*args: object, **kwargs: object) -> object:
        calls[0] += 1
        await proceed.wait()
        return await original(*args, **kwargs)  # type: ignore[arg-type]

    database.fetch_one = blocked_fetch_one  # type: ignore[method-assign]
    return proceed, calls


def test_concurrent_first_reads_share_one_query(database_url: str) -> None:
    cache = CountsCache(max_age=60.0)

    async def scenario(database: SiteDatabase) -> int:
        proceed, calls = with_blocked_counting(database)
        readers = [asyncio.ensure_future(cache.get(database)) for _ in range(20)]
        await asyncio.sleep(0)
        assert not any(reader.done() for reader in readers)  # the first read is awaited
        proceed.set()
        assert len(set(await asyncio.gather(*readers))) == 1
        return calls[0]

    assert with_database(database_url, scenario) == 1


def test_stale_counts_are_served_while_one_refresh_runs(database_url: str) -> None:
    clock = FakeClock(100.0)
    cache = CountsCache(max_age=1.0, clock=clock)

    async def scenario(database: SiteDatabase) -> None:
        first = await cache.get(database)
        proceed, calls = with_blocked_counting(database)
        clock.now += 2
        # The refresh is blocked, and still every request is answered, with the old counts.
        answers = await asyncio.wait_for(
            asyncio.gather(*(cache.get(database) for _ in range(20))), timeout=10
        )
        assert answers == [first] * 20
        proceed.set()
        await cache.settle()
        assert calls == [1]  # one refresh for all twenty

    with_database(database_url, scenario)


def test_a_failed_refresh_is_met_by_the_next_request(database_url: str) -> None:
    clock = FakeClock(100.0)
    cache = CountsCache(max_age=1.0, clock=clock)

    async def scenario(database: SiteDatabase) -> None:
        await cache.get(database)
        original = database.fetch_one

        async def failing_fetch_one(*args: object, **kwargs: object) -> object:
            raise ConnectionError("the database went away")

        database.fetch_one = failing_fetch_one  # type: ignore[method-assign]
        clock.now += 2
        await cache.get(database)  # answered from the cache; the refresh fails
        await cache.settle()
        with pytest.raises(ConnectionError):
            await cache.get(database)  # no stale counts are kept after a failure
        database.fetch_one = original  # type: ignore[method-assign]
        assert (await cache.get(database)).books > 0

    with_database(database_url, scenario)


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


def test_every_page_read_from_either_end_lists_each_book_once(
    client: object, database_url: str
) -> None:
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
