"""One browser, two workers: a request sees every write to its session that was acknowledged
before it began, whichever worker made it.

Two real servers (one uvicorn worker each, so that the test sends each request to the worker
it chooses) share one database, SQLite file or PostgreSQL. The browser's cookie goes to both.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx2 as httpx
import pytest

from locallibrary.database import Database
from locallibrary.sessions import database_store
from locallibrary.sessions.keys import stored_id
from tests.db import with_database
from tests.html import parse
from tests.live_server import LiveServer, live_server
from tests.load import client, run_concurrently, visits_in

SECRET = {"SECRET_KEY": "across-workers-secret"}  # the same on both, as in production


@pytest.fixture
def workers(database_url: str) -> Iterator[tuple[LiveServer, LiveServer]]:
    env = {"DATABASE_URL": database_url, **SECRET}
    factory = "tests.sessions.flush_app:create_app"
    with live_server(env, factory=factory) as first, live_server(env, factory=factory) as second:
        yield first, second


def stored_session(worker: LiveServer) -> dict[str, str]:
    """The cookie of a browser whose first visit went to `worker`: its session is stored
    (with the visit) once the browser sends the key back, here on its second visit."""
    with httpx.Client(base_url=worker.url) as browser:
        browser.get("/catalog/")
        browser.get("/catalog/")
        return {"sessionid": browser.cookies["sessionid"]}


def visit(worker: LiveServer, cookies: dict[str, str]) -> int:
    response = httpx.get(f"{worker.url}/catalog/", cookies=cookies)
    assert response.status_code == 200
    return visits_in(response.text)


def test_a_burst_across_two_workers_then_one_visit_counts_every_visit(
    workers: tuple[LiveServer, LiveServer],
) -> None:
    cookies = stored_session(workers[0])  # two visits stored

    async def burst_visit(i: int) -> int:
        async with client(workers[i % 2].url, httpx.Cookies(cookies)) as browser:
            response = await browser.get("/catalog/")
            assert response.status_code == 200
            return visits_in(response.text)

    seen = run_concurrently(50, burst_visit)
    assert max(seen) <= 52
    # Each worker in turn: the visit after the burst shows all of them, then itself.
    assert visit(workers[1], cookies) == 53
    assert visit(workers[0], cookies) == 54


def test_a_page_size_saved_through_one_worker_shows_on_the_other(
    workers: tuple[LiveServer, LiveServer],
) -> None:
    cookies = stored_session(workers[0])
    saved = httpx.post(
        f"{workers[0].url}/catalog/preferences/per-page",
        data={"list": "books", "per_page": "25"},
        cookies=cookies,
    )
    assert saved.status_code == 303
    # The redirected GET lands on the other worker.
    page = httpx.get(f"{workers[1].url}{saved.headers['location']}", cookies=cookies)
    assert len(parse(page.text).css(".items li")) == 25


def test_a_session_flushed_through_one_worker_is_gone_on_the_other(
    workers: tuple[LiveServer, LiveServer],
) -> None:
    cookies = stored_session(workers[0])
    assert visit(workers[1], cookies) == 3  # the other worker knows the session
    flushed = httpx.post(f"{workers[0].url}/test/flush", cookies=cookies)
    assert flushed.status_code == 200
    # The old cookie now names no session: the other worker sees a first visit.
    assert visit(workers[1], cookies) == 1


def signed_in_session(worker: LiveServer, user_id: int) -> dict[str, str]:
    """The cookie of a browser that signed in as `user_id` through `worker`."""
    cookies = stored_session(worker)
    response = httpx.post(f"{worker.url}/test/sign-in", data={"user_id": user_id}, cookies=cookies)
    assert response.status_code == 200
    return {"sessionid": response.cookies["sessionid"]}


def owner_seen_by(worker: LiveServer, cookies: dict[str, str]) -> int | None:
    response = httpx.get(f"{worker.url}/test/whoami", cookies=cookies)
    assert response.status_code == 200
    user_id: int | None = response.json()["user_id"]
    return user_id


def revoke(database_url: str, user_id: int, keep: str | None = None, only: str = "") -> int:
    """Revoke from a third process-like store: `only` that session, or all of the user's but
    `keep`."""

    async def scenario(database: Database) -> int:
        store = database_store(database)
        try:
            if only:
                return int(await store.revoke(user_id, only))
            return await store.revoke_all_of_user(user_id, keep=keep)
        finally:
            store.close()

    return with_database(database_url, scenario)


def test_a_session_revoked_is_signed_out_on_its_next_request_to_either_worker(
    workers: tuple[LiveServer, LiveServer], database_url: str
) -> None:
    cookies = signed_in_session(workers[0], 7)
    assert [owner_seen_by(worker, cookies) for worker in workers] == [7, 7]
    assert revoke(database_url, 7, only=stored_id(cookies["sessionid"])) == 1
    assert [owner_seen_by(worker, cookies) for worker in workers] == [None, None]


def test_revoking_all_of_a_users_other_sessions_signs_out_only_those(
    workers: tuple[LiveServer, LiveServer], database_url: str
) -> None:
    here, elsewhere = signed_in_session(workers[0], 7), signed_in_session(workers[1], 7)
    someone_else = signed_in_session(workers[1], 8)
    assert owner_seen_by(workers[0], elsewhere) == 7
    assert revoke(database_url, 7, keep=stored_id(here["sessionid"])) == 1
    for worker in workers:
        assert owner_seen_by(worker, here) == 7
        assert owner_seen_by(worker, elsewhere) is None
        assert owner_seen_by(worker, someone_else) == 8
