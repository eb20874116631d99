"""Removing expired sessions: on demand, and in the background at an interval."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from locallibrary.sessions.stores.base import SessionStore

logger = logging.getLogger("locallibrary.sessions")


async def clear_expired_forever(store: SessionStore, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        try:
            removed = await store.clear_expired()
        except Exception:  # a failed round is logged and retried at the next interval
            logger.exception("clearing expired sessions failed")
            continue
        if removed:
            logger.info("removed %d expired sessions", removed)


@asynccontextmanager
async def periodic_cleanup(store: SessionStore, interval: float) -> AsyncIterator[None]:
    """While the block runs, remove expired sessions every `interval` seconds (0: never)."""
    if interval <= 0:
        yield
        return
    task = asyncio.create_task(clear_expired_forever(store, interval))
    try:
        yield
    finally:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
