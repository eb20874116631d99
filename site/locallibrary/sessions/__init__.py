"""Server-side sessions for Starlette: an opaque key in a cookie, the data in a store.

A package of its own: of the rest of LocalLibrary it uses only the database layer.

    store = database_store(database)  # SQLiteStore or DatabaseStore
    app = Starlette(routes=..., middleware=[Middleware(SessionMiddleware, store=store)])

    async def view(request):
        request.session["my_car"] = "mini"

The guide is docs/sessions.md.
"""

from locallibrary.sessions.agent import describe_agent
from locallibrary.sessions.cleanup import periodic_cleanup
from locallibrary.sessions.codec import SessionDataError, SessionError, SessionTooLarge
from locallibrary.sessions.config import SessionConfig
from locallibrary.sessions.deferred import DeferredSessions
from locallibrary.sessions.middleware import SessionMiddleware
from locallibrary.sessions.session import Session, session_of
from locallibrary.sessions.stores import (
    DatabaseStore,
    MemoryStore,
    SessionStore,
    SessionSummary,
    SQLiteStore,
    database_store,
)

__all__ = [
    "DatabaseStore",
    "DeferredSessions",
    "MemoryStore",
    "Session",
    "SessionConfig",
    "SessionDataError",
    "SessionError",
    "SessionMiddleware",
    "SessionStore",
    "SessionSummary",
    "SessionTooLarge",
    "SQLiteStore",
    "database_store",
    "describe_agent",
    "periodic_cleanup",
    "session_of",
]
