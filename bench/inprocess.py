"""Time one page through the ASGI app in this process, with the CPU's caches warm and cold.

    .venv/bin/python bench/inprocess.py ROW [--requests 5000] [--rounds 5]

ROW is one of bench/profile.py's: home-returning, home-first, poll, list, list-deep, detail.

Under load a request never finds the CPU's caches warm: between two requests of a connection
the server parses HTTP, the kernel moves bytes over loopback and 31 other connections run. So
a change that speeds up a warm, tight loop may do nothing in the server, and one that touches
less code and fewer objects may do more. This calls the app (no HTTP, no server) for ROW on a
fresh copy of the demo catalog, and for the bare ceiling app, in two ways: warm, one request
after another; and cold, with an 8 MB copy between requests (not timed) that evicts the CPU's
caches first. It prints the median of --rounds rounds of each. Under wrk, the server spends
about the cold figure per request inside the app (timed there by wrapping the app).
Rows that write the session also wait for the writer thread, which a sequential loop cannot
hide: use them for comparisons, and wrk (bench/run.py) for throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import uvloop

from locallibrary.settings import Settings
from locallibrary.web.app import create_app

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import ceiling  # noqa: E402  (bench/ceiling.py)
import run as bench  # noqa: E402  (bench/run.py)

ROWS = ("home-returning", "home-first", "poll", "list", "list-deep", "detail")
EVICTION = bytearray(8 << 20)  # larger than this machine's L2 cache (4 MB per core)

App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]


async def call(app: App, path: str, headers: Headers) -> tuple[int, Headers, bytes]:
    """One GET through the app: its status, headers and body."""
    path, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [(b"host", b"127.0.0.1"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], sent[0]["headers"], body


def cookies(headers: Headers) -> list[str]:
    return [v.decode().split(";")[0] for k, v in headers if k == b"set-cookie"]


async def request_for(app: App, row: str) -> tuple[str, Headers]:
    """The path and headers of ROW, as bench/profile.py makes them over HTTP."""
    _, first, _ = await call(app, "/catalog/", [])
    sent = "; ".join(cookies(first)).encode()
    _, second, _ = await call(app, "/catalog/", [(b"cookie", sent)])  # now the row is stored
    session = next(c for c in cookies(second) + cookies(first) if c.startswith("sessionid="))
    returning = [(b"cookie", session.encode())]
    _, _, books = await call(app, "/catalog/books/", [])
    pages = re.search(rb"Page 1 of (\d+)", books)
    book = re.search(rb'href="/catalog/book/(\d+)"', books)
    return {
        "home-returning": ("/catalog/", returning),
        "home-first": ("/catalog/", []),
        "poll": ("/catalog/_counts", [*returning, (b"hx-request", b"true")]),
        "list": ("/catalog/books/", []),
        "list-deep": (f"/catalog/books/?page={pages.group(1).decode() if pages else 1}", []),
        "detail": (f"/catalog/book/{book.group(1).decode() if book else 1}", []),
    }[row]


async def time_requests(app: App, path: str, headers: Headers, requests: int, cold: bool) -> float:
    """Microseconds per request, the eviction (if cold) not counted."""
    spent = 0.0
    for _ in range(requests):
        if cold:
            bytes(EVICTION)
        started = time.perf_counter()
        status, _, _ = await call(app, path, headers)
        spent += time.perf_counter() - started
        if status != 200:
            raise SystemExit(f"{path} answered {status}")
    return spent / requests * 1e6


async def measure(app: App, path: str, headers: Headers, args: argparse.Namespace) -> str:
    await time_requests(app, path, headers, 200, cold=False)  # fill the app's own caches
    results = []
    for cold in (False, True):
        rounds = [
            await time_requests(app, path, headers, args.requests, cold) for _ in range(args.rounds)
        ]
        results.append(f"{'cold' if cold else 'warm'} {statistics.median(rounds):6.1f} µs")
    return ", ".join(results)


async def with_lifespan(app: App, work: Callable[[], Awaitable[None]]) -> None:
    """Run `work` between the app's start-up and shutdown, as a server would."""
    messages: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    replies: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    lifespan = asyncio.ensure_future(
        app(
            {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, messages.get, replies.put
        )
    )
    await messages.put({"type": "lifespan.startup"})
    reply = await replies.get()
    if reply["type"] != "lifespan.startup.complete":
        raise SystemExit(f"the app did not start: {reply.get('message', reply['type'])}")
    try:
        await work()
    finally:
        await messages.put({"type": "lifespan.shutdown"})
        await lifespan


async def main(args: argparse.Namespace) -> None:
    database = bench.prepare_database("demo", bench.Log())
    try:
        # The settings bench/run.py gives the server: the defaults, in production mode.
        for name in bench.SITE_SETTINGS:
            os.environ.pop(name, None)
        os.environ["DATABASE_URL"] = f"sqlite:///{database}"
        site = create_app(Settings.from_environ(env_file=os.devnull))  # no stray .env

        async def on_the_site() -> None:
            path, headers = await request_for(site, args.row)
            print(f"{args.row} ({path}): {await measure(site, path, headers, args)}")
            print(f"ceiling (/): {await measure(ceiling.create_app(), '/', [], args)}")

        await with_lifespan(site, on_the_site)
    finally:
        bench.discard_database(database)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("row", choices=ROWS)
    parser.add_argument("--requests", type=int, default=5000, help="requests per round")
    parser.add_argument("--rounds", type=int, default=5, help="rounds; the median is shown")
    uvloop.run(main(parser.parse_args()))  # the loop uvicorn runs the site on
