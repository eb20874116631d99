"""Password reset tokens: good for an hour, for one user, until their password changes."""

from __future__ import annotations

import hypothesis
import pytest
from hypothesis import strategies as st
from itsdangerous import URLSafeTimedSerializer

from locallibrary.accounts import (
    RESET_TOKEN_SECONDS,
    User,
    create_user,
    reset_token,
    set_password,
    user_by_email,
    user_for_reset_token,
)
from locallibrary.accounts.resets import SALT
from locallibrary.database import Database
from tests.accounts.hashers import cheap
from tests.db import with_database

FAST = cheap()
SECRET = "test-secret"
NOW = 1_800_000_000.0


async def make(database: Database, email: str = "ann@example.org") -> User:
    return await create_user(database, email, "Ann", "correct horse", hasher=FAST)


async def token_for(database: Database, user: User, now: float = NOW) -> str:
    token = await reset_token(database, SECRET, user.id, now=now)
    assert token is not None
    return token


def test_a_token_finds_its_user_until_the_password_is_set(empty_database_url: str) -> None:
    async def scenario(database: Database) -> list[User | None]:
        user = await make(database)
        token = await token_for(database, user)
        found = await user_for_reset_token(database, SECRET, token, now=NOW + 60)
        assert found == user
        await set_password(database, user.id, "a new password", hasher=FAST)
        return [found, await user_for_reset_token(database, SECRET, token, now=NOW + 61)]

    found, after_use = with_database(empty_database_url, scenario)
    assert found is not None and after_use is None


def test_a_token_is_void_once_the_password_changes_whoever_changed_it(
    empty_database_url: str,
) -> None:
    async def scenario(database: Database) -> list[User | None]:
        user = await make(database)
        first = await token_for(database, user)
        second = await token_for(database, user, now=NOW + 1)
        await set_password(database, user.id, "correct horse", hasher=FAST)  # even the same one
        return [
            await user_for_reset_token(database, SECRET, first, now=NOW + 2),
            await user_for_reset_token(database, SECRET, second, now=NOW + 2),
        ]

    assert with_database(empty_database_url, scenario) == [None, None]


@pytest.mark.parametrize(
    ("age", "valid"),
    [(0, True), (RESET_TOKEN_SECONDS - 1, True), (RESET_TOKEN_SECONDS + 1, False), (-60, False)],
    ids=["new", "nearly-an-hour", "over-an-hour", "from-the-future"],
)
def test_a_token_is_valid_for_an_hour(empty_database_url: str, age: int, valid: bool) -> None:
    async def scenario(database: Database) -> tuple[User, User | None]:
        user = await make(database)
        token = await token_for(database, user)
        return user, await user_for_reset_token(database, SECRET, token, now=NOW + age)

    user, found = with_database(empty_database_url, scenario)
    assert found == (user if valid else None)


def test_a_token_without_a_time_uses_the_clock(empty_database_url: str) -> None:
    async def scenario(database: Database) -> tuple[User, User | None, User | None]:
        user = await make(database)
        token = await reset_token(database, SECRET, user.id)
        assert token is not None
        return (
            user,
            await user_for_reset_token(database, SECRET, token),
            await user_for_reset_token(database, SECRET, token, now=NOW + 10 * 365 * 86400),
        )

    user, now, years_later = with_database(empty_database_url, scenario)
    assert (now, years_later) == (user, None)


def test_a_token_for_one_user_never_works_for_another(empty_database_url: str) -> None:
    async def scenario(database: Database) -> list[User | None]:
        ann = await make(database, "ann@example.org")
        bob = await make(database, "bob@example.org")
        ann_token = await token_for(database, ann)
        # Ann's fingerprint under Bob's id, signed properly: still not Bob's token.
        [_, ann_fingerprint] = URLSafeTimedSerializer(SECRET, salt=SALT).loads(ann_token)
        forged = URLSafeTimedSerializer(SECRET, salt=SALT).dumps([bob.id, ann_fingerprint])
        return [
            await user_for_reset_token(database, SECRET, ann_token, now=NOW),
            await user_for_reset_token(database, SECRET, forged),
        ]

    ann, forged = with_database(empty_database_url, scenario)
    assert ann is not None and ann.email == "ann@example.org"
    assert forged is None


def test_a_tampered_token_or_another_secret_finds_nobody(empty_database_url: str) -> None:
    async def scenario(database: Database) -> list[User | None]:
        user = await make(database)
        token = await token_for(database, user)
        # A character in the signature's middle: the last one carries padding bits as well.
        middle = len(token) - 10
        flipped = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
        payload, signature = token.split(".", 1)
        other_payload = URLSafeTimedSerializer(SECRET, salt=SALT).dumps([user.id + 1, "x"])
        return [
            await user_for_reset_token(database, SECRET, flipped, now=NOW),
            await user_for_reset_token(
                database, SECRET, other_payload.split(".", 1)[0] + "." + signature, now=NOW
            ),
            await user_for_reset_token(database, "another secret", token, now=NOW),
            await user_for_reset_token(database, SECRET, payload, now=NOW),
        ]

    assert with_database(empty_database_url, scenario) == [None] * 4


def test_no_token_for_nobody(empty_database_url: str) -> None:
    async def scenario(database: Database) -> str | None:
        return await reset_token(database, SECRET, 1, now=NOW)

    assert with_database(empty_database_url, scenario) is None


def test_a_signed_payload_of_another_shape_finds_nobody(empty_database_url: str) -> None:
    async def scenario(database: Database) -> list[User | None]:
        await make(database)
        signer = URLSafeTimedSerializer(SECRET, salt=SALT)
        return [
            await user_for_reset_token(database, SECRET, signer.dumps(payload))
            for payload in [1, [1], ["1", "x"], [1, 2], {"id": 1}, [2**70, "x"], None]
        ]

    assert with_database(empty_database_url, scenario) == [None] * 7


@hypothesis.settings(
    max_examples=100, suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture]
)
@hypothesis.given(
    token=st.text()
    | st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    | st.text(max_size=400).map(lambda text: text + "." * 2)
)
def test_garbage_tokens_find_nobody(empty_database_url: str, token: str) -> None:
    async def scenario(database: Database) -> User | None:
        if await user_by_email(database, "ann@example.org") is None:
            await make(database)  # a user whose token it could be, in the first example
        return await user_for_reset_token(database, SECRET, token, now=NOW)

    assert with_database(empty_database_url, scenario) is None
