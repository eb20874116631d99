"""The sign-in throttle on both databases, its time from a clock the test moves."""

from __future__ import annotations

import asyncio

import hypothesis
from hypothesis import strategies as st

from locallibrary.accounts import SignInThrottle
from locallibrary.accounts.throttle import account_bucket, address_bucket
from locallibrary.database import Database
from tests.clock import FakeClock
from tests.db import sql, with_database

ANN = "ann@example.org"
HERE = "203.0.113.7"
THERE = "198.51.100.9"


async def attempt(throttle: SignInThrottle, email: str, address: str) -> bool:
    """One wrong password, unless the throttle refuses the attempt first: whether it was made."""
    if await throttle.retry_after(email, address) is not None:
        return False
    await throttle.failed(email, address)
    return True


def test_one_account_from_one_address_is_refused_after_five_failures(
    empty_database_url: str,
) -> None:
    async def scenario(database: Database) -> list[bool]:
        throttle = SignInThrottle(database, clock=FakeClock())
        return [await attempt(throttle, ANN, HERE) for _ in range(20)]

    assert with_database(empty_database_url, scenario) == [True] * 5 + [False] * 15


def test_the_account_from_elsewhere_and_others_from_here_are_still_allowed(
    empty_database_url: str,
) -> None:
    async def scenario(database: Database) -> list[int | None]:
        throttle = SignInThrottle(database, clock=FakeClock())
        for _ in range(20):
            await attempt(throttle, ANN, HERE)
        return [
            await throttle.retry_after(ANN, HERE),
            await throttle.retry_after("ANN@Example.org", HERE),
            await throttle.retry_after(ANN, THERE),
            await throttle.retry_after("bob@example.org", HERE),
        ]

    refused, other_case, elsewhere, other_account = with_database(empty_database_url, scenario)
    assert refused == 900 and other_case == 900
    assert (elsewhere, other_account) == (None, None)


def test_an_address_is_refused_after_fifty_failures_on_any_accounts(
    empty_database_url: str,
) -> None:
    async def scenario(database: Database) -> tuple[list[bool], int | None, int | None]:
        throttle = SignInThrottle(database, clock=FakeClock())
        made = [await attempt(throttle, f"user{n}@example.org", HERE) for n in range(60)]
        return (
            made,
            await throttle.retry_after("new@example.org", HERE),
            await throttle.retry_after("new@example.org", THERE),
        )

    made, here, there = with_database(empty_database_url, scenario)
    assert made == [True] * 50 + [False] * 10
    assert here == 900 and there is None


def test_retry_after_counts_down_and_the_window_expires(empty_database_url: str) -> None:
    async def scenario(database: Database) -> list[int | None]:
        clock = FakeClock()
        throttle = SignInThrottle(database, clock=clock)
        waits = []
        for _ in range(5):
            await throttle.failed(ANN, HERE)
            clock.now += 10
        waits.append(await throttle.retry_after(ANN, HERE))  # 50 s after the first failure
        clock.now += 849
        waits.append(await throttle.retry_after(ANN, HERE))
        clock.now += 1
        waits.append(await throttle.retry_after(ANN, HERE))
        return waits

    assert with_database(empty_database_url, scenario) == [850, 1, None]


def test_a_failure_after_the_window_starts_a_new_one(empty_database_url: str) -> None:
    async def scenario(database: Database) -> list[bool]:
        clock = FakeClock()
        throttle = SignInThrottle(database, clock=clock)
        for _ in range(5):
            await throttle.failed(ANN, HERE)
        clock.now += 900
        return [await attempt(throttle, ANN, HERE) for _ in range(7)]

    assert with_database(empty_database_url, scenario) == [True] * 5 + [False] * 2
    counts = dict(sql(empty_database_url, "SELECT bucket, failures FROM sign_in_failures"))
    assert counts == {address_bucket(HERE): 5, account_bucket(ANN, HERE): 5}


def test_fifty_concurrent_failures_count_fifty(empty_database_url: str) -> None:
    async def scenario(database: Database) -> None:
        throttle = SignInThrottle(database, clock=FakeClock(), per_address=1000)
        await asyncio.gather(*(throttle.failed(ANN, HERE) for _ in range(50)))

    with_database(empty_database_url, scenario)
    counts = dict(sql(empty_database_url, "SELECT bucket, failures FROM sign_in_failures"))
    assert counts == {address_bucket(HERE): 50, account_bucket(ANN, HERE): 50}


def test_a_success_clears_that_pair_only(empty_database_url: str) -> None:
    async def scenario(database: Database) -> list[int | None]:
        throttle = SignInThrottle(database, clock=FakeClock(), per_address=6)
        for _ in range(5):
            await throttle.failed(ANN, HERE)
            await throttle.failed(ANN, THERE)
        await throttle.succeeded(ANN, HERE)
        before = await throttle.retry_after(ANN, HERE)
        await throttle.failed(ANN, HERE)
        return [
            before,
            await throttle.retry_after(ANN, THERE),
            await throttle.retry_after(ANN, HERE),
        ]

    assert with_database(empty_database_url, scenario) == [None, 900, 900]
    counts = dict(sql(empty_database_url, "SELECT bucket, failures FROM sign_in_failures"))
    assert counts[account_bucket(ANN, HERE)] == 1
    assert counts[address_bucket(HERE)] == 6, "the address's count spans accounts: it stands"


def test_clear_expired_deletes_only_passed_windows(empty_database_url: str) -> None:
    async def scenario(database: Database) -> list[int]:
        clock = FakeClock()
        throttle = SignInThrottle(database, clock=clock)
        await throttle.failed(ANN, HERE)
        clock.now += 600
        await throttle.failed(ANN, THERE)
        clock.now += 299
        kept_all = await throttle.clear_expired()
        clock.now += 1
        return [kept_all, await throttle.clear_expired(), await throttle.clear_expired()]

    assert with_database(empty_database_url, scenario) == [0, 2, 0]
    buckets = {
        bucket for (bucket,) in sql(empty_database_url, "SELECT bucket FROM sign_in_failures")
    }
    assert buckets == {address_bucket(THERE), account_bucket(ANN, THERE)}


def test_no_email_or_address_is_stored(empty_database_url: str) -> None:
    async def scenario(database: Database) -> None:
        await SignInThrottle(database).failed(ANN, HERE)

    with_database(empty_database_url, scenario)
    stored = " ".join(
        bucket for (bucket,) in sql(empty_database_url, "SELECT bucket FROM sign_in_failures")
    )
    assert "ann" not in stored and "203.0" not in stored


@hypothesis.settings(
    max_examples=50, suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture]
)
@hypothesis.given(email=st.text(), address=st.text())
def test_any_email_and_address_are_counted(
    empty_database_url: str, email: str, address: str
) -> None:
    async def scenario(database: Database) -> int | None:
        throttle = SignInThrottle(database, clock=FakeClock(), per_account_address=1)
        await throttle.succeeded(email, address)  # from an earlier example's pair
        await throttle.failed(email, address)
        return await throttle.retry_after(email, address)

    assert with_database(empty_database_url, scenario) == 900
