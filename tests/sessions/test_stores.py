"""The store contract (`SessionStore`), run against every store.

Each test runs three times: on `MemoryStore`, on `SQLiteStore` and on `DatabaseStore` over
PostgreSQL (a fresh, migrated, empty database each); a few at the end are about the SQLite
store's writer thread alone. Time is a fake clock passed to the store.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
import pytest

from locallibrary.accounts.users import create_user, user_from_row
from locallibrary.database import Database, connect, create_database
from locallibrary.database.sqlite import SQLiteDatabase
from locallibrary.database.write_turns import WriteTurns
from locallibrary.sessions import (
    DatabaseStore,
    MemoryStore,
    Session,
    SessionConfig,
    SessionStore,
    database_store,
)
from locallibrary.sessions.keys import new_session_key, stored_id
from locallibrary.sessions.stores.base import Owner, SessionSummary, StoredSession, UserSessions
from locallibrary.sessions.stores.memory import MemoryRow
from locallibrary.sessions.stores.sqlite import READ_MANY, UPSERT_MANY, update_together
from locallibrary.sessions.stores.updates import MERGE_LIMIT, Update
from tests.accounts.hashers import cheap
from tests.clock import FakeClock
from tests.write_turns import wait_until_a_writer_is_next

pytestmark = pytest.mark.anyio

START = 1_700_000_000.0
LATER = int(START) + 3600


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def data_of(store: SessionStore, key: str) -> dict[str, Any] | None:
    """The data of the live session `key`, None if there is none."""
    stored = await store.load(key)
    return None if stored is None else stored.data


class Harness:
    """A store, its clock, and a way around the store to the rows it keeps."""

    def __init__(self, store: SessionStore, clock: FakeClock) -> None:
        self.store = store
        self.clock = clock

    async def put_raw(self, key: str, text: str, expires_at: int) -> None:
        raise NotImplementedError

    async def get_raw(self, key: str) -> tuple[str, int] | None:
        raise NotImplementedError

    async def keys(self) -> set[str]:
        """The stored ids of every row (the keys' hashes)."""
        raise NotImplementedError


class MemoryHarness(Harness):
    store: MemoryStore

    async def put_raw(self, key: str, text: str, expires_at: int) -> None:
        self.store.rows[stored_id(key)] = MemoryRow(text, expires_at)

    async def get_raw(self, key: str) -> tuple[str, int] | None:
        row = self.store.rows.get(stored_id(key))
        return None if row is None else (row.data, row.expires_at)

    async def keys(self) -> set[str]:
        return set(self.store.rows)


class DatabaseHarness(Harness):
    def __init__(self, store: DatabaseStore, clock: FakeClock, database: Database) -> None:
        super().__init__(store, clock)
        self.database = database

    async def put_raw(self, key: str, text: str, expires_at: int) -> None:
        await self.database.execute(
            "INSERT INTO sessions (key, data, expires_at) VALUES (:key, :data, :expires_at)",
            {"key": stored_id(key), "data": text, "expires_at": expires_at},
        )

    async def get_raw(self, key: str) -> tuple[str, int] | None:
        row = await self.database.fetch_one(
            "SELECT data, expires_at FROM sessions WHERE key = :key", {"key": stored_id(key)}
        )
        return None if row is None else (row[0], int(row[1]))

    async def keys(self) -> set[str]:
        return {row[0] for row in await self.database.fetch_all("SELECT key FROM sessions")}


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def store_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture
def store_url(store_kind: str, databases_factory: Any) -> str | None:
    """A fresh migrated empty database for the database stores (made outside the event loop)."""
    if store_kind == "memory":
        return None
    url: str = databases_factory.new(store_kind, seeded=False)
    return url


@asynccontextmanager
async def opened(url: str | None) -> AsyncIterator[Harness]:
    clock = FakeClock(START)
    if url is None:
        yield MemoryHarness(MemoryStore(clock=clock), clock)
        return
    database = create_database(url)
    await connect(database)
    store = database_store(database, clock=clock)
    try:
        yield DatabaseHarness(store, clock, database)
    finally:
        store.close()
        await database.disconnect()


@asynccontextmanager
async def opened_database(url: str) -> AsyncIterator[DatabaseHarness]:
    async with opened(url) as opened_harness:
        assert isinstance(opened_harness, DatabaseHarness)
        yield opened_harness


@pytest.fixture
async def harness(store_url: str | None, anyio_backend: str) -> AsyncIterator[Harness]:
    """Each store in turn: memory, SQLite, PostgreSQL."""
    async with opened(store_url) as opened_harness:
        yield opened_harness


@pytest.fixture
async def database_harness(
    empty_database_url: str, anyio_backend: str
) -> AsyncIterator[DatabaseHarness]:
    """The database stores only: SQLite, PostgreSQL (conftest's `database_kind`)."""
    async with opened_database(empty_database_url) as opened_harness:
        yield opened_harness


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False)


def setting(**changes: Any) -> Any:
    """A merge function that records what it was given and applies `changes` to it."""

    def merge(stored: dict[str, Any] | None) -> str:
        merge.received.append(stored)  # type: ignore[attr-defined]
        return dumps({**(stored or {}), **changes})

    merge.received = []  # type: ignore[attr-defined]
    return merge


class MergeFailed(Exception):
    pass


def failing(stored: dict[str, Any] | None) -> str:
    raise MergeFailed


# -- load and create ----------------------------------------------------------------------------


async def test_load_of_unknown_key_is_none(harness: Harness) -> None:
    assert await data_of(harness.store, new_session_key()) is None


async def test_create_then_load(harness: Harness) -> None:
    key = new_session_key()
    assert await harness.store.create(key, dumps({"a": 1, "b": [True, None]}), LATER) is True
    assert await data_of(harness.store, key) == {"a": 1, "b": [True, None]}
    assert await harness.get_raw(key) == (dumps({"a": 1, "b": [True, None]}), LATER)


async def test_create_of_an_existing_key_returns_false_and_keeps_the_row(
    harness: Harness,
) -> None:
    key = new_session_key()
    assert await harness.store.create(key, dumps({"first": 1}), LATER)
    assert await harness.store.create(key, dumps({"second": 2}), LATER + 100) is False
    assert await data_of(harness.store, key) == {"first": 1}
    assert await harness.get_raw(key) == (dumps({"first": 1}), LATER)


async def test_keys_are_stored_hashed(harness: Harness) -> None:
    key = new_session_key()
    await harness.store.create(key, dumps({"a": 1}), LATER)
    await harness.store.update(key, setting(b=2), LATER)
    assert await harness.keys() == {stored_id(key)}
    assert await harness.store.load(stored_id(key)) is None, "the stored id opens nothing"


async def test_rows_are_kept_apart(harness: Harness) -> None:
    one, two = new_session_key(), new_session_key()
    await harness.store.create(one, dumps({"who": "one"}), LATER)
    await harness.store.create(two, dumps({"who": "two"}), LATER)
    assert await data_of(harness.store, one) == {"who": "one"}
    assert await data_of(harness.store, two) == {"who": "two"}
    await harness.store.delete(one)
    assert await data_of(harness.store, two) == {"who": "two"}


async def test_non_ascii_text_round_trips(harness: Harness) -> None:
    data = {
        "text": "Grüße, 世界 — ☃ 😀 é\u0301",
        "control": "a\x00b\tc\n",
        "ключ": ["ünïcödé", {"日本": "語"}],
    }
    key = new_session_key()
    await harness.store.create(key, dumps(data), LATER)
    assert await data_of(harness.store, key) == data
    await harness.store.update(key, setting(more="ß∂ƒ©"), LATER)
    assert await data_of(harness.store, key) == {**data, "more": "ß∂ƒ©"}


async def test_large_data_round_trips(harness: Harness) -> None:
    data = {"big": "x" * 200_000, "list": list(range(5000))}
    key = new_session_key()
    await harness.store.create(key, dumps(data), LATER)
    assert await data_of(harness.store, key) == data


# -- update -------------------------------------------------------------------------------------


async def test_update_merges_into_the_stored_data(harness: Harness) -> None:
    key = new_session_key()
    await harness.store.create(key, dumps({"a": 1, "b": 2}), LATER)
    merge = setting(b=3, c=4)
    await harness.store.update(key, merge, LATER + 60)
    assert merge.received == [{"a": 1, "b": 2}]
    assert await data_of(harness.store, key) == {"a": 1, "b": 3, "c": 4}
    assert await harness.get_raw(key) == (dumps({"a": 1, "b": 3, "c": 4}), LATER + 60)


async def test_update_of_a_missing_row_creates_it(harness: Harness) -> None:
    key = new_session_key()
    merge = setting(a=1)
    await harness.store.update(key, merge, LATER)
    assert merge.received == [None]
    assert await data_of(harness.store, key) == {"a": 1}
    assert await harness.get_raw(key) == (dumps({"a": 1}), LATER)


async def test_update_of_an_expired_row_sees_none_and_replaces_it(harness: Harness) -> None:
    key = new_session_key()
    await harness.store.create(key, dumps({"old": 1}), int(START) + 10)
    harness.clock.now += 10
    merge = setting(new=2)
    await harness.store.update(key, merge, int(harness.clock.now) + 3600)
    assert merge.received == [None]
    assert await data_of(harness.store, key) == {"new": 2}
    assert await harness.get_raw(key) == (dumps({"new": 2}), int(START) + 10 + 3600)


async def test_update_can_shorten_the_expiry(harness: Harness) -> None:
    key = new_session_key()
    await harness.store.create(key, dumps({"a": 1}), LATER)
    await harness.store.update(key, setting(), int(START) + 5)
    harness.clock.now += 5
    assert await data_of(harness.store, key) is None


async def test_failing_merge_leaves_the_row_intact(harness: Harness) -> None:
    key = new_session_key()
    await harness.store.create(key, dumps({"a": 1}), LATER)
    with pytest.raises(MergeFailed):
        await harness.store.update(key, failing, LATER + 60)
    assert await harness.get_raw(key) == (dumps({"a": 1}), LATER)
    # The store still works afterwards (on a database: the transaction was rolled back).
    await harness.store.update(key, setting(b=2), LATER + 60)
    assert await harness.get_raw(key) == (dumps({"a": 1, "b": 2}), LATER + 60)
    other = new_session_key()
    assert await harness.store.create(other, dumps({"c": 3}), LATER)
    assert await data_of(harness.store, other) == {"c": 3}


async def test_failing_merge_of_a_missing_row_creates_nothing(harness: Harness) -> None:
    key = new_session_key()
    with pytest.raises(MergeFailed):
        await harness.store.update(key, failing, LATER)
    assert await harness.get_raw(key) is None
    await harness.store.update(key, setting(a=1), LATER)
    assert await data_of(harness.store, key) == {"a": 1}


async def test_failing_merges_leave_the_pooled_connections_usable(
    database_harness: DatabaseHarness,
) -> None:
    """A merge that raises rolls its transaction back; the connection goes on serving."""
    store = database_harness.store
    key = new_session_key()
    await store.create(key, dumps({"a": 1}), LATER)
    for _ in range(3):
        with pytest.raises(MergeFailed):
            await store.update(key, failing, LATER)
    await store.update(key, setting(b=2), LATER)
    assert await data_of(store, key) == {"a": 1, "b": 2}
    assert await database_harness.get_raw(key) == (dumps({"a": 1, "b": 2}), LATER)


async def test_writes_are_visible_to_another_connection(
    database_harness: DatabaseHarness, empty_database_url: str
) -> None:
    """Every write is committed: another connection (another server process) sees it."""
    store = database_harness.store
    created, updated, deleted = new_session_key(), new_session_key(), new_session_key()
    await store.create(created, dumps({"a": 1}), LATER)
    await store.update(updated, setting(b=2), LATER)
    await store.create(deleted, dumps({"c": 3}), LATER)
    await store.delete(deleted)
    async with opened(empty_database_url) as other:
        assert await data_of(other.store, created) == {"a": 1}
        assert await data_of(other.store, updated) == {"b": 2}
        assert await data_of(other.store, deleted) is None


async def test_update_inside_a_callers_transaction(
    database_harness: DatabaseHarness, database_kind: str, request: pytest.FixtureRequest
) -> None:
    store, database = database_harness.store, database_harness.database
    key = new_session_key()
    await store.create(key, dumps({"a": 1}), LATER)
    async with database.transaction():
        await store.update(key, setting(b=2), LATER)
    assert await data_of(store, key) == {"a": 1, "b": 2}


# -- delete and expiry --------------------------------------------------------------------------


async def test_delete(harness: Harness) -> None:
    key = new_session_key()
    await harness.store.create(key, dumps({"a": 1}), LATER)
    await harness.store.delete(key)
    assert await data_of(harness.store, key) is None
    assert await harness.get_raw(key) is None
    # The key can be used again.
    assert await harness.store.create(key, dumps({"b": 2}), LATER)


async def test_delete_of_unknown_key_is_fine(harness: Harness) -> None:
    await harness.store.delete(new_session_key())
    key = new_session_key()
    await harness.store.create(key, dumps({"a": 1}), LATER)
    await harness.store.delete(key)
    await harness.store.delete(key)
    assert await harness.keys() == set()


async def test_expired_row_loads_as_none(harness: Harness) -> None:
    key = new_session_key()
    await harness.store.create(key, dumps({"a": 1}), int(START) + 10)
    harness.clock.now = START + 9.999
    assert await data_of(harness.store, key) == {"a": 1}
    harness.clock.now = START + 10  # expires_at is the first second the row is dead
    assert await data_of(harness.store, key) is None
    harness.clock.now = START + 1_000_000
    assert await data_of(harness.store, key) is None


async def test_clear_expired_removes_exactly_the_expired_rows(harness: Harness) -> None:
    now = int(START)
    rows = {
        "long_dead": now - 10_000,
        "dead": now - 1,
        "just_dead": now,
        "just_alive": now + 1,
        "alive": now + 10_000,
    }
    keys = {name: new_session_key() for name in rows}
    for name, expires_at in rows.items():
        assert await harness.store.create(keys[name], dumps({"name": name}), expires_at)
    assert await harness.store.clear_expired() == 3
    assert await harness.keys() == {stored_id(keys["just_alive"]), stored_id(keys["alive"])}
    assert await data_of(harness.store, keys["just_alive"]) == {"name": "just_alive"}
    assert await harness.store.clear_expired() == 0


async def test_clear_expired_with_nothing_stored(harness: Harness) -> None:
    assert await harness.store.clear_expired() == 0


async def test_clear_expired_follows_the_clock(harness: Harness) -> None:
    key = new_session_key()
    await harness.store.create(key, dumps({"a": 1}), int(START) + 60)
    assert await harness.store.clear_expired() == 0
    harness.clock.now += 60
    assert await harness.store.clear_expired() == 1
    assert await harness.keys() == set()


# -- corrupt rows -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["{not json", "", "[1, 2, 3]", '"a string"', "null", "42", '{"a": 1'],
    ids=["garbage", "empty", "list", "string", "null", "number", "truncated"],
)
async def test_corrupt_row_loads_as_an_empty_dict(harness: Harness, text: str) -> None:
    key = new_session_key()
    await harness.put_raw(key, text, LATER)
    assert await data_of(harness.store, key) == {}


async def test_update_of_a_corrupt_row_sees_an_empty_dict(harness: Harness) -> None:
    key = new_session_key()
    await harness.put_raw(key, "{not json", LATER)
    merge = setting(a=1)
    await harness.store.update(key, merge, LATER)
    assert merge.received == [{}]
    assert await data_of(harness.store, key) == {"a": 1}


# -- concurrency --------------------------------------------------------------------------------


def adding_one(stored: dict[str, Any] | None) -> str:
    data = dict(stored or {})
    data["n"] = data.get("n", 0) + 1
    return dumps(data)


async def test_concurrent_updates_all_count(harness: Harness) -> None:
    key = new_session_key()
    await harness.store.create(key, dumps({"n": 0, "other": "kept"}), LATER)
    await asyncio.gather(*(harness.store.update(key, adding_one, LATER) for _ in range(20)))
    assert await data_of(harness.store, key) == {"n": 20, "other": "kept"}


async def test_update_of_a_missing_row_racing_another(
    database_harness: DatabaseHarness,
    database_kind: str,
    empty_database_url: str,
    request: pytest.FixtureRequest,
) -> None:
    """Two updates of a key with no row: the second must see the first's row, not overwrite it.

    Made deterministic with a second process-like writer (its own thread, event loop and
    connection) that runs entirely while the first update is inside its merge function.
    """
    key = new_session_key()
    done = threading.Event()
    errors: list[BaseException] = []

    def other_writer() -> None:
        async def run() -> None:
            database = create_database(empty_database_url)
            await connect(database)
            store = database_store(database, clock=database_harness.clock)
            try:
                await store.update(key, adding_one, LATER)
            finally:
                store.close()
                await database.disconnect()

        try:
            asyncio.run(run())
        except BaseException as error:  # reported by the test below
            errors.append(error)
        finally:
            done.set()

    thread = threading.Thread(target=other_writer)

    def first_merge(stored: dict[str, Any] | None) -> str:
        thread.start()
        # PostgreSQL: the other writer finishes now. SQLite: it waits for this one's write lock.
        done.wait(timeout=1)
        return adding_one(stored)

    await database_harness.store.update(key, first_merge, LATER)
    await anyio.to_thread.run_sync(thread.join, 30)
    assert not thread.is_alive()
    assert errors == []
    assert await data_of(database_harness.store, key) == {"n": 2}


async def test_concurrent_updates_of_different_rows(harness: Harness) -> None:
    keys = [new_session_key() for _ in range(10)]
    for key in keys:
        await harness.store.create(key, dumps({"n": 0}), LATER)
    await asyncio.gather(
        *(harness.store.update(key, adding_one, LATER) for key in keys for _ in range(3))
    )
    for key in keys:
        assert await data_of(harness.store, key) == {"n": 3}


async def test_concurrent_failing_and_succeeding_updates(harness: Harness) -> None:
    key = new_session_key()
    await harness.store.create(key, dumps({"n": 0}), LATER)
    results = await asyncio.gather(
        *(harness.store.update(key, failing if i % 2 else adding_one, LATER) for i in range(10)),
        return_exceptions=True,
    )
    assert sum(isinstance(result, MergeFailed) for result in results) == 5
    assert await data_of(harness.store, key) == {"n": 5}


# -- owners and a user's sessions ----------------------------------------------------------------


async def signed_in(harness: Harness, user_id: int, agent: str = "Firefox on Linux") -> str:
    """A new session of `user_id`, signed in now; returns its key."""
    key = new_session_key()
    now = int(harness.clock.now)
    assert await harness.store.create(key, dumps({}), now + 3600, Owner(user_id, now, agent))
    return key


async def test_a_rows_owner_and_times_are_stored_and_loaded(harness: Harness) -> None:
    key = await signed_in(harness, 7)
    stored = await harness.store.load(key)
    assert stored == StoredSession({}, 7, int(START), int(START))
    harness.clock.now += 100
    await harness.store.update(key, setting(a=1), LATER)
    assert await harness.store.load(key) == StoredSession({"a": 1}, 7, int(START), int(START) + 100)
    [summary] = (await harness.store.sessions_of_user(7, limit=10)).shown
    assert summary == SessionSummary(
        stored_id(key), int(START), int(START) + 100, int(START), "Firefox on Linux"
    )


async def test_an_anonymous_row_has_no_owner(harness: Harness) -> None:
    key = new_session_key()
    await harness.store.create(key, dumps({"a": 1}), LATER)
    assert await harness.store.load(key) == StoredSession({"a": 1}, None, None, int(START))


async def test_sessions_of_a_user_are_the_live_ones_most_recently_seen_first(
    harness: Harness,
) -> None:
    first, second, third = [await signed_in(harness, 7, f"browser {i}") for i in range(3)]
    await signed_in(harness, 8)
    await harness.store.create(new_session_key(), dumps({}), LATER)
    harness.clock.now += 10
    await harness.store.update(first, setting(), LATER)
    harness.clock.now += 10
    await harness.store.update(third, setting(), int(harness.clock.now) + 1)
    expired = await signed_in(harness, 7)
    await harness.store.update(expired, setting(), int(harness.clock.now))
    harness.clock.now += 0.5
    found = await harness.store.sessions_of_user(7, limit=10)
    assert [s.id for s in found.shown] == [stored_id(k) for k in (third, first, second)]
    assert [s.agent for s in found.shown] == ["browser 2", "browser 0", "browser 1"]
    assert found.live == 3
    assert await harness.store.sessions_of_user(9, limit=10) == UserSessions([], 0)


async def test_sessions_of_a_user_are_limited_with_the_one_asked_for_first(
    harness: Harness,
) -> None:
    keys = []
    for index in range(6):  # seen one after another: the last is the most recent
        keys.append(await signed_in(harness, 7, f"browser {index}"))
        harness.clock.now += 10
    oldest = keys[0]
    found = await harness.store.sessions_of_user(7, limit=3, first=stored_id(oldest))
    assert [s.agent for s in found.shown] == ["browser 0", "browser 5", "browser 4"]
    assert found.live == 6
    found = await harness.store.sessions_of_user(7, limit=3)
    assert [s.agent for s in found.shown] == ["browser 5", "browser 4", "browser 3"]
    assert found.live == 6
    # A `first` that is not one of them (another user's, or none left) changes nothing.
    other = await signed_in(harness, 8)
    assert await harness.store.sessions_of_user(7, limit=3, first=stored_id(other)) == found


async def test_revoke_ends_only_a_live_session_of_that_user(harness: Harness) -> None:
    mine, theirs = await signed_in(harness, 7), await signed_in(harness, 8)
    assert await harness.store.revoke(7, stored_id(theirs)) is False
    assert await harness.store.revoke(7, mine) is False, "the key is not the stored id"
    assert await harness.store.revoke(7, stored_id(mine)) is True
    assert await harness.store.load(mine) is None
    assert await harness.store.revoke(7, stored_id(mine)) is False
    assert await harness.keys() == {stored_id(theirs)}


async def test_revoke_all_of_a_user_keeps_the_one_asked_and_other_users(
    harness: Harness,
) -> None:
    keys = [await signed_in(harness, 7) for _ in range(3)]
    other = await signed_in(harness, 8)
    assert await harness.store.revoke_all_of_user(7, keep=stored_id(keys[0])) == 2
    assert await harness.keys() == {stored_id(keys[0]), stored_id(other)}
    assert await harness.store.revoke_all_of_user(7) == 1
    assert await harness.store.revoke_all_of_user(7) == 0
    assert await harness.keys() == {stored_id(other)}


# -- the SQLite store's writer thread ----------------------------------------------------------


@pytest.fixture
def sqlite_url(databases_factory: Any) -> str:
    """A fresh migrated empty SQLite file (made outside the event loop)."""
    url: str = databases_factory.new("sqlite", seeded=False)
    return url


@pytest.fixture
async def sqlite_harness(sqlite_url: str, anyio_backend: str) -> AsyncIterator[Harness]:
    async with opened(sqlite_url) as opened_harness:
        yield opened_harness


def committed(harness: Harness, key: str) -> dict[str, Any] | None:
    """The session row as another connection sees it: only what is committed."""
    assert isinstance(harness, DatabaseHarness)
    with sqlite3.connect(harness.database.path) as other:
        row = other.execute("SELECT data FROM sessions WHERE key = ?", (stored_id(key),)).fetchone()
    return None if row is None else dict(json.loads(row[0]))


async def test_queued_sqlite_writes_commit_together_and_a_failing_one_fails_alone(
    sqlite_harness: Harness,
) -> None:
    store = sqlite_harness.store
    first, second, failed, last = (new_session_key() for _ in range(4))
    first_is_writing, release_first = threading.Event(), threading.Event()
    seen_by_last: list[dict[str, Any] | None] = []

    def blocking(stored: dict[str, Any] | None) -> str:
        first_is_writing.set()
        release_first.wait(timeout=10)
        return dumps({"n": 1})

    def look_then_write(stored: dict[str, Any] | None) -> str:
        # Written in the same transaction as `second`: not committed yet, so not visible.
        seen_by_last.append(committed(sqlite_harness, second))
        return dumps({"n": 1})

    writing_first = asyncio.ensure_future(store.update(first, blocking, LATER))
    await anyio.to_thread.run_sync(first_is_writing.wait, 10)
    # These three queue behind the first, whose transaction is still open.
    queued = [
        asyncio.ensure_future(store.update(second, setting(n=1), LATER)),
        asyncio.ensure_future(store.update(failed, failing, LATER)),
        asyncio.ensure_future(store.update(last, look_then_write, LATER)),
    ]
    await asyncio.sleep(0)  # let the three tasks reach the writer's queue
    assert not any(task.done() for task in [writing_first, *queued])
    assert committed(sqlite_harness, first) is None  # nothing is committed while it writes

    release_first.set()
    results = await asyncio.gather(writing_first, *queued, return_exceptions=True)

    assert results[0] is None and results[1] is None and results[3] is None
    assert isinstance(results[2], MergeFailed)
    assert seen_by_last == [None]  # `second` and `last` were one transaction
    for key in (first, second, last):
        assert committed(sqlite_harness, key) == {"n": 1}
    assert committed(sqlite_harness, failed) is None  # undone alone


async def test_queued_sqlite_writes_keep_their_order_around_updates_done_together(
    sqlite_harness: Harness,
) -> None:
    """Updates, a delete and updates again, queued in one batch: as if one after another."""
    store = sqlite_harness.store
    blocker, key = new_session_key(), new_session_key()
    await store.create(key, dumps({"n": 0}), LATER)
    writing, release = threading.Event(), threading.Event()

    def blocking(stored: dict[str, Any] | None) -> str:
        writing.set()
        release.wait(timeout=10)
        return dumps({})

    first = asyncio.ensure_future(store.update(blocker, blocking, LATER))
    await anyio.to_thread.run_sync(writing.wait, 10)
    queued = [
        asyncio.ensure_future(store.update(key, adding_one, LATER)),
        asyncio.ensure_future(store.update(key, adding_one, LATER)),
        asyncio.ensure_future(store.delete(key)),
        asyncio.ensure_future(store.update(key, setting(after="delete"), LATER)),
        asyncio.ensure_future(store.update(key, adding_one, LATER)),
    ]
    await asyncio.sleep(0)  # all five reach the writer's queue behind the first
    seen_before_commit = committed(sqlite_harness, key)
    release.set()
    await asyncio.gather(first, *queued)
    assert seen_before_commit == {"n": 0}
    assert committed(sqlite_harness, key) == {"after": "delete", "n": 1}


async def test_a_sqlite_write_is_answered_only_once_committed(sqlite_harness: Harness) -> None:
    async def write_then_check(key: str) -> dict[str, Any] | None:
        await sqlite_harness.store.update(key, setting(saved=True), LATER)
        return committed(sqlite_harness, key)

    keys = [new_session_key() for _ in range(20)]
    assert await asyncio.gather(*map(write_then_check, keys)) == [{"saved": True}] * 20


async def test_sqlite_writes_wait_for_another_workers_turn(sqlite_harness: Harness) -> None:
    assert isinstance(sqlite_harness, DatabaseHarness)
    path = sqlite_harness.database.path
    keys = [new_session_key() for _ in range(3)]
    other_worker = WriteTurns(path)
    try:
        with other_worker.turn():
            writes = [
                asyncio.ensure_future(sqlite_harness.store.update(key, setting(n=1), LATER))
                for key in keys
            ]
            await anyio.to_thread.run_sync(wait_until_a_writer_is_next, path)
            assert not any(write.done() for write in writes)
            assert [committed(sqlite_harness, key) for key in keys] == [None] * 3
    finally:
        other_worker.close()
    await asyncio.gather(*writes)
    assert [committed(sqlite_harness, key) for key in keys] == [{"n": 1}] * 3


async def test_sqlite_updates_done_together_merge_at_most_their_limit_between_statements(
    sqlite_harness: Harness,
) -> None:
    """The merges between two statements hold the GIL, which the event loop waits for."""
    assert isinstance(sqlite_harness, DatabaseHarness)
    keys = [stored_id(new_session_key()) for _ in range(MERGE_LIMIT + 1)]
    # Every key but the last twice, the second time a chunk later: it merges into the first.
    updates = [
        Update(keys[index % len(keys)], adding_one, LATER, int(START))
        for index in range(2 * MERGE_LIMIT + 1)
    ]
    statements: list[str] = []
    with sqlite3.connect(sqlite_harness.database.path, isolation_level=None) as connection:
        connection.set_trace_callback(statements.append)
        connection.execute("BEGIN IMMEDIATE")
        outcomes = update_together(connection, updates)
        connection.execute("COMMIT")
        connection.set_trace_callback(None)
        stored = dict(connection.execute("SELECT key, data FROM sessions").fetchall())
    assert outcomes == [(True, None)] * len(updates)
    # The trace shows each statement with its values in place of its `?`.
    reads = [text for text in statements if text.startswith(READ_MANY.split("?")[0])]
    upserts = [text for text in statements if text.startswith(UPSERT_MANY.split("?")[0])]
    assert len(reads) == len(upserts) == 3
    assert {key: json.loads(data) for key, data in stored.items()} == {
        **{key: {"n": 2} for key in keys[:-1]},
        keys[-1]: {"n": 1},
    }


# -- the SQLite store's kept rows --------------------------------------------------------------


def session_reads(harness: Harness) -> list[str]:
    """The session rows the SQLite store's loads read from here on (the reader's trace)."""
    assert isinstance(harness, DatabaseHarness)
    assert isinstance(harness.database, SQLiteDatabase)
    reads: list[str] = []
    harness.database.reader.set_trace_callback(
        lambda statement: (
            reads.append(statement) if "FROM sessions AS session" in statement else None
        )
    )
    return reads


def write_elsewhere(harness: Harness, statement: str, *values: object) -> None:
    """Run and commit `statement` on a connection of its own, as another worker would."""
    assert isinstance(harness, DatabaseHarness)
    with sqlite3.connect(harness.database.path) as other:
        other.execute(statement, values)


async def test_a_sqlite_session_is_read_once_while_nothing_is_committed(
    sqlite_harness: Harness,
) -> None:
    store = sqlite_harness.store
    key = new_session_key()
    await store.create(key, dumps({"n": 1}), LATER)
    reads = session_reads(sqlite_harness)
    assert [await data_of(store, key) for _ in range(3)] == [{"n": 1}] * 3
    assert len(reads) == 1
    write_elsewhere(sqlite_harness, "UPDATE catalog_version SET version = version + 1")
    assert await data_of(store, key) == {"n": 1}
    assert len(reads) == 2, "any commit, to any table, reads the row again"


async def test_a_kept_sqlite_session_is_never_older_than_the_last_commit(
    sqlite_harness: Harness,
) -> None:
    store = sqlite_harness.store
    changed, revoked = new_session_key(), new_session_key()
    for key in (changed, revoked):
        await store.create(key, dumps({"n": 1}), LATER)
        assert await data_of(store, key) == {"n": 1}
    write_elsewhere(
        sqlite_harness, "UPDATE sessions SET data = '{\"n\":2}' WHERE key = ?", stored_id(changed)
    )
    assert await data_of(store, changed) == {"n": 2}
    write_elsewhere(sqlite_harness, "DELETE FROM sessions WHERE key = ?", stored_id(revoked))
    assert await store.load(revoked) is None
    await store.update(changed, adding_one, LATER)  # this process's own writer, too
    assert await data_of(store, changed) == {"n": 3}


async def test_a_kept_sqlite_session_expires_when_its_row_would(sqlite_harness: Harness) -> None:
    store = sqlite_harness.store
    key = new_session_key()
    await store.create(key, dumps({"n": 1}), int(START) + 60)
    assert await data_of(store, key) == {"n": 1}
    sqlite_harness.clock.now = START + 60
    assert await store.load(key) is None


async def test_each_load_of_a_kept_sqlite_session_gets_data_of_its_own(
    sqlite_harness: Harness,
) -> None:
    store = sqlite_harness.store
    nested, plain = new_session_key(), new_session_key()
    await store.create(nested, dumps({"recent": [1, 2], "prefs": {"per_page": 10}}), LATER)
    await store.create(plain, dumps({"visits": 1}), LATER)
    for key in (nested, plain):
        first = await data_of(store, key)
        assert first is not None
        for value in first.values():
            if isinstance(value, list):
                value.append(3)
            elif isinstance(value, dict):
                value["per_page"] = 50
        first["added"] = True
    assert await data_of(store, nested) == {"recent": [1, 2], "prefs": {"per_page": 10}}
    assert await data_of(store, plain) == {"visits": 1}


# -- the PostgreSQL store's batches ------------------------------------------------------------


@pytest.fixture
def postgresql_url(databases_factory: Any) -> str:
    """A fresh migrated empty PostgreSQL database (made outside the event loop)."""
    url: str = databases_factory.new("postgresql", seeded=False)
    return url


@pytest.fixture
async def postgresql_harness(
    postgresql_url: str, anyio_backend: str
) -> AsyncIterator[DatabaseHarness]:
    async with opened_database(postgresql_url) as opened_harness:
        yield opened_harness


async def transactions_that_wrote(harness: DatabaseHarness, keys: list[str]) -> int:
    """How many transactions last wrote these rows (PostgreSQL's `xmin`: the writer's id)."""
    count: int = await harness.database.fetch_val(
        "SELECT count(DISTINCT xmin::text) FROM sessions WHERE key = ANY(CAST(:keys AS text[]))",
        {"keys": [stored_id(key) for key in keys]},
    )
    return count


async def test_postgresql_updates_that_arrive_together_are_one_transaction(
    postgresql_harness: DatabaseHarness,
) -> None:
    store = postgresql_harness.store
    keys = [new_session_key() for _ in range(20)]
    for key in keys:
        await store.create(key, dumps({"n": 0}), LATER)
    assert await transactions_that_wrote(postgresql_harness, keys) == 20
    await asyncio.gather(*(store.update(key, adding_one, LATER) for key in keys))
    assert await transactions_that_wrote(postgresql_harness, keys) == 1
    assert [await data_of(store, key) for key in keys] == [{"n": 1}] * 20


async def test_a_postgresql_batch_takes_at_most_its_limit_of_updates(
    postgresql_harness: DatabaseHarness,
) -> None:
    store = postgresql_harness.store
    keys = [new_session_key() for _ in range(2 * MERGE_LIMIT + 1)]
    for key in keys:
        await store.create(key, dumps({"n": 0}), LATER)
    await asyncio.gather(*(store.update(key, adding_one, LATER) for key in keys))
    assert await transactions_that_wrote(postgresql_harness, keys) == 3
    assert [await data_of(store, key) for key in keys] == [{"n": 1}] * len(keys)


async def test_a_failing_merge_in_a_postgresql_batch_fails_alone(
    postgresql_harness: DatabaseHarness,
) -> None:
    store = postgresql_harness.store
    stored, missing, missing_and_failing = (new_session_key() for _ in range(3))
    await store.create(stored, dumps({"n": 0}), LATER)
    results = await asyncio.gather(
        store.update(stored, adding_one, LATER),
        store.update(missing_and_failing, failing, LATER),
        store.update(stored, failing, LATER),
        store.update(missing, setting(made=True), LATER),
        store.update(stored, adding_one, LATER),
        return_exceptions=True,
    )
    assert [type(result) for result in results] == [
        type(None),
        MergeFailed,
        MergeFailed,
        type(None),
        type(None),
    ]
    assert await data_of(store, stored) == {"n": 2}
    assert await data_of(store, missing) == {"made": True}
    assert await transactions_that_wrote(postgresql_harness, [stored, missing]) == 1
    # The row made to lock the missing key went with its only merge.
    assert await postgresql_harness.keys() == {stored_id(stored), stored_id(missing)}


async def waiting_for_a_row_lock(database: Database) -> int:
    """How many of the server's connections wait for a lock now."""
    count: int = await database.fetch_val(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
    )
    return count


async def test_two_postgresql_workers_updating_the_same_rows_lose_nothing(
    postgresql_harness: DatabaseHarness, postgresql_url: str
) -> None:
    """Two processes' stores (each its own pool) update the same rows at once, in any order:
    every increment counts, and their batches never deadlock, for each takes its row locks in
    key order. Each round holds one row locked from outside until both batches wait, so that
    each batch takes some of its locks while the other holds some of its own."""
    database = postgresql_harness.database
    keys = [new_session_key() for _ in range(5)]
    for key in keys:
        await postgresql_harness.store.create(key, dumps({"n": 0}), LATER)
    middle = sorted(keys, key=stored_id)[2]
    randomly = random.Random(13)
    rounds = 5
    async with opened_database(postgresql_url) as other_worker:
        for _ in range(rounds):
            async with database.transaction(write=True) as blocker:
                await blocker.execute(
                    "SELECT key FROM sessions WHERE key = :key FOR UPDATE",
                    {"key": stored_id(middle)},
                )
                updates = [
                    asyncio.ensure_future(store.update(key, adding_one, LATER))
                    for store in (postgresql_harness.store, other_worker.store)
                    for key in randomly.sample(keys, len(keys))
                ]
                for _ in range(1000):
                    if await waiting_for_a_row_lock(other_worker.database) == 2:
                        break
                    await asyncio.sleep(0.01)
                assert await waiting_for_a_row_lock(other_worker.database) == 2
            await asyncio.gather(*updates)
    counted = {"n": 2 * rounds}
    assert [await data_of(postgresql_harness.store, key) for key in keys] == [counted] * 5


# -- Session on each store ----------------------------------------------------------------------


async def test_session_round_trip(harness: Harness) -> None:
    config = SessionConfig(max_age=3600)
    s = Session(None, {}, config, harness.clock)
    s["cart"] = ["Grüße"]
    s.increment("visits")
    await s.save(harness.store)
    key = s.session_key
    assert key is not None
    assert await harness.get_raw(key) is not None
    assert (await harness.get_raw(key) or ("", 0))[1] == int(START) + 3600

    loaded = await data_of(harness.store, key)
    assert loaded == {"cart": ["Grüße"], "visits": 1}
    s2 = Session(key, loaded, config, harness.clock)
    s2["cart"].append("book")
    await s2.save(harness.store)
    assert await data_of(harness.store, key) == {"cart": ["Grüße", "book"], "visits": 1}

    s2.flush()
    await s2.save(harness.store)
    assert await harness.keys() == set()


async def test_concurrent_sessions_merge(harness: Harness) -> None:
    config = SessionConfig()
    first = Session(None, {"n": 0}, config, harness.clock)
    first["seed"] = True
    await first.save(harness.store)
    key = first.session_key
    assert key is not None

    async def request(i: int) -> None:
        data = await data_of(harness.store, key)
        assert data is not None
        s = Session(key, data, config, harness.clock)
        s.increment("n")
        s[f"k{i}"] = i
        await s.save(harness.store)

    await asyncio.gather(*(request(i) for i in range(10)))
    stored = await data_of(harness.store, key)
    assert stored is not None
    assert stored["n"] == 10
    assert all(stored[f"k{i}"] == i for i in range(10))


async def test_a_database_store_reads_the_signed_in_user_with_the_session(
    database_harness: DatabaseHarness,
) -> None:
    """One statement for both: the owner's row as it is now, never a copy kept from before."""
    database = database_harness.database
    user = await create_user(database, "ann@example.org", "Ann", "a-long-password", hasher=cheap())
    key = await signed_in(database_harness, user.id)
    stored = await database_harness.store.load(key)
    assert stored is not None and stored.owner is not None
    assert user_from_row(stored.owner) == user
    assert "password_hash" not in stored.owner
    await database.execute("UPDATE users SET name = 'Ann Renamed' WHERE id = :id", {"id": user.id})
    stored = await database_harness.store.load(key)
    assert stored is not None and stored.owner is not None
    assert stored.owner["name"] == "Ann Renamed"
    anonymous = new_session_key()
    await database_harness.store.create(anonymous, dumps({}), LATER)
    stored = await database_harness.store.load(anonymous)
    assert stored is not None and stored.owner is None
