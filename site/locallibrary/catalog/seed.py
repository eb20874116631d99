"""Demo data: the classic books of the demo catalog, and large synthetic catalogs for load tests.

Both loads are idempotent: the demo catalog is matched by ISBN and names, and synthetic books are
numbered, so a second run adds only what is missing.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from faker import Faker
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from locallibrary.catalog.tables import (
    CopyStatus,
    author,
    book,
    book_genre,
    book_instance,
    genre,
    language,
)

# Synthetic books get ISBNs under a prefix the demo catalog never uses, numbered from 1.
SYNTHETIC_ISBN_PREFIX = "9790"
BATCH_SIZE = 2_000
IMPRINTS = (
    "Penguin Classics",
    "Oxford World's Classics",
    "Vintage",
    "Everyman's Library",
    "Wordsworth Editions",
    "Modern Library",
    "Dover Thrift",
    "Folio Society",
)


@dataclass(frozen=True)
class SeedReport:
    books: int
    copies: int
    authors: int


def isbn13(first_twelve: str) -> str:
    """Append the ISBN-13 check digit to twelve digits."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first_twelve))
    return first_twelve + str((10 - total % 10) % 10)


def demo_catalog() -> dict[str, Any]:
    text = resources.files("locallibrary.catalog").joinpath("demo_catalog.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def make_copies(
    book_id: int, rng: random.Random, today: dt.date, count: int
) -> list[dict[str, Any]]:
    """`count` copies of a book, in every status, with due dates relative to `today`."""
    copies = []
    for _ in range(count):
        status = rng.choice(list(CopyStatus))
        due_back = None
        if status is CopyStatus.ON_LOAN:
            # Mostly due in the coming weeks, a few already overdue.
            due_back = today + dt.timedelta(days=rng.randint(-5, 28))
        elif status is CopyStatus.RESERVED:
            due_back = today + dt.timedelta(days=rng.randint(1, 14))
        copies.append(
            {
                "id": uuid.UUID(int=rng.getrandbits(128), version=4),
                "book_id": book_id,
                "imprint": f"{rng.choice(IMPRINTS)}, {rng.randint(1950, today.year)}",
                "due_back": due_back,
                "status": status.value,
            }
        )
    return copies


async def _ids_by_name(conn: AsyncConnection, table: Any, names: Sequence[str]) -> dict[str, int]:
    existing = {row.name: row.id for row in await conn.execute(select(table.c.id, table.c.name))}
    missing = [name for name in names if name not in existing]
    if missing:
        await conn.execute(table.insert(), [{"name": name} for name in missing])
        return await _ids_by_name(conn, table, names)
    return existing


async def seed_demo(conn: AsyncConnection, today: dt.date | None = None) -> SeedReport:
    """Load the demo catalog; what is already there (by ISBN, by name) is left as it is."""
    today = today or dt.date.today()
    data = demo_catalog()
    genre_ids = await _ids_by_name(conn, genre, data["genres"])
    language_ids = await _ids_by_name(conn, language, data["languages"])

    author_ids = {
        (row.first_name, row.last_name): row.id
        for row in await conn.execute(select(author.c.id, author.c.first_name, author.c.last_name))
    }
    new_authors = [
        a for a in data["authors"] if (a["first_name"], a["last_name"]) not in author_ids
    ]
    for entry in new_authors:
        result = await conn.execute(
            author.insert()
            .values(
                first_name=entry["first_name"],
                last_name=entry["last_name"],
                date_of_birth=_date(entry["date_of_birth"]),
                date_of_death=_date(entry["date_of_death"]),
            )
            .returning(author.c.id)
        )
        author_ids[(entry["first_name"], entry["last_name"])] = result.scalar_one()

    known_isbns = set((await conn.execute(select(book.c.isbn))).scalars())
    books_added = copies_added = 0
    for entry in data["books"]:
        if entry["isbn"] in known_isbns:
            continue
        result = await conn.execute(
            book.insert()
            .values(
                title=entry["title"],
                author_id=author_ids[tuple(entry["author"])],
                summary=entry["summary"],
                isbn=entry["isbn"],
                language_id=language_ids[entry["language"]],
            )
            .returning(book.c.id)
        )
        book_id = result.scalar_one()
        await conn.execute(
            book_genre.insert(),
            [{"book_id": book_id, "genre_id": genre_ids[g]} for g in entry["genres"]],
        )
        # Seeded by ISBN: the same book always gets the same copies.
        rng = random.Random(entry["isbn"])
        copies = make_copies(book_id, rng, today, rng.randint(1, 4))
        await conn.execute(book_instance.insert(), copies)
        books_added += 1
        copies_added += len(copies)
    return SeedReport(books_added, copies_added, len(new_authors))


async def seed_demo_if_empty(conn: AsyncConnection) -> SeedReport | None:
    """Load the demo catalog into a catalog with no books (the dev server's first run)."""
    if await conn.scalar(select(func.count()).select_from(book)):
        return None
    return await seed_demo(conn)


def _batches(start: int, stop: int, size: int) -> Iterator[range]:
    for first in range(start, stop, size):
        yield range(first, min(first + size, stop))


async def seed_synthetic(
    conn: AsyncConnection,
    books: int,
    progress: Callable[[int], None] = lambda done: None,
    today: dt.date | None = None,
) -> SeedReport:
    """Grow the synthetic part of the catalog to `books` books, about three copies each.

    Commits after each batch, so an interrupted run keeps what it made and a rerun resumes.
    """
    today = today or dt.date.today()
    data = demo_catalog()
    genre_ids = list((await _ids_by_name(conn, genre, data["genres"])).values())
    language_ids = list((await _ids_by_name(conn, language, data["languages"])).values())
    existing = await conn.scalar(
        select(func.count()).select_from(book).where(book.c.isbn.like(f"{SYNTHETIC_ISBN_PREFIX}%"))
    )
    assert existing is not None
    fake = Faker()
    totals = SeedReport(0, 0, 0)
    for batch in _batches(existing + 1, books + 1, BATCH_SIZE):
        Faker.seed(batch.start)
        rng = random.Random(batch.start)
        author_rows = [
            {
                "first_name": fake.first_name(),
                "last_name": fake.last_name(),
                "date_of_birth": fake.date_between(dt.date(1700, 1, 1), dt.date(1990, 1, 1)),
            }
            for _ in range(max(1, len(batch) // 5))
        ]
        newest_author = await conn.scalar(select(func.coalesce(func.max(author.c.id), 0)))
        await conn.execute(author.insert(), author_rows)
        # RETURNING would make SQLAlchemy insert row by row; read the new ids back instead.
        author_ids = list(
            (await conn.execute(select(author.c.id).where(author.c.id > newest_author))).scalars()
        )
        book_rows = [
            {
                "title": fake.sentence(nb_words=rng.randint(2, 6)).rstrip("."),
                "author_id": rng.choice(author_ids),
                "summary": fake.paragraph(nb_sentences=3),
                "isbn": isbn13(f"{SYNTHETIC_ISBN_PREFIX}{number:08d}"),
                "language_id": rng.choice(language_ids),
            }
            for number in batch
        ]
        await conn.execute(book.insert(), book_rows)
        book_ids = list(
            (
                await conn.execute(
                    select(book.c.id).where(
                        book.c.isbn.between(book_rows[0]["isbn"], book_rows[-1]["isbn"])
                    )
                )
            ).scalars()
        )
        await conn.execute(
            book_genre.insert(),
            [
                {"book_id": b, "genre_id": g}
                for b in book_ids
                for g in rng.sample(genre_ids, rng.randint(1, 2))
            ],
        )
        copies = [c for b in book_ids for c in make_copies(b, rng, today, rng.randint(2, 4))]
        await conn.execute(book_instance.insert(), copies)
        await conn.commit()
        totals = SeedReport(
            totals.books + len(batch),
            totals.copies + len(copies),
            totals.authors + len(author_rows),
        )
        progress(len(batch))
    return totals
