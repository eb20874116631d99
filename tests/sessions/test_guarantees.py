"""The guarantees of the README's "Guarantees" section, each shown on the real server.

Every test here fails on a naive session implementation (read the whole session, write the
whole session back, create a row for every new visitor, no clean-up). Load is bounded in
requests and time and goes to loopback only.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sqlite3
import threading
import time
from pathlib import Path

import httpx2 as httpx
from starlette.testclient import TestClient

from locallibrary.database.write_turns import WRITER_SUFFIX
from locallibrary.sessions.keys import stored_id
from locallibrary.settings import Settings
from locallibrary.web.app import create_app
from tests.db import session_rows
from tests.live_server import live_server
from tests.load import client, run_concurrently, stored_session_cookies, visits_in

SECRET = {"SECRET_KEY": "guarantees-test-secret"}


def stored(database_url: str, key: str) -> dict[str, object]:
    data, _ = session_rows(database_url)[stored_id(key)]
    loaded: dict[str, object] = json.loads(data)
    return loaded


def hundred_visits(base_url: str, database_url: str) -> None:
    cookies = stored_session_cookies(base_url)
    key = cookies["sessionid"]
    assert stored(database_url, key)["num_visits"] == 2

    async def visit(_: int) -> int:
        async with client(base_url, cookies) as browser:
            response = await browser.get("/catalog/")
            assert response.status_code == 200
            return visits_in(response.text)

    seen = run_concurrently(100, visit)
    assert stored(database_url, key)["num_visits"] == 102
    assert max(seen) <= 102


def test_100_concurrent_visits_with_one_cookie_all_count(database_url: str) -> None:
    with live_server({"DATABASE_URL": database_url, **SECRET}) as server:
        hundred_visits(server.url, database_url)


def test_100_concurrent_visits_across_two_workers_on_one_sqlite_file(
    databases_factory: object,
) -> None:
    database_url = databases_factory.new("sqlite")  # type: ignore[attr-defined]
    with live_server({"DATABASE_URL": database_url, **SECRET}, ["--workers", "2"]) as server:
        hundred_visits(server.url, database_url)


def test_concurrent_changes_to_different_keys_all_stay(database_url: str) -> None:
    with live_server({"DATABASE_URL": database_url, **SECRET}) as server:
        cookies = stored_session_cookies(server.url)
        book_hrefs = [f"/catalog/book/{n}" for n in range(1, 6)]

        async def act(i: int) -> None:
            async with client(server.url, cookies) as browser:
                if i == 0:
                    response = await browser.post(
                        "/catalog/preferences/per-page", data={"per_page": "50", "list": "books"}
                    )
                elif i == 1:
                    response = await browser.post("/catalog/notice/dismiss", data={"next": "/"})
                elif i < 7:
                    response = await browser.get(book_hrefs[i - 2])
                else:
                    response = await browser.get("/catalog/")
                assert response.status_code in (200, 303)

        run_concurrently(40, act)
        data = stored(database_url, cookies["sessionid"])
        assert data["per_page"] == 50
        assert data["notice_dismissed"] is True
        assert data["num_visits"] == 2 + 33
        assert isinstance(data["recently_viewed"], list) and len(data["recently_viewed"]) >= 1


def test_10000_cookieless_requests_leave_no_rows(database_url: str) -> None:
    with live_server({"DATABASE_URL": database_url, **SECRET}) as server:

        async def crawl(worker: int) -> int:
            ok = 0
            async with client(server.url, connections=1) as crawler:
                for _ in range(500):
                    crawler.cookies.clear()
                    response = await crawler.get("/catalog/")
                    ok += response.status_code == 200
            return ok

        assert sum(run_concurrently(20, crawl)) == 10_000
        assert len(session_rows(database_url)) <= 5
        # A real browser's counter still works from its first visit.
        with httpx.Client(base_url=server.url) as browser:
            assert visits_in(browser.get("/catalog/").text) == 1
            assert visits_in(browser.get("/catalog/").text) == 2
            assert visits_in(browser.get("/catalog/").text) == 3


def test_sigkill_during_writes_loses_no_acknowledged_write(databases_factory: object) -> None:
    database_url = databases_factory.new("sqlite")  # type: ignore[attr-defined]
    path = Path(database_url.removeprefix("sqlite:///"))
    with live_server({"DATABASE_URL": database_url, **SECRET}) as server:
        browsers = [stored_session_cookies(server.url) for _ in range(20)]
        acknowledged: dict[str, int] = {}
        stop = threading.Event()

        async def browse(i: int) -> None:
            key = browsers[i]["sessionid"]
            async with client(server.url, browsers[i], connections=1) as browser:
                while not stop.is_set():
                    try:
                        response = await browser.get("/catalog/")
                    except httpx.TransportError:
                        return  # the server is gone: this request was never acknowledged
                    acknowledged[key] = visits_in(response.text)

        def kill_after_some_writes() -> None:
            deadline = time.monotonic() + 20
            while sum(acknowledged.values()) < 20 * 2 + 400 and time.monotonic() < deadline:
                time.sleep(0.01)  # watching the load, bounded by the deadline
            server.process.send_signal(signal.SIGKILL)
            stop.set()

        killer = threading.Thread(target=kill_after_some_writes)
        killer.start()
        run_concurrently(len(browsers), browse)
        killer.join()
        assert server.process.wait(timeout=10) == -signal.SIGKILL

    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = dict(db.execute("SELECT key, data FROM sessions").fetchall())
    assert sum(acknowledged.values()) >= 400
    for key, visits in acknowledged.items():
        assert json.loads(rows[stored_id(key)])["num_visits"] >= visits, key


def test_a_locked_sqlite_database_gives_a_503_and_then_recovers(databases_factory: object) -> None:
    database_url = databases_factory.new("sqlite")  # type: ignore[attr-defined]
    settings = Settings(database_url=database_url, secret_key="s", database_busy_timeout=0.2)
    with TestClient(create_app(settings), raise_server_exceptions=False) as browser:
        browser.get("/catalog/")
        browser.get("/catalog/")
        key = browser.cookies["sessionid"]
        blocker = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock past the timeout
        try:
            response = browser.get("/catalog/")
            assert response.status_code == 503
            assert response.headers["retry-after"] == "5"
            assert "briefly unavailable" in response.text
            assert "Traceback" not in response.text
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        assert stored(database_url, key)["num_visits"] == 2, "the failed request changed nothing"
        assert visits_in(browser.get("/catalog/").text) == 3


def test_a_writers_lock_file_that_cannot_be_opened_gives_a_503_and_then_recovers(
    databases_factory: object, tmp_path: Path
) -> None:
    database_url = databases_factory.new("sqlite")  # type: ignore[attr-defined]
    lock = Path(database_url.removeprefix("sqlite:///") + WRITER_SUFFIX)
    lock.symlink_to(tmp_path / "no such directory" / "lock")  # its file cannot be made
    settings = Settings(database_url=database_url, secret_key="s")
    with TestClient(create_app(settings), raise_server_exceptions=False) as browser:
        assert visits_in(browser.get("/catalog/").text) == 1  # kept in the cookie: no write
        response = browser.get("/catalog/")  # the browser came back: its session is stored
        assert response.status_code == 503
        assert "briefly unavailable" in response.text
        assert "Traceback" not in response.text
        assert session_rows(database_url) == {}

        lock.unlink()
        assert visits_in(browser.get("/catalog/").text) == 2
        assert stored(database_url, browser.cookies["sessionid"])["num_visits"] == 2


def test_a_restarted_postgresql_gives_a_503_and_then_recovers(
    databases_factory: object, postgres_server: object
) -> None:
    database_url = databases_factory.new("postgresql")  # type: ignore[attr-defined]
    server = postgres_server.get()  # type: ignore[attr-defined]
    settings = Settings(database_url=database_url, secret_key="s")
    with TestClient(create_app(settings), raise_server_exceptions=False) as browser:
        browser.get("/catalog/")
        browser.get("/catalog/")
        server.stop()
        try:
            response = browser.get("/catalog/")
            assert response.status_code == 503
            assert "briefly unavailable" in response.text
            assert browser.get("/healthz").status_code == 503
        finally:
            server.start()
        assert browser.get("/healthz").status_code == 200
        assert visits_in(browser.get("/catalog/").text) == 3


STREAM_SECONDS = 6


def test_expired_sessions_do_not_pile_up(database_url: str) -> None:
    env = {
        "DATABASE_URL": database_url,
        "SESSION_COOKIE_AGE": "1",
        "SESSION_CLEANUP_SECONDS": "0.25",
        **SECRET,
    }
    with live_server(env) as server:
        created = 0
        samples: list[int] = []
        started = time.monotonic()

        async def new_browsers(_: int) -> None:
            nonlocal created
            while time.monotonic() - started < STREAM_SECONDS:
                async with client(server.url, connections=1) as browser:
                    await browser.get("/catalog/")
                    await browser.get("/catalog/")  # the session is stored now
                created += 1

        async def sample(_: int) -> None:
            while time.monotonic() - started < STREAM_SECONDS:
                samples.append(len(await asyncio.to_thread(session_rows, database_url)))
                await asyncio.sleep(0.25)  # the sampling period, not a wait for a result

        async def stream(i: int) -> None:
            await (sample(i) if i == 0 else new_browsers(i))

        run_concurrently(9, stream)
        rate = created / (time.monotonic() - started)
        # Live rows at any moment: those of the last second (their age) plus one clean-up round.
        bound = rate * (1 + 0.25) * 1.5 + 5
        assert created > 2 * bound, "the stream must outgrow the bound without clean-up"
        assert max(samples[len(samples) // 2 :]) <= bound, samples
