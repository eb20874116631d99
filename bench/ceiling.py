"""The ceiling: a bare Starlette app with one endpoint returning a fixed small HTML page.

The benchmark serves it with the same uvicorn settings as the site; what the site reaches is
reported as a fraction of what this reaches on the same machine in the same run.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

PAGE = (
    "<!doctype html><html lang=en><head><meta charset=utf-8><title>Ceiling</title></head>"
    "<body><h1>Ceiling</h1><p>A fixed page, no database, no session, no template.</p></body></html>"
)


async def page(request: Request) -> HTMLResponse:
    return HTMLResponse(PAGE)


def create_app() -> Starlette:
    return Starlette(routes=[Route("/", page)])
