"""The demo accounts that `locallibrary dev` makes, so that a developer can sign in at once.

Only the dev command uses them: `seed` and the Procfile never create accounts, so a production
site never has a known password.
"""

from __future__ import annotations

from dataclasses import dataclass

from locallibrary.accounts.tables import Role
from locallibrary.accounts.users import create_user, user_by_email
from locallibrary.database import Database


@dataclass(frozen=True)
class DemoAccount:
    email: str
    name: str
    password: str
    role: Role


DEMO_ACCOUNTS = (
    DemoAccount("patron@example.org", "Pat Patron", "patron-demo-1", Role.PATRON),
    DemoAccount("librarian@example.org", "Libby Librarian", "librarian-demo-1", Role.LIBRARIAN),
)


async def create_demo_accounts(database: Database) -> list[DemoAccount]:
    """Create those of the demo accounts that do not exist yet; return the ones created."""
    created = []
    for account in DEMO_ACCOUNTS:
        if await user_by_email(database, account.email) is None:
            await create_user(database, account.email, account.name, account.password, account.role)
            created.append(account)
    return created
