"""A store in the site's SQL database (SQLite or PostgreSQL) through `databases`.

Reads are one indexed SELECT. An update reads, merges and writes inside one short write
transaction: `BEGIN IMMEDIATE` on SQLite (which takes the write lock up front, so concurrent
writers queue on the busy timeout instead of failing a lock upgrade), `SELECT … FOR UPDATE` on
PostgreSQL (which locks only this session's row).
"""

from __future__ import annotations

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

    async def load(self, key: str) -> dict[str, Any] | None:
        text = await self.database.fetch_val(
            select(sessions.c.data).where(
                sessions.c.key == key, sessions.c.expires_at > int(self.clock())
            )
        )
        return None if text is None else decode(text)

    async def create(self, key: str, text: str, expires_at: int) -> bool:
        created = await self.database.fetch_val(
            self._insert(sessions)
            .values(key=key, data=text, expires_at=expires_at)
            .on_conflict_do_nothing(index_elements=[sessions.c.key])
            .returning(sessions.c.key)
        )
        return created is not None

    async def update(self, key: str, merge: Merge, expires_at: int) -> None:
        async with self.database.connection() as connection, self._write(connection):
            row = await connection.fetch_one(
                select(sessions.c.data, sessions.c.expires_at)
                .where(sessions.c.key == key)
                .with_for_update()
            )
            live = row is not None and row.expires_at > int(self.clock())
            text = merge(decode(row.data) if live and row is not None else None)
            if row is None:
                # The row went away since this request loaded it (cleared, or never stored).
                statement = self._insert(sessions).values(key=key, data=text, expires_at=expires_at)
                await connection.execute(
                    statement.on_conflict_do_update(
                        index_elements=[sessions.c.key],
                        set_={"data": text, "expires_at": expires_at},
                    )
                )
            else:
                await connection.execute(
                    update(sessions)
                    .where(sessions.c.key == key)
                    .values(data=text, expires_at=expires_at)
                )

    @asynccontextmanager
    async def _write(self, connection: Connection) -> AsyncIterator[None]:
        if not self.is_sqlite:
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
        await self.database.execute(delete(sessions).where(sessions.c.key == key))

    async def clear_expired(self) -> int:
        removed = await self.database.fetch_all(
            delete(sessions)
            .where(sessions.c.expires_at <= int(self.clock()))
            .returning(sessions.c.key)
        )
        return len(removed)
