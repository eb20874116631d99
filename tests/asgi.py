"""The app driven in this process as uvicorn drives it, for requests no HTTP client would send.

Starlette's test client goes through httpx, which percent-encodes what it finds odd and checks
headers; bad input must reach the app as the server hands it over. So a request here is the
bytes of a request line's target, the header lines and the body, and the scope is made from
them as uvicorn's HTTP protocols make it: `raw_path` is the target's path as sent, `path` its
percent-decoding (invalid UTF-8 becomes U+FFFD), `query_string` the bytes after `?`.

Everything runs on one event loop (an `asyncio.Runner`) that lives as long as the site, so the
app's connections and background tasks outlive each request, as they do in the server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import unquote

from starlette.types import ASGIApp, Message

T = TypeVar("T")


@dataclass(frozen=True)
class RawRequest:
    method: str
    target: bytes  # the request line's target: path and query, as sent
    headers: tuple[tuple[bytes, bytes], ...] = ()
    body: bytes = b""


@dataclass(frozen=True)
class RawResponse:
    status: int
    headers: list[tuple[bytes, bytes]] = field(repr=False)
    body: bytes = field(repr=False)

    def header(self, name: str) -> str | None:
        wanted = name.lower().encode("latin-1")
        return next((v.decode("latin-1") for k, v in self.headers if k.lower() == wanted), None)


class InProcessSite:
    """The app between its start-up and its shutdown, answering RawRequests."""

    def __init__(self, app: ASGIApp, runner: asyncio.Runner) -> None:
        self.app = app
        self.runner = runner
        self.state: dict[str, Any] = {}

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        """Run `work` on the site's event loop (a query of the test's, say)."""
        return self.runner.run(work)

    def send(self, request: RawRequest) -> RawResponse:
        return self.run(self._send(request))

    async def _send(self, request: RawRequest) -> RawResponse:
        raw_path, _, query = request.target.partition(b"?")
        path = raw_path.decode("ascii")  # uvicorn answers 400 itself to anything else
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.4"},
            "http_version": "1.1",
            "server": ("127.0.0.1", 8000),
            "client": ("127.0.0.1", 50000),
            "scheme": "http",
            "method": request.method,
            "root_path": "",
            "path": unquote(path) if "%" in path else path,
            "raw_path": raw_path,
            "query_string": query,
            "headers": [(name.lower(), value) for name, value in request.headers],
            "state": self.state.copy(),
        }
        answered = asyncio.Event()
        body_sent = False
        messages: list[Message] = []

        async def receive() -> Message:
            nonlocal body_sent
            if not body_sent:
                body_sent = True
                return {"type": "http.request", "body": request.body, "more_body": False}
            await answered.wait()  # the client stays connected until it has its answer
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            messages.append(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                answered.set()

        await self.app(scope, receive, send)
        answered.set()
        start = messages[0]
        assert start["type"] == "http.response.start", messages
        body = b"".join(m.get("body", b"") for m in messages[1:])
        return RawResponse(start["status"], list(start.get("headers", [])), body)


@contextmanager
def in_process_site(app: ASGIApp) -> Iterator[InProcessSite]:
    """Start `app` (its lifespan), yield it, then shut it down, all on one event loop."""
    with asyncio.Runner() as runner:
        site = InProcessSite(app, runner)
        lifespan = _Lifespan(app, site.state)
        runner.run(lifespan.startup())
        try:
            yield site
        finally:
            runner.run(lifespan.shutdown())


class _Lifespan:
    def __init__(self, app: ASGIApp, state: dict[str, Any]) -> None:
        self.app = app
        self.state = state
        self.to_app: asyncio.Queue[Message] = asyncio.Queue()
        self.from_app: asyncio.Queue[Message] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None

    async def startup(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": self.state}
        self.task = asyncio.create_task(self.app(scope, self.to_app.get, self.from_app.put))
        await self.to_app.put({"type": "lifespan.startup"})
        reply = await self.from_app.get()
        assert reply["type"] == "lifespan.startup.complete", reply

    async def shutdown(self) -> None:
        assert self.task is not None
        await self.to_app.put({"type": "lifespan.shutdown"})
        reply = await self.from_app.get()
        assert reply["type"] == "lifespan.shutdown.complete", reply
        await self.task
