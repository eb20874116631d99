"""`databases`' SQLite backend with a connection pool and a compiled-statement cache.

Without a pool, `databases` opens a new connection (a new file handle and a new aiosqlite
thread) for every query made outside a held connection; idle connections are kept and handed
out again here, each set up once with the pragmas this site relies on. And `databases` compiles
every SQLAlchemy statement on every call, which costs far more than running it (1 ms against
0.03 ms for a book page's three queries); here a statement is compiled once per shape, the way
SQLAlchemy's own engines cache, and later calls only bind their values.
Selected for `sqlite://` URLs by `locallibrary.database.create_database`.
"""

from __future__ import annotations

from typing import Any

import aiosqlite
from databases.backends.sqlite import SQLiteBackend, SQLiteConnection, SQLitePool
from databases.core import DatabaseURL
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import Compiled
from sqlalchemy.sql.ddl import DDLElement

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


MAX_CACHED_STATEMENTS = 500


class CachingSQLiteConnection(SQLiteConnection):
    # statement shape (SQLAlchemy cache key) -> (compiled, what databases' _compile returned)
    _compiled: dict[Any, tuple[Compiled, tuple[Any, ...]]] = {}

    def _compile(self, query: ClauseElement) -> tuple[Any, ...]:
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


class PooledSQLiteBackend(SQLiteBackend):
    def __init__(self, database_url: DatabaseURL | str, **options: Any) -> None:
        super().__init__(database_url, **options)
        self._pool = PooledSQLitePool(self._database_url, **self._options)

    def connection(self) -> CachingSQLiteConnection:
        return CachingSQLiteConnection(self._pool, self._dialect)

    async def disconnect(self) -> None:
        await self._pool.close()
        await super().disconnect()
