"""Passwords: hashed and checked on worker threads, never on the event loop; the length rules."""

from __future__ import annotations

import threading

import hypothesis
import pytest
from argon2 import PasswordHasher
from hypothesis import strategies as st

from locallibrary.accounts import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    AccountError,
    authenticate,
    check_password,
    create_user,
    set_password,
)
from locallibrary.accounts.passwords import check_new_password
from locallibrary.database import Database
from tests.db import with_database


class ThreadNotingHasher(PasswordHasher):
    """A real (cheap) hasher that notes which thread each hash and verification ran on."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.threads: list[int] = []

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        self.threads.append(threading.get_ident())
        return super().hash(password, salt=salt)

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.threads.append(threading.get_ident())
        return super().verify(hash, password)


def test_hashing_and_checking_run_off_the_event_loop(empty_database_url: str) -> None:
    hasher = ThreadNotingHasher()

    async def scenario(database: Database) -> int:
        user = await create_user(database, "ann@example.org", "Ann", "correct horse", hasher=hasher)
        await authenticate(database, "ann@example.org", "correct horse", hasher=hasher)
        await authenticate(database, "ann@example.org", "wrong password", hasher=hasher)
        await authenticate(database, "bob@example.org", "correct horse", hasher=hasher)
        await check_password(database, user.id, "correct horse", hasher=hasher)
        await set_password(database, user.id, "a new password", hasher=hasher)
        return threading.get_ident()  # the event loop's thread

    loop_thread = with_database(empty_database_url, scenario)
    assert len(hasher.threads) >= 6  # and the dummy hash, unless an earlier test made it
    assert loop_thread not in hasher.threads


@pytest.mark.parametrize("length", [MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH])
def test_the_shortest_and_longest_passwords_are_allowed(length: int) -> None:
    check_new_password("p" * length)


@hypothesis.given(password=st.text())
def test_a_password_is_allowed_exactly_when_its_length_is_within_the_rules(password: str) -> None:
    within = MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH
    try:
        check_new_password(password)
    except AccountError as error:
        assert not within
        assert len(str(error).splitlines()) == 1
    else:
        assert within
