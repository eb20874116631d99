"""The `locallibrary` command: one entry point for every chore (serve, migrate, seed, clean up)."""

from __future__ import annotations

import asyncio
import getpass
import os
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click
import uvicorn
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from locallibrary.accounts import AccountError, Role, create_user
from locallibrary.accounts.demo import DEMO_ACCOUNTS, create_demo_accounts
from locallibrary.accounts.throttle import SignInThrottle
from locallibrary.catalog.seed import SeedReport, seed_demo, seed_demo_if_empty, seed_synthetic
from locallibrary.database import (
    Database,
    DatabaseUnavailable,
    async_driver_url,
    check_sqlite_file,
    connect,
    create_database,
    describe,
    one_line,
)
from locallibrary.database import migrate as migrations
from locallibrary.loans.demo import create_demo_accounts_loans
from locallibrary.sessions import database_store
from locallibrary.settings import PROJECT_ROOT, Settings, SettingsError

T = TypeVar("T")

PASSWORD_VARIABLE = "LOCALLIBRARY_PASSWORD"


def _settings() -> Settings:
    try:
        return Settings.from_environ()
    except SettingsError as error:  # the CLI's boundary: one line for a person
        raise click.ClickException(str(error)) from error


def _fail(action: str, url: str, error: BaseException) -> click.ClickException:
    if isinstance(error, DatabaseUnavailable):
        return click.ClickException(str(error))
    return click.ClickException(f"{action} failed on {describe(url)}: {one_line(error)}")


def _run_migrations(url: str) -> None:
    try:
        check_sqlite_file(url)
        migrations.upgrade(url)
    except Exception as error:  # the CLI's boundary: any failure is one line for a person
        raise _fail("migrate", url, error) from error


def _with_connection(url: str, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
    async def run() -> T:
        engine = create_async_engine(async_driver_url(url))
        try:
            async with engine.connect() as conn:
                result = await work(conn)
                await conn.commit()
                return result
        finally:
            await engine.dispose()

    try:
        check_sqlite_file(url)
        return asyncio.run(run())
    except Exception as error:  # the CLI's boundary: any failure is one line for a person
        raise _fail("the command", url, error) from error


def _with_database(action: str, url: str, work: Callable[[Database], Awaitable[T]]) -> T:
    """Run `work` on the site's database for `url`; bad account input and any failure are one
    line for a person."""

    async def run() -> T:
        database = create_database(url)
        await connect(database)
        try:
            return await work(database)
        finally:
            await database.disconnect()

    try:
        return asyncio.run(run())
    except AccountError as error:
        raise click.ClickException(str(error)) from error
    except Exception as error:  # the CLI's boundary: any failure is one line for a person
        raise _fail(action, url, error) from error


def _read_password() -> str:
    """The password from the environment, or one line of standard input: never an argument,
    which every user of the machine can read in the process list."""
    if PASSWORD_VARIABLE in os.environ:
        return os.environ[PASSWORD_VARIABLE]
    if sys.stdin.isatty():
        return getpass.getpass("Password: ")  # a person at a terminal: do not show it
    # Read as bytes: bytes that are not UTF-8 become unpaired surrogates, which the password
    # rules refuse in one line, where a text read would stop with a traceback.
    line = sys.stdin.buffer.readline().decode("utf-8", "surrogateescape")
    return line.removesuffix("\n").removesuffix("\r")


@click.group()
def main() -> None:
    """LocalLibrary: a public library's catalog site."""


@main.command()
def migrate() -> None:
    """Bring the database schema up to date (safe to run at every release)."""
    url = _settings().database_url
    _run_migrations(url)
    click.echo(f"Database {describe(url)} is up to date.")


@main.command()
@click.option(
    "--books", type=click.IntRange(min=1), help="Also grow a synthetic catalog to N books."
)
def seed(books: int | None) -> None:
    """Load the demo catalog (idempotent); with --books N, add a large synthetic catalog."""
    url = _settings().database_url
    report = _with_connection(url, seed_demo)
    click.echo(
        f"Demo catalog: added {report.books} books, {report.copies} copies, "
        f"{report.authors} authors."
    )
    if books:
        with click.progressbar(length=books, label="Synthetic books") as bar:

            async def grow(conn: AsyncConnection) -> SeedReport:
                return await seed_synthetic(conn, books, progress=bar.update)

            report = _with_connection(url, grow)
        click.echo(
            f"Synthetic catalog: added {report.books} books, {report.copies} copies, "
            f"{report.authors} authors."
        )


@main.command()
def clearsessions() -> None:
    """Delete expired sessions and sign-in failure counters from the database (what the server
    also does every SESSION_CLEANUP_SECONDS) and say how many went."""
    url = _settings().database_url

    async def clear() -> tuple[int, int]:
        database = create_database(url)
        await connect(database)
        store = database_store(database)
        try:
            return await store.clear_expired(), await SignInThrottle(database).clear_expired()
        finally:
            store.close()
            await database.disconnect()

    try:
        sessions, counters = asyncio.run(clear())
    except Exception as error:  # the CLI's boundary: any failure is one line for a person
        raise _fail("clearsessions", url, error) from error
    click.echo(f"Removed {sessions} expired session{'' if sessions == 1 else 's'}.")
    click.echo(f"Removed {counters} expired sign-in failure counter{'' if counters == 1 else 's'}.")


@main.command()
@click.argument("email")
@click.option("--name", required=True, help="The name the site greets them by.")
@click.option("--librarian", is_flag=True, help="A librarian rather than a patron.")
def createuser(email: str, name: str, librarian: bool) -> None:
    """Create an account. The password is read from $LOCALLIBRARY_PASSWORD, or else from one
    line of standard input."""
    url = _settings().database_url
    password = _read_password()
    role = Role.LIBRARIAN if librarian else Role.PATRON
    user = _with_database(
        "createuser", url, lambda database: create_user(database, email, name, password, role)
    )
    click.echo(f"Created {user.role.value} {user.email}.")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
def dev(host: str, port: int) -> None:
    """Run the development server with reload, migrating and seeding the database and making
    the demo accounts first."""
    settings = _settings()
    _run_migrations(settings.database_url)
    if _with_connection(settings.database_url, seed_demo_if_empty):
        click.echo("Loaded the demo catalog.")
    for account in _with_database("dev", settings.database_url, create_demo_accounts):
        click.echo(f"Created the demo {account.role.value} account.")
    if _with_database("dev", settings.database_url, create_demo_accounts_loans):
        click.echo("Lent the demo patron a few books (one overdue) and placed a hold.")
    for account in DEMO_ACCOUNTS:
        click.echo(f"Demo {account.role.value}: {account.email}, password {account.password}")
    click.secho(f"LocalLibrary is at http://{host}:{port}/catalog/", fg="green", bold=True)
    uvicorn.run(
        "locallibrary.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        reload=True,
        reload_dirs=[str(PROJECT_ROOT / d) for d in ("site", "templates", "static")],
        reload_includes=["*.py", "*.html", "*.css", "*.js"],
    )
