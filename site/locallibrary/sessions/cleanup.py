"""Removing expired rows in the background at an interval: sessions, or anything else that
knows how to clear its expired rows (the site's sign-in throttle does the same with it)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol

logger = logging.getLogger("locallibrary.sessions")


class Expiring(Protocol):
    async def clear_expired(self) -> int:
        """Remove every expired row; return how many were removed."""
        ...


async def clear_expired_forever(store: Expiring, interval: float, what: str) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            removed = await store.clear_expired()
        except Exception:  # a failed round is logged and retried at the next interval
            logger.exception("clearing expired %s failed", what)
            continue
        if removed:
            logger.info("removed %d expired %s", removed, what)


@asynccontextmanager
async def periodic_cleanup(
    store: Expiring, interval: float, what: str = "sessions"
) -> AsyncIterator[None]:
    """While the block runs, remove `store`'s expired rows every `interval` seconds (0: never);
    the log names them as `what`."""
    if interval <= 0:
        yield
        return
    task = asyncio.create_task(clear_expired_forever(store, interval, what))
    try:
        yield
    finally:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
