"""The sign-in throttle: how many failed sign-ins a client may make before it must wait.

Two counters are kept per failure, in the database so that every worker shares them: one per
client address (50 failures in 15 minutes: a guesser trying many accounts) and one per pair of
account and address (5: a guesser trying one account). The account's counter is per address on
purpose: failures from elsewhere never lock the owner out, so nobody can lock a known user out by
failing on purpose. Each counter has a fixed window that opens with its first failure.

No email and no address is stored as such: a bucket is named by a SHA-256 of them.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

from locallibrary.accounts.emails import email_key
from locallibrary.database import Database

# One statement for both counters, so that they count together; each is counted in the
# database (`failures + 1`), so that concurrent failures are never lost. A counter whose window
# has passed starts again at 1.
FAILED = """
    INSERT INTO sign_in_failures (bucket, failures, window_started_at)
    VALUES (:address, 1, :now), (:account, 1, :now)
    ON CONFLICT (bucket) DO UPDATE SET
        failures = CASE WHEN sign_in_failures.window_started_at <= :expired THEN 1
                   ELSE sign_in_failures.failures + 1 END,
        window_started_at = CASE WHEN sign_in_failures.window_started_at <= :expired THEN :now
                            ELSE sign_in_failures.window_started_at END
"""
COUNTS = """
    SELECT bucket, failures, window_started_at FROM sign_in_failures
    WHERE bucket IN (:address, :account)
"""
# The read made on the event loop, whose plan tests/database/test_plans.py checks.
BOUNDED_READS: dict[str, tuple[str, dict[str, Any]]] = {
    "sign-in failures": (COUNTS, {"address": "address:x", "account": "account:x"}),
}
SUCCEEDED = "DELETE FROM sign_in_failures WHERE bucket = :account"
DELETE_EXPIRED = "DELETE FROM sign_in_failures WHERE window_started_at <= :expired RETURNING bucket"


def _digest(text: str) -> str:
    # surrogatepass: whatever string a client sent still names one bucket.
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def address_bucket(address: str) -> str:
    return "address:" + _digest(address)


def account_bucket(email: str, address: str) -> str:
    # An email that no account can have is still counted, under its case-folded spelling.
    key = email_key(email) or email.casefold()
    return "account:" + _digest(key + "\0" + address)


class SignInThrottle:
    def __init__(
        self,
        database: Database,
        clock: Callable[[], float] = time.time,
        window: int = 900,
        per_address: int = 50,
        per_account_address: int = 5,
    ) -> None:
        self.database = database
        self.clock = clock
        self.window = window
        self.limits = {"address": per_address, "account": per_account_address}

    def _buckets(self, email: str, address: str) -> dict[str, str]:
        return {"address": address_bucket(address), "account": account_bucket(email, address)}

    async def retry_after(self, email: str, address: str) -> int | None:
        """Seconds until this client may try this email again (for `Retry-After`), or None if it
        may now."""
        buckets = self._buckets(email, address)
        limit_of = {bucket: self.limits[kind] for kind, bucket in buckets.items()}
        now = int(self.clock())
        waits = [
            row["window_started_at"] + self.window - now
            for row in await self.database.fetch_all(COUNTS, buckets)
            if row["failures"] >= limit_of[row["bucket"]]
            and row["window_started_at"] + self.window > now
        ]
        return max(waits, default=None)

    async def failed(self, email: str, address: str) -> None:
        now = int(self.clock())
        await self.database.execute(
            FAILED, {**self._buckets(email, address), "now": now, "expired": now - self.window}
        )

    async def succeeded(self, email: str, address: str) -> None:
        """Forget this pair's failures (the address's count stands: it spans accounts)."""
        await self.database.execute(SUCCEEDED, {"account": account_bucket(email, address)})

    async def clear_expired(self) -> int:
        """Delete the counters whose window has passed; return how many went."""
        async with self.database.transaction(write=True) as queries:
            removed = await queries.fetch_all(
                DELETE_EXPIRED, {"expired": int(self.clock()) - self.window}
            )
        return len(removed)
