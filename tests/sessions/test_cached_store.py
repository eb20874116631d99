"""The session cache in front of a store: reads from memory, writes through, never behind."""

from __future__ import annotations

import json
from typing import Any

import pytest

from locallibrary.sessions import CachedStore, MemoryStore
from locallibrary.sessions.stores.base import Merge
from tests.clock import FakeClock


class CountingStore(MemoryStore):
    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.loads = 0

    async def load(self, key: str) -> dict[str, Any] | None:
        self.loads += 1
        return await super().load(key)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def add(**changes: int) -> Merge:
    def merge(stored: dict[str, Any] | None) -> str:
        data = dict(stored or {})
        for key, by in changes.items():
            data[key] = data.get(key, 0) + by
        return json.dumps(data)

    return merge


@pytest.mark.anyio
async def test_reads_within_max_age_cost_no_store_load() -> None:
    clock = FakeClock(1_000.0)
    inner = CountingStore(clock)
    cached = CachedStore(inner, max_age=1.0, clock=clock)
    await cached.create("k", '{"n": 1}', 2_000)
    assert await cached.load("k") == {"n": 1}
    assert await cached.load("k") == {"n": 1}
    assert inner.loads == 0
    clock.now += 1.5
    assert await cached.load("k") == {"n": 1}
    assert inner.loads == 1


@pytest.mark.anyio
async def test_a_loaded_copy_can_be_changed_without_changing_the_cache() -> None:
    clock = FakeClock(1_000.0)
    cached = CachedStore(MemoryStore(clock), clock=clock)
    await cached.create("k", '{"items": [1]}', 2_000)
    first = await cached.load("k")
    assert first is not None
    first["items"].append(2)
    assert await cached.load("k") == {"items": [1]}


@pytest.mark.anyio
async def test_copies_of_a_session_of_plain_values_are_independent_too() -> None:
    clock = FakeClock(1_000.0)
    cached = CachedStore(MemoryStore(clock), clock=clock)
    await cached.create("k", '{"n": 1, "seen": true}', 2_000)
    for _ in range(3):  # the first read decodes; the next ones copy what it decoded
        loaded = await cached.load("k")
        assert loaded == {"n": 1, "seen": True}
        loaded["n"] = 99
        del loaded["seen"]
    await cached.update("k", add(n=1), 2_000)
    assert await cached.load("k") == {"n": 2, "seen": True}


@pytest.mark.anyio
async def test_writes_go_through_and_the_cache_holds_the_merged_row() -> None:
    clock = FakeClock(1_000.0)
    inner = CountingStore(clock)
    cached = CachedStore(inner, clock=clock)
    await cached.create("k", '{"n": 1}', 2_000)
    # Another process writes straight to the store: the next write through the cache merges
    # into that row, and the cache then holds the merged result.
    await inner.update("k", add(n=10), 2_000)
    await cached.update("k", add(n=1), 2_000)
    assert await inner.load("k") == {"n": 12}
    loads = inner.loads
    assert await cached.load("k") == {"n": 12}
    assert inner.loads == loads


@pytest.mark.anyio
async def test_delete_and_failed_writes_drop_the_entry() -> None:
    clock = FakeClock(1_000.0)
    inner = CountingStore(clock)
    cached = CachedStore(inner, clock=clock)
    await cached.create("k", '{"n": 1}', 2_000)
    await cached.delete("k")
    assert await cached.load("k") is None

    await cached.create("j", '{"n": 1}', 2_000)

    def failing(stored: dict[str, Any] | None) -> str:
        raise ValueError("no")

    with pytest.raises(ValueError):
        await cached.update("j", failing, 2_000)
    loads = inner.loads
    assert await cached.load("j") == {"n": 1}
    assert inner.loads == loads + 1, "after a failed write the next read goes to the store"


@pytest.mark.anyio
async def test_expired_sessions_are_not_served_from_the_cache() -> None:
    clock = FakeClock(1_000.0)
    cached = CachedStore(MemoryStore(clock), max_age=60.0, clock=clock)
    await cached.create("k", '{"n": 1}', int(clock.now) + 5)
    clock.now += 6
    assert await cached.load("k") is None


@pytest.mark.anyio
async def test_the_cache_is_bounded() -> None:
    clock = FakeClock(1_000.0)
    cached = CachedStore(MemoryStore(clock), max_entries=3, clock=clock)
    for n in range(10):
        await cached.create(f"k{n}", "{}", 2_000)
    assert len(cached._entries) == 3
