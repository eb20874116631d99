"""The ceiling: a bare Starlette app with one endpoint returning a fixed small HTML page.

The benchmark serves it with the same uvicorn settings as the site; what the site reaches is
reported as a fraction of what this reaches on the same machine in the same run.

`/paced?us=N&bytes=M` is the same app at a slower pace: it holds the event loop for N µs, as a
page rendered on the loop does, then returns M bytes. Served at the pace of a row with a tail
target, it shows the tail that the stack and the load alone give at that pace.
"""

from __future__ import annotations

import time

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route

PAGE = (
    "<!doctype html><html lang=en><head><meta charset=utf-8><title>Ceiling</title></head>"
    "<body><h1>Ceiling</h1><p>A fixed page, no database, no session, no template.</p></body></html>"
)
MAX_PACE_US = 1_000_000
MAX_PACED_BYTES = 1 << 20


async def page(request: Request) -> HTMLResponse:
    return HTMLResponse(PAGE)


async def paced(request: Request) -> Response:
    try:
        busy_us = int(request.query_params["us"])
        size = int(request.query_params["bytes"])
    except (KeyError, ValueError):
        return PlainTextResponse("need whole numbers us= and bytes=", status_code=400)
    if not (0 <= busy_us <= MAX_PACE_US and 0 <= size <= MAX_PACED_BYTES):
        return PlainTextResponse("us= or bytes= out of range", status_code=400)
    until = time.perf_counter() + busy_us / 1e6
    while time.perf_counter() < until:  # busy, not asleep: the loop serves no one meanwhile
        pass
    return HTMLResponse(PAGE[:size].ljust(size))


def create_app() -> Starlette:
    return Starlette(routes=[Route("/", page), Route("/paced", paced)])
