"""The loans' schema: every loan a copy has had, and the patrons' holds on books.

A copy's current loan is its open loan (`returned_at IS NULL`): returning closes it, so the
history stays. A partial unique index lets a copy have at most one open loan, on both engines.
A hold is open while it is neither fulfilled nor cancelled; `copy_id` names the copy set aside
for it once one came back (that copy is then Reserved).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    text,
)

from locallibrary.accounts.tables import users
from locallibrary.catalog.tables import book, book_instance
from locallibrary.database.naming import NAMING_CONVENTION

metadata = MetaData(naming_convention=NAMING_CONVENTION)

OPEN_LOAN = "returned_at IS NULL"
OPEN_HOLD = "fulfilled_at IS NULL AND cancelled_at IS NULL"
SET_ASIDE = f"copy_id IS NOT NULL AND {OPEN_HOLD}"


def partial_index(name: str, *columns: str, where: str, unique: bool = False) -> Index:
    """An index of the rows that match `where`, on both engines (each names it its own way)."""
    return Index(
        name, *columns, unique=unique, sqlite_where=text(where), postgresql_where=text(where)
    )


loans = Table(
    "loans",
    metadata,
    Column("id", Integer, primary_key=True),
    # Deleting a copy (or a patron) deletes its loans: history of what no longer exists.
    Column("copy_id", ForeignKey(book_instance.c.id, ondelete="CASCADE"), nullable=False),
    Column("patron_id", ForeignKey(users.c.id, ondelete="CASCADE"), nullable=False),
    # Unix seconds, as the accounts keep their times; due dates are days.
    Column("lent_at", BigInteger, nullable=False),
    Column("due_back", Date, nullable=False),
    Column("returned_at", BigInteger),
    Column("lent_by", ForeignKey(users.c.id, ondelete="SET NULL")),
    Column("renewals", Integer, nullable=False, server_default="0"),
    # At most one open loan per copy: the database, not the code, has the last word.
    partial_index("uq_loans_open_copy", "copy_id", where=OPEN_LOAN, unique=True),
    # "All borrowed", by due date: pages walk this index (`returned_at` in it, always NULL,
    # lets SQLite walk it without reading the table).
    partial_index("ix_loans_open_due", "due_back", "id", "returned_at", where=OPEN_LOAN),
    # A patron's open loans by due date, and their history, newest return first.
    partial_index("ix_loans_patron_open", "patron_id", "due_back", "id", where=OPEN_LOAN),
    Index("ix_loans_patron_returned", "patron_id", "returned_at", "id"),
)

holds = Table(
    "holds",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("book_id", ForeignKey(book.c.id, ondelete="CASCADE"), nullable=False),
    Column("patron_id", ForeignKey(users.c.id, ondelete="CASCADE"), nullable=False),
    Column("placed_at", BigInteger, nullable=False),
    Column("copy_id", ForeignKey(book_instance.c.id, ondelete="SET NULL")),
    Column("fulfilled_at", BigInteger),
    Column("cancelled_at", BigInteger),
    # One open hold per patron and book.
    partial_index("uq_holds_open_patron", "book_id", "patron_id", where=OPEN_HOLD, unique=True),
    # A book's queue, first come first served (ids follow commit order: see loans/desk.py).
    partial_index("ix_holds_open_book", "book_id", "id", where=OPEN_HOLD),
    partial_index("ix_holds_open_patron", "patron_id", "id", where=OPEN_HOLD),
    # A copy is set aside for one open hold at most.
    partial_index("uq_holds_open_copy", "copy_id", where=SET_ASIDE, unique=True),
)
