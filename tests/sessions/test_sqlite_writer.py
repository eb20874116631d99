"""The SQLite store's writer thread: writes that queue up commit together, and fail alone."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections.abc import AsyncIterator
from typing import Any

import anyio.to_thread
import pytest
from sqlalchemy.engine import make_url

from locallibrary.database import connect, create_database
from locallibrary.sessions import SQLiteStore, database_store
from locallibrary.sessions.keys import new_session_key
from tests.clock import FakeClock

pytestmark = pytest.mark.anyio

START = 1_700_000_000.0
LATER = int(START) + 3600


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class MergeFailed(Exception):
    pass


@pytest.fixture
def sqlite_path(databases_factory: Any) -> str:
    url: str = databases_factory.new("sqlite", seeded=False)
    path = make_url(url).database
    assert path is not None
    return path


@pytest.fixture
async def store(sqlite_path: str, anyio_backend: str) -> AsyncIterator[SQLiteStore]:
    database = create_database(f"sqlite:///{sqlite_path}")
    await connect(database)
    opened = database_store(database, clock=FakeClock(START))
    assert isinstance(opened, SQLiteStore)
    try:
        yield opened
    finally:
        opened.close()
        await database.disconnect()


def stored(path: str, key: str) -> dict[str, Any] | None:
    """The session row as another connection sees it (only what is committed)."""
    with sqlite3.connect(path) as other:
        row = other.execute("SELECT data FROM sessions WHERE key = ?", (key,)).fetchone()
    return None if row is None else dict(json.loads(row[0]))


async def test_queued_writes_commit_together_and_a_failing_one_fails_alone(
    store: SQLiteStore, sqlite_path: str
) -> None:
    first, second, failing, last = (new_session_key() for _ in range(4))
    first_is_writing, release_first = threading.Event(), threading.Event()
    seen_by_last: list[dict[str, Any] | None] = []

    def blocking(stored_data: dict[str, Any] | None) -> str:
        first_is_writing.set()
        release_first.wait(timeout=10)
        return json.dumps({"n": 1})

    def fail(stored_data: dict[str, Any] | None) -> str:
        raise MergeFailed

    def look_then_write(stored_data: dict[str, Any] | None) -> str:
        # Written in the same transaction as `second`: not committed yet, so not visible.
        seen_by_last.append(stored(sqlite_path, second))
        return json.dumps({"n": 1})

    writing_first = asyncio.ensure_future(store.update(first, blocking, LATER))
    await anyio.to_thread.run_sync(first_is_writing.wait, 10)
    # These three queue behind the first, whose transaction is still open.
    queued = [
        asyncio.ensure_future(store.update(second, lambda _: json.dumps({"n": 1}), LATER)),
        asyncio.ensure_future(store.update(failing, fail, LATER)),
        asyncio.ensure_future(store.update(last, look_then_write, LATER)),
    ]
    await asyncio.sleep(0)  # let the three tasks reach the writer's queue
    assert not any(task.done() for task in [writing_first, *queued])
    assert stored(sqlite_path, first) is None  # nothing is committed while the first writes

    release_first.set()
    results = await asyncio.gather(writing_first, *queued, return_exceptions=True)

    assert results[0] is None and results[1] is None and results[3] is None
    assert isinstance(results[2], MergeFailed)
    assert seen_by_last == [None]  # `second` and `last` were one transaction
    assert stored(sqlite_path, first) == {"n": 1}
    assert stored(sqlite_path, second) == {"n": 1}
    assert stored(sqlite_path, last) == {"n": 1}
    assert stored(sqlite_path, failing) is None  # undone alone


async def test_a_write_is_answered_only_once_committed(
    store: SQLiteStore, sqlite_path: str
) -> None:
    keys = [new_session_key() for _ in range(20)]

    async def write_then_check(key: str) -> dict[str, Any] | None:
        await store.update(key, lambda _: json.dumps({"saved": True}), LATER)
        return stored(sqlite_path, key)

    assert await asyncio.gather(*map(write_then_check, keys)) == [{"saved": True}] * 20
