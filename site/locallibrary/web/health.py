"""`/healthz`: 200 when the database answers, 503 when it does not."""

from __future__ import annotations

from databases import Database
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response


async def healthz(request: Request) -> Response:
    database: Database = request.app.state.database
    try:
        await database.fetch_val("SELECT 1")
    except Exception:  # whatever the driver raises, the answer is the same: not healthy
        return PlainTextResponse("database unavailable\n", status_code=503)
    return PlainTextResponse("ok\n")
