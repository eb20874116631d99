"""Signed-in sessions over HTTP, on the smallest app: signing in and out, the owner's columns,
the timeouts, touching, and revocation. A MemoryStore that counts its writes and a fake clock;
the database stores pass the same contract in test_stores.py and test_touch_on_databases below.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from locallibrary.database import connect, create_database
from locallibrary.sessions import (
    DeferredSessions,
    MemoryStore,
    SessionConfig,
    SessionMiddleware,
    SessionStore,
    database_store,
    session_of,
)
from locallibrary.sessions.keys import stored_id
from locallibrary.sessions.stores.base import Merge
from tests.clock import FakeClock
from tests.db import sql

DAY = 24 * 3600
IDLE, ABSOLUTE, TOUCH = 14 * DAY, 30 * DAY, 300
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


class CountingStore(MemoryStore):
    """A real MemoryStore that also counts the writes made to it."""

    def __init__(self, clock: Callable[[], float]) -> None:
        super().__init__(clock)
        self.writes = 0

    async def create(self, *args: Any, **kwargs: Any) -> bool:
        self.writes += 1
        return await super().create(*args, **kwargs)

    async def update(self, key: str, merge: Merge, expires_at: int) -> None:
        self.writes += 1
        await super().update(key, merge, expires_at)


async def view(request: Request) -> Response:
    """Does to the session what the query string says, then shows it."""
    session = session_of(request)
    action = request.query_params.get("do", "read")
    if action == "sign-in":
        session.sign_in(int(request.query_params["user"]))
    elif action == "sign-out":
        session.sign_out()
    elif action == "cycle":
        session.cycle_key()
    elif action == "set":
        session[request.query_params["key"]] = request.query_params["value"]
    elif action == "count":
        session.increment("count")
    return JSONResponse(
        {
            "user_id": session.user_id,
            "signed_in_at": session.signed_in_at,
            "public_id": session.public_id,
            "data": dict(session),
        }
    )


def make_app(store: SessionStore, clock: FakeClock, **lifespan: Any) -> Starlette:
    config = SessionConfig(idle_timeout=IDLE, absolute_lifetime=ABSOLUTE, touch_interval=TOUCH)
    return Starlette(
        routes=[Route("/", view)],
        middleware=[
            Middleware(
                SessionMiddleware,
                store=store,
                config=config,
                clock=clock,
                deferred=DeferredSessions("owners-test-secret"),
            )
        ],
        **lifespan,
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock: FakeClock) -> CountingStore:
    return CountingStore(clock)


@pytest.fixture
def client(store: CountingStore, clock: FakeClock) -> TestClient:
    return TestClient(make_app(store, clock), headers={"user-agent": FIREFOX})


def max_age(response: Any) -> int:
    [cookie] = [c for c in response.headers.get_list("set-cookie") if c.startswith("sessionid=")]
    return int(cookie.split("Max-Age=")[1].split(";")[0])


def signed_in(client: TestClient, user: int = 7) -> dict[str, Any]:
    body: dict[str, Any] = client.get(f"/?do=sign-in&user={user}").json()
    return body


def as_browser(client: TestClient, key: str) -> dict[str, Any]:
    """What a browser holding only the cookie `key` sees."""
    client.cookies.clear()
    client.cookies.set("sessionid", key)
    body: dict[str, Any] = client.get("/").json()
    return body


# -- signing in and out -------------------------------------------------------------------------


def test_signing_in_gives_a_new_key_and_keeps_the_data(
    client: TestClient, store: CountingStore, clock: FakeClock
) -> None:
    client.get("/?do=set&key=per_page&value=25")
    client.get("/?do=count")  # stored now: the browser sent the key back
    old_key = client.cookies["sessionid"]
    body = signed_in(client)
    new_key = client.cookies["sessionid"]
    assert new_key != old_key
    assert body["data"] == {"per_page": "25", "count": 1}
    assert body["user_id"] == 7 and body["signed_in_at"] == int(clock.now)
    assert list(store.rows) == [stored_id(new_key)], "the old row went"
    row = store.rows[stored_id(new_key)]
    assert (row.user_id, row.signed_in_at, row.agent) == (7, int(clock.now), "Firefox on Linux")
    assert body["public_id"] is None, "the new key is drawn when the session is saved"
    assert client.get("/").json()["public_id"] == stored_id(new_key)


def test_the_old_cookie_after_signing_in_is_an_anonymous_visitor(client: TestClient) -> None:
    client.get("/?do=count")
    client.get("/?do=count")
    old_key = client.cookies["sessionid"]
    signed_in(client)
    new_key = client.cookies["sessionid"]
    assert as_browser(client, new_key)["user_id"] == 7
    replayed = as_browser(client, old_key)
    assert replayed == {"user_id": None, "signed_in_at": None, "public_id": None, "data": {}}


def test_a_deferred_session_is_stored_at_once_on_signing_in(
    client: TestClient, store: CountingStore
) -> None:
    client.get("/?do=count")
    assert store.rows == {}, "deferred: in the companion cookie only"
    response = client.get("/?do=sign-in&user=3")
    assert response.json()["data"] == {"count": 1}
    [row] = store.rows.values()
    assert row.user_id == 3
    assert "sessionid_new=;" in "".join(response.headers.get_list("set-cookie"))


def test_a_fresh_browser_signing_in_is_stored_with_no_data(
    client: TestClient, store: CountingStore
) -> None:
    body = signed_in(client, 5)
    assert body["data"] == {} and body["user_id"] == 5
    assert client.get("/").json()["user_id"] == 5
    assert [row.user_id for row in store.rows.values()] == [5]


def test_signing_out_ends_the_session_and_its_old_cookie(
    client: TestClient, store: CountingStore
) -> None:
    client.get("/?do=set&key=theme&value=dark")
    signed_in(client)
    key = client.cookies["sessionid"]
    assert client.get("/?do=sign-out").json()["user_id"] is None
    assert store.rows == {}
    assert as_browser(client, key)["user_id"] is None


def test_cycle_key_keeps_the_owner(client: TestClient, store: CountingStore) -> None:
    first = signed_in(client)
    before = client.cookies["sessionid"]
    body = client.get("/?do=cycle").json()
    assert client.cookies["sessionid"] != before
    assert (body["user_id"], body["signed_in_at"]) == (7, first["signed_in_at"])
    assert [row.user_id for row in store.rows.values()] == [7]
    assert client.get("/").json()["user_id"] == 7


def test_reading_who_is_signed_in_makes_the_response_vary_on_cookie(client: TestClient) -> None:
    assert "Cookie" in client.get("/").headers["vary"]


# -- timeouts and touching ----------------------------------------------------------------------


def test_a_signed_in_session_expires_after_the_idle_timeout(
    client: TestClient, store: CountingStore, clock: FakeClock
) -> None:
    response = client.get("/?do=sign-in&user=7")
    assert max_age(response) == IDLE
    assert store.rows[stored_id(client.cookies["sessionid"])].expires_at == int(clock.now) + IDLE
    clock.now += IDLE
    assert client.get("/").json()["user_id"] is None


def test_a_busy_signed_in_session_ends_at_its_absolute_lifetime(
    client: TestClient, store: CountingStore, clock: FakeClock
) -> None:
    signed_in_at = signed_in(client)["signed_in_at"]
    while clock.now < signed_in_at + ABSOLUTE - DAY:
        clock.now += DAY
        assert client.get("/?do=count").json()["user_id"] == 7
    row = store.rows[stored_id(client.cookies["sessionid"])]
    assert row.expires_at == signed_in_at + ABSOLUTE, "the idle timeout no longer extends it"
    clock.now = signed_in_at + ABSOLUTE
    assert client.get("/").json()["user_id"] is None


def test_unchanged_requests_write_last_seen_once_per_touch_interval(
    client: TestClient, store: CountingStore, clock: FakeClock
) -> None:
    signed_in(client)
    row_id = stored_id(client.cookies["sessionid"])
    store.writes = 0
    seen: list[int] = []
    for _ in range(30):  # a request every 30 s for 15 minutes
        clock.now += 30
        response = client.get("/")
        seen.append(store.rows[row_id].last_seen_at)
        if store.rows[row_id].last_seen_at == int(clock.now):
            assert max_age(response) == IDLE, "the cookie is sent again, renewed"
        else:
            assert "set-cookie" not in response.headers
    assert store.writes == 3  # at 300, 600 and 900 s
    assert sorted(set(seen))[1:] == [int(clock.now) - 600, int(clock.now) - 300, int(clock.now)]
    assert store.rows[row_id].expires_at == int(clock.now) + IDLE


def test_anonymous_sessions_are_not_touched(
    client: TestClient, store: CountingStore, clock: FakeClock
) -> None:
    client.get("/?do=count")
    client.get("/?do=count")
    store.writes = 0
    clock.now += 3600
    assert "set-cookie" not in client.get("/").headers
    assert store.writes == 0


# -- revocation -----------------------------------------------------------------------------------


def test_a_revoked_session_is_anonymous_on_its_next_request(
    client: TestClient, store: CountingStore
) -> None:
    signed_in(client)
    public_id = client.get("/").json()["public_id"]
    assert asyncio.run(store.revoke(8, public_id)) is False, "not that user's session"
    assert client.get("/").json()["user_id"] == 7
    assert asyncio.run(store.revoke(7, public_id)) is True
    response = client.get("/?do=count")
    assert response.json()["user_id"] is None


def test_a_request_in_flight_when_its_session_is_revoked_does_not_bring_it_back(
    store: CountingStore, clock: FakeClock
) -> None:
    """The row goes while a request of that browser runs; its save must not make it again."""

    async def revoking_view(request: Request) -> Response:
        session = session_of(request)
        assert session.public_id is not None
        await store.revoke(7, session.public_id)
        session["late"] = "change"
        return JSONResponse({})

    app = make_app(store, clock)
    app.router.routes.insert(0, Route("/revoke-meanwhile", revoking_view))
    client = TestClient(app)
    signed_in(client)
    response = client.get("/revoke-meanwhile")
    assert store.rows == {}
    assert "Max-Age=0" in response.headers["set-cookie"], "the browser is told to forget it"
    assert client.get("/").json()["user_id"] is None


# -- on the databases -------------------------------------------------------------------------------


def test_touching_on_the_databases_writes_once_per_interval(empty_database_url: str) -> None:
    clock = FakeClock()
    database = create_database(empty_database_url)
    store = database_store(database, clock=clock)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await connect(database)  # in the app's own event loop, as DatabaseLifespan does
        try:
            yield
        finally:
            store.close()
            await database.disconnect()

    with TestClient(make_app(store, clock, lifespan=lifespan)) as client:
        client.get("/?do=sign-in&user=9")
        key = stored_id(client.cookies["sessionid"])
        start = int(clock.now)
        seen = []
        for _ in range(12):  # a request a minute
            clock.now += 60
            assert client.get("/").json()["user_id"] == 9
            [(last_seen_at,)] = sql(
                empty_database_url, "SELECT last_seen_at FROM sessions WHERE key = :k", k=key
            )
            seen.append(last_seen_at - start)
    assert seen == [0] * 4 + [300] * 5 + [600] * 3
