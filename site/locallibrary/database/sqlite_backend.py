"""`databases`' SQLite backend, with reads on the event loop and a compiled-statement cache.

`databases` runs every SQLite query on an aiosqlite thread, and opens a new connection (and
thread) for each query made outside a held connection. An indexed read takes about 10 µs in
SQLite, but the hop to a thread and back costs far more, and under load each hop also waits for
the GIL while the event loop runs (the switch interval is 5 ms). So here a read made outside a
transaction runs on the event loop's own thread, through one stdlib `sqlite3` connection per
process that is read-only (`PRAGMA query_only`). In WAL mode a reader never waits for a writer,
so an indexed read blocks the loop for microseconds; a long scan must run in a transaction.
A fetch outside a transaction is therefore a read: a write that returns rows (INSERT …
RETURNING) must run in a transaction, or SQLite refuses it and nothing changes.

Anything else (a transaction, a write, `iterate`) takes a pooled aiosqlite connection as
before: it may wait for SQLite's write lock, which must not stall the loop. Idle aiosqlite
connections are kept and handed out again, each set up once with the pragmas this site relies
on. And `databases` compiles every SQLAlchemy statement on every call, which costs far more
than running it; here a statement is compiled once per shape, the way SQLAlchemy's own engines
cache, and later calls only bind their values.
Selected for `sqlite://` URLs by `locallibrary.database.create_database`.
"""

from __future__ import annotations

import sqlite3
import weakref
from collections.abc import Sequence
from typing import Any

import aiosqlite
from databases.backends.sqlite import (
    CompilationContext,
    SQLiteBackend,
    SQLiteConnection,
    SQLitePool,
    SQLiteTransaction,
)
from databases.core import DatabaseURL
from sqlalchemy.engine.cursor import CursorResultMetaData
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.engine.row import Row
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import Compiled
from sqlalchemy.sql.ddl import DDLElement

from locallibrary.database.statements import Bound, CompiledOnce, bound_args

# As many as the transactions one process overlaps under load, so that none is opened and
# closed again in a burst (opening one starts a thread).
MAX_IDLE_CONNECTIONS = 64
PRAGMAS = ("PRAGMA foreign_keys = ON",)
MAX_CACHED_STATEMENTS = 500


class PooledSQLitePool(SQLitePool):
    def __init__(self, url: DatabaseURL, **options: Any) -> None:
        super().__init__(url, **options)
        self._idle: list[aiosqlite.Connection] = []
        self._reader: sqlite3.Connection | None = None

    @property
    def reader(self) -> sqlite3.Connection:
        """The process's read-only connection, used on the event loop's thread only."""
        if self._reader is None:
            reader = sqlite3.connect(
                self._database,
                isolation_level=None,  # autocommit: every read sees the latest commit
                check_same_thread=False,  # the loop's thread, whichever thread that is
                **self._options,
            )
            reader.execute("PRAGMA query_only = ON")
            self._reader = reader
        return self._reader

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
        if self._reader is not None:
            self._reader.close()
            self._reader = None


class InlineReadSQLiteConnection(SQLiteConnection):
    """Reads run inline until the connection is needed for more; then it takes aiosqlite's."""

    _pool: PooledSQLitePool
    # statement shape (SQLAlchemy cache key) -> (compiled, what databases' _compile returned)
    _compiled: dict[Any, tuple[Compiled, tuple[Any, ...]]] = {}
    # a compiled statement's context -> the metadata of its results
    _described: weakref.WeakKeyDictionary[Any, CursorResultMetaData] = weakref.WeakKeyDictionary()

    def __init__(
        self, pool: PooledSQLitePool, dialect: Dialect, statements: CompiledOnce[Any]
    ) -> None:
        super().__init__(pool, dialect)
        self._statements = statements

    async def acquire(self) -> None:
        """Nothing yet: a connection that only reads never needs an aiosqlite connection."""

    async def release(self) -> None:
        if self._connection is not None:
            await super().release()

    async def _held(self) -> None:
        if self._connection is None:
            self._connection = await self._pool.acquire()

    async def fetch_all(self, query: ClauseElement) -> list[Any]:
        if self._connection is not None:
            return await super().fetch_all(query)
        sql, args, result_columns, context = self._compile(query)
        cursor = self._pool.reader.execute(sql, args)
        return self._records(cursor.fetchall(), cursor.description, result_columns, context)

    async def fetch_one(self, query: ClauseElement) -> Any:
        if self._connection is not None:
            return await super().fetch_one(query)
        sql, args, result_columns, context = self._compile(query)
        cursor = self._pool.reader.execute(sql, args)
        row = cursor.fetchone()
        cursor.close()
        if row is None:
            return None
        return self._records([row], cursor.description, result_columns, context)[0]

    def _records(
        self, rows: Sequence[Any], description: Any, result_columns: Any, context: Any
    ) -> list[Row]:
        """SQLAlchemy rows (by attribute, by position, and `_mapping` by name, as `databases`'
        records are), with each value converted by its column's type once, here. The
        description of the columns is made once per compiled statement, as SQLAlchemy keeps
        it with its compiled statements, instead of once per query."""
        metadata = self._described.get(context)
        if metadata is None:
            metadata = self._described[context] = CursorResultMetaData(context, description)
        return [Row(metadata, metadata._processors, metadata._key_to_index, row) for row in rows]

    async def execute(self, query: ClauseElement) -> Any:
        await self._held()
        return await super().execute(query)

    async def execute_many(self, queries: list[ClauseElement]) -> None:
        await self._held()
        await super().execute_many(queries)

    async def iterate(self, query: ClauseElement) -> Any:
        await self._held()
        async for record in super().iterate(query):
            yield record

    def transaction(self) -> HeldSQLiteTransaction:
        return HeldSQLiteTransaction(self)

    def _compile(self, query: ClauseElement | Bound) -> tuple[Any, ...]:
        if isinstance(query, Bound):
            compiled, context = self._statements(query.statement)
            args = bound_args(compiled, query.values, compiled.positiontup or [])
            return compiled.string, args, compiled._result_columns, context
        cache_key = None if isinstance(query, DDLElement) else query._generate_cache_key()
        if cache_key is None:
            return tuple(super()._compile(query))
        shape = cache_key.key  # the statement without its values (CacheKey itself is unhashable)
        hit = self._compiled.get(shape)
        if hit is None:
            compiled = query.compile(
                dialect=self._dialect,
                cache_key=cache_key,
                compile_kwargs={"render_postcompile": True},
            )
            result = tuple(super()._compile(query))
            # An IN (...) list is rendered into the SQL for its number of values: not reusable.
            if not any(bind.expanding for bind in compiled.binds.values()):
                if len(self._compiled) >= MAX_CACHED_STATEMENTS:
                    self._compiled.clear()
                self._compiled[shape] = (compiled, result)
            return result
        compiled, (sql, _, result_map, context) = hit
        params = compiled.construct_params(extracted_parameters=cache_key[1])
        processors = compiled._bind_processors
        args = [
            processors[name](params[name]) if name in processors else params[name]
            for name in compiled.positiontup or ()
        ]
        return sql, args, result_map, context


class HeldSQLiteTransaction(SQLiteTransaction):
    """A transaction: its connection takes an aiosqlite connection first, for everything inside."""

    _connection: InlineReadSQLiteConnection

    async def start(self, is_root: bool, extra_options: dict[Any, Any]) -> None:
        await self._connection._held()
        await super().start(is_root, extra_options)


class InlineReadSQLiteBackend(SQLiteBackend):
    def __init__(self, database_url: DatabaseURL | str, **options: Any) -> None:
        super().__init__(database_url, **options)
        self._pool = PooledSQLitePool(self._database_url, **self._options)
        self._statements = CompiledOnce(self._dialect, self._execution_context)

    def connection(self) -> InlineReadSQLiteConnection:
        return InlineReadSQLiteConnection(self._pool, self._dialect, self._statements)

    def _execution_context(self, compiled: Compiled) -> CompilationContext:
        """What `databases`' SQLite backend makes for reading a statement's rows."""
        context = self._dialect.execution_ctx_cls()
        context.dialect = self._dialect
        context.result_column_struct = (
            compiled._result_columns,
            compiled._ordered_columns,
            compiled._textual_ordered_columns,
            compiled._ad_hoc_textual,
            compiled._loose_column_name_matching,
        )
        return CompilationContext(context)

    async def disconnect(self) -> None:
        await self._pool.close()
        await super().disconnect()
