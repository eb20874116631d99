"""What the loans' tests share: patrons made cheaply, copies to lend, and reading what is stored."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from locallibrary.accounts.tables import Role
from locallibrary.accounts.users import create_user
from locallibrary.database import Database
from locallibrary.database.values import as_date
from tests.accounts.hashers import cheap
from tests.db import sql, with_database

IN_THREE_WEEKS = dt.date.today() + dt.timedelta(days=21)


def add_patrons(
    database_url: str, count: int, prefix: str = "patron", role: Role = Role.PATRON
) -> list[int]:
    """`count` accounts (`patron0@example.org`, …); their ids, in that order."""

    async def create(database: Database) -> list[int]:
        hasher = cheap()
        return [
            (
                await create_user(
                    database,
                    f"{prefix}{i}@example.org",
                    f"{prefix.title()} Number{i}",
                    "a-long-enough-password",
                    role,
                    hasher=hasher,
                )
            ).id
            for i in range(count)
        ]

    return with_database(database_url, create)


def available_copy(database_url: str, offset: int = 0) -> tuple[uuid.UUID, int]:
    """An Available copy (the `offset`-th by id) and its book."""
    [(copy_id, book_id)] = sql(
        database_url,
        "SELECT id, book_id FROM catalog_bookinstance WHERE status = 'a'"
        " ORDER BY id LIMIT 1 OFFSET :offset",
        offset=offset,
    )
    return copy_id if isinstance(copy_id, uuid.UUID) else uuid.UUID(copy_id), book_id


def book_with_one_copy_left(database_url: str) -> tuple[uuid.UUID, int]:
    """A book whose only copy that is not in maintenance is an Available one: the others are
    put in maintenance, so lending that copy leaves none on the shelf."""
    copy_id, book_id = available_copy(database_url)
    sql(
        database_url,
        "UPDATE catalog_bookinstance SET status = 'm', due_back = NULL"
        " WHERE book_id = :book_id AND id <> :copy_id",
        book_id=book_id,
        copy_id=copy_id,
    )
    return copy_id, book_id


def copy_state(database_url: str, copy_id: uuid.UUID) -> tuple[str, dt.date | None]:
    [(status, due_back)] = sql(
        database_url,
        "SELECT status, due_back FROM catalog_bookinstance WHERE id = :id",
        id=copy_id,
    )
    return status, as_date(due_back)


def loans_of(database_url: str, copy_id: uuid.UUID) -> list[tuple[Any, ...]]:
    """(patron, due back, returned at, renewals) of every loan of the copy, oldest first."""
    rows = sql(
        database_url,
        "SELECT patron_id, due_back, returned_at, renewals FROM loans"
        " WHERE copy_id = :id ORDER BY id",
        id=copy_id,
    )
    return [(patron, as_date(due), returned, renewals) for patron, due, returned, renewals in rows]
