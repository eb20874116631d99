"""The store interface: where session data lives between requests.

A store keeps, per session key, the session's JSON text and its expiry (Unix seconds). It knows
nothing of cookies or requests; the middleware and `Session` decide what to write and when.
To add a store, subclass `SessionStore` and fill in its five methods.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

Merge = Callable[[dict[str, Any] | None], str]
"""Given the stored data (None if there is no live row), return the JSON text to store."""


class SessionStore(ABC):
    @abstractmethod
    async def load(self, key: str) -> dict[str, Any] | None:
        """The session's data, or None when there is no such session or it has expired."""

    @abstractmethod
    async def create(self, key: str, text: str, expires_at: int) -> bool:
        """Store a new session; False (and nothing written) when the key is already taken."""

    @abstractmethod
    async def update(self, key: str, merge: Merge, expires_at: int) -> None:
        """Atomically read the stored data, `merge` this request's changes into it, write it.

        No other update of the same key may run between the read and the write; if `merge`
        raises, nothing is written.
        """

    @abstractmethod
    async def delete(self, key: str) -> None:
        """Remove the session, if it exists."""

    @abstractmethod
    async def clear_expired(self) -> int:
        """Remove every expired session; return how many were removed."""
