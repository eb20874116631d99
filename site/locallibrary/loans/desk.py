"""The library's desk: lending, renewing, returning, and the patrons' holds.

A copy's status follows from its loans and holds. The `status` column is kept (the catalog's
pages and counts read it), and only this module changes it for a loan or a hold, in the same
transaction as the loan or hold it follows from:

- lending a copy opens a loan and makes the copy On loan (with its due date);
- returning closes the loan; the copy is then Reserved for the first open hold on its book
  that has no copy yet (the hold now names it), or Available;
- cancelling a hold that had a copy set aside passes the copy on the same way.

Every change here runs in one write transaction that first takes the desk's lock: on SQLite
the database's write lock (`BEGIN IMMEDIATE`), on PostgreSQL the catalog version's row, which
every catalog write locks anyway, first (migration 0002; loans and holds have its triggers,
0006_loans). So desk changes happen one after the other, each reading what the one before it
committed: two lends of one copy cannot both see it Available, a renewal cannot land on a loan
that a return closed a moment earlier, and hold ids (the queue's order) are given in commit
order. Taking that row before any other lock also means a desk change and a catalog edit queue
instead of deadlocking. The partial unique index on open loans backs the first rule in the
database itself.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from locallibrary.catalog.queries import BOOK_ON_SHELF
from locallibrary.catalog.tables import CopyStatus
from locallibrary.database import Database, Queries

# The largest number of loans one "mark returned" may close: a page of the list at most.
MAX_RETURNED_AT_ONCE = 100

LOCK_DESK = "SELECT version FROM catalog_version WHERE id = 1 FOR UPDATE"
COPY = "SELECT id, book_id, status FROM catalog_bookinstance WHERE id = :copy_id"
RESERVED_FOR = """
    SELECT patron_id FROM holds
    WHERE copy_id = :copy_id AND fulfilled_at IS NULL AND cancelled_at IS NULL
"""
# The unique index decides, should two lends ever meet: the loser gets no row back.
OPEN_LOAN = """
    INSERT INTO loans (copy_id, patron_id, lent_at, due_back, lent_by, renewals)
    VALUES (:copy_id, :patron_id, :now, :due_back, :lent_by, 0)
    ON CONFLICT (copy_id) WHERE returned_at IS NULL DO NOTHING
    RETURNING id
"""
SET_COPY = """
    UPDATE catalog_bookinstance SET status = :status, due_back = :due_back WHERE id = :copy_id
"""
# A patron who borrows a book they were waiting for has had their hold met.
FULFIL_HOLDS = """
    UPDATE holds SET fulfilled_at = :now
    WHERE book_id = :book_id AND patron_id = :patron_id
      AND fulfilled_at IS NULL AND cancelled_at IS NULL
"""
LOAN = """
    SELECT loans.id, loans.copy_id, loans.patron_id, loans.returned_at, copy.book_id
    FROM loans JOIN catalog_bookinstance AS copy ON copy.id = loans.copy_id
    WHERE loans.id = :loan_id
"""
OTHER_HOLDER = """
    SELECT users.name FROM holds JOIN users ON users.id = holds.patron_id
    WHERE holds.book_id = :book_id AND holds.patron_id <> :patron_id
      AND holds.fulfilled_at IS NULL AND holds.cancelled_at IS NULL
    ORDER BY holds.id
    LIMIT 1
"""
RENEW = """
    UPDATE loans SET due_back = :due_back, renewals = renewals + 1
    WHERE id = :loan_id AND returned_at IS NULL
"""
CLOSE_LOAN = """
    UPDATE loans SET returned_at = :now
    WHERE id = :loan_id AND returned_at IS NULL
    RETURNING copy_id
"""
NEXT_IN_QUEUE = """
    SELECT id FROM holds
    WHERE book_id = :book_id AND copy_id IS NULL
      AND fulfilled_at IS NULL AND cancelled_at IS NULL
    ORDER BY id
    LIMIT 1
"""
SET_ASIDE = "UPDATE holds SET copy_id = :copy_id WHERE id = :hold_id"
BOOK_EXISTS = "SELECT id FROM catalog_book WHERE id = :book_id"
PLACE_HOLD = """
    INSERT INTO holds (book_id, patron_id, placed_at)
    VALUES (:book_id, :patron_id, :now)
    ON CONFLICT (book_id, patron_id) WHERE fulfilled_at IS NULL AND cancelled_at IS NULL
    DO NOTHING
    RETURNING id
"""
# A hold's place in its book's queue: the open holds still waiting for a copy, up to it.
QUEUE_PLACE = """
    SELECT count(*) FROM holds
    WHERE book_id = :book_id AND copy_id IS NULL
      AND fulfilled_at IS NULL AND cancelled_at IS NULL AND id <= :hold_id
"""
CANCEL_HOLD = """
    UPDATE holds SET cancelled_at = :now
    WHERE id = :hold_id AND patron_id = :patron_id
      AND fulfilled_at IS NULL AND cancelled_at IS NULL
    RETURNING book_id, copy_id
"""
CLEAR_HISTORY = "DELETE FROM loans WHERE patron_id = :patron_id AND returned_at IS NOT NULL"


class DeskError(Exception):
    """What the desk refused, in words for the page; `field` is the form field it is about."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NoLongerAvailable(DeskError):
    """The copy was lent (or set aside) by someone else first."""


def _now() -> int:
    return int(time.time())


@asynccontextmanager
async def desk_transaction(database: Database) -> AsyncIterator[Queries]:
    """A write transaction holding the desk's lock (see the module's docstring)."""
    async with database.transaction(write=True) as queries:
        if database.engine == "postgresql":
            await queries.fetch_val(LOCK_DESK)
        yield queries


async def lend(
    database: Database, copy_id: uuid.UUID, patron_id: int, due_back: dt.date, lent_by: int
) -> int:
    """Lend the copy to the patron until `due_back`; the new loan's id. The copy must be
    Available, or Reserved for this patron; otherwise NoLongerAvailable says why not."""
    async with desk_transaction(database) as queries:
        copy = await queries.fetch_one(COPY, {"copy_id": copy_id})
        if copy is None:
            raise DeskError("There is no copy with that id.", "copy")
        status = CopyStatus(copy["status"])
        if status is CopyStatus.RESERVED:
            holder = await queries.fetch_val(RESERVED_FOR, {"copy_id": copy_id})
            if holder != patron_id:
                raise NoLongerAvailable(
                    "This copy is no longer available: it is reserved for another patron.", "copy"
                )
        elif status is not CopyStatus.AVAILABLE:
            raise NoLongerAvailable(
                f"This copy is no longer available: it is {status.label.lower()}.", "copy"
            )
        now = _now()
        loan_id = await queries.fetch_val(
            OPEN_LOAN,
            {
                "copy_id": copy_id,
                "patron_id": patron_id,
                "now": now,
                "due_back": due_back,
                "lent_by": lent_by,
            },
        )
        if loan_id is None:
            raise NoLongerAvailable("This copy is no longer available: it is on loan.", "copy")
        await queries.execute(
            SET_COPY,
            {"status": CopyStatus.ON_LOAN.value, "due_back": due_back, "copy_id": copy_id},
        )
        await queries.execute(
            FULFIL_HOLDS, {"now": now, "book_id": copy["book_id"], "patron_id": patron_id}
        )
    return int(loan_id)


async def renew(database: Database, loan_id: int, due_back: dt.date) -> None:
    """Give the open loan a new due date. Refused (DeskError) when it was returned, or when
    another patron holds the book: they are waiting for it."""
    async with desk_transaction(database) as queries:
        loan = await queries.fetch_one(LOAN, {"loan_id": loan_id})
        if loan is None:
            raise DeskError("There is no such loan.")
        if loan["returned_at"] is not None:
            raise DeskError("This loan has been returned: there is nothing to renew.")
        waiting = await queries.fetch_val(
            OTHER_HOLDER, {"book_id": loan["book_id"], "patron_id": loan["patron_id"]}
        )
        if waiting is not None:
            raise DeskError(f"{waiting} has a hold on this book, so the loan cannot be renewed.")
        await queries.execute(RENEW, {"due_back": due_back, "loan_id": loan_id})
        await queries.execute(
            SET_COPY,
            {"status": CopyStatus.ON_LOAN.value, "due_back": due_back, "copy_id": loan["copy_id"]},
        )


async def mark_returned(database: Database, loan_ids: Iterable[int]) -> int:
    """Close these loans (those still open); how many were. Each copy goes to the next patron
    waiting for its book, or back on the shelf."""
    wanted = sorted(set(loan_ids))[:MAX_RETURNED_AT_ONCE]
    returned = 0
    async with desk_transaction(database) as queries:
        now = _now()
        for loan_id in wanted:
            copy_id = await queries.fetch_val(CLOSE_LOAN, {"now": now, "loan_id": loan_id})
            if copy_id is None:
                continue  # returned already (or never a loan): nothing to do twice
            copy = await queries.fetch_one(COPY, {"copy_id": copy_id})
            assert copy is not None, "a loan's copy goes only with its loans"
            await _shelve(queries, copy_id, copy["book_id"])
            returned += 1
    return returned


async def _shelve(queries: Queries, copy_id: object, book_id: int) -> None:
    """The copy is back: Reserved for the first patron waiting for the book, or Available."""
    hold_id = await queries.fetch_val(NEXT_IN_QUEUE, {"book_id": book_id})
    if hold_id is None:
        status = CopyStatus.AVAILABLE
    else:
        await queries.execute(SET_ASIDE, {"copy_id": copy_id, "hold_id": hold_id})
        status = CopyStatus.RESERVED
    await queries.execute(SET_COPY, {"status": status.value, "due_back": None, "copy_id": copy_id})


async def place_hold(database: Database, book_id: int, patron_id: int) -> int:
    """Put the patron in the book's queue; their place in it (1 is next). Refused while a copy
    is on the shelf, and for a second hold on the same book."""
    async with desk_transaction(database) as queries:
        if await queries.fetch_val(BOOK_EXISTS, {"book_id": book_id}) is None:
            raise DeskError("There is no such book.")
        # By key (migration 0011's index): the write lock is held meanwhile.
        if await queries.fetch_val(BOOK_ON_SHELF, {"book_id": book_id}) is not None:
            raise DeskError("A copy of this book is on the shelf: ask at the desk to borrow it.")
        hold_id = await queries.fetch_val(
            PLACE_HOLD, {"book_id": book_id, "patron_id": patron_id, "now": _now()}
        )
        if hold_id is None:
            raise DeskError("You have a hold on this book already.")
        place = await queries.fetch_val(QUEUE_PLACE, {"book_id": book_id, "hold_id": hold_id})
    return int(place)


async def cancel_hold(database: Database, hold_id: int, patron_id: int) -> None:
    """Cancel the patron's open hold; a copy set aside for it goes to the next in the queue."""
    async with desk_transaction(database) as queries:
        row = await queries.fetch_one(
            CANCEL_HOLD, {"now": _now(), "hold_id": hold_id, "patron_id": patron_id}
        )
        if row is None:
            raise DeskError("You have no such hold.")
        if row["copy_id"] is not None:
            await _shelve(queries, row["copy_id"], row["book_id"])


async def clear_history(database: Database, patron_id: int) -> None:
    """Forget the patron's returned loans (their open loans stay, as the library needs them)."""
    async with desk_transaction(database) as queries:
        await queries.execute(CLEAR_HISTORY, {"patron_id": patron_id})
