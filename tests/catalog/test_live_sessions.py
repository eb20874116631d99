"""Sessions on the real server: HTTPS behind a proxy, and the background clean-up."""

from __future__ import annotations

import time

import httpx2 as httpx

from tests.db import session_rows, sql
from tests.live_server import live_server


def test_cookie_is_secure_when_the_proxy_says_https(database_url: str) -> None:
    with live_server({"DATABASE_URL": database_url}, ["--proxy-headers"]) as server:
        plain = httpx.get(f"{server.url}/catalog/")
        assert "Secure" not in plain.headers["set-cookie"]
        proxied = httpx.get(f"{server.url}/catalog/", headers={"X-Forwarded-Proto": "https"})
        assert "Secure" in proxied.headers["set-cookie"]


def test_the_server_removes_expired_sessions_in_the_background(database_url: str) -> None:
    now = int(time.time())
    sql(
        database_url,
        "INSERT INTO sessions (key, data, expires_at) VALUES (:k, '{}', :e)",
        k="e" * 32,
        e=now - 5,
    )
    sql(
        database_url,
        "INSERT INTO sessions (key, data, expires_at) VALUES (:k, '{}', :e)",
        k="l" * 32,
        e=now + 3600,
    )
    env = {"DATABASE_URL": database_url, "SESSION_CLEANUP_SECONDS": "0.2"}
    with live_server(env):
        deadline = time.monotonic() + 10
        while "e" * 32 in session_rows(database_url) and time.monotonic() < deadline:
            time.sleep(0.1)  # waiting for the clean-up, bounded by the deadline
        assert list(session_rows(database_url)) == ["l" * 32]
