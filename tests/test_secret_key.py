"""The site's secret: without SECRET_KEY, one key stored in the database and used by every worker,
across restarts; with SECRET_KEY, that key, and nothing stored. The log says which, never the key.

The live tests start real servers (one uvicorn worker each) on one database, and carry a new
visitor's signed companion cookie from one to another.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import httpx2 as httpx
import pytest
from starlette.testclient import TestClient

from locallibrary.database import connect, create_database
from locallibrary.secret_key import SiteSecret
from locallibrary.settings import Settings
from locallibrary.web.app import create_app
from tests.db import sql, with_database
from tests.live_server import LiveServer, live_server
from tests.load import visits_in

STORED_KEYS = "SELECT name, value FROM site_secrets"


class SiteLog(logging.Handler):
    """The messages of the site's logger, heard on the logger itself: it may not propagate to
    the root, where caplog listens (the app's configure_logging turns that off)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def site_log() -> Iterator[SiteLog]:
    logger = logging.getLogger("locallibrary")
    handler, level = SiteLog(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def loaded(database_url: str, explicit: str | None = None) -> SiteSecret:
    secret = SiteSecret(explicit)
    with_database(database_url, secret.load)
    return secret


def test_the_first_start_stores_a_key_and_every_later_start_uses_it(
    database_url: str, site_log: SiteLog
) -> None:
    first = loaded(database_url)
    assert len(first.value) >= 32
    assert sql(database_url, STORED_KEYS) == [("secret_key", first.value)]
    assert loaded(database_url).value == first.value
    assert site_log.messages == [
        "SECRET_KEY is unset: signing with a new key, now stored in the database.",
        "SECRET_KEY is unset: signing with the key stored in the database.",
    ]
    assert first.value not in "\n".join(site_log.messages)


def test_workers_starting_at_once_agree_on_one_key(database_url: str) -> None:
    async def start_at_once() -> list[str]:
        databases = [create_database(database_url) for _ in range(8)]  # a connection each
        await asyncio.gather(*(connect(database) for database in databases))
        secrets = [SiteSecret() for _ in databases]
        try:
            await asyncio.gather(*(s.load(d) for s, d in zip(secrets, databases, strict=True)))
        finally:
            await asyncio.gather(*(database.disconnect() for database in databases))
        return [secret.value for secret in secrets]

    values = asyncio.run(start_at_once())
    assert len(set(values)) == 1
    assert sql(database_url, STORED_KEYS) == [("secret_key", values[0])]


def test_an_explicit_key_wins_over_the_stored_one_and_is_never_stored(
    database_url: str, site_log: SiteLog
) -> None:
    assert loaded(database_url, explicit="the-explicit-key").value == "the-explicit-key"
    assert sql(database_url, STORED_KEYS) == []
    stored = loaded(database_url).value
    assert loaded(database_url, explicit="the-explicit-key").value == "the-explicit-key"
    assert sql(database_url, STORED_KEYS) == [("secret_key", stored)]
    assert site_log.messages[0] == "Signing with SECRET_KEY from the settings."
    assert "the-explicit-key" not in "\n".join(site_log.messages)


def test_the_stored_key_cannot_be_read_before_start_up() -> None:
    with pytest.raises(RuntimeError, match="before start-up"):
        SiteSecret().value  # noqa: B018 (the read is the test)
    assert SiteSecret("explicit").value == "explicit", "an explicit key needs no start-up"


def test_the_app_loads_the_stored_key_at_start_up_for_the_web_layer(database_url: str) -> None:
    app = create_app(Settings(database_url=database_url))
    with TestClient(app):
        [(_, key)] = sql(database_url, STORED_KEYS)
        assert app.state.secret.value == key


# -- real servers ------------------------------------------------------------------------------


def first_visit(worker: LiveServer) -> dict[str, str]:
    """A new visitor's cookies after its first visit: the key and the signed companion."""
    response = httpx.get(f"{worker.url}/catalog/")
    assert visits_in(response.text) == 1
    cookies = dict(response.cookies)
    assert set(cookies) == {"sessionid", "sessionid_new"}
    return cookies


def visits_on(worker: LiveServer, cookies: dict[str, str]) -> int:
    """The visit counter `worker` shows: 2 if it took the companion as signed by the site."""
    response = httpx.get(f"{worker.url}/catalog/", cookies=cookies)
    assert response.status_code == 200
    return visits_in(response.text)


@pytest.fixture
def unset_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The servers get our environment: make sure that SECRET_KEY is not in it."""
    monkeypatch.delenv("SECRET_KEY", raising=False)


def site_lines(output: str) -> list[str]:
    """The site's own lines in a server's output (uvicorn's are not about the site)."""
    return [line for line in output.splitlines() if " locallibrary: " in line]


@pytest.mark.usefixtures("unset_secret_key")
def test_without_secret_key_a_cookie_signed_by_one_worker_verifies_on_another_and_after_a_restart(
    database_url: str,
) -> None:
    env = {"DATABASE_URL": database_url}
    with live_server(env) as first, live_server(env) as second:
        cookies = first_visit(first)
        assert visits_on(second, cookies) == 2
        kept = first_visit(second)  # carried across the restart below
        outputs = [first.output(), second.output()]
    with live_server(env) as restarted:
        assert visits_on(restarted, kept) == 2
        outputs.append(restarted.output())
    logs = [site_lines(output) for output in outputs]
    assert logs == [
        [
            "INFO      locallibrary: SECRET_KEY is unset: signing with a new key, now stored in the database."
        ],
        [
            "INFO      locallibrary: SECRET_KEY is unset: signing with the key stored in the database."
        ],
        [
            "INFO      locallibrary: SECRET_KEY is unset: signing with the key stored in the database."
        ],
    ]
    [(_, key)] = sql(database_url, STORED_KEYS)
    assert not any(key in output for output in outputs)


@pytest.mark.usefixtures("unset_secret_key")
def test_with_secret_key_the_stored_key_is_not_used_and_nothing_is_stored(
    database_url: str,
) -> None:
    explicit_key = "explicit-live-secret-0123456789"
    explicit_env = {"DATABASE_URL": database_url, "SECRET_KEY": explicit_key}
    with live_server(explicit_env) as explicit:
        cookies = first_visit(explicit)
        assert visits_on(explicit, cookies) == 2, "its own companion verifies"
        assert sql(database_url, STORED_KEYS) == []
        with live_server({"DATABASE_URL": database_url}) as stored:
            assert sql(database_url, STORED_KEYS) != [], "the other worker stored a key"
            assert visits_on(explicit, first_visit(stored)) == 1, "not signed with its key"
            assert visits_on(stored, first_visit(explicit)) == 1, "nor the other way"
        log = explicit.output()
    assert site_lines(log) == ["INFO      locallibrary: Signing with SECRET_KEY from the settings."]
    assert explicit_key not in log
