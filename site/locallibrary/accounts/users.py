"""Users: creating accounts, finding them, signing in, and changing passwords.

Every statement is written out here. The reads made on the event loop are point lookups by
primary key or by the unique `email_key`; hashing and checking passwords run on worker threads
(passwords.py).
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Mapping
from typing import Any, NamedTuple

from argon2 import PasswordHasher

from locallibrary.accounts.emails import email_key, parse_email
from locallibrary.accounts.errors import AccountError, EmailTaken
from locallibrary.accounts.passwords import (
    HASHER,
    check_new_password,
    hash_password,
    is_checkable,
    verify_against_nobody,
    verify_password,
)
from locallibrary.accounts.tables import Role
from locallibrary.database import Database, Row
from locallibrary.folding import folded

MAX_NAME_LENGTH = 100
# The largest `users.id` (a 32-bit INTEGER on PostgreSQL): a larger one, from a tampered
# cookie say, would be a driver error rather than "no such user".
MAX_USER_ID = 2**31 - 1
NO_SUCH_ACCOUNT = "There is no such account."
ROLES = {role.value: role for role in Role}  # a dict lookup: cheaper than calling the enum

COLUMNS = "id, email, name, role, created_at, last_login_at"
# The unique constraint decides who gets an email, so two concurrent sign-ups with one address
# cannot both succeed, and the loser learns it from an empty RETURNING, not from an error.
INSERT = f"""
    INSERT INTO users (email, email_key, name, name_key, password_hash, role, created_at)
    VALUES (:email, :email_key, :name, :name_key, :password_hash, :role, :created_at)
    ON CONFLICT (email_key) DO NOTHING
    RETURNING {COLUMNS}
"""
BY_ID = f"SELECT {COLUMNS}, password_hash FROM users WHERE id = :id"
BY_EMAIL_KEY = f"SELECT {COLUMNS}, password_hash FROM users WHERE email_key = :email_key"
# A re-hash replaces only the hash that was checked: a password changed meanwhile stays changed.
SIGNED_IN = """
    UPDATE users
    SET last_login_at = :now,
        password_hash = CASE WHEN password_hash = :checked_hash THEN :new_hash
                        ELSE password_hash END
    WHERE id = :id
"""
# The reads made on the event loop, whose plans tests/database/test_plans.py checks.
BOUNDED_READS: dict[str, tuple[str, dict[str, Any]]] = {
    "user by id": (BY_ID, {"id": 1}),
    "user by email": (BY_EMAIL_KEY, {"email_key": "ann@example.org"}),
}
SET_PASSWORD = "UPDATE users SET password_hash = :password_hash WHERE id = :id RETURNING id"


# Made on every signed-in request: a named tuple, as immutable as a frozen dataclass, and
# made faster.
class User(NamedTuple):
    id: int
    email: str
    name: str
    role: Role
    created_at: int  # Unix seconds
    last_login_at: int | None

    @property
    def is_librarian(self) -> bool:
        return self.role is Role.LIBRARIAN


def user_from_row(row: Row | Mapping[str, Any]) -> User:
    """The user of a row (or mapping) with the `COLUMNS` of `users`."""
    return User(
        id=row["id"],
        email=row["email"],
        name=row["name"],
        role=ROLES[row["role"]],
        created_at=row["created_at"],
        last_login_at=row["last_login_at"],
    )


def check_name(name: str) -> str:
    """The name as it is kept (without surrounding spaces), or AccountError saying why not."""
    name = name.strip()
    if not name:
        raise AccountError("The name must not be empty.")
    if len(name) > MAX_NAME_LENGTH:
        raise AccountError(f"The name must have at most {MAX_NAME_LENGTH} characters.")
    # Control characters have no place in a name, and PostgreSQL cannot store NUL in text.
    if any(unicodedata.category(character) in ("Cc", "Cs") for character in name):
        raise AccountError("The name must not hold control characters.")
    return name


def name_key(name: str) -> str:
    """The name as the loans desk compares it: case and accents folded, and the spaces between
    its words made one. In Python, for SQLite's `lower()` folds ASCII letters only."""
    return " ".join(folded(name).split())


async def create_user(
    database: Database,
    email: str,
    name: str,
    password: str,
    role: Role = Role.PATRON,
    *,
    hasher: PasswordHasher = HASHER,
) -> User:
    """Create an account; AccountError (EmailTaken for a taken email) says what is wrong."""
    address = parse_email(email)
    name = check_name(name)
    check_new_password(password)
    password_hash = await hash_password(password, hasher)
    async with database.transaction(write=True) as queries:
        row = await queries.fetch_one(
            INSERT,
            {
                "email": address.address,
                "email_key": address.key,
                "name": name,
                "name_key": name_key(name),
                "password_hash": password_hash,
                "role": role.value,
                "created_at": int(time.time()),
            },
        )
    if row is None:
        raise EmailTaken("An account with that email address exists already.")
    return user_from_row(row)


async def user_and_password_hash(database: Database, user_id: int) -> tuple[User, str] | None:
    """The user and their current password hash, in one read (reset tokens are bound to it)."""
    if not 1 <= user_id <= MAX_USER_ID:
        return None
    row = await database.fetch_one(BY_ID, {"id": user_id})
    return None if row is None else (user_from_row(row), row["password_hash"])


async def user_by_id(database: Database, user_id: int) -> User | None:
    found = await user_and_password_hash(database, user_id)
    return None if found is None else found[0]


async def _row_by_email(database: Database, email: str) -> Row | None:
    key = email_key(email)
    return None if key is None else await database.fetch_one(BY_EMAIL_KEY, {"email_key": key})


async def user_by_email(database: Database, email: str) -> User | None:
    row = await _row_by_email(database, email)
    return None if row is None else user_from_row(row)


async def authenticate(
    database: Database, email: str, password: str, *, hasher: PasswordHasher = HASHER
) -> User | None:
    """The user whose email and password these are, or None, alike for an unknown email and a
    wrong password, and after the same work: one password check either way. A success records
    the sign-in and re-hashes the password if the hasher's parameters have changed."""
    if not is_checkable(password):
        return None  # no account has such a password; refusing it tells nothing about any
    row = await _row_by_email(database, email)
    if row is None:
        await verify_against_nobody(password, hasher)
        return None
    checked_hash: str = row["password_hash"]
    if not await verify_password(checked_hash, password, hasher):
        return None
    new_hash = (
        await hash_password(password, hasher)
        if hasher.check_needs_rehash(checked_hash)
        else checked_hash
    )
    now = int(time.time())
    await database.execute(
        SIGNED_IN,
        {"id": row["id"], "now": now, "checked_hash": checked_hash, "new_hash": new_hash},
    )
    return user_from_row(row)._replace(last_login_at=now)


async def check_password(
    database: Database, user_id: int, password: str, *, hasher: PasswordHasher = HASHER
) -> bool:
    """Whether `password` is this user's (to confirm it before a change, say)."""
    found = await user_and_password_hash(database, user_id)
    if found is None or not is_checkable(password):
        return False
    return await verify_password(found[1], password, hasher)


async def set_password(
    database: Database, user_id: int, new_password: str, *, hasher: PasswordHasher = HASHER
) -> None:
    """Give the user a new password (and so void their reset tokens); AccountError if it breaks
    the rules or there is no such user."""
    check_new_password(new_password)
    if not 1 <= user_id <= MAX_USER_ID:
        raise AccountError(NO_SUCH_ACCOUNT)
    password_hash = await hash_password(new_password, hasher)
    async with database.transaction(write=True) as queries:
        changed = await queries.fetch_one(
            SET_PASSWORD, {"id": user_id, "password_hash": password_hash}
        )
    if changed is None:
        raise AccountError(NO_SUCH_ACCOUNT)
