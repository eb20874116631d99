"""The site's database: SQLite or PostgreSQL, chosen by its URL, behind one small interface.

    database = create_database(settings.database_url)
    await connect(database)
    row = await database.fetch_one("SELECT title FROM catalog_book WHERE id = :id", {"id": 5})

base.py says what every engine offers; sqlite.py and postgres.py are the two engines.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy.engine import make_url

from locallibrary.database.base import Database, Queries, Row, Values
from locallibrary.database.errors import (
    DatabaseUnavailable,
    is_integrity_error,
    is_unavailable,
    one_line,
)
from locallibrary.database.postgres import PostgresDatabase
from locallibrary.database.sqlite import SQLiteDatabase

DEFAULT_BUSY_TIMEOUT_SECONDS = 5.0

__all__ = [
    "Database",
    "DatabaseUnavailable",
    "Queries",
    "Row",
    "Values",
    "async_driver_url",
    "check_sqlite_file",
    "connect",
    "create_database",
    "describe",
    "is_integrity_error",
    "is_sqlite",
    "is_unavailable",
    "one_line",
]


def create_database(url: str, busy_timeout: float = DEFAULT_BUSY_TIMEOUT_SECONDS) -> Database:
    """The database for `url`; `busy_timeout` is how long a SQLite write waits for the lock."""
    if is_sqlite(url):
        return SQLiteDatabase(url, sqlite_path(url), busy_timeout)
    return PostgresDatabase(url)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str) -> str:
    return make_url(url).database or ":memory:"


def async_driver_url(url: str) -> str:
    """The SQLAlchemy URL with the site's async drivers, for Alembic and the bulk seed."""
    parsed = make_url(url)
    driver = "aiosqlite" if parsed.get_backend_name() == "sqlite" else "asyncpg"
    return parsed.set(drivername=f"{parsed.get_backend_name()}+{driver}").render_as_string(
        hide_password=False
    )


def describe(url: str) -> str:
    """The URL without its password, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def check_sqlite_file(url: str) -> None:
    """Open a SQLite database with the standard library, raising DatabaseUnavailable if it can't.

    aiosqlite reports a failed open from its worker thread, which can then outlive the event
    loop and print a stray traceback; checking first keeps the failure to one line.
    """
    if not is_sqlite(url):
        return
    try:
        sqlite3.connect(sqlite_path(url)).close()
    except sqlite3.Error as error:
        raise DatabaseUnavailable(
            f"cannot open the database at {describe(url)}: {error}"
        ) from error


async def connect(database: Database) -> None:
    """Connect and prove it with a query; raise DatabaseUnavailable with a one-line reason."""
    check_sqlite_file(database.url)
    try:
        await database.connect()
        await database.fetch_val("SELECT 1")
        if database.engine == "sqlite":
            # WAL lets readers run beside a writer and is a property of the file: set it once.
            await database.execute("PRAGMA journal_mode=WAL")
    except Exception as error:  # any driver error means the same thing to the operator
        raise DatabaseUnavailable(
            f"cannot reach the database at {describe(database.url)}: {one_line(error)}"
        ) from error
