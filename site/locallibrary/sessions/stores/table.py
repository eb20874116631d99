"""The `sessions` table that DatabaseStore keeps its rows in.

Host applications add `metadata` to their migration tool's target metadata. `user_id` has no
foreign key: the session framework knows nothing of the host's users table.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

sessions = Table(
    "sessions",
    metadata,
    # The SHA-256 (hex) of the cookie's key, never the key itself (keys.stored_id).
    Column("key", String(64), primary_key=True),
    Column("data", Text, nullable=False),
    # Unix seconds: compares the same way on every database and needs no time-zone care.
    Column("expires_at", BigInteger, nullable=False),
    Column("user_id", Integer, nullable=True),
    Column("created_at", BigInteger, nullable=False, server_default="0"),
    Column("last_seen_at", BigInteger, nullable=False, server_default="0"),
    Column("signed_in_at", BigInteger, nullable=True),
    # A short description of the browser ("Firefox on Linux"), for the user's list of sessions.
    Column("agent", String(100), nullable=False, server_default=""),
    Index("ix_sessions_expires_at", "expires_at"),
    Index("ix_sessions_user_id", "user_id"),
)
