"""A pool for `databases`' SQLite backend, which otherwise opens a new connection (a new file
handle and a new aiosqlite thread) for every request and for every query made outside one.

Idle connections are kept and handed out again; each is set up once with the pragmas this site
relies on. Selected for `sqlite://` URLs by `locallibrary.database.create_database`.
"""

from __future__ import annotations

from typing import Any

import aiosqlite
from databases.backends.sqlite import SQLiteBackend, SQLitePool
from databases.core import DatabaseURL

# As many as the requests one process overlaps under load, so that none is opened and closed
# again in a burst (opening one starts a thread).
MAX_IDLE_CONNECTIONS = 64
PRAGMAS = ("PRAGMA foreign_keys = ON",)


class PooledSQLitePool(SQLitePool):
    def __init__(self, url: DatabaseURL, **options: Any) -> None:
        super().__init__(url, **options)
        self._idle: list[aiosqlite.Connection] = []

    async def acquire(self) -> aiosqlite.Connection:
        if self._idle:
            return self._idle.pop()
        connection = await super().acquire()
        for pragma in PRAGMAS:
            await connection.execute(pragma)
        return connection

    async def release(self, connection: aiosqlite.Connection) -> None:
        if connection.in_transaction or len(self._idle) >= MAX_IDLE_CONNECTIONS:
            # A connection left inside a transaction is not handed to anyone else.
            await super().release(connection)
        else:
            self._idle.append(connection)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            await super().release(connection)


class PooledSQLiteBackend(SQLiteBackend):
    def __init__(self, database_url: DatabaseURL | str, **options: Any) -> None:
        super().__init__(database_url, **options)
        self._pool = PooledSQLitePool(self._database_url, **self._options)

    async def disconnect(self) -> None:
        await self._pool.close()
        await super().disconnect()
