"""The catalog version: one row that every change to the catalog moves, kept by triggers.

Processes keep the counts and rendered pages while the version they were read at is current
(catalog/state.py). The triggers run in the transaction of the change, so the version moves
exactly when the change commits, whoever makes it.

SQLite has row triggers only: each changed row adds one. PostgreSQL's fire once per statement,
before it, and add one only in the first statement of a transaction that changes the catalog
(`changed_in` holds that transaction's id): a bulk load of a hundred thousand rows in one
transaction then updates the row once, instead of making a hundred thousand versions of it.
Taking the row's lock before the statement's own row locks also means that two transactions
writing the catalog queue for it in one order, rather than deadlock.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERSIONED_TABLES = (
    "catalog_author",
    "catalog_genre",
    "catalog_language",
    "catalog_book",
    "catalog_book_genre",
    "catalog_bookinstance",
)

POSTGRES_FUNCTION = """
CREATE FUNCTION catalog_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE catalog_version
    SET version = version + 1, changed_in = txid_current()
    WHERE id = 1 AND changed_in IS DISTINCT FROM txid_current();
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "catalog_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("changed_in", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_catalog_version_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_version")),
    )
    op.execute("INSERT INTO catalog_version (id, version) VALUES (1, 1)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(POSTGRES_FUNCTION)
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
    if op.get_bind().dialect.name == "postgresql":
        for table in VERSIONED_TABLES:
            op.execute(f"DROP TRIGGER {table}_changed ON {table}")
        op.execute("DROP FUNCTION catalog_changed()")
    else:
        for table in VERSIONED_TABLES:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_{event}_changed")
    op.drop_table("catalog_version")
