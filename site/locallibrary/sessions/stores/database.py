"""A store in the site's SQL database, through `databases`.

Reads are one indexed SELECT. An update reads, merges and writes inside one short transaction,
`SELECT … FOR UPDATE` locking only this session's row, so sessions of different browsers write
side by side. `database_store()` picks `SQLiteStore` (sqlite_store.py) for SQLite, which keeps
the reads and does the writes its own way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from databases import Database
from databases.core import Connection
from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql

from locallibrary.sessions.codec import decode
from locallibrary.sessions.stores.base import Merge, SessionStore
from locallibrary.sessions.stores.table import sessions


class DatabaseStore(SessionStore):
    def __init__(self, database: Database, clock: Callable[[], float] = time.time) -> None:
        self.database = database
        self.clock = clock

    async def load(self, key: str) -> dict[str, Any] | None:
        text = await self.database.fetch_val(
            select(sessions.c.data).where(
                sessions.c.key == key, sessions.c.expires_at > int(self.clock())
            )
        )
        return None if text is None else decode(text)

    async def create(self, key: str, text: str, expires_at: int) -> bool:
        created = await self.database.fetch_val(
            postgresql.insert(sessions)
            .values(key=key, data=text, expires_at=expires_at)
            .on_conflict_do_nothing(index_elements=[sessions.c.key])
            .returning(sessions.c.key)
        )
        return created is not None

    async def update(self, key: str, merge: Merge, expires_at: int) -> None:
        async with self.database.connection() as connection, connection.transaction():
            row = await self._locked_row(connection, key)
            if row is None:
                # No row to lock (expired and cleared, or flushed meanwhile): make one, so that
                # a concurrent update of the same key waits for this one instead of racing it.
                await connection.execute(
                    postgresql.insert(sessions)
                    .values(key=key, data="{}", expires_at=0)
                    .on_conflict_do_nothing(index_elements=[sessions.c.key])
                )
                row = await self._locked_row(connection, key)
            assert row is not None
            live = row.expires_at > int(self.clock())
            text = merge(decode(row.data) if live else None)
            await connection.execute(
                update(sessions)
                .where(sessions.c.key == key)
                .values(data=text, expires_at=expires_at)
            )

    @staticmethod
    async def _locked_row(connection: Connection, key: str) -> Any:
        return await connection.fetch_one(
            select(sessions.c.data, sessions.c.expires_at)
            .where(sessions.c.key == key)
            .with_for_update()
        )

    async def delete(self, key: str) -> None:
        await self.database.execute(delete(sessions).where(sessions.c.key == key))

    async def clear_expired(self) -> int:
        now = int(self.clock())
        removed = await self.database.fetch_all(
            delete(sessions).where(sessions.c.expires_at <= now).returning(sessions.c.key)
        )
        return len(removed)

    def close(self) -> None:
        """Release what the store holds beyond the database (the server's shutdown calls it)."""
