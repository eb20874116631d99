"""What the site makes of a database's errors (locallibrary.database.errors), from real ones."""

from __future__ import annotations

import asyncio

import pytest

from locallibrary.database import Database, is_unavailable
from tests.conftest import DatabaseFactory
from tests.db import with_database

LOCK = "SELECT key FROM sessions WHERE key = :key FOR UPDATE"


def test_a_postgresql_deadlock_means_ask_again(databases_factory: DatabaseFactory) -> None:
    """Two transactions that each hold the row the other waits for: PostgreSQL ends one of
    them, and the site answers that request with its 503 ("try again"), not a 500."""
    url = databases_factory.new("postgresql", seeded=False)

    async def deadlock(database: Database) -> list[BaseException]:
        for key in ("a", "b"):
            await database.execute(
                "INSERT INTO sessions (key, data, expires_at) VALUES (:key, '{}', 0)", {"key": key}
            )
        both_hold_one = asyncio.Barrier(2)

        async def lock(first: str, then: str) -> None:
            async with database.transaction(write=True) as connection:  # a connection per task
                await connection.execute(LOCK, {"key": first})
                await both_hold_one.wait()
                await connection.execute(LOCK, {"key": then})

        results = await asyncio.gather(lock("a", "b"), lock("b", "a"), return_exceptions=True)
        return [result for result in results if isinstance(result, BaseException)]

    errors = with_database(url, deadlock)
    assert len(errors) == 1, "PostgreSQL ends one of the two, and the other then commits"
    assert is_unavailable(errors[0])


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_wrong_query_is_not_unavailability(databases_factory: DatabaseFactory, kind: str) -> None:
    url = databases_factory.new(kind, seeded=False)

    async def wrong(database: Database) -> BaseException:
        with pytest.raises(Exception) as raised:
            await database.execute("SELECT no_such_column FROM sessions")
        return raised.value

    assert not is_unavailable(with_database(url, wrong))
