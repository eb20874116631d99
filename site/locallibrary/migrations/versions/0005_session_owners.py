"""Session owners: who a session belongs to, when it was made and last seen, which browser;
and session keys stored hashed.

The `key` column now holds the SHA-256 (hex) of the cookie's key, so that someone who reads the
database or a backup cannot present a live session's cookie. Existing rows are rewritten to
their hash, so every browser keeps its session. There is no way back from a hash: the downgrade
deletes every session.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_COLUMNS = ("user_id", "created_at", "last_seen_at", "signed_in_at", "agent")


def upgrade() -> None:
    with op.batch_alter_table("sessions") as batch:
        batch.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
        # Rows made before this revision read as created and last seen at 0: long ago.
        batch.add_column(
            sa.Column("created_at", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch.add_column(
            sa.Column("last_seen_at", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch.add_column(sa.Column("signed_in_at", sa.BigInteger(), nullable=True))
        batch.add_column(
            sa.Column("agent", sa.String(length=100), server_default="", nullable=False)
        )
        batch.create_index("ix_sessions_user_id", ["user_id"])
    connection = op.get_bind()
    # Old keys are 32 characters and hashes 64, so a rewritten row never meets an unwritten one.
    keys = connection.execute(sa.text("SELECT key FROM sessions")).scalars().all()
    for key in keys:
        connection.execute(
            sa.text("UPDATE sessions SET key = :hashed WHERE key = :key"),
            {"hashed": hashlib.sha256(key.encode()).hexdigest(), "key": key},
        )


def downgrade() -> None:
    op.execute("DELETE FROM sessions")
    with op.batch_alter_table("sessions") as batch:
        batch.drop_index("ix_sessions_user_id")
        for column in NEW_COLUMNS:
            batch.drop_column(column)
