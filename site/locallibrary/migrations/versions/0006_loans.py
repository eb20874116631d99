"""Loans and holds, and their changes counted in the catalog version.

A loan or a hold changes what the catalog's pages show (a copy's status and due date, a book's
"Place a hold" and a patron's place in its queue), so their tables get the catalog version's
triggers of migration 0002: pages kept in memory and the counts stay exact after a change to
either, however it is made.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERSIONED_TABLES = ("loans", "holds")
OPEN_LOAN = sa.text("returned_at IS NULL")
OPEN_HOLD = sa.text("fulfilled_at IS NULL AND cancelled_at IS NULL")
SET_ASIDE = sa.text("copy_id IS NOT NULL AND fulfilled_at IS NULL AND cancelled_at IS NULL")


def _partial_index(
    name: str, table: str, columns: list[str], where: sa.TextClause, unique: bool = False
) -> None:
    op.create_index(name, table, columns, unique=unique, sqlite_where=where, postgresql_where=where)


def upgrade() -> None:
    op.create_table(
        "loans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("copy_id", sa.Uuid(), nullable=False),
        sa.Column("patron_id", sa.Integer(), nullable=False),
        sa.Column("lent_at", sa.BigInteger(), nullable=False),
        sa.Column("due_back", sa.Date(), nullable=False),
        sa.Column("returned_at", sa.BigInteger(), nullable=True),
        sa.Column("lent_by", sa.Integer(), nullable=True),
        sa.Column("renewals", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["copy_id"],
            ["catalog_bookinstance.id"],
            name=op.f("fk_loans_copy_id_catalog_bookinstance"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["lent_by"], ["users.id"], name=op.f("fk_loans_lent_by_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["patron_id"], ["users.id"], name=op.f("fk_loans_patron_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_loans")),
    )
    _partial_index("uq_loans_open_copy", "loans", ["copy_id"], OPEN_LOAN, unique=True)
    _partial_index("ix_loans_open_due", "loans", ["due_back", "id", "returned_at"], OPEN_LOAN)
    _partial_index("ix_loans_patron_open", "loans", ["patron_id", "due_back", "id"], OPEN_LOAN)
    op.create_index("ix_loans_patron_returned", "loans", ["patron_id", "returned_at", "id"])
    op.create_table(
        "holds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("patron_id", sa.Integer(), nullable=False),
        sa.Column("placed_at", sa.BigInteger(), nullable=False),
        sa.Column("copy_id", sa.Uuid(), nullable=True),
        sa.Column("fulfilled_at", sa.BigInteger(), nullable=True),
        sa.Column("cancelled_at", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["book_id"],
            ["catalog_book.id"],
            name=op.f("fk_holds_book_id_catalog_book"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["copy_id"],
            ["catalog_bookinstance.id"],
            name=op.f("fk_holds_copy_id_catalog_bookinstance"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["patron_id"], ["users.id"], name=op.f("fk_holds_patron_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holds")),
    )
    _partial_index(
        "uq_holds_open_patron", "holds", ["book_id", "patron_id"], OPEN_HOLD, unique=True
    )
    _partial_index("ix_holds_open_book", "holds", ["book_id", "id"], OPEN_HOLD)
    _partial_index("ix_holds_open_patron", "holds", ["patron_id", "id"], OPEN_HOLD)
    _partial_index("uq_holds_open_copy", "holds", ["copy_id"], SET_ASIDE, unique=True)
    # The catalog version's triggers (migration 0002), on these tables too.
    if op.get_bind().dialect.name == "postgresql":
        for table in VERSIONED_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_changed"
                f" BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}"
                " FOR EACH STATEMENT EXECUTE FUNCTION catalog_changed()"
            )
    else:
        for table in VERSIONED_TABLES:
            for event in ("INSERT", "UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_{event.lower()}_changed AFTER {event} ON {table}"
                    " BEGIN UPDATE catalog_version SET version = version + 1 WHERE id = 1; END"
                )


def downgrade() -> None:
    # Dropping a table drops its triggers, on both engines.
    op.drop_table("holds")
    op.drop_table("loans")
