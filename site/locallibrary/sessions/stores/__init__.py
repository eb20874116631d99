"""Session stores: the interface, a database store and an in-memory one."""

from locallibrary.sessions.stores.base import Merge, SessionStore
from locallibrary.sessions.stores.cached import CachedStore
from locallibrary.sessions.stores.database import DatabaseStore
from locallibrary.sessions.stores.memory import MemoryStore

__all__ = ["CachedStore", "DatabaseStore", "MemoryStore", "Merge", "SessionStore"]
