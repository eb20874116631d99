"""Pure ASGI middleware that ties the database to the server's life."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from locallibrary.database import Database, DatabaseUnavailable, connect, describe, one_line

Ready = Callable[[Database], Awaitable[None]]


class DatabaseLifespan:
    """Connects at start-up, then runs `ready` (what the app reads once, such as its stored
    secret), and disconnects at shutdown.

    A database that cannot be reached, or that `ready` cannot read (one not migrated yet), fails
    the start-up with one line (the server prints it and exits non-zero) instead of the
    traceback that an exception in a lifespan function prints.
    """

    def __init__(self, app: ASGIApp, database: Database, ready: Ready | None = None) -> None:
        self.app = app
        self.database = database
        self.ready = ready

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
                    failure = await self._get_ready()
                except DatabaseUnavailable as unavailable:
                    failure = str(unavailable)
                if failure is not None:
                    startup_failed = True
                    await send({"type": "lifespan.startup.failed", "message": failure})
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

    async def _get_ready(self) -> str | None:
        """None once `ready` has run, else why it could not, in one line."""
        if self.ready is None:
            return None
        try:
            await self.ready(self.database)
        except Exception as error:  # a missing table, most likely: say what to do
            await self.database.disconnect()
            return (
                f"cannot start on the database at {describe(self.database.url)}: "
                f"{one_line(error)} (is it migrated? run `locallibrary migrate`)"
            )
        return None
