"""What the loans' pages read: the open loans by due date, a patron's loans and holds.

Each statement is written out here. Those made on the event loop are bounded (a point lookup,
or a page of an index: tests/database/test_plans.py checks each plan); "All borrowed" pages the
open loans along their due-date index with a page index (catalog/page_index.py), so a deep page
costs what the first does; its count and the page index's pass run off the loop.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from locallibrary.accounts.users import name_key
from locallibrary.catalog.ids import MAX_ID
from locallibrary.catalog.page_index import OrderedList, PageIndex
from locallibrary.catalog.pagination import Page, page_number
from locallibrary.database import Database, Row
from locallibrary.database.values import as_date, as_uuid

# A patron's page shows this many of their open loans and of their past ones, at most.
MAX_OPEN_LOANS_SHOWN = 200
MAX_HISTORY_SHOWN = 50
# Patrons found by name for the lend form: two are enough to know the name is not unique.
NAME_MATCHES = 2

_OPEN_LOAN_COLUMNS = """
    loan.id, loan.due_back, loan.renewals, loan.copy_id, copy.imprint,
    book.id AS book_id, book.title, patron.name AS patron_name, patron.email AS patron_email
"""
_OPEN_LOAN_JOINS = """
    FROM loans AS loan
    JOIN catalog_bookinstance AS copy ON copy.id = loan.copy_id
    JOIN catalog_book AS book ON book.id = copy.book_id
    JOIN users AS patron ON patron.id = loan.patron_id
"""
OPEN_LOANS = OrderedList(
    name="open loans",
    key=("due_back", "id"),
    first_rows=f"""
        SELECT {_OPEN_LOAN_COLUMNS} {_OPEN_LOAN_JOINS}
        WHERE loan.returned_at IS NULL AND (loan.due_back, loan.id) >= (
            SELECT due_back, id FROM loans WHERE returned_at IS NULL
            ORDER BY due_back, id LIMIT 1 OFFSET :skip
        )
        ORDER BY loan.due_back, loan.id
        LIMIT :limit
    """,
    rows_from=f"""
        SELECT {_OPEN_LOAN_COLUMNS} {_OPEN_LOAN_JOINS}
        WHERE loan.returned_at IS NULL AND (loan.due_back, loan.id) >= (
            SELECT due_back, id FROM loans
            WHERE returned_at IS NULL AND (due_back, id) >= (:key0, :key1)
            ORDER BY due_back, id
            LIMIT 1 OFFSET :skip
        )
        ORDER BY loan.due_back, loan.id
        LIMIT :limit
    """,
    entries="""
        SELECT due_back, id FROM (
            SELECT due_back, id, row_number() OVER (ORDER BY due_back, id) AS position
            FROM loans WHERE returned_at IS NULL
        ) AS ordered
        WHERE position % :every = 1
        ORDER BY due_back, id
    """,
)
# Off the loop: it counts every open loan.
OPEN_LOAN_COUNT = "SELECT count(*) FROM loans WHERE returned_at IS NULL"

PATRON_OPEN_LOANS = """
    SELECT loan.id, loan.due_back, loan.renewals, book.id AS book_id, book.title
    FROM loans AS loan
    JOIN catalog_bookinstance AS copy ON copy.id = loan.copy_id
    JOIN catalog_book AS book ON book.id = copy.book_id
    WHERE loan.patron_id = :patron_id AND loan.returned_at IS NULL
    ORDER BY loan.due_back, loan.id
    LIMIT :limit
"""
PATRON_HISTORY = """
    SELECT loan.id, loan.lent_at, loan.returned_at, book.id AS book_id, book.title
    FROM loans AS loan
    JOIN catalog_bookinstance AS copy ON copy.id = loan.copy_id
    JOIN catalog_book AS book ON book.id = copy.book_id
    WHERE loan.patron_id = :patron_id AND loan.returned_at IS NOT NULL
    ORDER BY loan.returned_at DESC, loan.id DESC
    LIMIT :limit
"""
# Each hold with its place: the open holds of its book still waiting, up to it (0 once a copy
# is set aside for it).
PATRON_HOLDS = """
    SELECT hold.id, hold.copy_id, book.id AS book_id, book.title,
           CASE WHEN hold.copy_id IS NULL THEN (
               SELECT count(*) FROM holds AS ahead
               WHERE ahead.book_id = hold.book_id AND ahead.copy_id IS NULL
                 AND ahead.fulfilled_at IS NULL AND ahead.cancelled_at IS NULL
                 AND ahead.id <= hold.id
           ) ELSE 0 END AS place
    FROM holds AS hold
    JOIN catalog_book AS book ON book.id = hold.book_id
    WHERE hold.patron_id = :patron_id
      AND hold.fulfilled_at IS NULL AND hold.cancelled_at IS NULL
    ORDER BY hold.id
    LIMIT :limit
"""
HOLD_ON_BOOK = """
    SELECT hold.id, hold.copy_id, book_id,
           CASE WHEN hold.copy_id IS NULL THEN (
               SELECT count(*) FROM holds AS ahead
               WHERE ahead.book_id = hold.book_id AND ahead.copy_id IS NULL
                 AND ahead.fulfilled_at IS NULL AND ahead.cancelled_at IS NULL
                 AND ahead.id <= hold.id
           ) ELSE 0 END AS place
    FROM holds AS hold
    WHERE hold.book_id = :book_id AND hold.patron_id = :patron_id
      AND hold.fulfilled_at IS NULL AND hold.cancelled_at IS NULL
"""
LOAN = f"""
    SELECT {_OPEN_LOAN_COLUMNS}, loan.returned_at {_OPEN_LOAN_JOINS}
    WHERE loan.id = :loan_id
"""
COPY = """
    SELECT copy.id, copy.imprint, copy.status, book.id AS book_id, book.title
    FROM catalog_bookinstance AS copy JOIN catalog_book AS book ON book.id = copy.book_id
    WHERE copy.id = :copy_id
"""
# Through ix_users_name_key (migration 0013), in its order.
PATRONS_NAMED = """
    SELECT id, name, email FROM users WHERE name_key = :name_key ORDER BY id LIMIT :limit
"""

# The reads that may visit many rows, made off the loop.
OFF_LOOP_READS = (OPEN_LOAN_COUNT, OPEN_LOANS.entries)

# The reads made on the event loop, for the test of their plans (with values that exercise them).
BOUNDED_READS: dict[str, tuple[str, dict[str, Any]]] = {
    "all borrowed, first rows": (OPEN_LOANS.first_rows, {"skip": 0, "limit": 10}),
    "all borrowed, rows from an index entry": (
        OPEN_LOANS.rows_from,
        {"key0": dt.date(2026, 1, 1), "key1": 0, "skip": 5, "limit": 10},
    ),
    "a patron's open loans": (PATRON_OPEN_LOANS, {"patron_id": 1, "limit": 10}),
    "a patron's loan history": (PATRON_HISTORY, {"patron_id": 1, "limit": 10}),
    "a patron's holds": (PATRON_HOLDS, {"patron_id": 1, "limit": 10}),
    "a patron's hold on a book": (HOLD_ON_BOOK, {"book_id": 1, "patron_id": 1}),
    "a loan": (LOAN, {"loan_id": 1}),
    "a copy": (COPY, {"copy_id": uuid.UUID(int=1)}),
    "patrons of a name": (PATRONS_NAMED, {"name_key": "ann reader", "limit": NAME_MATCHES}),
}


@dataclass(frozen=True)
class OpenLoan:
    id: int
    due_back: dt.date
    renewals: int
    copy_id: uuid.UUID
    imprint: str
    book_id: int
    title: str
    patron_name: str
    patron_email: str
    returned: bool = False

    def overdue(self, today: dt.date) -> bool:
        return self.due_back < today


@dataclass(frozen=True)
class PatronLoan:
    id: int
    due_back: dt.date
    renewals: int
    book_id: int
    title: str

    def overdue(self, today: dt.date) -> bool:
        return self.due_back < today


@dataclass(frozen=True)
class PastLoan:
    id: int
    lent_on: dt.date
    returned_on: dt.date
    book_id: int
    title: str


@dataclass(frozen=True)
class Hold:
    id: int
    book_id: int
    title: str
    place: int  # 1 is next; 0 once a copy is set aside for it

    @property
    def ready(self) -> bool:
        return self.place == 0


@dataclass(frozen=True)
class CopyRef:
    id: uuid.UUID
    imprint: str
    status: str
    book_id: int
    title: str


@dataclass(frozen=True)
class Patron:
    id: int
    name: str
    email: str


def _day(seconds: int) -> dt.date:
    return dt.datetime.fromtimestamp(seconds, dt.UTC).date()


def _due(row: Row) -> dt.date:
    due_back = as_date(row["due_back"])
    assert due_back is not None, "a loan always has a due date"
    return due_back


def _open_loan(row: Row) -> OpenLoan:
    return OpenLoan(
        id=row["id"],
        due_back=_due(row),
        renewals=row["renewals"],
        copy_id=as_uuid(row["copy_id"]),
        imprint=row["imprint"],
        book_id=row["book_id"],
        title=row["title"],
        patron_name=row["patron_name"],
        patron_email=row["patron_email"],
    )


class OpenLoanCount:
    """The number of open loans, counted off the loop once per catalog version (every loan
    change moves it: migration 0006_loans)."""

    def __init__(self) -> None:
        self._counted: tuple[int, int] | None = None  # (version, count)

    async def count(self, database: Database, version: int) -> int:
        counted = self._counted
        if counted is None or counted[0] != version:
            rows = await database.fetch_all_off_loop(OPEN_LOAN_COUNT)
            counted = self._counted = (version, int(rows[0][0]))
        return counted[1]


async def open_loans_page(
    database: Database,
    index: PageIndex,
    version: int,
    raw_page: str | None,
    per_page: int,
    total: int,
) -> Page[OpenLoan]:
    """One page of every open loan, by due date (InvalidPage if there is no such page)."""
    number = page_number(raw_page, total, per_page)
    rows = await index.rows(database, version, (number - 1) * per_page, per_page)
    return Page([_open_loan(row) for row in rows], number, per_page, total)


async def loan(database: Database, loan_id: int) -> OpenLoan | None:
    if not 0 < loan_id <= MAX_ID:
        return None
    row = await database.fetch_one(LOAN, {"loan_id": loan_id})
    if row is None:
        return None
    found = _open_loan(row)
    if row["returned_at"] is None:
        return found
    return replace(found, returned=True)


async def patron_open_loans(database: Database, patron_id: int) -> list[PatronLoan]:
    rows = await database.fetch_all(
        PATRON_OPEN_LOANS, {"patron_id": patron_id, "limit": MAX_OPEN_LOANS_SHOWN}
    )
    return [
        PatronLoan(row["id"], _due(row), row["renewals"], row["book_id"], row["title"])
        for row in rows
    ]


async def patron_history(database: Database, patron_id: int) -> list[PastLoan]:
    rows = await database.fetch_all(
        PATRON_HISTORY, {"patron_id": patron_id, "limit": MAX_HISTORY_SHOWN}
    )
    return [
        PastLoan(
            row["id"], _day(row["lent_at"]), _day(row["returned_at"]), row["book_id"], row["title"]
        )
        for row in rows
    ]


async def patron_holds(database: Database, patron_id: int) -> list[Hold]:
    rows = await database.fetch_all(
        PATRON_HOLDS, {"patron_id": patron_id, "limit": MAX_OPEN_LOANS_SHOWN}
    )
    return [Hold(row["id"], row["book_id"], row["title"], row["place"]) for row in rows]


async def hold_on_book(database: Database, patron_id: int, book_id: int) -> Hold | None:
    """The patron's open hold on the book, with its place, if they have one."""
    row = await database.fetch_one(HOLD_ON_BOOK, {"book_id": book_id, "patron_id": patron_id})
    return None if row is None else Hold(row["id"], row["book_id"], "", row["place"])


async def copy(database: Database, copy_id: uuid.UUID) -> CopyRef | None:
    row = await database.fetch_one(COPY, {"copy_id": copy_id})
    if row is None:
        return None
    return CopyRef(as_uuid(row["id"]), row["imprint"], row["status"], row["book_id"], row["title"])


async def patrons_named(database: Database, name: str) -> Sequence[Patron]:
    """The accounts with this name (whatever its case, accents and spacing), two at most."""
    values = {"name_key": name_key(name), "limit": NAME_MATCHES}
    rows = await database.fetch_all(PATRONS_NAMED, values)
    return [Patron(row["id"], row["name"], row["email"]) for row in rows]
