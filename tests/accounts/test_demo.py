"""The demo accounts `locallibrary dev` makes: on both databases, once."""

from __future__ import annotations

from locallibrary.accounts import Role, User, authenticate
from locallibrary.accounts.demo import DEMO_ACCOUNTS, DemoAccount, create_demo_accounts
from locallibrary.database import Database
from locallibrary.settings import PROJECT_ROOT
from tests.db import sql, with_database


def test_the_demo_accounts_are_a_patron_and_a_librarian() -> None:
    assert [
        (account.email, account.name, account.password, account.role) for account in DEMO_ACCOUNTS
    ] == [
        ("patron@example.org", "Pat Patron", "patron-demo-1", Role.PATRON),
        ("librarian@example.org", "Libby Librarian", "librarian-demo-1", Role.LIBRARIAN),
    ]


def test_they_are_created_and_sign_in_with_their_passwords(empty_database_url: str) -> None:
    async def scenario(database: Database) -> tuple[list[DemoAccount], list[User | None]]:
        created = await create_demo_accounts(database)
        signed_in = [
            await authenticate(database, account.email, account.password)
            for account in DEMO_ACCOUNTS
        ]
        return created, signed_in

    created, signed_in = with_database(empty_database_url, scenario)
    assert created == list(DEMO_ACCOUNTS)
    assert [(user.name, user.is_librarian) for user in signed_in if user] == [
        ("Pat Patron", False),
        ("Libby Librarian", True),
    ]


def test_creating_them_again_creates_nothing(empty_database_url: str) -> None:
    async def twice(database: Database) -> list[list[DemoAccount]]:
        return [await create_demo_accounts(database), await create_demo_accounts(database)]

    first, second = with_database(empty_database_url, twice)
    assert (len(first), second) == (2, [])
    assert sql(empty_database_url, "SELECT count(*) FROM users") == [(2,)]


def test_only_the_missing_one_is_created(empty_database_url: str) -> None:
    sql(
        empty_database_url,
        "INSERT INTO users (email, email_key, name, name_key, password_hash, role, created_at) "
        "VALUES ('Patron@Example.org', 'patron@example.org', 'Kept', 'kept', 'x', 'patron', 0)",
    )
    created = with_database(empty_database_url, create_demo_accounts)
    assert [account.email for account in created] == ["librarian@example.org"]
    assert sql(empty_database_url, "SELECT name FROM users ORDER BY id") == [
        ("Kept",),
        ("Libby Librarian",),
    ]


def test_the_readme_lists_them_as_they_are() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    section = readme.split("### Demo accounts", 1)[1].split("\n#", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    assert rows == [
        f"| `{account.email}` ({account.name}) | `{account.password}` | {account.role.value} |"
        for account in DEMO_ACCOUNTS
    ]
