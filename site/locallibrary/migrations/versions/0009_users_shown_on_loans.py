"""A user's name and email, as the loans' pages show them, counted in the catalog version.

"All borrowed" and "My borrowed books" are kept in memory while the catalog version holds
(web/loan_views.py), and they show the borrowers' names and emails. So a change to either, or a
deleted user, moves the version, as migration 0002's triggers do for the catalog. Only those
columns count: a sign-in (`last_login_at`) or a new password moves nothing.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SHOWN_COLUMNS = "name, email"
BUMP_VERSION = "UPDATE catalog_version SET version = version + 1 WHERE id = 1"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # catalog_changed() is migration 0002's statement trigger function.
        op.execute(
            "CREATE TRIGGER users_shown_changed"
            f" BEFORE UPDATE OF {SHOWN_COLUMNS} OR DELETE ON users"
            " FOR EACH STATEMENT EXECUTE FUNCTION catalog_changed()"
        )
    else:
        op.execute(
            f"CREATE TRIGGER users_update_shown_changed AFTER UPDATE OF {SHOWN_COLUMNS} ON users"
            f" BEGIN {BUMP_VERSION}; END"
        )
        op.execute(
            f"CREATE TRIGGER users_delete_changed AFTER DELETE ON users BEGIN {BUMP_VERSION}; END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER users_shown_changed ON users")
    else:
        op.execute("DROP TRIGGER users_update_shown_changed")
        op.execute("DROP TRIGGER users_delete_changed")
