"""Concurrent HTTP load for the guarantee tests: bounded in requests and time, loopback only."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import TypeVar

import httpx2 as httpx

T = TypeVar("T")
VISITS = re.compile(r"You have visited this page (\d+) times?\.")


def visits_in(markup: str) -> int:
    match = VISITS.search(markup)
    assert match, f"no visit counter on the page: {markup[:2000]}"
    return int(match.group(1))


def run_concurrently(count: int, call: Callable[[int], Awaitable[T]]) -> list[T]:
    """Run `call(0) … call(count - 1)` at the same time; return their results in order."""

    async def run() -> list[T]:
        return list(await asyncio.gather(*(call(i) for i in range(count))))

    return asyncio.run(run())


def client(
    base_url: str, cookies: httpx.Cookies | None = None, connections: int = 100
) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url,
        cookies=cookies,
        timeout=30.0,
        limits=httpx.Limits(max_connections=connections),
        verify=False,  # plain HTTP on loopback; building a TLS context costs ~40 ms per client
    )


def stored_session_cookies(base_url: str) -> httpx.Cookies:
    """A browser's cookies after two visits: its session is then in the store."""
    with httpx.Client(base_url=base_url, verify=False) as browser:
        browser.get("/catalog/")
        browser.get("/catalog/")
        return browser.cookies
