"""Catalog editing: a version on every editable row, language names unique whatever their case,
the indexes of the genre and language pages (the lists walk the unique lower(name) ones), and the audit table of changes.

Columns are added with plain `ALTER TABLE … ADD COLUMN`, never a batch: on SQLite a batch
recreates the table, which would drop the triggers that move the catalog version (0002).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERSIONED_ROWS = (
    "catalog_author",
    "catalog_genre",
    "catalog_language",
    "catalog_book",
    "catalog_bookinstance",
)


def upgrade() -> None:
    for table in VERSIONED_ROWS:
        op.add_column(table, sa.Column("version", sa.Integer(), server_default="1", nullable=False))
    op.create_index(
        "uq_catalog_language_name_lower",
        "catalog_language",
        [sa.text("lower(name)")],
        unique=True,
    )
    op.create_index(
        "ix_catalog_book_language_order", "catalog_book", ["language_id", "title", "id"]
    )
    op.drop_index("ix_catalog_book_genre_genre", table_name="catalog_book_genre")
    op.create_index(
        "ix_catalog_book_genre_genre_id_book_id", "catalog_book_genre", ["genre_id", "book_id"]
    )
    op.create_table(
        "catalog_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("table_name", sa.String(length=40), nullable=False),
        sa.Column("row_id", sa.String(length=36), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "action IN ('create', 'update', 'delete')",
            name=op.f("ck_catalog_changes_action_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_changes")),
    )
    op.create_index("ix_catalog_changes_row", "catalog_changes", ["table_name", "row_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_catalog_changes_row", table_name="catalog_changes")
    op.drop_table("catalog_changes")
    op.drop_index("ix_catalog_book_genre_genre_id_book_id", table_name="catalog_book_genre")
    op.create_index("ix_catalog_book_genre_genre", "catalog_book_genre", ["genre_id"])
    op.drop_index("ix_catalog_book_language_order", table_name="catalog_book")
    op.drop_index("uq_catalog_language_name_lower", table_name="catalog_language")
    for table in VERSIONED_ROWS:
        # SQLite 3.35+ drops a column in place, so the triggers stay.
        op.drop_column(table, "version")
