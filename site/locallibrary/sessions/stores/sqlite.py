"""The SQLite store: reads as DatabaseStore does, writes on one thread of their own.

Through `databases`, a read-merge-write transaction is a dozen hops between the event loop and
aiosqlite's thread, and the database's write lock is held across all of them. Here the whole
transaction (BEGIN IMMEDIATE, read, merge, write, COMMIT) runs as one function on a dedicated
thread with its own connection: the lock is held for microseconds, and writers of this process
queue in arrival order on the thread (SQLite's busy timeout only arbitrates between processes).
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from databases import Database

from locallibrary.sessions.codec import decode
from locallibrary.sessions.stores.base import Merge
from locallibrary.sessions.stores.database import DatabaseStore

T = TypeVar("T")

SELECT = "SELECT data, expires_at FROM sessions WHERE key = ?"
INSERT = (
    "INSERT INTO sessions (key, data, expires_at) VALUES (?, ?, ?) ON CONFLICT (key) DO NOTHING"
)
UPSERT = (
    "INSERT INTO sessions (key, data, expires_at) VALUES (?, ?, ?) "
    "ON CONFLICT (key) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at"
)
DELETE = "DELETE FROM sessions WHERE key = ?"
DELETE_EXPIRED = "DELETE FROM sessions WHERE expires_at <= ?"


class SQLiteWriter:
    def __init__(self, path: str, busy_timeout: float) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="session-writer")
        self._connection: sqlite3.Connection | None = None

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._in_transaction, work)

    def _in_transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        if self._connection is None:
            self._connection = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout,
                isolation_level=None,
                check_same_thread=False,
            )
        connection = self._connection
        connection.execute("BEGIN IMMEDIATE")
        try:
            result = work(connection)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
        return result

    async def create(self, key: str, text: str, expires_at: int) -> bool:
        return await self._run(lambda db: db.execute(INSERT, (key, text, expires_at)).rowcount == 1)

    async def update(self, key: str, merge: Merge, expires_at: int, now: int) -> None:
        def read_merge_write(db: sqlite3.Connection) -> None:
            row: Any = db.execute(SELECT, (key,)).fetchone()
            live = row is not None and row[1] > now
            db.execute(UPSERT, (key, merge(decode(row[0]) if live else None), expires_at))

        await self._run(read_merge_write)

    async def delete(self, key: str) -> None:
        await self._run(lambda db: db.execute(DELETE, (key,)))

    async def clear_expired(self, now: int) -> int:
        return await self._run(lambda db: db.execute(DELETE_EXPIRED, (now,)).rowcount)

    def close(self) -> None:
        def close_connection() -> None:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

        self._thread.submit(close_connection).result()
        self._thread.shutdown()


class SQLiteStore(DatabaseStore):
    """Reads through `databases`; every write is one hop to the `SQLiteWriter`'s thread."""

    def __init__(self, database: Database, clock: Callable[[], float] = time.time) -> None:
        super().__init__(database, clock)
        self.writer = SQLiteWriter(
            database.url.database, busy_timeout=database.options.get("timeout", 5.0)
        )

    async def create(self, key: str, text: str, expires_at: int) -> bool:
        return await self.writer.create(key, text, expires_at)

    async def update(self, key: str, merge: Merge, expires_at: int) -> None:
        await self.writer.update(key, merge, expires_at, now=int(self.clock()))

    async def delete(self, key: str) -> None:
        await self.writer.delete(key)

    async def clear_expired(self) -> int:
        return await self.writer.clear_expired(int(self.clock()))

    def close(self) -> None:
        self.writer.close()


def database_store(database: Database, clock: Callable[[], float] = time.time) -> DatabaseStore:
    """The store for the site's database: SQLiteStore on SQLite, DatabaseStore elsewhere."""
    if database.url.dialect == "sqlite":
        return SQLiteStore(database, clock)
    return DatabaseStore(database, clock)
