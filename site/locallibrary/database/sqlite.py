"""The SQLite database: bounded reads on the event loop, everything else on pooled connections.

An indexed read takes microseconds in SQLite, less than a hop to another thread and back, which
under load also waits for the GIL. So a read made outside a transaction runs on the event loop's
own thread, through one standard-library connection per process that is read-only
(`PRAGMA query_only`). In WAL mode a reader never waits for a writer, so such a read cannot
block the loop on a lock; it must also be bounded (base.py), or it blocks the loop while it
runs.

Everything that may wait or run long — a transaction, a write, `fetch_all_off_loop` — takes an
aiosqlite connection, whose queries run on a thread of its own (the standard library releases
the GIL while SQLite works). Idle connections are kept and handed out again, each set up once,
because opening one starts a thread. Transactions are begun by us (`isolation_level=None`):
`BEGIN IMMEDIATE` for writes, so two read-then-write transactions queue for the write lock
instead of failing on its upgrade.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import aiosqlite

from locallibrary.database.base import Database, Queries, Row, Values

# As many as the transactions one process overlaps under load, so that none is opened and
# closed again in a burst.
MAX_IDLE_CONNECTIONS = 64
PRAGMAS = ("PRAGMA foreign_keys = ON",)
# SQLite's own page cache for the reads on the loop, in KiB (a negative cache_size). A page whose
# rows are not in it costs a read from the file, which for a page of scattered rows (a list's
# middle, a random book) is most of the query; the default keeps only 2 MiB.
READER_CACHE_KIB = 32 * 1024

# A number of the reader's that moves with every commit of any other connection (data_version).
DATA_VERSION = "PRAGMA data_version"

# Bind dates and UUIDs the way the schema stores them on SQLite (SQLAlchemy's Date and Uuid
# types: ISO dates, 32 hex digits). Adapters are the standard library's documented hook; the
# default date adapter is deprecated.
sqlite3.register_adapter(dt.date, dt.date.isoformat)
sqlite3.register_adapter(uuid.UUID, lambda value: value.hex)


class SQLiteQueries(Queries):
    """Queries on one aiosqlite connection (its thread does the work)."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self.connection = connection

    async def fetch_all(self, sql: str, values: Values = None) -> Sequence[Row]:
        # One trip to the connection's thread, not three (execute, fetch, close): each trip
        # waits for the event loop to take its result, which under load is most of a read.
        return list(await self.connection.execute_fetchall(sql, values or {}))

    async def fetch_one(self, sql: str, values: Values = None) -> Row | None:
        async with self.connection.execute(sql, values or {}) as cursor:
            row: Row | None = await cursor.fetchone()
            return row

    async def execute(self, sql: str, values: Values = None) -> None:
        async with self.connection.execute(sql, values or {}):
            pass


class SQLiteDatabase(Database):
    engine = "sqlite"

    def __init__(self, url: str, path: str, busy_timeout: float) -> None:
        self.url = url
        self.path = path
        self.busy_timeout = busy_timeout
        self._idle: list[aiosqlite.Connection] = []
        self._reader: sqlite3.Connection | None = None
        self._connected = False

    async def connect(self) -> None:
        self._connected = True
        reader = sqlite3.connect(
            self.path,
            # In WAL mode a reader waits for no writer, but may have to wait a moment for a lock
            # another connection holds while it opens the file: with no timeout, two workers
            # starting at once failed the second's start-up with "database is locked".
            timeout=self.busy_timeout,
            isolation_level=None,  # autocommit: every read sees the latest commit
            check_same_thread=False,  # the event loop's thread, whichever thread that is
        )
        reader.row_factory = sqlite3.Row
        reader.execute("PRAGMA query_only = ON")
        reader.execute(f"PRAGMA cache_size = -{READER_CACHE_KIB}")
        self._reader = reader

    async def disconnect(self) -> None:
        self._connected = False  # connections in use are closed when they come back
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.close()
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    @property
    def reader(self) -> sqlite3.Connection:
        if self._reader is None:
            raise RuntimeError("the database is not connected")
        return self._reader

    def data_version(self) -> int:
        """A number that moves once any other connection has committed a change to the file
        (another worker, the CLI, plain SQL, or this process's own writers): while it stays,
        every row read from the file since it last moved is as it was. It is SQLite's
        `PRAGMA data_version`, on the reader, which writes nothing."""
        version: int = self.reader.execute(DATA_VERSION).fetchone()[0]
        return version

    async def fetch_all(self, sql: str, values: Values = None) -> Sequence[Row]:
        return self.reader.execute(sql, values or {}).fetchall()

    async def fetch_one(self, sql: str, values: Values = None) -> Row | None:
        row: Row | None = self.reader.execute(sql, values or {}).fetchone()
        return row

    async def fetch_all_off_loop(self, sql: str, values: Values = None) -> Sequence[Row]:
        async with self._connection() as connection:
            return await SQLiteQueries(connection).fetch_all(sql, values)

    async def execute(self, sql: str, values: Values = None) -> None:
        async with self._connection() as connection:
            await SQLiteQueries(connection).execute(sql, values)

    @asynccontextmanager
    async def transaction(self, *, write: bool = False) -> AsyncIterator[Queries]:
        async with self._connection() as connection:
            await connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield SQLiteQueries(connection)
            except BaseException:
                await connection.rollback()
                raise
            await connection.commit()

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[aiosqlite.Connection]:
        connection = self._idle.pop() if self._idle else await self._open()
        try:
            yield connection
        finally:
            if (
                connection.in_transaction
                or len(self._idle) >= MAX_IDLE_CONNECTIONS
                or not self._connected
            ):
                # One left inside a transaction (its rollback failed) is handed to no one else.
                await connection.close()
            else:
                self._idle.append(connection)

    async def _open(self) -> aiosqlite.Connection:
        connection = await aiosqlite.connect(
            self.path, timeout=self.busy_timeout, isolation_level=None
        )
        connection.row_factory = sqlite3.Row
        for pragma in PRAGMAS:
            await connection.execute(pragma)
        return connection
