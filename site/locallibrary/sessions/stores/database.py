"""A store in the site's SQL database (locallibrary.database), used as is on PostgreSQL.

Reads are one indexed SELECT, which also reads the signed-in user's row (a join on its primary
key): every signed-in request needs both (web/authentication.py), so one point lookup instead of
two. An update reads, merges and writes inside one short transaction, `SELECT … FOR UPDATE`
locking only this session's row, so sessions of different browsers write side by side.
`database_store()` picks `SQLiteStore` (sqlite.py) for SQLite, which keeps the reads and does
the writes its own way. Every key is hashed (`stored_id`) before it reaches SQL.
"""

from __future__ import annotations

import time
from collections.abc import Callable

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

# The owner's columns are the ones `StoredSession.owner` holds (all of `users` but the hash).
OWNER_COLUMNS = ("email", "name", "role", "created_at", "last_login_at")
LOAD = """
    SELECT session.data, session.user_id, session.signed_in_at, session.last_seen_at,
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
LOCK = "SELECT data, expires_at FROM sessions WHERE key = :key FOR UPDATE"
# No row to lock (expired and cleared, or flushed meanwhile): make one, so that a concurrent
# update of the same key waits for this one instead of racing it.
PLACEHOLDER = """
    INSERT INTO sessions (key, data, expires_at, created_at) VALUES (:key, '{}', 0, :now)
    ON CONFLICT (key) DO NOTHING
"""
UPDATE = """
    UPDATE sessions SET data = :data, expires_at = :expires_at, last_seen_at = :now
    WHERE key = :key
"""
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

    async def load(self, key: str) -> StoredSession | None:
        row = await self.database.fetch_one(LOAD, {"key": stored_id(key), "now": int(self.clock())})
        if row is None:
            return None
        user_id = row["user_id"]
        owner = None
        if user_id is not None and row["email"] is not None:  # email: NOT NULL in `users`
            owner = {"id": user_id, **{name: row[name] for name in OWNER_COLUMNS}}
        return StoredSession(
            decode(row["data"]), user_id, row["signed_in_at"], row["last_seen_at"], owner
        )

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
        hashed, now = stored_id(key), int(self.clock())
        async with self.database.transaction(write=True) as connection:
            row = await self._locked_row(connection, hashed)
            if row is None:
                await connection.execute(PLACEHOLDER, {"key": hashed, "now": now})
                row = await self._locked_row(connection, hashed)
            assert row is not None
            live = row["expires_at"] > now
            text = merge(decode(row["data"]) if live else None)
            await connection.execute(
                UPDATE, {"key": hashed, "data": text, "expires_at": expires_at, "now": now}
            )

    @staticmethod
    async def _locked_row(connection: Queries, hashed: str) -> Row | None:
        return await connection.fetch_one(LOCK, {"key": hashed})

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
