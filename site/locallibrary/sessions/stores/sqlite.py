"""The SQLite store: reads kept while the file is unchanged, writes on one thread of their own.

Through aiosqlite, a read-merge-write transaction is a dozen hops between the event loop and
its thread, and the database's write lock is held across all of them. Here the whole
read-merge-write runs as one function on a dedicated thread with its own connection, and the
thread commits the writes that arrived meanwhile together (group commit): one transaction and
one sync of the WAL for all of them, instead of one each. Writers of this process queue in
arrival order on the thread, and the threads of all the workers take the write lock in turn
(write_turns.py), each transaction with all that queued meanwhile. The store hashes every key
(`stored_id`) before handing it to the thread.

Each statement the thread runs gives up the GIL while SQLite works, and under load the event
loop takes it and keeps it until it next waits: the writer then waits too, once per statement.
So the updates that queued one after another are done in two statements for `MERGE_LIMIT` of
them at a time: one read of their rows (`READ_MANY`), the merges in Python, one upsert of the
results (`UPSERT_MANY`). (The merges hold the GIL; the next read lets go of it, so the loop waits
for no more merges than that.) Every other write is one statement. A statement is applied whole
or not at all, so a write that fails (its merge, or its statement) changes nothing and fails
alone, or with the updates written in the same statement; a write is reported done only once
its transaction has committed, and if the commit fails, every write in it is reported failed.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from locallibrary.database import Database, Row
from locallibrary.database.sqlite import SQLiteDatabase
from locallibrary.database.write_turns import WriteTurns
from locallibrary.sessions.codec import SCALARS, decode
from locallibrary.sessions.keys import stored_id
from locallibrary.sessions.stores.base import ANONYMOUS, Merge, Owner, StoredSession
from locallibrary.sessions.stores.database import DatabaseStore, stored_session
from locallibrary.sessions.stores.updates import (
    MERGE_LIMIT,
    Outcome,
    StoredRow,
    Update,
    merged_in_order,
)

# The rows of a list of keys (a JSON array) in one row: one step of SQLite, whatever their number.
READ_MANY = """
    SELECT json_group_array(json_array(key, data, expires_at)) FROM sessions
    WHERE key IN (SELECT value FROM json_each(?))
"""
INSERT = """
    INSERT INTO sessions
        (key, data, expires_at, user_id, signed_in_at, created_at, last_seen_at, agent)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING
"""
# Rows given as a JSON array of [key, data, expires_at, now]. (`WHERE true`: SQLite's parser
# needs it between a SELECT and its upsert clause.)
UPSERT_MANY = """
    INSERT INTO sessions (key, data, expires_at, created_at, last_seen_at)
    SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 3 FROM json_each(?)
    WHERE true
    ON CONFLICT (key) DO UPDATE
    SET data = excluded.data, expires_at = excluded.expires_at, last_seen_at = excluded.last_seen_at
"""
DELETE = "DELETE FROM sessions WHERE key = ?"
DELETE_EXPIRED = "DELETE FROM sessions WHERE expires_at <= ?"
REVOKE = "DELETE FROM sessions WHERE key = ? AND user_id = ? AND expires_at > ?"
# `keep` is never NULL here ('' for none: no stored id is empty), for `key <> NULL` is never true.
REVOKE_ALL = "DELETE FROM sessions WHERE user_id = ? AND key <> ? AND expires_at > ?"

# The most rows `SQLiteStore` keeps between two commits; past it, it forgets them all and starts
# again (any session write is a commit, so they rarely add up).
MAX_KEPT_ROWS = 1024

# A write of one statement.
Statement = Callable[[sqlite3.Connection], Any]


Work = Statement | Update
# A write waiting for the thread: the work, and the future (on its event loop) told the outcome.
Pending = tuple[Work, asyncio.Future[Any], asyncio.AbstractEventLoop]
# A write done: its future, and whether it succeeded with its value or failed with its error.
Settled = tuple[asyncio.Future[Any], Outcome]


class SQLiteWriter:
    def __init__(self, path: str, busy_timeout: float) -> None:
        self.path = path
        self.busy_timeout = busy_timeout
        self._queue: queue.SimpleQueue[Pending | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    async def _run(self, work: Work) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._start()
        self._queue.put((work, future, loop))
        return await future

    def _start(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._serve, name="session-writer", daemon=True
                )
                self._thread.start()

    def _serve(self) -> None:
        connection: sqlite3.Connection | None = None
        turns: WriteTurns | None = None
        while (first := self._queue.get()) is not None:
            batch = [first]
            try:
                if connection is None:
                    connection = sqlite3.connect(
                        self.path,
                        timeout=self.busy_timeout,
                        isolation_level=None,
                        check_same_thread=False,
                    )
                if turns is None:
                    turns = WriteTurns(self.path)
                with turns.turn():
                    batch += self._arrived()
                    outcomes = self._commit(connection, batch)
            except Exception as error:  # no connection, or a broken one: none of these happened
                outcomes = [(False, error)] * len(batch)
                if connection is not None:
                    connection.close()  # and open a new one for the next batch
                    connection = None
            # One wake-up per event loop for the whole batch, not one per write.
            by_loop: dict[asyncio.AbstractEventLoop, list[Settled]] = {}
            for (_, future, loop), outcome in zip(batch, outcomes, strict=True):
                by_loop.setdefault(loop, []).append((future, outcome))
            for loop, settled in by_loop.items():
                try:
                    loop.call_soon_threadsafe(_settle, settled)
                except RuntimeError:  # that event loop is closed: nobody is waiting any more
                    pass
        if connection is not None:
            connection.close()
        if turns is not None:
            turns.close()

    def _arrived(self) -> list[Pending]:
        """The writes that arrived while the thread waited for its turn or committed the last."""
        arrived: list[Pending] = []
        while True:
            try:
                pending = self._queue.get_nowait()
            except queue.Empty:
                return arrived
            if pending is None:
                self._queue.put(None)  # stop after this batch
                return arrived
            arrived.append(pending)

    @staticmethod
    def _commit(connection: sqlite3.Connection, batch: list[Pending]) -> list[Outcome]:
        """Run the batch's writes in one transaction; each one's outcome.

        Updates that come one after another are done together (`update_together`); any other
        write is one statement, in its place in the order.
        """
        outcomes: list[Outcome] = []
        try:
            connection.execute("BEGIN IMMEDIATE")
            works = (work for work, _, _ in batch)
            for _, run in itertools.groupby(works, key=lambda work: isinstance(work, Update)):
                writes = list(run)
                updates = [work for work in writes if isinstance(work, Update)]
                if updates:
                    outcomes += update_together(connection, updates)
                else:
                    outcomes += [_one_statement(connection, work) for work in writes]
            connection.execute("COMMIT")
        except Exception as error:  # no lock, or no commit: none of these writes happened
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            return [(False, error)] * len(batch)
        return outcomes

    async def create(self, hashed: str, text: str, expires_at: int, owner: Owner, now: int) -> bool:
        row = (hashed, text, expires_at, owner.user_id, owner.signed_in_at, now, now, owner.agent)
        created: bool = await self._run(lambda db: db.execute(INSERT, row).rowcount == 1)
        return created

    async def update(self, hashed: str, merge: Merge, expires_at: int, now: int) -> None:
        await self._run(Update(hashed, merge, expires_at, now))

    async def delete(self, hashed: str) -> None:
        await self._run(lambda db: db.execute(DELETE, (hashed,)))

    async def delete_counted(self, statement: str, values: tuple[object, ...]) -> int:
        """Run a DELETE; how many rows went."""
        removed: int = await self._run(lambda db: db.execute(statement, values).rowcount)
        return removed

    def close(self) -> None:
        with self._start_lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join()


def _one_statement(connection: sqlite3.Connection, work: Work) -> Outcome:
    assert not isinstance(work, Update)
    try:
        return (True, work(connection))
    except Exception as error:
        if not connection.in_transaction:
            raise  # SQLite rolled the whole transaction back (disk full, I/O)
        return (False, error)


def update_together(connection: sqlite3.Connection, updates: list[Update]) -> list[Outcome]:
    """Read-merge-write each update in turn, in two statements for `MERGE_LIMIT` at a time.

    A later update of the same row merges into what the earlier one made. A merge that fails
    leaves the row as it was; if an upsert fails, every update in it fails.
    """
    outcomes: list[Outcome] = []
    for start in range(0, len(updates), MERGE_LIMIT):
        outcomes += _update_at_once(connection, updates[start : start + MERGE_LIMIT])
    return outcomes


def _update_at_once(connection: sqlite3.Connection, updates: list[Update]) -> list[Outcome]:
    keys = json.dumps(sorted({update.hashed for update in updates}))
    [(found,)] = connection.execute(READ_MANY, (keys,)).fetchall()
    rows: dict[str, StoredRow] = {
        key: (data, expires_at) for key, data, expires_at in json.loads(found)
    }
    written, outcomes = merged_in_order(updates, rows)
    if written:
        try:
            connection.execute(
                UPSERT_MANY, (json.dumps([[key, *values] for key, values in written.items()]),)
            )
        except sqlite3.Error as error:
            if not connection.in_transaction:
                raise  # SQLite rolled the whole transaction back (disk full, I/O)
            return [(False, error)] * len(updates)
    return outcomes


def _settle(settled: list[Settled]) -> None:
    for future, (succeeded, value) in settled:
        if future.cancelled():
            continue
        if succeeded:
            future.set_result(value)
        else:
            future.set_exception(value)


@dataclass(frozen=True)
class KeptRow:
    """A live row as read, kept while nothing has been committed to the file since."""

    session: StoredSession  # its data is never handed out: each load gets its own
    text: str  # the data's JSON text
    plain: bool  # every value of the data is a string, a number, a bool or null
    expires_at: int

    @classmethod
    def of(cls, row: Row) -> KeptRow:
        data = decode(row["data"])
        session = stored_session(row, data)
        if session.owner is not None:
            session = session._replace(owner=MappingProxyType(dict(session.owner)))
        plain = all(isinstance(value, SCALARS) for value in data.values())
        return cls(session, row["data"], plain, row["expires_at"])

    def stored_session(self) -> StoredSession:
        """The session with data of its own: a copy, or decoded again if it holds a list or a
        dict, which a request may change in place."""
        data = dict(self.session.data) if self.plain else decode(self.text)
        return self.session._replace(data=data)


class SQLiteStore(DatabaseStore):
    """Reads as DatabaseStore does, through the rows it keeps; every write is one hop to the
    `SQLiteWriter`'s thread.

    The rows read are kept in memory while SQLite's `data_version` (on the database's reader)
    stays: while it does, no connection has committed anything to the file, in this process or
    any other, so each kept row is the row in the file. The version is read before the row, so a
    row that changed between the two is read again by the next load. A kept row also expires
    at its own `expires_at`, as a stored one does. Rows are kept by the cookie's key, which
    lives only in this process's memory, as in the request's: a kept row needs no hash.
    """

    def __init__(self, database: SQLiteDatabase, clock: Callable[[], float] = time.time) -> None:
        super().__init__(database, clock)
        self.sqlite = database
        self.writer = SQLiteWriter(database.path, busy_timeout=database.busy_timeout)
        self._kept: dict[str, KeptRow] = {}  # by the cookie's key
        self._kept_at_version: int | None = None

    async def load(self, key: str) -> StoredSession | None:
        version = self.sqlite.data_version()
        if version != self._kept_at_version:
            self._kept.clear()
            self._kept_at_version = version
        kept = self._kept.get(key)
        if kept is None:
            row = await self._live_row(stored_id(key))
            if row is None:
                return None
            kept = KeptRow.of(row)
            if len(self._kept) >= MAX_KEPT_ROWS:
                self._kept.clear()
            self._kept[key] = kept
        if kept.expires_at <= int(self.clock()):
            return None
        return kept.stored_session()

    async def create(self, key: str, text: str, expires_at: int, owner: Owner = ANONYMOUS) -> bool:
        return await self.writer.create(
            stored_id(key), text, expires_at, owner, now=int(self.clock())
        )

    async def update(self, key: str, merge: Merge, expires_at: int) -> None:
        await self.writer.update(stored_id(key), merge, expires_at, now=int(self.clock()))

    async def delete(self, key: str) -> None:
        await self.writer.delete(stored_id(key))

    async def clear_expired(self) -> int:
        return await self.writer.delete_counted(DELETE_EXPIRED, (int(self.clock()),))

    async def revoke(self, user_id: int, session_id: str) -> bool:
        values = (session_id, user_id, int(self.clock()))
        return await self.writer.delete_counted(REVOKE, values) > 0

    async def revoke_all_of_user(self, user_id: int, keep: str | None = None) -> int:
        return await self.writer.delete_counted(
            REVOKE_ALL, (user_id, keep or "", int(self.clock()))
        )

    def close(self) -> None:
        self.writer.close()


def database_store(database: Database, clock: Callable[[], float] = time.time) -> DatabaseStore:
    """The store for the site's database: SQLiteStore on SQLite, DatabaseStore elsewhere."""
    if isinstance(database, SQLiteDatabase):
        return SQLiteStore(database, clock)
    return DatabaseStore(database, clock)
