"""A store in a dict: for tests and single-process experiments. Data goes with the process."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from locallibrary.sessions.codec import decode
from locallibrary.sessions.stores.base import Merge, SessionStore


class MemoryStore(SessionStore):
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.rows: dict[str, tuple[str, int]] = {}

    def _live(self, key: str) -> str | None:
        row = self.rows.get(key)
        if row is None or row[1] <= self.clock():
            return None
        return row[0]

    async def load(self, key: str) -> dict[str, Any] | None:
        text = self._live(key)
        return None if text is None else decode(text)

    async def create(self, key: str, text: str, expires_at: int) -> bool:
        if key in self.rows:
            return False
        self.rows[key] = (text, expires_at)
        return True

    async def update(self, key: str, merge: Merge, expires_at: int) -> None:
        # No await between the read and the write: atomic within the event loop.
        text = self._live(key)
        self.rows[key] = (merge(None if text is None else decode(text)), expires_at)

    async def delete(self, key: str) -> None:
        self.rows.pop(key, None)

    async def clear_expired(self) -> int:
        now = self.clock()
        expired = [key for key, (_, expires_at) in self.rows.items() if expires_at <= now]
        for key in expired:
            del self.rows[key]
        return len(expired)
