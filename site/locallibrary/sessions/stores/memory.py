"""A store in a dict: for tests and single-process experiments. Data goes with the process."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

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


@dataclasses.dataclass(frozen=True)
class MemoryRow:
    """One row, with the columns of the sessions table."""

    data: str
    expires_at: int
    created_at: int = 0
    last_seen_at: int = 0
    user_id: int | None = None
    signed_in_at: int | None = None
    agent: str = ""


class MemoryStore(SessionStore):
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.rows: dict[str, MemoryRow] = {}
        """By stored id (the key's hash), as in the sessions table."""

    def _live(self, hashed: str) -> MemoryRow | None:
        row = self.rows.get(hashed)
        if row is None or row.expires_at <= self.clock():
            return None
        return row

    async def load(self, key: str) -> StoredSession | None:
        row = self._live(stored_id(key))
        if row is None:
            return None
        return StoredSession(decode(row.data), row.user_id, row.signed_in_at, row.last_seen_at)

    async def create(self, key: str, text: str, expires_at: int, owner: Owner = ANONYMOUS) -> bool:
        hashed, now = stored_id(key), int(self.clock())
        if hashed in self.rows:
            return False
        self.rows[hashed] = MemoryRow(
            text, expires_at, now, now, owner.user_id, owner.signed_in_at, owner.agent
        )
        return True

    async def update(self, key: str, merge: Merge, expires_at: int) -> None:
        # No await between the read and the write: atomic within the event loop.
        hashed, now = stored_id(key), int(self.clock())
        row = self.rows.get(hashed) or MemoryRow("{}", 0, created_at=now)
        live = self._live(hashed) is not None
        text = merge(decode(row.data) if live else None)
        self.rows[hashed] = dataclasses.replace(
            row, data=text, expires_at=expires_at, last_seen_at=now
        )

    async def delete(self, key: str) -> None:
        self.rows.pop(stored_id(key), None)

    async def clear_expired(self) -> int:
        now = self.clock()
        return self._remove(lambda row: row.expires_at <= now)

    async def sessions_of_user(
        self, user_id: int, limit: int, first: str | None = None
    ) -> UserSessions:
        mine = [
            (hashed, row)
            for hashed, row in self.rows.items()
            if row.user_id == user_id and self._live(hashed)
        ]
        mine.sort(key=lambda item: (item[0] != first, -item[1].last_seen_at, item[0]))
        shown = [
            SessionSummary(hashed, row.created_at, row.last_seen_at, row.signed_in_at, row.agent)
            for hashed, row in mine[:limit]
        ]
        return UserSessions(shown, len(mine))

    async def revoke(self, user_id: int, session_id: str) -> bool:
        row = self._live(session_id)
        if row is None or row.user_id != user_id:
            return False
        del self.rows[session_id]
        return True

    async def revoke_all_of_user(self, user_id: int, keep: str | None = None) -> int:
        now = self.clock()
        return self._remove(lambda row: row.user_id == user_id and row.expires_at > now, keep=keep)

    def _remove(self, doomed: Callable[[MemoryRow], bool], keep: str | None = None) -> int:
        """Remove the rows `doomed` picks, but the one stored as `keep`; how many went."""
        removed = [h for h, row in self.rows.items() if h != keep and doomed(row)]
        for hashed in removed:
            del self.rows[hashed]
        return len(removed)
