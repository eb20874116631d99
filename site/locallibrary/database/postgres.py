"""The PostgreSQL database, through `databases` and its asyncpg pool.

Only `databases`' documented API is used: text queries with named parameters, a connection per
task, and its transactions. Every query is asynchronous I/O, so none of them holds the event
loop while PostgreSQL works, and `fetch_all_off_loop` is `fetch_all`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import databases
from databases.core import Connection

from locallibrary.database.base import Database, Queries, Row, Values


class PostgresQueries(Queries):
    """Queries on one of `databases`' connections."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    async def fetch_all(self, sql: str, values: Values = None) -> Sequence[Row]:
        return await self.connection.fetch_all(sql, dict(values or {}))

    async def fetch_one(self, sql: str, values: Values = None) -> Row | None:
        return await self.connection.fetch_one(sql, dict(values or {}))

    async def execute(self, sql: str, values: Values = None) -> None:
        await self.connection.execute(sql, dict(values or {}))


class PostgresDatabase(Database):
    engine = "postgresql"

    def __init__(self, url: str) -> None:
        self.url = url
        self.pool = databases.Database(url)

    async def connect(self) -> None:
        await self.pool.connect()

    async def disconnect(self) -> None:
        await self.pool.disconnect()

    async def fetch_all(self, sql: str, values: Values = None) -> Sequence[Row]:
        return await self.pool.fetch_all(sql, dict(values or {}))

    async def fetch_one(self, sql: str, values: Values = None) -> Row | None:
        return await self.pool.fetch_one(sql, dict(values or {}))

    async def fetch_all_off_loop(self, sql: str, values: Values = None) -> Sequence[Row]:
        return await self.fetch_all(sql, values)

    async def execute(self, sql: str, values: Values = None) -> None:
        await self.pool.execute(sql, dict(values or {}))

    @asynccontextmanager
    async def transaction(self, *, write: bool = False) -> AsyncIterator[Queries]:
        async with self.pool.connection() as connection, connection.transaction():
            yield PostgresQueries(connection)
