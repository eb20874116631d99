"""Migrations build the schema that the code declares, from an empty database, on both engines."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

import pytest
from alembic import command
from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import create_async_engine

from locallibrary.catalog.tables import (
    AUTHOR_NAMES_TABLE,
    FTS5_SHADOW_TABLES,
    SEARCH_INDEX_TABLE,
)
from locallibrary.database import async_driver_url
from locallibrary.database.migrate import alembic_config, upgrade
from locallibrary.loans.queries import patrons_named
from tests.db import sql, with_database

T = TypeVar("T")

# Reflection cannot read the expression index on lower(genre.name); a test below shows it works.
pytestmark = [
    pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index"),
    pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based"),
]


def _inspect(url: str, work: Callable[[Connection], T]) -> T:
    async def run() -> T:
        engine = create_async_engine(async_driver_url(url))
        async with engine.connect() as conn:
            result = await conn.run_sync(work)
        await engine.dispose()
        return result

    return asyncio.run(run())


def test_migrations_create_every_table_from_an_empty_database(blank_database_url: str) -> None:
    assert _inspect(blank_database_url, lambda c: inspect(c).get_table_names()) == []
    upgrade(blank_database_url)
    tables = set(_inspect(blank_database_url, lambda c: inspect(c).get_table_names()))
    # SQLite's search index and index of authors' names are FTS5 tables, with the shadow tables
    # that hold their indexes.
    fts5 = {
        *(SEARCH_INDEX_TABLE, AUTHOR_NAMES_TABLE),
        *(
            f"{table}_{s}"
            for table in (SEARCH_INDEX_TABLE, AUTHOR_NAMES_TABLE)
            for s in FTS5_SHADOW_TABLES
        ),
    }
    assert tables - fts5 == {
        "alembic_version",
        "catalog_author",
        "catalog_genre",
        "catalog_language",
        "catalog_book",
        "catalog_book_genre",
        "catalog_bookinstance",
        "catalog_version",
        "catalog_changes",
        "catalog_search",
        "sessions",
        "users",
        "sign_in_failures",
        "site_secrets",
        "loans",
        "holds",
    }
    assert fts5 <= tables if blank_database_url.startswith("sqlite") else not fts5 & tables


def test_migrated_schema_matches_the_declared_tables(blank_database_url: str) -> None:
    upgrade(blank_database_url)
    # `alembic check`: autogenerate, through migrations/env.py's own metadata and filter (which
    # leaves out the search index's undeclared objects), finds nothing left to migrate.
    command.check(alembic_config(blank_database_url))


def test_every_list_and_lookup_has_an_index(blank_database_url: str) -> None:
    upgrade(blank_database_url)

    def indexes(conn):  # type: ignore[no-untyped-def]
        inspector = inspect(conn)
        return {
            table: [tuple(i["column_names"]) for i in inspector.get_indexes(table)]
            for table in inspector.get_table_names()
        }

    found = _inspect(blank_database_url, indexes)
    assert ("title", "id", "author_id") in found["catalog_book"]
    assert ("author_id", "title", "id") in found["catalog_book"]
    assert ("last_name", "first_name", "id") in found["catalog_author"]
    assert ("book_id", "due_back", "id") in found["catalog_bookinstance"]
    assert ("status", "book_id") in found["catalog_bookinstance"]
    assert ("expires_at",) in found["sessions"]
    assert ("name_key", "id") in found["users"]


def test_genre_names_are_unique_whatever_their_case(empty_database_url: str) -> None:
    from sqlalchemy.exc import IntegrityError

    from locallibrary.catalog.tables import genre

    async def insert_twice() -> None:
        engine = create_async_engine(async_driver_url(empty_database_url))
        try:
            async with engine.begin() as conn:
                await conn.execute(genre.insert().values(name="Science Fiction"))
            async with engine.begin() as conn:
                await conn.execute(genre.insert().values(name="science fiction"))
        finally:
            await engine.dispose()

    with pytest.raises(IntegrityError):
        asyncio.run(insert_twice())


def test_migrating_twice_changes_nothing(database_url: str) -> None:
    upgrade(database_url)
    upgrade(database_url)


def test_accounts_made_before_the_name_key_are_found_by_their_folded_name(
    blank_database_url: str,
) -> None:
    upgrade(blank_database_url, "0012")
    sql(
        blank_database_url,
        "INSERT INTO users (email, email_key, name, password_hash, role, created_at) "
        "VALUES ('elise@example.org', 'elise@example.org', 'Élise  Martin', 'x', 'patron', 0)",
    )
    upgrade(blank_database_url)
    assert sql(blank_database_url, "SELECT name_key FROM users") == [("elise martin",)]
    found = with_database(blank_database_url, lambda db: patrons_named(db, "ÉLISE martin"))
    assert [patron.email for patron in found] == ["elise@example.org"]


def _book_list_index_columns(url: str) -> tuple[str, ...]:
    def columns(conn):  # type: ignore[no-untyped-def]
        indexes = inspect(conn).get_indexes("catalog_book")
        (index,) = [i for i in indexes if i["name"] == "ix_catalog_book_title_order"]
        return tuple(index["column_names"])

    found: tuple[str, ...] = _inspect(url, columns)
    return found


def test_0014_adds_the_author_to_the_book_lists_index_and_its_downgrade_removes_it(
    blank_database_url: str,
) -> None:
    upgrade(blank_database_url, "0014")
    assert _book_list_index_columns(blank_database_url) == ("title", "id", "author_id")
    command.downgrade(alembic_config(blank_database_url), "0013")
    assert _book_list_index_columns(blank_database_url) == ("title", "id")
