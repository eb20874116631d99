"""Accounts for the tests: made through the site's own code, signed in through its pages."""

from __future__ import annotations

from dataclasses import dataclass

import httpx2 as httpx
from starlette.testclient import TestClient

from locallibrary.accounts.tables import Role
from locallibrary.accounts.users import create_user
from tests.db import with_database
from tests.html import parse, text


@dataclass(frozen=True)
class Account:
    email: str
    name: str
    password: str
    role: Role = Role.PATRON


ANN = Account("ann@example.org", "Ann Reader", "ann-has-a-long-password")
BOB = Account("bob@example.org", "Bob Borrower", "bob-has-a-long-password")
LIBBY = Account("libby@example.org", "Libby Shelver", "libby-has-a-long-password", Role.LIBRARIAN)


def add_account(database_url: str, account: Account) -> int:
    """Make the account in the database; return its user id."""

    async def create(database):  # type: ignore[no-untyped-def]
        user = await create_user(
            database, account.email, account.name, account.password, account.role
        )
        return user.id

    user_id: int = with_database(database_url, create)
    return user_id


def sign_in(
    client: TestClient | httpx.Client,
    account: Account,
    password: str | None = None,
    next_path: str = "",
) -> httpx.Response:
    """Send the sign-in form as a browser would; the response is not followed."""
    return client.post(
        "/accounts/sign-in",
        data={
            "email": account.email,
            "password": account.password if password is None else password,
            "next": next_path,
        },
        follow_redirects=False,
    )


class Browsers:
    """Several browsers on one test client (one app, one event loop): each has its own cookie
    jar and User-Agent, swapped in before each of its requests."""

    def __init__(self, client: TestClient, *user_agents: str) -> None:
        self.client = client
        self.jars = [httpx.Cookies() for _ in user_agents]
        self.user_agents = list(user_agents)
        self.current: int | None = None

    def __getitem__(self, index: int) -> TestClient:
        if self.current is not None:  # the client's jar is a copy: keep what it got
            self.jars[self.current] = self.client.cookies
        self.client.cookies = self.jars[index]
        self.client.headers["User-Agent"] = self.user_agents[index]
        self.current = index
        return self.client

    def __len__(self) -> int:
        return len(self.jars)


def header_account(markup: str) -> str:
    """What the header says of the visitor: their name and "Sign out", or "Sign in"."""
    return text(parse(markup).css_first(".account"))
