"""A store in the site's SQL database (SQLite or PostgreSQL) through `databases`.

Reads are one indexed SELECT. An update reads, merges and writes inside one short write
transaction: `BEGIN IMMEDIATE` on SQLite (which takes the write lock up front, so concurrent
writers queue on the busy timeout instead of failing a lock upgrade), `SELECT … FOR UPDATE` on
PostgreSQL (which locks only this session's row).

SQLite has one writer at a time anyway, and its busy handler is not fair: with many writers
waiting, an unlucky one can sleep past the busy timeout. So within a process, SQLite writes
queue on an asyncio lock (first come, first served); the busy timeout then only arbitrates
between processes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from databases import Database
from databases.core import Connection
from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from locallibrary.sessions.codec import decode
from locallibrary.sessions.stores.base import Merge, SessionStore
from locallibrary.sessions.stores.table import sessions


class DatabaseStore(SessionStore):
    def __init__(self, database: Database, clock: Callable[[], float] = time.time) -> None:
        self.database = database
        self.clock = clock
        self.is_sqlite = database.url.dialect == "sqlite"
        self._insert = sqlite.insert if self.is_sqlite else postgresql.insert
        self._sqlite_writer = asyncio.Lock()

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[None]:
        """One SQLite writer at a time in this process; PostgreSQL writers run side by side."""
        if not self.is_sqlite:
            yield
            return
        async with self._sqlite_writer:
            yield

    async def load(self, key: str) -> dict[str, Any] | None:
        text = await self.database.fetch_val(
            select(sessions.c.data).where(
                sessions.c.key == key, sessions.c.expires_at > int(self.clock())
            )
        )
        return None if text is None else decode(text)

    async def create(self, key: str, text: str, expires_at: int) -> bool:
        async with self._writing():
            created = await self.database.fetch_val(
                self._insert(sessions)
                .values(key=key, data=text, expires_at=expires_at)
                .on_conflict_do_nothing(index_elements=[sessions.c.key])
                .returning(sessions.c.key)
            )
        return created is not None

    async def update(self, key: str, merge: Merge, expires_at: int) -> None:
        async with (
            self._writing(),
            self.database.connection() as connection,
            self._transaction(connection),
        ):
            row = await self._locked_row(connection, key)
            if row is None:
                # No row to lock (expired and cleared, or flushed meanwhile): make one, so that
                # a concurrent update of the same key waits for this one instead of racing it.
                await connection.execute(
                    self._insert(sessions)
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

    @asynccontextmanager
    async def _transaction(self, connection: Connection) -> AsyncIterator[None]:
        if not self.is_sqlite or connection.raw_connection.in_transaction:
            # PostgreSQL's transaction; or, inside the caller's SQLite transaction, a savepoint.
            async with connection.transaction():
                yield
            return
        # `databases` would BEGIN a deferred transaction, which fails instead of waiting when
        # two writers both hold a read lock; IMMEDIATE waits for the write lock up front.
        await connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            await connection.execute("ROLLBACK")
            raise
        await connection.execute("COMMIT")

    async def delete(self, key: str) -> None:
        async with self._writing():
            await self.database.execute(delete(sessions).where(sessions.c.key == key))

    async def clear_expired(self) -> int:
        async with self._writing():
            removed = await self.database.fetch_all(
                delete(sessions)
                .where(sessions.c.expires_at <= int(self.clock()))
                .returning(sessions.c.key)
            )
        return len(removed)
