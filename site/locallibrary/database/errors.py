"""What a database error means to the site: out of reach for now, or a fault in the query."""

from __future__ import annotations

import asyncio
import sqlite3

import asyncpg


class DatabaseUnavailable(Exception):
    """The database could not be reached; the message is one line fit for a person."""


_POSTGRES_UNAVAILABLE = (
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.TooManyConnectionsError,
    asyncpg.ConnectionDoesNotExistError,
    # Two transactions waited for each other; PostgreSQL ended this one, and asking again works.
    asyncpg.DeadlockDetectedError,
)
_SQLITE_UNAVAILABLE = ("database is locked", "database is busy", "unable to open", "disk i/o")


def is_unavailable(error: BaseException) -> bool:
    """Whether `error` means the database is out of reach for now (not that a query is wrong)."""
    if isinstance(error, sqlite3.OperationalError):
        return any(reason in str(error).lower() for reason in _SQLITE_UNAVAILABLE)
    return isinstance(error, (*_POSTGRES_UNAVAILABLE, ConnectionError, asyncio.TimeoutError))


def one_line(error: BaseException) -> str:
    """A driver error as one line: the driver's own message, without SQLAlchemy's additions."""
    original = getattr(error, "orig", None) or error
    text = str(original).strip()
    return text.splitlines()[0] if text else type(original).__name__


def is_integrity_error(error: BaseException) -> str | None:
    """ "unique" or "foreign key" if `error` is the database refusing a row for that reason."""
    if isinstance(error, sqlite3.IntegrityError):
        message = str(error)
        if message.startswith("UNIQUE constraint failed"):
            return "unique"
        if message.startswith("FOREIGN KEY constraint failed"):
            return "foreign key"
    if isinstance(error, asyncpg.UniqueViolationError):
        return "unique"
    if isinstance(error, asyncpg.ForeignKeyViolationError):
        return "foreign key"
    return None
