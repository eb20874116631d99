"""Copies by status, then book: whether a book has a copy on the shelf is one lookup.

"Is a copy of this book on the shelf?" (`status = 'a' AND book_id = ?`: the book page of a book
with more copies than it shows, and every hold placed) had the index on `status` alone, which
SQLite chose: it walked every available copy of the catalog until one was the book's, tens of
milliseconds at 100,000 books when none is (on the event loop for the page, under the write
lock for a hold). The index on (status, book_id) replaces it: the same count of copies by status,
and the book's own copies of a status found by key.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_catalog_bookinstance_status", table_name="catalog_bookinstance")
    op.create_index(
        "ix_catalog_bookinstance_status_book", "catalog_bookinstance", ["status", "book_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_catalog_bookinstance_status_book", table_name="catalog_bookinstance")
    op.create_index("ix_catalog_bookinstance_status", "catalog_bookinstance", ["status"])
