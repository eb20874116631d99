"""The book list's index covers its rows: a page of the list reads the index, not the table.

A page of the book list reads each book's title, id and author_id (the author's name comes by a
join on the author's primary key), in the order of the index on (title, id), which held the
first two only: each book of the page was then looked up in the table for its author_id. With
author_id in the index, SQLite's plan reads catalog_book (`book` in the statement) as `SEARCH
book USING COVERING INDEX ix_catalog_book_title_order` and never touches the table's rows
(what that saves is in docs/performance.md, "What each change bought").

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_catalog_book_title_order", table_name="catalog_book")
    op.create_index("ix_catalog_book_title_order", "catalog_book", ["title", "id", "author_id"])


def downgrade() -> None:
    op.drop_index("ix_catalog_book_title_order", table_name="catalog_book")
    op.create_index("ix_catalog_book_title_order", "catalog_book", ["title", "id"])
