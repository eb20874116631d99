"""Accounts on both databases: creating them, finding them, signing in, changing passwords."""

from __future__ import annotations

import asyncio
import time

import argon2
import hypothesis
import pytest
from hypothesis import strategies as st

from locallibrary.accounts import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    AccountError,
    EmailTaken,
    Role,
    User,
    authenticate,
    check_password,
    create_user,
    set_password,
    user_by_email,
    user_by_id,
)
from locallibrary.accounts.passwords import dummy_hash, hasher_parameters
from locallibrary.database import Database
from tests.accounts.hashers import CountingHasher, cheap
from tests.db import sql, with_database

FAST = cheap()
PASSWORD = "correct horse"


async def make(database: Database, email: str = "ann@example.org", name: str = "Ann") -> User:
    return await create_user(database, email, name, PASSWORD, hasher=FAST)


def test_a_new_user_is_stored_as_given(empty_database_url: str) -> None:
    async def scenario(database: Database) -> User:
        return await create_user(
            database, "Ann.Smith@Example.ORG", "  Ann Smith ", PASSWORD, Role.LIBRARIAN, hasher=FAST
        )

    before = int(time.time())
    user = with_database(empty_database_url, scenario)
    assert (user.email, user.name, user.role, user.last_login_at) == (
        "Ann.Smith@example.org",
        "Ann Smith",
        Role.LIBRARIAN,
        None,
    )
    assert before <= user.created_at <= time.time()
    assert user.is_librarian
    [(email, key, password_hash)] = sql(
        empty_database_url, "SELECT email, email_key, password_hash FROM users"
    )
    assert (email, key) == ("Ann.Smith@example.org", "ann.smith@example.org")
    assert password_hash.startswith("$argon2id$") and PASSWORD not in password_hash


def test_a_patron_is_not_a_librarian(empty_database_url: str) -> None:
    user = with_database(empty_database_url, make)
    assert user.role is Role.PATRON and not user.is_librarian


@pytest.mark.parametrize(
    ("email", "name", "password", "message"),
    [
        ("not an email", "Ann", PASSWORD, "That is not an email address"),
        ("ann@localhost", "Ann", PASSWORD, "That is not an email address"),
        ("", "Ann", PASSWORD, "That is not an email address"),
        ("ann@example.org", "", PASSWORD, "The name must not be empty."),
        ("ann@example.org", "   ", PASSWORD, "The name must not be empty."),
        ("ann@example.org", "A" * 101, PASSWORD, "The name must have at most 100 characters."),
        ("ann@example.org", "Ann\0", PASSWORD, "The name must not hold control characters."),
        ("ann@example.org", "Ann", "x" * (MIN_PASSWORD_LENGTH - 1), "at least 8 characters"),
        ("ann@example.org", "Ann", "x" * (MAX_PASSWORD_LENGTH + 1), "at most 1024 characters"),
        ("ann@example.org", "Ann", "\udcff" * 10, "unreadable character"),
    ],
)
def test_bad_input_is_an_account_error_and_stores_nothing(
    empty_database_url: str, email: str, name: str, password: str, message: str
) -> None:
    async def scenario(database: Database) -> None:
        await create_user(database, email, name, password, hasher=FAST)

    with pytest.raises(AccountError, match=message) as raised:
        with_database(empty_database_url, scenario)
    assert len(str(raised.value).splitlines()) == 1
    assert sql(empty_database_url, "SELECT count(*) FROM users") == [(0,)]


def test_the_longest_name_and_password_are_allowed(empty_database_url: str) -> None:
    async def scenario(database: Database) -> User:
        return await create_user(
            database, "ann@example.org", "A" * 100, "p" * MAX_PASSWORD_LENGTH, hasher=FAST
        )

    assert with_database(empty_database_url, scenario).name == "A" * 100


def test_an_email_taken_in_another_case_is_refused(empty_database_url: str) -> None:
    async def scenario(database: Database) -> None:
        await make(database, "ann@x.org")
        await make(database, "ANN@X.ORG")

    with pytest.raises(EmailTaken, match="exists already"):
        with_database(empty_database_url, scenario)
    assert sql(empty_database_url, "SELECT email FROM users") == [("ann@x.org",)]


def test_one_domain_in_two_spellings_is_one_account(empty_database_url: str) -> None:
    async def scenario(database: Database) -> None:
        await make(database, "ann@straße.de")
        await make(database, "ANN@xn--strae-oqa.de")

    with pytest.raises(EmailTaken):
        with_database(empty_database_url, scenario)


def test_two_domains_that_case_folding_would_merge_are_two_accounts(
    empty_database_url: str,
) -> None:
    async def scenario(database: Database) -> list[User]:
        return [await make(database, "ann@straße.de"), await make(database, "ann@strasse.de")]

    first, second = with_database(empty_database_url, scenario)
    assert first.id != second.id


def test_of_two_concurrent_creations_of_one_email_exactly_one_succeeds(
    empty_database_url: str,
) -> None:
    async def scenario(database: Database) -> list[User | BaseException]:
        return await asyncio.gather(
            *(make(database, email) for email in ["ann@x.org", "ANN@X.ORG", "Ann@x.org"] * 3),
            return_exceptions=True,
        )

    outcomes = with_database(empty_database_url, scenario)
    assert sum(isinstance(outcome, User) for outcome in outcomes) == 1
    losers = [outcome for outcome in outcomes if not isinstance(outcome, User)]
    assert len(losers) == 8 and all(type(loser) is EmailTaken for loser in losers)
    assert sql(empty_database_url, "SELECT count(*) FROM users") == [(1,)]


def test_users_are_found_by_id_and_by_email_in_any_case(empty_database_url: str) -> None:
    async def scenario(database: Database) -> list[User | None]:
        user = await make(database, "Ann@Example.org")
        return [
            user,
            await user_by_id(database, user.id),
            await user_by_email(database, "ann@EXAMPLE.org"),
            await user_by_email(database, "ANN@example.org"),
        ]

    user, *found = with_database(empty_database_url, scenario)
    assert found == [user, user, user]


@hypothesis.settings(
    max_examples=50, suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture]
)
@hypothesis.given(user_id=st.integers(), email=st.text())
def test_unknown_ids_and_emails_find_nobody(
    empty_database_url: str, user_id: int, email: str
) -> None:
    async def scenario(database: Database) -> tuple[User | None, User | None]:
        return await user_by_id(database, user_id), await user_by_email(database, email)

    assert with_database(empty_database_url, scenario) == (None, None)


def test_the_right_password_signs_in_and_records_when(empty_database_url: str) -> None:
    async def scenario(database: Database) -> tuple[User | None, User | None]:
        await make(database, "ann@example.org")
        signed_in = await authenticate(database, "ANN@example.org", PASSWORD, hasher=FAST)
        assert signed_in is not None
        return signed_in, await user_by_id(database, signed_in.id)

    before = int(time.time())
    signed_in, stored = with_database(empty_database_url, scenario)
    assert signed_in is not None and signed_in.last_login_at is not None
    assert before <= signed_in.last_login_at <= time.time()
    assert stored == signed_in


def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(
    empty_database_url: str,
) -> None:
    async def scenario(database: Database) -> list[User | None]:
        await make(database, "ann@example.org")
        return [
            await authenticate(database, "ann@example.org", "wrong password", hasher=FAST),
            await authenticate(database, "bob@example.org", PASSWORD, hasher=FAST),
            await authenticate(database, "not an email", PASSWORD, hasher=FAST),
            await authenticate(database, "ann@example.org", "", hasher=FAST),
            await authenticate(database, "ann@example.org", "p" * 10_000, hasher=FAST),
        ]

    assert with_database(empty_database_url, scenario) == [None] * 5
    assert sql(empty_database_url, "SELECT last_login_at FROM users") == [(None,)]


def test_an_unknown_email_costs_one_verification_as_a_known_one_does(
    empty_database_url: str,
) -> None:
    counting = CountingHasher()

    async def verifications(database: Database, email: str, password: str) -> int:
        before = counting.verifications
        await authenticate(database, email, password, hasher=counting)
        return counting.verifications - before

    async def scenario(database: Database) -> list[int]:
        await create_user(database, "ann@example.org", "Ann", PASSWORD, hasher=counting)
        return [
            await verifications(database, "ann@example.org", PASSWORD),
            await verifications(database, "ann@example.org", "wrong password"),
            await verifications(database, "bob@example.org", PASSWORD),
            await verifications(database, "not an email", PASSWORD),
        ]

    assert with_database(empty_database_url, scenario) == [1, 1, 1, 1]


@pytest.mark.parametrize("hasher", [argon2.PasswordHasher(), cheap(), cheap(time_cost=2)])
def test_the_dummy_hash_has_the_hashers_current_parameters(hasher: argon2.PasswordHasher) -> None:
    dummy = asyncio.run(dummy_hash(hasher))
    assert argon2.extract_parameters(dummy) == hasher_parameters(hasher)
    assert not hasher.check_needs_rehash(dummy)


def test_a_sign_in_rehashes_a_password_hashed_with_other_parameters(
    empty_database_url: str,
) -> None:
    stronger = cheap(time_cost=2)

    def stored_hash() -> str:
        [(password_hash,)] = sql(empty_database_url, "SELECT password_hash FROM users")
        return str(password_hash)

    with_database(empty_database_url, make)
    old = stored_hash()
    assert argon2.extract_parameters(old).time_cost == 1

    async def sign_in(database: Database) -> User | None:
        return await authenticate(database, "ann@example.org", PASSWORD, hasher=stronger)

    assert with_database(empty_database_url, sign_in) is not None
    new = stored_hash()
    assert argon2.extract_parameters(new) == hasher_parameters(stronger)
    assert with_database(empty_database_url, sign_in) is not None, "the new hash works"
    assert stored_hash() == new, "a hash with current parameters is kept"


def test_a_sign_in_with_current_parameters_keeps_the_hash(empty_database_url: str) -> None:
    with_database(empty_database_url, make)
    before = sql(empty_database_url, "SELECT password_hash FROM users")

    async def sign_in(database: Database) -> User | None:
        return await authenticate(database, "ann@example.org", PASSWORD, hasher=FAST)

    assert with_database(empty_database_url, sign_in) is not None
    assert sql(empty_database_url, "SELECT password_hash FROM users") == before


def test_check_password_and_set_password(empty_database_url: str) -> None:
    async def scenario(database: Database) -> list[bool | User | None]:
        user = await make(database)
        results: list[bool | User | None] = [
            await check_password(database, user.id, PASSWORD, hasher=FAST),
            await check_password(database, user.id, "wrong password", hasher=FAST),
        ]
        await set_password(database, user.id, "a new password", hasher=FAST)
        return [
            *results,
            await check_password(database, user.id, PASSWORD, hasher=FAST),
            await check_password(database, user.id, "a new password", hasher=FAST),
            await authenticate(database, user.email, PASSWORD, hasher=FAST),
            await check_password(database, user.id + 1, PASSWORD, hasher=FAST),
        ]

    assert with_database(empty_database_url, scenario) == [True, False, False, True, None, False]


@pytest.mark.parametrize(
    ("password", "message"),
    [("short", "at least 8 characters"), ("x" * 1025, "at most 1024 characters")],
)
def test_set_password_keeps_the_rules(empty_database_url: str, password: str, message: str) -> None:
    async def scenario(database: Database) -> None:
        user = await make(database)
        await set_password(database, user.id, password, hasher=FAST)

    with pytest.raises(AccountError, match=message):
        with_database(empty_database_url, scenario)


@pytest.mark.parametrize("user_id", [0, 2, 2**31, -(2**63)])
def test_set_password_of_nobody_is_an_account_error(empty_database_url: str, user_id: int) -> None:
    async def scenario(database: Database) -> None:
        await make(database)
        await set_password(database, user_id, "a new password", hasher=FAST)

    with pytest.raises(AccountError, match="There is no such account."):
        with_database(empty_database_url, scenario)


@hypothesis.settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture],
)
@hypothesis.given(
    email=st.emails() | st.text(max_size=300),
    name=st.text(max_size=120),
    password=st.text(max_size=1100),
)
def test_any_input_makes_a_user_or_an_account_error(
    empty_database_url: str, email: str, name: str, password: str
) -> None:
    async def scenario(database: Database) -> User | AccountError:
        try:
            return await create_user(database, email, name, password, hasher=FAST)
        except AccountError as error:
            return error

    before = sql(empty_database_url, "SELECT count(*) FROM users")[0][0]
    outcome = with_database(empty_database_url, scenario)
    after = sql(empty_database_url, "SELECT count(*) FROM users")[0][0]
    if isinstance(outcome, User):
        assert after == before + 1
    else:
        assert len(str(outcome).splitlines()) == 1
        assert after == before
