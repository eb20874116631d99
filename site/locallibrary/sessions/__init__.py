"""Server-side sessions for Starlette: an opaque key in a cookie, the data in a store.

A self-contained package (it imports nothing from the rest of LocalLibrary):

    store = DatabaseStore(database)
    app = Starlette(routes=..., middleware=[Middleware(SessionMiddleware, store=store)])

    async def view(request):
        request.session["my_car"] = "mini"
"""

from locallibrary.sessions.cleanup import periodic_cleanup
from locallibrary.sessions.codec import SessionDataError, SessionError, SessionTooLarge
from locallibrary.sessions.config import SessionConfig
from locallibrary.sessions.deferred import DeferredSessions
from locallibrary.sessions.middleware import SessionMiddleware
from locallibrary.sessions.session import Session
from locallibrary.sessions.stores import CachedStore, DatabaseStore, MemoryStore, SessionStore

__all__ = [
    "CachedStore",
    "DatabaseStore",
    "DeferredSessions",
    "MemoryStore",
    "Session",
    "SessionConfig",
    "SessionDataError",
    "SessionError",
    "SessionMiddleware",
    "SessionStore",
    "SessionTooLarge",
    "periodic_cleanup",
]
