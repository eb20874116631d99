"""Pure ASGI middleware that ties the database to the server's life."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from locallibrary.database import Database, DatabaseUnavailable, connect


class DatabaseLifespan:
    """Connects at start-up and disconnects at shutdown.

    A database that cannot be reached fails the start-up with one line (the server prints it and
    exits non-zero) instead of the traceback that an exception in a lifespan function prints.
    """

    def __init__(self, app: ASGIApp, database: Database) -> None:
        self.app = app
        self.database = database

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        startup_failed = False

        async def receive_after_connecting() -> Message:
            nonlocal startup_failed
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await connect(self.database)
                except DatabaseUnavailable as unavailable:
                    startup_failed = True
                    await send({"type": "lifespan.startup.failed", "message": str(unavailable)})
                    # Hand the app a shutdown so that its lifespan ends without starting.
                    return {"type": "lifespan.shutdown"}
            return message

        async def send_unless_failed(message: Message) -> None:
            if startup_failed:
                return
            if message["type"] == "lifespan.shutdown.complete":
                await self.database.disconnect()
            await send(message)

        await self.app(scope, receive_after_connecting, send_unless_failed)
