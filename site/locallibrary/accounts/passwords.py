"""Passwords: the rules a new one must meet, and Argon2id hashing and checking off the event loop.

Hashing or checking a password takes tens of milliseconds of CPU by design. argon2-cffi releases
the GIL while it works, so each runs on a worker thread (`asyncio.to_thread`) and the event loop
goes on serving other requests meanwhile.
"""

from __future__ import annotations

import asyncio
import dataclasses
import secrets

from argon2 import Parameters, PasswordHasher
from argon2.exceptions import VerifyMismatchError
from argon2.low_level import ARGON2_VERSION

from locallibrary.accounts.errors import AccountError

MIN_PASSWORD_LENGTH = 8
# Argon2 costs about the same for any length, but a password is read, encoded and pre-hashed
# first: without a cap, megabytes of "password" would be a cheap way to make us work.
MAX_PASSWORD_LENGTH = 1024

# argon2-cffi's defaults are RFC 9106's recommended profile for machines short of memory.
HASHER = PasswordHasher()


def _unhashable(password: str) -> str | None:
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"The password must have at most {MAX_PASSWORD_LENGTH} characters."
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:  # an unpaired surrogate, from a badly decoded argument
        return "The password holds an unreadable character."
    return None


def check_new_password(password: str) -> None:
    """Raise AccountError, saying why, unless `password` may become someone's password."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    problem = _unhashable(password)
    if problem is not None:
        raise AccountError(problem)


def is_checkable(password: str) -> bool:
    """Whether `password` could be anyone's: one that could not is refused without hashing."""
    return _unhashable(password) is None


async def hash_password(password: str, hasher: PasswordHasher = HASHER) -> str:
    return await asyncio.to_thread(hasher.hash, password)


async def verify_password(
    password_hash: str, password: str, hasher: PasswordHasher = HASHER
) -> bool:
    try:
        return await asyncio.to_thread(hasher.verify, password_hash, password)
    except VerifyMismatchError:
        return False


def hasher_parameters(hasher: PasswordHasher) -> Parameters:
    """The parameters `hasher` hashes with, as `argon2.extract_parameters` reads them from a hash."""
    return Parameters(
        type=hasher.type,
        version=ARGON2_VERSION,
        salt_len=hasher.salt_len,
        hash_len=hasher.hash_len,
        time_cost=hasher.time_cost,
        memory_cost=hasher.memory_cost,
        parallelism=hasher.parallelism,
    )


# By the parameters as a tuple (`Parameters` compares by value but is not hashable).
_dummy_hashes: dict[tuple[object, ...], str] = {}


async def dummy_hash(hasher: PasswordHasher = HASHER) -> str:
    """A hash of a random password nobody knows, made with `hasher`'s parameters (once each)."""
    parameters = dataclasses.astuple(hasher_parameters(hasher))
    if parameters not in _dummy_hashes:
        _dummy_hashes[parameters] = await hash_password(secrets.token_urlsafe(), hasher)
    return _dummy_hashes[parameters]


async def verify_against_nobody(password: str, hasher: PasswordHasher = HASHER) -> None:
    """Check `password` as if for an account, when there is none: the same work as for a real
    one, so that how long a sign-in takes does not tell an unknown email from a wrong password."""
    await verify_password(await dummy_hash(hasher), password, hasher)
