"""No lost updates to one list: 20 pushes at once with one cookie all reach the stored list.

Before `push_recent`, three book pages opened at once kept only two in "recently viewed": the
whole list was last-writer-wins. On the real server, one worker or two sharing the database,
on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack

import httpx2 as httpx
import pytest

from locallibrary.catalog.visitor import RECENTLY_VIEWED, RECENTLY_VIEWED_LENGTH
from locallibrary.sessions.keys import stored_id
from tests.db import sql
from tests.live_server import LiveServer, live_server
from tests.load import client, run_concurrently, stored_session_cookies
from tests.sessions.flush_app import PUSHED

SECRET = {"SECRET_KEY": "recent-test-secret"}
VIEWS = 20


@pytest.fixture(params=[1, 2], ids=["one worker", "two workers"])
def servers(request: pytest.FixtureRequest, database_url: str) -> Iterator[list[LiveServer]]:
    env = {"DATABASE_URL": database_url, **SECRET}
    with ExitStack() as stack:
        yield [
            stack.enter_context(live_server(env, factory="tests.sessions.flush_app:create_app"))
            for _ in range(request.param)
        ]


def at_once(servers: list[LiveServer], method: str, paths: list[str]) -> httpx.Cookies:
    """One browser's session, then `paths` requested all at once with its cookie, spread over
    the servers; returns the cookie."""
    cookies = stored_session_cookies(servers[0].url)

    async def request(i: int) -> None:
        async with client(servers[i % len(servers)].url, cookies) as browser:
            response = await browser.request(method, paths[i])
            assert response.status_code == 200

    run_concurrently(len(paths), request)
    return cookies


def stored_list(database_url: str, cookies: httpx.Cookies, name: str) -> list[int]:
    [(text,)] = sql(
        database_url,
        "SELECT data FROM sessions WHERE key = :key",
        key=stored_id(cookies["sessionid"]),
    )
    items: list[int] = json.loads(text)[name]
    return items


def test_20_pushes_at_once_with_one_cookie_all_stay(
    servers: list[LiveServer], database_url: str
) -> None:
    cookies = at_once(servers, "POST", [f"/test/push/{n}" for n in range(VIEWS)])
    assert sorted(stored_list(database_url, cookies, PUSHED)) == list(range(VIEWS))


def test_20_book_pages_at_once_leave_five_distinct_of_them_recently_viewed(
    servers: list[LiveServer], database_url: str
) -> None:
    books = [book_id for (book_id,) in sql(database_url, "SELECT id FROM catalog_book")][:VIEWS]
    assert len(books) == VIEWS
    cookies = at_once(servers, "GET", [f"/catalog/book/{book_id}" for book_id in books])
    viewed = stored_list(database_url, cookies, RECENTLY_VIEWED)
    assert len(set(viewed)) == len(viewed) == RECENTLY_VIEWED_LENGTH
    assert set(viewed) <= set(books)
