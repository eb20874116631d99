"""A clock the test moves by hand (`clock.now += 60`), passed where the code takes `clock=`."""

from __future__ import annotations


class FakeClock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
