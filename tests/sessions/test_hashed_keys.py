"""Session keys are stored hashed: the sessions table, or a backup of it, holds no cookie.

On the real site, on SQLite and PostgreSQL: what is stored, what a stolen hash is worth, and
the rows made before migration 0005, whose keys it rewrites to their hashes.
"""

from __future__ import annotations

import time

from starlette.testclient import TestClient

from locallibrary.database.migrate import upgrade
from locallibrary.sessions.keys import stored_id
from locallibrary.settings import Settings
from locallibrary.web.app import create_app
from tests.db import sql
from tests.load import visits_in


def test_a_saved_session_leaves_its_key_nowhere_in_the_table(
    client: TestClient, database_url: str
) -> None:
    client.get("/catalog/")
    client.get("/catalog/")  # the browser came back: the session is stored now
    key = client.cookies["sessionid"]
    rows = sql(database_url, "SELECT * FROM sessions")
    assert [row[0] for row in rows] == [stored_id(key)]
    assert all(key not in str(value) for row in rows for value in row)


def test_a_cookie_holding_the_stored_hash_is_not_a_session(
    client: TestClient, database_url: str
) -> None:
    client.get("/catalog/")
    client.get("/catalog/")
    [(stolen,)] = sql(database_url, "SELECT key FROM sessions")
    client.cookies.clear()
    response = client.get("/catalog/", headers={"cookie": f"sessionid={stolen}"})
    assert visits_in(response.text) == 1
    # Not even shaped like a key, but cut to one it is a stranger too.
    response = client.get("/catalog/", headers={"cookie": f"sessionid={stolen[:32]}"})
    assert visits_in(response.text) == 1


def test_a_session_stored_before_migration_0005_still_loads_with_its_cookie(
    blank_database_url: str,
) -> None:
    upgrade(blank_database_url, "0004")
    key = "p" * 32
    sql(
        blank_database_url,
        "INSERT INTO sessions (key, data, expires_at) VALUES (:key, :data, :expires_at)",
        key=key,
        data='{"num_visits": 6}',
        expires_at=int(time.time()) + 3600,
    )
    upgrade(blank_database_url)
    assert sql(blank_database_url, "SELECT key, user_id, created_at, agent FROM sessions") == [
        (stored_id(key), None, 0, "")
    ]
    settings = Settings(database_url=blank_database_url, secret_key="migrated")
    with TestClient(create_app(settings)) as browser:
        response = browser.get("/catalog/", headers={"cookie": f"sessionid={key}"})
        assert visits_in(response.text) == 7
