"""Session stores: the interface, a database store and an in-memory one."""

from locallibrary.sessions.stores.base import (
    Merge,
    Owner,
    SessionStore,
    SessionSummary,
    StoredSession,
)
from locallibrary.sessions.stores.database import DatabaseStore
from locallibrary.sessions.stores.memory import MemoryStore
from locallibrary.sessions.stores.sqlite import SQLiteStore, database_store

__all__ = [
    "DatabaseStore",
    "MemoryStore",
    "Merge",
    "Owner",
    "SQLiteStore",
    "SessionStore",
    "SessionSummary",
    "StoredSession",
    "database_store",
]
