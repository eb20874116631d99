"""Password hashers for the tests: cheap ones, and one that counts what it checks."""

from __future__ import annotations

from argon2 import PasswordHasher


def cheap(time_cost: int = 1) -> PasswordHasher:
    # The smallest Argon2id the library allows: a test hashes in microseconds, not a tenth of a
    # second, and gets the same code path as the site's own hasher.
    return PasswordHasher(time_cost=time_cost, memory_cost=8, parallelism=1)


class CountingHasher(PasswordHasher):
    """A real hasher that counts its verifications."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.verifications = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verifications += 1
        return super().verify(hash, password)
