"""The session middleware over HTTP with a real cookie jar, on the smallest app that shows it."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from locallibrary.sessions import MemoryStore, SessionConfig, SessionMiddleware
from locallibrary.sessions.keys import is_well_formed, stored_id
from locallibrary.sessions.stores.base import ANONYMOUS, Owner, StoredSession
from tests.clock import FakeClock


class CountingStore(MemoryStore):
    """A real MemoryStore that also counts the calls made to it."""

    def __init__(self, clock: Callable[[], float]) -> None:
        super().__init__(clock)
        self.calls: list[str] = []

    async def load(self, key: str) -> StoredSession | None:
        self.calls.append("load")
        return await super().load(key)

    async def create(self, key: str, text: str, expires_at: int, owner: Owner = ANONYMOUS) -> bool:
        self.calls.append("create")
        return await super().create(key, text, expires_at, owner)

    async def update(self, key: str, merge: Any, expires_at: int) -> None:
        self.calls.append("update")
        await super().update(key, merge, expires_at)

    async def delete(self, key: str) -> None:
        self.calls.append("delete")
        await super().delete(key)


async def view(request: Request) -> Response:
    """Does to the session what the query string says, then shows it."""
    session = request.session
    action = request.query_params.get("do", "read")
    if action == "count":
        session.increment("count")
    elif action == "set":
        session[request.query_params["key"]] = request.query_params["value"]
    elif action == "append":
        session.setdefault("items", [])
        session["items"].append(request.query_params["value"])
    elif action == "append-nested":
        session["prefs"]["lists"].append(request.query_params["value"])
    elif action == "touch":
        session.modified = True
    elif action == "clear":
        session.clear()
    elif action == "flush":
        session.flush()
    elif action == "cycle":
        session.cycle_key()
    elif action == "browser-close":
        session["x"] = 1
        session.set_expiry(0)
    elif action == "expire-in":
        session["x"] = 1
        session.set_expiry(int(request.query_params["seconds"]))
    elif action == "fail":
        session["x"] = "lost"
        return PlainTextResponse("boom", status_code=500)
    elif action == "unserializable":
        session["items"].append({1, 2})
    elif action == "raise-404":
        session["seen404"] = True
        return PlainTextResponse("nope", status_code=404)
    elif action == "test-cookie-set":
        session.set_test_cookie()
    elif action == "test-cookie-check":
        worked = session.test_cookie_worked()
        session.delete_test_cookie()
        return JSONResponse({"worked": worked})
    elif action == "none":
        return PlainTextResponse("did not touch the session")
    elif action == "vary":
        session.get("count")
        return PlainTextResponse("read", headers={"vary": request.query_params["vary"]})
    return JSONResponse({"key": session.session_key, "data": dict(session.items())})


def make_client(
    store: MemoryStore, clock: FakeClock, base_url: str = "http://testserver", **config: Any
) -> TestClient:
    app = Starlette(
        routes=[Route("/", view)],
        middleware=[
            Middleware(SessionMiddleware, store=store, config=SessionConfig(**config), clock=clock)
        ],
    )
    return TestClient(app, base_url=base_url, raise_server_exceptions=False)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock: FakeClock) -> CountingStore:
    return CountingStore(clock)


@pytest.fixture
def client(store: CountingStore, clock: FakeClock) -> TestClient:
    return make_client(store, clock)


def cookie_attributes(header: str) -> dict[str, str]:
    parts = [p.strip() for p in header.split(";")]
    attributes = {"_value": parts[0]}
    for part in parts[1:]:
        name, _, value = part.partition("=")
        attributes[name.lower()] = value
    return attributes


def session_cookie(response: Response | Any) -> dict[str, str]:
    headers = response.headers.get_list("set-cookie")
    assert len(headers) == 1, headers
    return cookie_attributes(headers[0])


def key_of(client: TestClient) -> str:
    key = client.cookies.get("sessionid")
    assert key is not None
    return key


def test_first_change_creates_a_session_with_a_new_opaque_key(
    client: TestClient, store: CountingStore
) -> None:
    response = client.get("/?do=count")
    body = response.json()
    assert body == {"key": None, "data": {"count": 1}}, "session_key is None until saved"
    key = key_of(client)
    assert is_well_formed(key)
    assert session_cookie(response)["_value"] == f"sessionid={key}"
    assert list(store.rows) == [stored_id(key)]


def test_the_cookie_brings_the_session_back(client: TestClient) -> None:
    client.get("/?do=count")
    second = client.get("/?do=count").json()
    assert second == {"key": key_of(client), "data": {"count": 2}}


def test_cookie_attributes_and_expiry(client: TestClient, clock: FakeClock) -> None:
    attributes = session_cookie(client.get("/?do=count"))
    assert attributes["path"] == "/"
    assert "httponly" in attributes
    assert attributes["samesite"] == "Lax"
    assert "secure" not in attributes
    assert attributes["max-age"] == str(14 * 24 * 3600)
    expires = parsedate_to_datetime(attributes["expires"])
    assert expires == dt.datetime.fromtimestamp(clock.now + 14 * 24 * 3600, dt.UTC).replace(
        microsecond=0
    )


def test_configured_name_age_and_secure(store: CountingStore, clock: FakeClock) -> None:
    client = make_client(store, clock, cookie_name="visit", max_age=600, secure=True)
    attributes = session_cookie(client.get("/?do=count"))
    assert attributes["_value"].startswith("visit=")
    assert attributes["max-age"] == "600"
    assert "secure" in attributes


def test_cookie_is_secure_on_https(store: CountingStore, clock: FakeClock) -> None:
    client = make_client(store, clock, base_url="https://testserver")
    assert "secure" in session_cookie(client.get("/?do=count"))


def test_browser_close_session_has_no_max_age_or_expires(client: TestClient) -> None:
    attributes = session_cookie(client.get("/?do=browser-close"))
    assert "max-age" not in attributes and "expires" not in attributes


def test_custom_expiry_sets_the_cookie_age(client: TestClient) -> None:
    assert session_cookie(client.get("/?do=expire-in&seconds=90"))["max-age"] == "90"


def test_reading_writes_nothing_and_sends_no_cookie(
    client: TestClient, store: CountingStore
) -> None:
    client.get("/?do=count")
    store.calls.clear()
    response = client.get("/?do=read")
    assert response.json()["data"] == {"count": 1}
    assert "set-cookie" not in response.headers
    assert store.calls == ["load"]


def test_a_request_without_a_cookie_makes_no_store_calls(
    client: TestClient, store: CountingStore
) -> None:
    response = client.get("/?do=read")
    assert response.json() == {"key": None, "data": {}}
    assert "set-cookie" not in response.headers
    assert store.calls == []


def test_vary_cookie_only_when_the_session_was_read(client: TestClient) -> None:
    assert client.get("/?do=read").headers["vary"] == "Cookie"
    assert "vary" not in client.get("/?do=none").headers


@pytest.mark.parametrize(
    ("vary", "sent"),
    [("Accept-Language", "Accept-Language, Cookie"), ("cookie, HX-Request", "cookie, HX-Request")],
)
def test_cookie_joins_the_views_own_vary(client: TestClient, vary: str, sent: str) -> None:
    response = client.get("/", params={"do": "vary", "vary": vary})
    assert response.headers.get_list("vary") == [sent]


def test_save_every_request_renews_the_cookie(store: CountingStore, clock: FakeClock) -> None:
    client = make_client(store, clock, save_every_request=True)
    client.get("/?do=count")
    clock.now += 100
    store.calls.clear()
    response = client.get("/?do=read")
    assert store.calls == ["load", "update"]
    assert session_cookie(response)["max-age"] == str(14 * 24 * 3600)


def test_nested_change_is_saved_without_modified(client: TestClient) -> None:
    client.get("/?do=append&value=a")
    client.get("/?do=append&value=b")
    assert client.get("/?do=read").json()["data"] == {"items": ["a", "b"]}


def test_modified_true_saves(client: TestClient, store: CountingStore) -> None:
    client.get("/?do=count")
    store.calls.clear()
    client.get("/?do=touch")
    assert store.calls == ["load", "update"]


def test_emptied_session_is_deleted_and_its_cookie_cleared(
    client: TestClient, store: CountingStore
) -> None:
    client.get("/?do=count")
    key = key_of(client)
    response = client.get("/?do=clear")
    attributes = session_cookie(response)
    assert attributes["_value"] == "sessionid="
    assert attributes["max-age"] == "0"
    assert parsedate_to_datetime(attributes["expires"]).year == 1970
    assert stored_id(key) not in store.rows


def test_flush_deletes_the_row_and_the_cookie(client: TestClient, store: CountingStore) -> None:
    client.get("/?do=count")
    key = key_of(client)
    response = client.get("/?do=flush")
    assert response.json() == {"key": None, "data": {}}
    assert session_cookie(response)["max-age"] == "0"
    assert store.rows == {}
    client.get("/?do=count")
    assert key_of(client) != key


def test_flush_without_a_session_sets_no_cookie(client: TestClient) -> None:
    assert "set-cookie" not in client.get("/?do=flush").headers


def test_cycle_key_keeps_the_data_under_a_new_key(client: TestClient, store: CountingStore) -> None:
    client.get("/?do=count")
    old = key_of(client)
    client.get("/?do=cycle")
    new = key_of(client)
    assert new != old and is_well_formed(new)
    assert stored_id(old) not in store.rows and stored_id(new) in store.rows
    assert client.get("/?do=read").json() == {"key": new, "data": {"count": 1}}


def test_no_save_on_a_server_error(client: TestClient, store: CountingStore) -> None:
    client.get("/?do=count")
    store.calls.clear()
    response = client.get("/?do=fail")
    assert response.status_code == 500
    assert "set-cookie" not in response.headers
    assert store.calls == ["load"]
    assert client.get("/?do=read").json()["data"] == {"count": 1}


def test_saved_on_a_client_error(client: TestClient) -> None:
    assert client.get("/?do=raise-404").status_code == 404
    assert client.get("/?do=read").json()["data"] == {"seen404": True}


def test_unserializable_nested_value_is_a_clear_error_and_loses_nothing(
    client: TestClient,
) -> None:
    client.get("/?do=append&value=a")
    response = client.get("/?do=unserializable")
    assert response.status_code == 500
    assert client.get("/?do=read").json()["data"] == {"items": ["a"]}


def test_size_cap_is_an_error_and_keeps_the_stored_data(
    store: CountingStore, clock: FakeClock
) -> None:
    client = make_client(store, clock, max_bytes=200)
    client.get("/?do=set&key=small&value=ok")
    response = client.get("/?do=set&key=big&value=" + "x" * 300)
    assert response.status_code == 500
    assert client.get("/?do=read").json()["data"] == {"small": "ok"}


def test_unknown_key_is_never_adopted(client: TestClient, store: CountingStore) -> None:
    planted = "a" * 32
    response = client.get("/?do=count", headers={"cookie": f"sessionid={planted}"})
    key = session_cookie(response)["_value"].removeprefix("sessionid=")
    assert key != planted and is_well_formed(key)
    assert stored_id(planted) not in store.rows


def test_expired_session_reads_empty_and_gets_a_new_key(
    client: TestClient, clock: FakeClock
) -> None:
    client.get("/?do=expire-in&seconds=60")
    old = key_of(client)
    clock.now += 61
    assert client.get("/?do=read").json() == {"key": None, "data": {}}
    assert client.get("/?do=count").json()["data"] == {"count": 1}
    assert key_of(client) != old


@pytest.mark.parametrize(
    "cookie_header",
    [
        "sessionid=",
        "sessionid=" + "a" * 31,
        "sessionid=" + "a" * 33,
        "sessionid=" + "A" * 32,
        "sessionid=" + "x" * 10_000,
        "sessionid='; DROP TABLE sessions; --",
        "sessionid=" + "é" * 32,
        'sessionid="' + "a" * 32,
        "sessionid",
        ";;;=;sessionid==",
        "sessionid=%00%00",
    ],
)
def test_garbage_cookies_give_a_normal_page(
    client: TestClient, store: CountingStore, cookie_header: str
) -> None:
    response = client.get("/?do=count", headers={"cookie": cookie_header.encode()})  # type: ignore[dict-item]
    assert response.status_code == 200
    assert response.json()["data"] == {"count": 1}
    assert store.calls == ["create"], "a malformed key is never looked up"


def test_non_latin1_cookie_bytes_give_a_normal_page(client: TestClient) -> None:
    response = client.get("/?do=read", headers={"cookie": "sessionid=ключ".encode()})  # type: ignore[dict-item]
    assert response.status_code == 200


def test_many_session_cookies_at_once_use_the_first_well_formed_one(
    client: TestClient,
) -> None:
    client.get("/?do=count")
    key = key_of(client)
    client.cookies.clear()
    header = "; ".join(
        ["sessionid=junk", f"sessionid={key}", "sessionid=" + "b" * 32] + ["sessionid=x"] * 200
    )
    response = client.get("/?do=read", headers={"cookie": header})
    assert response.json() == {"key": key, "data": {"count": 1}}


def test_test_cookie_methods(client: TestClient) -> None:
    client.get("/?do=test-cookie-set")
    assert client.get("/?do=test-cookie-check").json() == {"worked": True}
    assert client.get("/?do=test-cookie-check").json() == {"worked": False}


def test_other_cookies_are_left_alone(client: TestClient) -> None:
    client.cookies.set("theme", "dark")
    response = client.get("/?do=count")
    assert re.match(r"sessionid=[a-z0-9]{32}", session_cookie(response)["_value"])
