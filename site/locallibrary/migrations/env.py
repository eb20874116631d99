"""Alembic's environment: runs migrations through SQLAlchemy's async engine on the site's drivers."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from locallibrary.accounts.tables import metadata as accounts_metadata
from locallibrary.catalog.tables import declared_or_unknown
from locallibrary.catalog.tables import metadata as catalog_metadata
from locallibrary.loans.tables import metadata as loans_metadata
from locallibrary.secret_key import metadata as secret_metadata
from locallibrary.sessions.stores.table import metadata as sessions_metadata

target_metadata = [
    catalog_metadata,
    sessions_metadata,
    accounts_metadata,
    secret_metadata,
    loans_metadata,
]


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=declared_or_unknown,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_online() -> None:
    url = context.config.get_main_option("sqlalchemy.url")
    assert url, "the migrate command sets sqlalchemy.url"
    engine = create_async_engine(url, poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(run_migrations)
    await engine.dispose()


asyncio.run(run_online())
