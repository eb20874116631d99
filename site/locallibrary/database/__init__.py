"""The site's database: one `databases.Database` for SQLite or PostgreSQL, chosen by its URL."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Mapping
from typing import Any

import asyncpg
from databases import Database
from databases.interfaces import Record
from sqlalchemy.engine import make_url
from sqlalchemy.sql import ClauseElement

from locallibrary.database.statements import Bound

DEFAULT_BUSY_TIMEOUT_SECONDS = 5.0


class DatabaseUnavailable(Exception):
    """The database could not be reached; the message is one line fit for a person."""


Query = ClauseElement | str
Values = Mapping[str, Any] | None


class SiteDatabase(Database):
    """`databases.Database`, with statements compiled once (statements.py) and, on SQLite,
    reads on the event loop (sqlite_backend.py).

    A read given a statement and values, `fetch_one(STATEMENT, {"id": 5})`, binds the values to
    the statement's named parameters (`databases` itself would try `STATEMENT.values(...)`).
    """

    SUPPORTED_BACKENDS = {
        **Database.SUPPORTED_BACKENDS,
        "sqlite": "locallibrary.database.sqlite_backend:InlineReadSQLiteBackend",
        "postgresql": "locallibrary.database.postgres_backend:CompiledOncePostgresBackend",
        "postgres": "locallibrary.database.postgres_backend:CompiledOncePostgresBackend",
    }

    async def fetch_all(self, query: Query, values: Values = None) -> list[Record]:
        if isinstance(query, ClauseElement) and values is not None:
            return await super().fetch_all(Bound(query, values))  # type: ignore[arg-type]
        return await super().fetch_all(query, values)

    async def fetch_one(self, query: Query, values: Values = None) -> Record | None:
        if isinstance(query, ClauseElement) and values is not None:
            return await super().fetch_one(Bound(query, values))  # type: ignore[arg-type]
        return await super().fetch_one(query, values)

    async def fetch_val(self, query: Query, values: Values = None, column: Any = 0) -> Any:
        if isinstance(query, ClauseElement) and values is not None:
            return await super().fetch_val(Bound(query, values), column=column)  # type: ignore[arg-type]
        return await super().fetch_val(query, values, column=column)


def create_database(url: str, busy_timeout: float = DEFAULT_BUSY_TIMEOUT_SECONDS) -> SiteDatabase:
    if is_sqlite(url):
        # sqlite3's `timeout` is SQLite's busy timeout: writers wait for the lock, not fail.
        return SiteDatabase(url, timeout=busy_timeout)
    return SiteDatabase(url)


_POSTGRES_UNAVAILABLE = (
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.TooManyConnectionsError,
    asyncpg.ConnectionDoesNotExistError,
)
_SQLITE_UNAVAILABLE = ("database is locked", "database is busy", "unable to open", "disk i/o")


def is_unavailable(error: BaseException) -> bool:
    """Whether `error` means the database is out of reach for now (not that a query is wrong)."""
    if isinstance(error, sqlite3.OperationalError):
        return any(reason in str(error).lower() for reason in _SQLITE_UNAVAILABLE)
    return isinstance(error, (*_POSTGRES_UNAVAILABLE, ConnectionError, asyncio.TimeoutError))


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def async_driver_url(url: str) -> str:
    """The SQLAlchemy URL with the same async driver that `databases` uses (for Alembic)."""
    parsed = make_url(url)
    driver = "aiosqlite" if parsed.get_backend_name() == "sqlite" else "asyncpg"
    return parsed.set(drivername=f"{parsed.get_backend_name()}+{driver}").render_as_string(
        hide_password=False
    )


def describe(url: str) -> str:
    """The URL without its password, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def one_line(error: BaseException) -> str:
    """A driver error as one line: the driver's own message, without SQLAlchemy's additions."""
    original = getattr(error, "orig", None) or error
    text = str(original).strip()
    return text.splitlines()[0] if text else type(original).__name__


def check_sqlite_file(url: str) -> None:
    """Open a SQLite database with the standard library, raising DatabaseUnavailable if it can't.

    aiosqlite reports a failed open from its worker thread, which can then outlive the event
    loop and print a stray traceback; checking first keeps the failure to one line.
    """
    if not is_sqlite(url):
        return
    path = make_url(url).database or ":memory:"
    try:
        sqlite3.connect(path).close()
    except sqlite3.Error as error:
        raise DatabaseUnavailable(
            f"cannot open the database at {describe(url)}: {error}"
        ) from error


async def connect(database: Database) -> None:
    """Connect and prove it with a query; raise DatabaseUnavailable with a one-line reason."""
    check_sqlite_file(str(database.url))
    try:
        await database.connect()
        await database.fetch_val("SELECT 1")
        if is_sqlite(str(database.url)):
            # WAL lets readers run beside a writer and is a property of the file: set it once.
            await database.execute("PRAGMA journal_mode=WAL")
    except Exception as error:  # any driver error means the same thing to the operator
        raise DatabaseUnavailable(
            f"cannot reach the database at {describe(str(database.url))}: {one_line(error)}"
        ) from error
