"""The `sessions` table that DatabaseStore keeps its rows in.

Host applications add `metadata` to their migration tool's target metadata.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, MetaData, String, Table, Text

metadata = MetaData()

sessions = Table(
    "sessions",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("data", Text, nullable=False),
    # Unix seconds: compares the same way on every database and needs no time-zone care.
    Column("expires_at", BigInteger, nullable=False),
    Index("ix_sessions_expires_at", "expires_at"),
)
