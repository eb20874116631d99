"""A store in the site's SQL database (locallibrary.database), used as is on PostgreSQL.

Reads are one indexed SELECT, which also reads the signed-in user's row (a join on its primary
key): every signed-in request needs both (web/authentication.py), so one point lookup instead of
two. `database_store()` picks `SQLiteStore` (sqlite.py) for SQLite, which keeps the reads and does
the writes its own way. Every key is hashed (`stored_id`) before it reaches SQL.

Updates are read-merge-writes, and this process does the ones that arrive together in one
transaction (group commit), as the SQLite store does: while one batch is written, the next
queues. A batch (`MERGE_LIMIT` updates at most) locks its rows (`SELECT … FOR UPDATE`, only
those rows, in key order, so that two workers' batches never wait for each other in a cycle),
merges each update in arrival order into what the one before it made, and writes them all in
one statement. So one browser's burst of requests, which all update one row, costs one
transaction instead of one each, queued on the row's lock; and the updates of many browsers
share a commit. A merge that fails leaves its row as it was and fails alone; a batch whose
statements fail fails all its updates.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from locallibrary.database import Database, Queries, Row
from locallibrary.sessions.codec import decode
from locallibrary.sessions.keys import stored_id
from locallibrary.sessions.stores.base import (
    ANONYMOUS,
    Merge,
    Owner,
    SessionStore,
    SessionSummary,
    StoredSession,
    UserSessions,
)
from locallibrary.sessions.stores.updates import (
    MERGE_LIMIT,
    Outcome,
    StoredRow,
    Update,
    merged_in_order,
)

# The owner's columns are the ones `StoredSession.owner` holds (all of `users` but the hash).
OWNER_COLUMNS = ("email", "name", "role", "created_at", "last_login_at")
LOAD = """
    SELECT session.data, session.expires_at, session.user_id, session.signed_in_at,
           session.last_seen_at,
           owner.email, owner.name, owner.role, owner.created_at, owner.last_login_at
    FROM sessions AS session
    LEFT JOIN users AS owner ON owner.id = session.user_id
    WHERE session.key = :key AND session.expires_at > :now
"""
CREATE = """
    INSERT INTO sessions
        (key, data, expires_at, user_id, signed_in_at, created_at, last_seen_at, agent)
    VALUES (:key, :data, :expires_at, :user_id, :signed_in_at, :now, :now, :agent)
    ON CONFLICT (key) DO NOTHING
    RETURNING key
"""
# The rows of a batch's keys, locked in key order: two workers' batches take their locks in the
# same order, so neither waits for the other in a cycle.
LOCK_MANY = """
    SELECT key, data, expires_at FROM sessions
    WHERE key = ANY(CAST(:keys AS text[]))
    ORDER BY key
    FOR UPDATE
"""
# Rows for the keys that have none (expired and cleared, or flushed meanwhile), so that a
# concurrent update of one of them waits for this batch instead of racing it.
PLACEHOLDERS = """
    INSERT INTO sessions (key, data, expires_at, created_at)
    SELECT key, '{}', 0, now
    FROM unnest(CAST(:keys AS text[]), CAST(:nows AS bigint[])) AS new(key, now)
    ORDER BY key
    ON CONFLICT (key) DO NOTHING
    RETURNING key
"""
WRITE_MANY = """
    UPDATE sessions
    SET data = new.data, expires_at = new.expires_at, last_seen_at = new.now
    FROM unnest(
        CAST(:keys AS text[]), CAST(:datas AS text[]),
        CAST(:expiries AS bigint[]), CAST(:nows AS bigint[])
    ) AS new(key, data, expires_at, now)
    WHERE sessions.key = new.key
"""
DELETE_MANY = "DELETE FROM sessions WHERE key = ANY(CAST(:keys AS text[]))"
DELETE = "DELETE FROM sessions WHERE key = :key"
DELETE_EXPIRED = "DELETE FROM sessions WHERE expires_at <= :now RETURNING key"
# Through ix_sessions_user_id, off the event loop: the sort is over one user's rows, however
# many, but only `limit` of them are kept and sent; `live` counts them all (the window is over
# every row the WHERE keeps, before the LIMIT). `first` is never NULL ('' for none).
OF_USER = """
    SELECT key, created_at, last_seen_at, signed_in_at, agent, COUNT(*) OVER () AS live
    FROM sessions
    WHERE user_id = :user_id AND expires_at > :now
    ORDER BY key = :first DESC, last_seen_at DESC, key
    LIMIT :limit
"""
REVOKE = """
    DELETE FROM sessions WHERE key = :key AND user_id = :user_id AND expires_at > :now
    RETURNING key
"""
# `keep` is never NULL here ('' for none: no stored id is empty), for `key <> NULL` is never true.
REVOKE_ALL = """
    DELETE FROM sessions WHERE user_id = :user_id AND key <> :keep AND expires_at > :now
    RETURNING key
"""


class DatabaseStore(SessionStore):
    def __init__(self, database: Database, clock: Callable[[], float] = time.time) -> None:
        self.database = database
        self.clock = clock
        # The updates waiting for the next batch, and the task writing batches, if one is.
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queued: list[tuple[Update, asyncio.Future[None]]] = []
        self._writing: asyncio.Task[None] | None = None

    async def load(self, key: str) -> StoredSession | None:
        row = await self._live_row(stored_id(key))
        return None if row is None else stored_session(row, decode(row["data"]))

    async def _live_row(self, hashed: str) -> Row | None:
        """The row of the stored id `hashed`, with its owner's columns, if it is live."""
        return await self.database.fetch_one(LOAD, {"key": hashed, "now": int(self.clock())})

    async def create(self, key: str, text: str, expires_at: int, owner: Owner = ANONYMOUS) -> bool:
        values = {
            "key": stored_id(key),
            "data": text,
            "expires_at": expires_at,
            "user_id": owner.user_id,
            "signed_in_at": owner.signed_in_at,
            "now": int(self.clock()),
            "agent": owner.agent,
        }
        async with self.database.transaction(write=True) as connection:
            created = await connection.fetch_val(CREATE, values)
        return created is not None

    async def update(self, key: str, merge: Merge, expires_at: int) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # the app, and its store, can be served by loop after loop
            self._loop, self._queued, self._writing = loop, [], None
        future: asyncio.Future[None] = loop.create_future()
        self._queued.append((Update(stored_id(key), merge, expires_at, int(self.clock())), future))
        if self._writing is None:
            self._writing = loop.create_task(self._write_queued())
        await future

    async def _write_queued(self) -> None:
        """Write what has queued, one batch after another, until nothing is left."""
        try:
            while self._queued:
                batch, self._queued = self._queued[:MERGE_LIMIT], self._queued[MERGE_LIMIT:]
                try:
                    outcomes = await self._write_together([update for update, _ in batch])
                except Exception as error:  # none of the batch was written
                    outcomes = [(False, error)] * len(batch)
                for (_, future), (succeeded, failure) in zip(batch, outcomes, strict=True):
                    if future.done():  # its request was cancelled; the write stands
                        continue
                    if succeeded:
                        future.set_result(None)
                    else:
                        future.set_exception(failure)
        finally:
            self._writing = None

    async def _write_together(self, updates: list[Update]) -> list[Outcome]:
        """Read-merge-write the updates in one transaction: lock, merge, write, in order."""
        first_now: dict[str, int] = {}
        for update in updates:
            first_now.setdefault(update.hashed, update.now)
        keys = sorted(first_now)
        async with self.database.transaction(write=True) as connection:
            rows = await self._locked(connection, keys)
            missing = [key for key in keys if key not in rows]
            made: list[str] = []
            if missing:
                values = {"keys": missing, "nows": [first_now[key] for key in missing]}
                made = [row["key"] for row in await connection.fetch_all(PLACEHOLDERS, values)]
                rows |= await self._locked(connection, missing)
            written, outcomes = merged_in_order(updates, rows)
            if written:
                await connection.execute(
                    WRITE_MANY,
                    {
                        "keys": list(written),
                        "datas": [data for data, _, _ in written.values()],
                        "expiries": [expires_at for _, expires_at, _ in written.values()],
                        "nows": [now for _, _, now in written.values()],
                    },
                )
            unused = [key for key in made if key not in written]  # every merge of it failed
            if unused:
                await connection.execute(DELETE_MANY, {"keys": unused})
        return outcomes

    @staticmethod
    async def _locked(connection: Queries, keys: list[str]) -> dict[str, StoredRow]:
        found = await connection.fetch_all(LOCK_MANY, {"keys": keys})
        return {row["key"]: (row["data"], row["expires_at"]) for row in found}

    async def delete(self, key: str) -> None:
        await self.database.execute(DELETE, {"key": stored_id(key)})

    async def clear_expired(self) -> int:
        return await self._delete(DELETE_EXPIRED, {"now": int(self.clock())})

    async def sessions_of_user(
        self, user_id: int, limit: int, first: str | None = None
    ) -> UserSessions:
        values = {
            "user_id": user_id,
            "now": int(self.clock()),
            "first": first or "",
            "limit": limit,
        }
        rows = await self.database.fetch_all_off_loop(OF_USER, values)
        shown = [
            SessionSummary(
                row["key"],
                row["created_at"],
                row["last_seen_at"],
                row["signed_in_at"],
                row["agent"],
            )
            for row in rows
        ]
        return UserSessions(shown, rows[0]["live"] if rows else 0)

    async def revoke(self, user_id: int, session_id: str) -> bool:
        values = {"key": session_id, "user_id": user_id, "now": int(self.clock())}
        return await self._delete(REVOKE, values) > 0

    async def revoke_all_of_user(self, user_id: int, keep: str | None = None) -> int:
        values = {"user_id": user_id, "keep": keep or "", "now": int(self.clock())}
        return await self._delete(REVOKE_ALL, values)

    async def _delete(self, statement: str, values: dict[str, object]) -> int:
        """Run a `DELETE … RETURNING`; how many rows went."""
        async with self.database.transaction(write=True) as connection:
            removed = await connection.fetch_all(statement, values)
        return len(removed)

    def close(self) -> None:
        """Release what the store holds beyond the database (the server's shutdown calls it)."""


def stored_session(row: Row, data: dict[str, Any]) -> StoredSession:
    """The session of a row that `LOAD` read, with `data` for its data."""
    user_id = row["user_id"]
    owner = None
    if user_id is not None and row["email"] is not None:  # email: NOT NULL in `users`
        owner = {"id": user_id, **{name: row[name] for name in OWNER_COLUMNS}}
    return StoredSession(data, user_id, row["signed_in_at"], row["last_seen_at"], owner)
