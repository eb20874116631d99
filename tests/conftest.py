"""Fixtures shared by the whole suite: databases on SQLite and PostgreSQL, and the app on them.

Every test that takes `database_url` runs twice, once per database. A database is made once per
test session (migrated, with the demo catalog) and each test gets a fresh copy of it.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.testclient import TestClient

from locallibrary.catalog.seed import seed_demo
from locallibrary.database import async_driver_url
from locallibrary.database.migrate import upgrade
from locallibrary.settings import Settings
from locallibrary.web.app import create_app
from tests.postgres_server import PostgresServer, find_bindir

REQUIRE_ALL = os.environ.get("LOCALLIBRARY_TEST_REQUIRE_ALL") == "1"


def skip_or_fail(reason: str) -> None:
    """Skip for a missing part of the machine, or fail where the suite must run whole (CI)."""
    if REQUIRE_ALL:
        pytest.fail(f"{reason} (LOCALLIBRARY_TEST_REQUIRE_ALL=1 forbids skipping)")
    pytest.skip(reason)


def prepare(url: str, seed: bool) -> None:
    upgrade(url)
    if seed:
        asyncio.run(_seed(url))


async def _seed(url: str) -> None:
    engine = create_async_engine(async_driver_url(url))
    async with engine.begin() as conn:
        await seed_demo(conn)
    await engine.dispose()


class LazyPostgres:
    """Starts the test PostgreSQL server when a test first needs it, once per test session."""

    def __init__(self) -> None:
        self.server: PostgresServer | None = None

    def get(self) -> PostgresServer:
        if self.server is None:
            bindir = find_bindir()
            if bindir is None:
                skip_or_fail(
                    "PostgreSQL binaries (initdb, pg_ctl) not found; install Debian's `postgresql`"
                )
            assert bindir is not None
            self.server = PostgresServer(bindir)
            self.server.initialize()
            self.server.start()
        return self.server

    def remove(self) -> None:
        if self.server is not None:
            self.server.remove()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[LazyPostgres]:
    lazy = LazyPostgres()
    yield lazy
    lazy.remove()


async def _admin(server: PostgresServer, *statements: str) -> None:
    conn = await asyncpg.connect(server.url())
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


_database_numbers = itertools.count()


class DatabaseFactory:
    """Makes fresh databases for tests: seeded copies of a template, or empty ones."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory, server: LazyPostgres):
        self.tmp_path_factory = tmp_path_factory
        self.server = server
        self.templates: dict[tuple[str, bool], str] = {}

    def _template(self, kind: str, seeded: bool) -> str:
        key = (kind, seeded)
        if key not in self.templates:
            name = f"template_{'seeded' if seeded else 'empty'}"
            if kind == "sqlite":
                path = self.tmp_path_factory.mktemp("templates") / f"{name}.sqlite3"
                url = f"sqlite:///{path}"
            else:
                server = self.server.get()
                asyncio.run(_admin(server, f"CREATE DATABASE {name}"))
                url = server.url(name)
            prepare(url, seed=seeded)
            self.templates[key] = url
        return self.templates[key]

    def new(self, kind: str, *, migrated: bool = True, seeded: bool = True) -> str:
        number = next(_database_numbers)
        if kind == "sqlite":
            path = self.tmp_path_factory.mktemp("db") / f"test_{number}.sqlite3"
            if migrated:
                shutil.copyfile(self._template_path(seeded), path)
            return f"sqlite:///{path}"
        server = self.server.get()
        name = f"test_{number}"
        if migrated:
            template = self._template(kind, seeded).rsplit("/", 1)[1]
            asyncio.run(_admin(server, f"CREATE DATABASE {name} TEMPLATE {template}"))
        else:
            asyncio.run(_admin(server, f"CREATE DATABASE {name}"))
        return server.url(name)

    def _template_path(self, seeded: bool) -> Path:
        return Path(self._template("sqlite", seeded).removeprefix("sqlite:///"))


@pytest.fixture(scope="session")
def databases_factory(
    tmp_path_factory: pytest.TempPathFactory, postgres_server: LazyPostgres
) -> DatabaseFactory:
    return DatabaseFactory(tmp_path_factory, postgres_server)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    return kind


@pytest.fixture
def database_url(databases_factory: DatabaseFactory, database_kind: str) -> str:
    """A migrated database with the demo catalog, fresh for this test."""
    return databases_factory.new(database_kind)


@pytest.fixture
def empty_database_url(databases_factory: DatabaseFactory, database_kind: str) -> str:
    """A migrated database with no rows."""
    return databases_factory.new(database_kind, seeded=False)


@pytest.fixture
def blank_database_url(databases_factory: DatabaseFactory, database_kind: str) -> str:
    """A database with no tables at all (not even migrated)."""
    return databases_factory.new(database_kind, migrated=False)


@pytest.fixture
def settings(database_url: str) -> Settings:
    # The site as it runs in production, but for a fixed secret and a quicker poll.
    return Settings(
        database_url=database_url,
        secret_key="test-secret",
        counts_poll_seconds=2.0,
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), base_url="http://testserver") as test_client:
        yield test_client


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright's sync API keeps an event loop running in the main thread
    while its browser is open, and the other tests start their own loops there."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
