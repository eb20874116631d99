"""The store interface: where session data lives between requests.

A store keeps, per session, the session's JSON text, its expiry and who it belongs to (all
times in Unix seconds). It is given the cookie's key and keeps only its hash (`stored_id`): it
hashes the key before any lookup or write, so nothing stored contains a key that a browser
could present. It knows nothing of cookies or requests; the middleware and `Session` decide what
to write and when. To add a store, subclass `SessionStore` and fill in its methods.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

Merge = Callable[[dict[str, Any] | None], str]
"""Given the stored data (None if there is no live row), return the JSON text to store."""


@dataclass(frozen=True)
class Owner:
    """Who a new row belongs to (None: an anonymous visitor), and the browser that made it."""

    user_id: int | None = None
    signed_in_at: int | None = None
    agent: str = ""


ANONYMOUS = Owner()


# Made on every request: a named tuple, as immutable as a frozen dataclass and made faster.
class StoredSession(NamedTuple):
    """A live row as `load` reads it: the data, and the columns the middleware needs."""

    data: dict[str, Any]
    user_id: int | None = None
    signed_in_at: int | None = None
    last_seen_at: int = 0
    owner: Mapping[str, Any] | None = None
    """The signed-in user's `users` row (its columns but the password hash), read in the same
    statement by a store that can; None for an anonymous session, a user no longer there, or a
    store that reads only sessions."""


@dataclass(frozen=True)
class SessionSummary:
    """One of a user's sessions, for a "Your sessions" page; `id` is the stored hash."""

    id: str
    created_at: int
    last_seen_at: int
    signed_in_at: int | None
    agent: str


@dataclass(frozen=True)
class UserSessions:
    """A page of a user's live sessions: `shown`, at most the number asked for, and `live`, how
    many the user has in all."""

    shown: list[SessionSummary]
    live: int


class SessionStore(ABC):
    @abstractmethod
    async def load(self, key: str) -> StoredSession | None:
        """The session, or None when there is no such session or it has expired."""

    @abstractmethod
    async def create(self, key: str, text: str, expires_at: int, owner: Owner = ANONYMOUS) -> bool:
        """Store a new session, created and last seen now; False (and nothing written) when the
        key is already taken. Only here is a row given its owner: a signed-in session is
        always a new key (`Session.sign_in` cycles it), so a row's owner never changes."""

    @abstractmethod
    async def update(self, key: str, merge: Merge, expires_at: int) -> None:
        """Atomically read the stored data, `merge` this request's changes into it, write it,
        with the new expiry, last seen now.

        No other update of the same key may run between the read and the write; if `merge`
        raises, nothing is written. A missing row is made anew (anonymous).
        """

    @abstractmethod
    async def delete(self, key: str) -> None:
        """Remove the session, if it exists."""

    @abstractmethod
    async def clear_expired(self) -> int:
        """Remove every expired session; return how many were removed."""

    @abstractmethod
    async def sessions_of_user(
        self, user_id: int, limit: int, first: str | None = None
    ) -> UserSessions:
        """The user's live sessions, at most `limit` of them: the one whose stored id is
        `first` (if it is one of them) first, then the most recently seen."""

    @abstractmethod
    async def revoke(self, user_id: int, session_id: str) -> bool:
        """End the live session whose stored id is `session_id`, only if it is the user's;
        True if one went."""

    @abstractmethod
    async def revoke_all_of_user(self, user_id: int, keep: str | None = None) -> int:
        """End every live session of the user but the one whose stored id is `keep`; return
        how many went."""
