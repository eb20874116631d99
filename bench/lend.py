"""Open loans in a benchmark database through the library's desk, for bench/run.py's loans rows.

    DATABASE_URL=… .venv/bin/python bench/lend.py PATRON_EMAIL LIBRARIAN_EMAIL

Both accounts must exist (bench/run.py makes them with `locallibrary createuser`). The patron
borrows PATRON_LOANS books; other patrons, made here with the accounts' own create_user, borrow
the rest, so that the catalog has one open loan per BOOKS_PER_LOAN books (the 10,000 of issue
14 at 100,000 books), and never fewer than the patron's own: on the demo catalog, which has
too few books for more, the open loans are the patron's alone, still a full first page of "All
borrowed". Every loan is lent by the librarian, of an Available copy, with due dates spread from
OVERDUE_DAYS ago to 4 weeks ahead, so that both pages mark some as overdue.

The patron's loans are made by `desk.lend`, a desk transaction each, exactly as the lend form
makes them. The other patrons' are made with the desk's own statements (desk.OPEN_LOAN,
desk.SET_COPY) in one desk transaction, as the comment there says why; either way a copy's
status follows from its loan as the site keeps it. The copies are chosen by one read first.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import sys
import time

from locallibrary.accounts import Role, create_user
from locallibrary.accounts.users import User, user_by_email
from locallibrary.catalog.tables import CopyStatus
from locallibrary.database import Database, connect, create_database
from locallibrary.database.values import as_uuid
from locallibrary.loans import desk
from locallibrary.settings import Settings

PATRON_LOANS = 10
BOOKS_PER_LOAN = 10
OTHER_PATRONS = 10  # who they are does not change what either page reads
OVERDUE_DAYS = 7
DUE_SPREAD_DAYS = OVERDUE_DAYS + 28  # up to the longest loan a renewal allows
BOOK_COUNT = "SELECT count(*) FROM catalog_book"
# In id order: the copies' ids are random, so the loans fall on books all over the catalog.
AVAILABLE_COPIES = """
    SELECT id FROM catalog_bookinstance WHERE status = :available ORDER BY id LIMIT :limit
"""


def open_loans_for(books: int) -> int:
    """How many open loans a catalog of `books` books gets."""
    return max(PATRON_LOANS, books // BOOKS_PER_LOAN)


async def account(database: Database, email: str, role: Role) -> User:
    user = await user_by_email(database, email)
    if user is None or user.role is not role:
        raise SystemExit(f"lend: no {role.value} account {email}")
    return user


async def lend_all(database: Database, patron_email: str, librarian_email: str) -> str:
    patron = await account(database, patron_email, Role.PATRON)
    librarian = await account(database, librarian_email, Role.LIBRARIAN)
    wanted = open_loans_for(int(await database.fetch_val(BOOK_COUNT)))
    copies = await database.fetch_all_off_loop(
        AVAILABLE_COPIES, {"available": CopyStatus.AVAILABLE.value, "limit": wanted}
    )
    if len(copies) < wanted:
        raise SystemExit(f"lend: {wanted} loans wanted, only {len(copies)} copies available")
    today = dt.date.today()
    lends = [
        (as_uuid(row["id"]), today + dt.timedelta(days=n % DUE_SPREAD_DAYS - OVERDUE_DAYS))
        for n, row in enumerate(copies)
    ]
    for copy_id, due_back in lends[:PATRON_LOANS]:
        await desk.lend(database, copy_id, patron.id, due_back, librarian.id)
    others = [
        await create_user(
            database,
            f"bench-patron-{number}@example.org",
            f"Bench Patron {number}",
            secrets.token_urlsafe(24),  # nobody signs in as them
        )
        for number in range(1, OTHER_PATRONS + 1 if len(lends) > PATRON_LOANS else 1)
    ]
    # The other patrons' loans: desk.lend's steps for an Available copy, with the desk's own
    # statements, in one desk transaction rather than a commit per loan, which would make a
    # large catalog's loans take longer than copying its database does. Nobody else writes to
    # this database, and the bench places no holds, so there are none to fulfil.
    async with desk.desk_transaction(database) as queries:
        now = int(time.time())
        for number, (copy_id, due_back) in enumerate(lends[PATRON_LOANS:]):
            loan_id = await queries.fetch_val(
                desk.OPEN_LOAN,
                {
                    "copy_id": copy_id,
                    "patron_id": others[number % len(others)].id,
                    "now": now,
                    "due_back": due_back,
                    "lent_by": librarian.id,
                },
            )
            if loan_id is None:
                raise SystemExit(f"lend: copy {copy_id} has an open loan already")
            await queries.execute(
                desk.SET_COPY,
                {"status": CopyStatus.ON_LOAN.value, "due_back": due_back, "copy_id": copy_id},
            )
    return (
        f"{PATRON_LOANS} to {patron.email} and {len(lends) - PATRON_LOANS} to "
        f"{len(others)} other patrons, lent by {librarian.email}"
    )


async def main(patron_email: str, librarian_email: str) -> None:
    started = time.monotonic()
    database = create_database(Settings.from_environ().database_url)
    await connect(database)
    try:
        done = await lend_all(database, patron_email, librarian_email)
    finally:
        await database.disconnect()
    print(f"Lent {done} in {time.monotonic() - started:.1f} s", flush=True)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__.split("\n\n")[1].strip())
    asyncio.run(main(sys.argv[1], sys.argv[2]))
