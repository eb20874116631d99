"""Recently used sessions in memory, in front of another store.

Reads of a cached session cost no I/O: the polled counts box, which reads the session every few
seconds in every open tab, then never touches the database. Writes go through to the store
first and the cache keeps what the store now holds (the merged data), so within one process the
cache is never behind the store. Another process's writes (a second worker) are seen once the
entry is `max_age` seconds old; until then a read may show the session as it was, and a
session that expires meanwhile may still be read for up to `max_age` seconds. Writes are never
affected: the store merges them into the row as it is.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from locallibrary.sessions.codec import SCALARS, decode
from locallibrary.sessions.stores.base import Merge, SessionStore


@dataclass(slots=True)
class _Entry:
    text: str  # the session as the store holds it
    expires_at: int
    cached_at: float
    flat: dict[str, Any] | None = None  # its data once read, if no value is a list or dict

    def data(self) -> dict[str, Any]:
        """A fresh copy of the data: the caller may change it.

        Most sessions hold only strings, numbers and booleans, which cannot change in place:
        for those, copying the dict is enough, and the JSON is decoded once, not on every read.
        """
        if self.flat is not None:
            return dict(self.flat)
        data = decode(self.text)
        if all(isinstance(value, SCALARS) for value in data.values()):
            self.flat = data
            return dict(data)
        return data


class CachedStore(SessionStore):
    def __init__(
        self,
        store: SessionStore,
        max_age: float = 1.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.max_age = max_age
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()  # least recently used first

    async def load(self, key: str) -> dict[str, Any] | None:
        now = self.clock()
        entry = self._entries.get(key)
        if entry is not None and now - entry.cached_at < self.max_age and entry.expires_at > now:
            self._entries.move_to_end(key)
            return entry.data()
        data = await self.store.load(key)
        if data is None:
            self._entries.pop(key, None)
        else:
            # The store does not say when the row expires: keep it no longer than max_age.
            self._remember(key, json.dumps(data), int(now + self.max_age) + 1)
        return data

    async def create(self, key: str, text: str, expires_at: int) -> bool:
        created = await self.store.create(key, text, expires_at)
        if created:
            self._remember(key, text, expires_at)
        return created

    async def update(self, key: str, merge: Merge, expires_at: int) -> None:
        written: list[str] = []

        def merge_and_keep(stored: dict[str, Any] | None) -> str:
            written.append(merge(stored))
            return written[-1]

        try:
            await self.store.update(key, merge_and_keep, expires_at)
        except BaseException:
            self._entries.pop(key, None)
            raise
        self._remember(key, written[-1], expires_at)

    async def delete(self, key: str) -> None:
        self._entries.pop(key, None)
        await self.store.delete(key)

    async def clear_expired(self) -> int:
        now = self.clock()
        for key in [k for k, entry in self._entries.items() if entry.expires_at <= now]:
            del self._entries[key]
        return await self.store.clear_expired()

    def _remember(self, key: str, text: str, expires_at: int) -> None:
        self._entries[key] = _Entry(text, expires_at, self.clock())
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
