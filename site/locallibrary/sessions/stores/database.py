"""A store in the site's SQL database (locallibrary.database), used as is on PostgreSQL.

Reads are one indexed SELECT. An update reads, merges and writes inside one short transaction,
`SELECT … FOR UPDATE` locking only this session's row, so sessions of different browsers write
side by side. `database_store()` picks `SQLiteStore` (sqlite.py) for SQLite, which keeps the
reads and does the writes its own way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from locallibrary.database import Database, Queries, Row
from locallibrary.sessions.codec import decode
from locallibrary.sessions.stores.base import Merge, SessionStore

LOAD = "SELECT data FROM sessions WHERE key = :key AND expires_at > :now"
CREATE = """
    INSERT INTO sessions (key, data, expires_at) VALUES (:key, :data, :expires_at)
    ON CONFLICT (key) DO NOTHING
    RETURNING key
"""
LOCK = "SELECT data, expires_at FROM sessions WHERE key = :key FOR UPDATE"
# No row to lock (expired and cleared, or flushed meanwhile): make one, so that a concurrent
# update of the same key waits for this one instead of racing it.
PLACEHOLDER = """
    INSERT INTO sessions (key, data, expires_at) VALUES (:key, '{}', 0)
    ON CONFLICT (key) DO NOTHING
"""
UPDATE = "UPDATE sessions SET data = :data, expires_at = :expires_at WHERE key = :key"
DELETE = "DELETE FROM sessions WHERE key = :key"
DELETE_EXPIRED = "DELETE FROM sessions WHERE expires_at <= :now RETURNING key"


class DatabaseStore(SessionStore):
    def __init__(self, database: Database, clock: Callable[[], float] = time.time) -> None:
        self.database = database
        self.clock = clock

    async def load(self, key: str) -> dict[str, Any] | None:
        text = await self.database.fetch_val(LOAD, {"key": key, "now": int(self.clock())})
        return None if text is None else decode(text)

    async def create(self, key: str, text: str, expires_at: int) -> bool:
        async with self.database.transaction(write=True) as connection:
            created = await connection.fetch_val(
                CREATE, {"key": key, "data": text, "expires_at": expires_at}
            )
        return created is not None

    async def update(self, key: str, merge: Merge, expires_at: int) -> None:
        async with self.database.transaction(write=True) as connection:
            row = await self._locked_row(connection, key)
            if row is None:
                await connection.execute(PLACEHOLDER, {"key": key})
                row = await self._locked_row(connection, key)
            assert row is not None
            live = row["expires_at"] > int(self.clock())
            text = merge(decode(row["data"]) if live else None)
            await connection.execute(UPDATE, {"key": key, "data": text, "expires_at": expires_at})

    @staticmethod
    async def _locked_row(connection: Queries, key: str) -> Row | None:
        return await connection.fetch_one(LOCK, {"key": key})

    async def delete(self, key: str) -> None:
        await self.database.execute(DELETE, {"key": key})

    async def clear_expired(self) -> int:
        async with self.database.transaction(write=True) as connection:
            removed = await connection.fetch_all(DELETE_EXPIRED, {"now": int(self.clock())})
        return len(removed)

    def close(self) -> None:
        """Release what the store holds beyond the database (the server's shutdown calls it)."""
