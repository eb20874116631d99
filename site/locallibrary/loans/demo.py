"""Demo loans for `locallibrary dev`: the demo patron borrows a few books, one of them overdue,
and holds one that has no copy on the shelf. Made through the desk, as a librarian would."""

from __future__ import annotations

import datetime as dt
import uuid

from locallibrary.accounts.demo import DEMO_ACCOUNTS
from locallibrary.accounts.tables import Role
from locallibrary.accounts.users import User, user_by_email
from locallibrary.database import Database
from locallibrary.database.values import as_uuid
from locallibrary.loans import desk

# Due in 9 and 16 days, and 3 days ago.
DUE_IN_DAYS = (9, 16, -3)
HAS_ANY_LOAN = "SELECT id FROM loans WHERE patron_id = :patron_id LIMIT 1"
AVAILABLE_COPIES = """
    SELECT id FROM catalog_bookinstance WHERE status = 'a' ORDER BY book_id, id LIMIT :limit
"""
BOOK_WITHOUT_AVAILABLE_COPY = """
    SELECT book.id FROM catalog_book AS book
    WHERE NOT EXISTS (
        SELECT 1 FROM catalog_bookinstance AS copy
        WHERE copy.book_id = book.id AND copy.status = 'a'
    )
    ORDER BY book.title, book.id
    LIMIT 1
"""


async def create_demo_loans(database: Database, patron: User, librarian: User) -> bool:
    """Lend and hold for the demo patron, unless they have had a loan already; whether any
    were made. Off the loop: the look-ups scan the catalog."""
    if await database.fetch_all_off_loop(HAS_ANY_LOAN, {"patron_id": patron.id}):
        return False
    copies = await database.fetch_all_off_loop(AVAILABLE_COPIES, {"limit": len(DUE_IN_DAYS)})
    today = dt.date.today()
    for row, days in zip(copies, DUE_IN_DAYS, strict=False):
        copy_id: uuid.UUID = as_uuid(row["id"])
        due_back = today + dt.timedelta(days=days)
        await desk.lend(database, copy_id, patron.id, due_back, librarian.id)
    held = await database.fetch_all_off_loop(BOOK_WITHOUT_AVAILABLE_COPY)
    if held:
        await desk.place_hold(database, held[0]["id"], patron.id)
    return bool(copies)


async def create_demo_accounts_loans(database: Database) -> bool:
    """`create_demo_loans` for the demo patron, lent by the demo librarian (both must exist)."""
    by_role = {account.role: account for account in DEMO_ACCOUNTS}
    patron = await user_by_email(database, by_role[Role.PATRON].email)
    librarian = await user_by_email(database, by_role[Role.LIBRARIAN].email)
    assert patron is not None and librarian is not None, "create_demo_accounts ran first"
    return await create_demo_loans(database, patron, librarian)
