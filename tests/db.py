"""Direct SQL on a test database, to check what the site stored (sync, for use in tests)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from locallibrary.database import Database, async_driver_url, connect, create_database

T = TypeVar("T")


def sql(url: str, statement: str, **params: Any) -> list[tuple[Any, ...]]:
    """Run one statement in its own transaction; return its rows (empty for writes)."""

    async def run() -> list[tuple[Any, ...]]:
        engine = create_async_engine(async_driver_url(url))
        try:
            async with engine.begin() as conn:
                result = await conn.execute(text(statement), params)
                return [tuple(row) for row in result] if result.returns_rows else []
        finally:
            await engine.dispose()

    return asyncio.run(run())


def session_rows(url: str) -> dict[str, tuple[str, int]]:
    return {
        key: (data, expires)
        for key, data, expires in sql(url, "SELECT key, data, expires_at FROM sessions")
    }


def with_database(url: str, scenario: Callable[[Database], Awaitable[T]]) -> T:
    """Run `scenario` on the site's own database object for `url`, connected, in a new loop."""

    async def connected() -> T:
        database = create_database(url)
        await connect(database)
        try:
            return await scenario(database)
        finally:
            await database.disconnect()

    return asyncio.run(connected())
