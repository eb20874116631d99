"""Initial schema: the catalog and the sessions table.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "catalog_author",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("date_of_death", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_author")),
    )
    op.create_index(
        "ix_catalog_author_name_order", "catalog_author", ["last_name", "first_name", "id"]
    )
    op.create_table(
        "catalog_genre",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_genre")),
    )
    op.create_index(
        "uq_catalog_genre_name_lower", "catalog_genre", [sa.text("lower(name)")], unique=True
    )
    op.create_table(
        "catalog_language",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_language")),
        sa.UniqueConstraint("name", name=op.f("uq_catalog_language_name")),
    )
    op.create_table(
        "catalog_book",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("summary", sa.Text(), server_default="", nullable=False),
        sa.Column("isbn", sa.String(length=13), nullable=False),
        sa.Column("language_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("length(isbn) = 13", name=op.f("ck_catalog_book_isbn_13_chars")),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["catalog_author.id"],
            name=op.f("fk_catalog_book_author_id_catalog_author"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["language_id"],
            ["catalog_language.id"],
            name=op.f("fk_catalog_book_language_id_catalog_language"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_book")),
        sa.UniqueConstraint("isbn", name=op.f("uq_catalog_book_isbn")),
    )
    op.create_index("ix_catalog_book_author_id", "catalog_book", ["author_id"])
    op.create_index("ix_catalog_book_title_order", "catalog_book", ["title", "id"])
    op.create_table(
        "catalog_book_genre",
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("genre_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["book_id"],
            ["catalog_book.id"],
            name=op.f("fk_catalog_book_genre_book_id_catalog_book"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["genre_id"],
            ["catalog_genre.id"],
            name=op.f("fk_catalog_book_genre_genre_id_catalog_genre"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("book_id", "genre_id", name=op.f("pk_catalog_book_genre")),
    )
    op.create_index("ix_catalog_book_genre_genre", "catalog_book_genre", ["genre_id"])
    op.create_table(
        "catalog_bookinstance",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("imprint", sa.String(length=200), nullable=False),
        sa.Column("due_back", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=1), server_default="m", nullable=False),
        sa.CheckConstraint(
            "status IN ('m', 'o', 'a', 'r')", name=op.f("ck_catalog_bookinstance_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["book_id"],
            ["catalog_book.id"],
            name=op.f("fk_catalog_bookinstance_book_id_catalog_book"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_bookinstance")),
    )
    op.create_index(
        "ix_catalog_bookinstance_book_due", "catalog_bookinstance", ["book_id", "due_back"]
    )
    op.create_index("ix_catalog_bookinstance_status", "catalog_bookinstance", ["status"])
    op.create_table(
        "sessions",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sessions")),
    )
    op.create_index("ix_sessions_expires_at", "sessions", ["expires_at"])


def downgrade() -> None:
    op.drop_table("sessions")
    op.drop_table("catalog_bookinstance")
    op.drop_table("catalog_book_genre")
    op.drop_table("catalog_book")
    op.drop_table("catalog_language")
    op.drop_table("catalog_genre")
    op.drop_table("catalog_author")
