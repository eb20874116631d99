"""`locallibrary dev`'s demo loans: a few for the demo patron, one overdue, and a hold; once."""

from __future__ import annotations

import datetime as dt

from locallibrary.accounts.demo import create_demo_accounts
from locallibrary.database import Database
from locallibrary.loans.demo import create_demo_accounts_loans
from tests.db import sql, with_database


def test_the_demo_patron_borrows_a_few_books_one_overdue_and_holds_one(
    database_url: str,
) -> None:
    async def twice(database: Database) -> list[bool]:
        await create_demo_accounts(database)
        return [
            await create_demo_accounts_loans(database),
            await create_demo_accounts_loans(database),
        ]

    assert with_database(database_url, twice) == [True, False]
    loans = sql(
        database_url,
        "SELECT loans.due_back, copy.status FROM loans"
        " JOIN users ON users.id = loans.patron_id"
        " JOIN catalog_bookinstance AS copy ON copy.id = loans.copy_id"
        " WHERE users.email = 'patron@example.org' AND loans.returned_at IS NULL",
    )
    dues = sorted(dt.date.fromisoformat(str(due)) for due, _ in loans)
    assert len(loans) == 3 and {status for _, status in loans} == {"o"}
    assert dues[0] < dt.date.today() < dues[1]
    holds = sql(database_url, "SELECT count(*) FROM holds WHERE cancelled_at IS NULL")
    assert holds == [(1,)]
