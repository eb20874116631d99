"""Users by name, case folded: the desk finds the patron a librarian names by key.

Lending to a patron named at the desk (`lower(name) = lower(:name)`, in order of id) read every
row of `users`; with this index it is a lookup, and bounded like the other reads on the loop.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_users_name_lower", "users", [sa.text("lower(name)"), "id"])


def downgrade() -> None:
    op.drop_index("ix_users_name_lower", table_name="users")
