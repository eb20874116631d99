"""The seed command: the demo catalog loads once, whatever the number of runs, on both engines."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from locallibrary.catalog.seed import demo_catalog, isbn13, seed_synthetic
from locallibrary.catalog.tables import CopyStatus, book_instance
from locallibrary.database import async_driver_url


def run_cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [sys.executable, "-m", "locallibrary", *args], env=env, capture_output=True, text=True
    )


def row_counts(url: str) -> dict[str, int]:
    async def count() -> dict[str, int]:
        engine = create_async_engine(async_driver_url(url))
        async with engine.connect() as conn:
            result = {
                table: (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
                for table in (
                    "catalog_author",
                    "catalog_genre",
                    "catalog_language",
                    "catalog_book",
                    "catalog_book_genre",
                    "catalog_bookinstance",
                )
            }
        await engine.dispose()
        return result

    return asyncio.run(count())


def test_seed_loads_the_demo_catalog_once(empty_database_url: str) -> None:
    demo = demo_catalog()
    first = run_cli("seed", database_url=empty_database_url)
    assert first.returncode == 0, first.stderr
    assert f"added {len(demo['books'])} books" in first.stdout
    counts = row_counts(empty_database_url)
    assert counts["catalog_book"] == len(demo["books"]) >= 40
    assert counts["catalog_author"] == len(demo["authors"])
    assert counts["catalog_genre"] == len(demo["genres"])
    assert counts["catalog_language"] == len(demo["languages"])
    assert counts["catalog_book_genre"] == sum(len(b["genres"]) for b in demo["books"])
    assert len(demo["books"]) <= counts["catalog_bookinstance"] <= 4 * len(demo["books"])

    second = run_cli("seed", database_url=empty_database_url)
    assert second.returncode == 0, second.stderr
    assert "added 0 books, 0 copies, 0 authors" in second.stdout
    assert row_counts(empty_database_url) == counts


def test_demo_copies_cover_every_status_with_due_dates_near_today(database_url: str) -> None:
    async def copies() -> list[tuple[str, dt.date | None]]:
        engine = create_async_engine(async_driver_url(database_url))
        async with engine.connect() as conn:
            rows = (
                await conn.execute(select(book_instance.c.status, book_instance.c.due_back))
            ).all()
        await engine.dispose()
        return [(r.status, r.due_back) for r in rows]

    rows = asyncio.run(copies())
    assert {status for status, _ in rows} == {s.value for s in CopyStatus}
    today = dt.date.today()
    for status, due_back in rows:
        if status == CopyStatus.ON_LOAN.value:
            assert due_back is not None and abs((due_back - today).days) <= 30


def test_synthetic_catalog_grows_to_the_asked_size_and_no_further(empty_database_url: str) -> None:
    result = run_cli("seed", "--books", "2500", database_url=empty_database_url)
    assert result.returncode == 0, result.stderr
    assert "Synthetic catalog: added 2500 books" in result.stdout
    counts = row_counts(empty_database_url)
    demo_books = len(demo_catalog()["books"])
    assert counts["catalog_book"] == demo_books + 2500
    synthetic_copies = counts["catalog_bookinstance"] - 139 * 0  # every book has 2 to 4 copies
    assert 2 * 2500 <= synthetic_copies

    again = run_cli("seed", "--books", "2500", database_url=empty_database_url)
    assert "Synthetic catalog: added 0 books" in again.stdout
    assert row_counts(empty_database_url) == counts


def test_synthetic_seeding_reports_progress(empty_database_url: str) -> None:
    done: list[int] = []

    async def grow() -> None:
        engine = create_async_engine(async_driver_url(empty_database_url))
        async with engine.connect() as conn:
            await seed_synthetic(conn, 4500, progress=done.append)
        await engine.dispose()

    asyncio.run(grow())
    assert done == [2000, 2000, 500]


def test_isbn13_check_digit() -> None:
    assert isbn13("978014143951") == "9780141439518"  # Pride and Prejudice, Penguin Classics
    assert isbn13("979000000001")[-1] == str((10 - (9 + 7 * 3 + 9 + 1 * 3) % 10) % 10)


def test_seed_against_an_unreachable_database_is_one_line(tmp_path: object) -> None:
    result = run_cli("seed", database_url="sqlite:////nonexistent-dir/x.sqlite3")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("Error: ")
    assert "Traceback" not in result.stderr
    assert func is not None
