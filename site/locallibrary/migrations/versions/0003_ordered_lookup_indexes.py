"""Indexes in the order pages list a book's copies and an author's books, so neither is sorted.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_catalog_book_author_id", table_name="catalog_book")
    op.create_index("ix_catalog_book_author_order", "catalog_book", ["author_id", "title", "id"])
    op.drop_index("ix_catalog_bookinstance_book_due", table_name="catalog_bookinstance")
    op.create_index(
        "ix_catalog_bookinstance_book_due", "catalog_bookinstance", ["book_id", "due_back", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_catalog_bookinstance_book_due", table_name="catalog_bookinstance")
    op.create_index(
        "ix_catalog_bookinstance_book_due", "catalog_bookinstance", ["book_id", "due_back"]
    )
    op.drop_index("ix_catalog_book_author_order", table_name="catalog_book")
    op.create_index("ix_catalog_book_author_id", "catalog_book", ["author_id"])
