"""Users by folded name: the desk finds "élise martin" when the account says "Élise Martin".

Migration 0012 indexed `lower(name)`, and SQLite's `lower()` folds ASCII letters only, so on
SQLite a name with an accented capital matched only as typed. `users.name_key` holds the name
folded in Python, case and accents both (`accounts.users.name_key`), and the index on it
replaces the one on `lower(name)`. Existing rows get their key here, with the fold as it was
written when this migration was.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

users = sa.table("users", sa.column("id", sa.Integer), sa.column("name"), sa.column("name_key"))


def folded(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).split())


def upgrade() -> None:
    op.drop_index("ix_users_name_lower", table_name="users")
    # NOT NULL with a default, which SQLite can add in place: a batch rebuild of `users` would
    # drop the triggers of migration 0009.
    op.add_column(
        "users", sa.Column("name_key", sa.Text(), nullable=False, server_default=sa.text("''"))
    )
    connection = op.get_bind()
    keys = [
        {"user_id": user_id, "key": folded(name)}
        for user_id, name in connection.execute(sa.select(users.c.id, users.c.name))
    ]
    if keys:  # one executemany for them all
        connection.execute(
            users.update()
            .where(users.c.id == sa.bindparam("user_id"))
            .values(name_key=sa.bindparam("key")),
            keys,
        )
    op.create_index("ix_users_name_key", "users", ["name_key", "id"])


def downgrade() -> None:
    op.drop_index("ix_users_name_key", table_name="users")
    op.drop_column("users", "name_key")
    op.create_index("ix_users_name_lower", "users", [sa.text("lower(name)"), "id"])
