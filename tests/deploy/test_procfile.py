"""The Procfile, run as a Heroku-style platform runs it (through honcho): `release` against a
fresh, empty database, then `web` on the platform's PORT, checked over real HTTP.

Only the environment a platform sets is given: DATABASE_URL, SECRET_KEY and PORT (DEBUG unset).
"""

from __future__ import annotations

import re

import httpx2 as httpx

from tests.conftest import DatabaseFactory
from tests.db import sql
from tests.deploy.procfile import Honcho, platform_env, release, stop, web
from tests.html import parse, text
from tests.postgres_server import free_port

SECRET_KEY = "deploy-test-secret"
COUNTS = ["books", "copies", "copies_available", "authors", "genres"]


def release_succeeds(env: dict[str, str]) -> None:
    returncode, output, lines = release(env)
    assert returncode == 0, output
    assert "| release.1 stopped (rc=0)" in output, output
    assert any(
        line.startswith("Database ") and line.endswith(" is up to date.") for line in lines
    ), output
    assert "Traceback" not in output, output


def test_release_migrates_a_fresh_empty_database_and_can_run_again(
    databases_factory: DatabaseFactory, database_kind: str
) -> None:
    database_url = databases_factory.new(database_kind, migrated=False)
    env = platform_env(DATABASE_URL=database_url, SECRET_KEY=SECRET_KEY)

    release_succeeds(env)
    version = sql(database_url, "SELECT version_num FROM alembic_version")
    assert len(version) == 1
    assert sql(database_url, "SELECT count(*) FROM catalog_book") == [(0,)]  # migrated, not seeded

    release_succeeds(env)  # every deploy runs it again: a no-op on an up-to-date schema
    assert sql(database_url, "SELECT version_num FROM alembic_version") == version


def test_web_serves_the_empty_catalog_on_the_platform_port_and_stops_on_sigterm(
    databases_factory: DatabaseFactory, database_kind: str
) -> None:
    database_url = databases_factory.new(database_kind, migrated=False)
    env = platform_env(DATABASE_URL=database_url, SECRET_KEY=SECRET_KEY)
    release_succeeds(env)

    port = free_port()
    with web(env, port) as run:
        # Our port won over honcho's own (5000): uvicorn says where it listens.
        assert run.shows("web.1", f"Uvicorn running on http://0.0.0.0:{port}"), run.output()

        check_the_site(f"http://127.0.0.1:{port}", run)

        returncode = stop(run)
        output = run.output()
        # honcho exits with 143 (128 + SIGTERM) when it was told to stop, as a platform does.
        assert returncode == 143, output
        assert "SIGKILL" not in output, output  # uvicorn stopped within honcho's grace period
        web_lines = run.lines_of("web.1")
        assert any("Finished server process" in line for line in web_lines), output
        assert "Traceback" not in output, output
        # `sh -c` (dash) does not exec uvicorn: the shell dies of the SIGTERM (-15) while uvicorn
        # shuts down gracefully; with `exec` in the Procfile it would be uvicorn's own 0.
        stopped = re.search(r"\| web\.1 stopped \(rc=(-?\d+)\)", output)
        assert stopped is not None and stopped[1] in {"0", "-15"}, output
    with httpx.Client(verify=False, trust_env=False, timeout=1.0) as client:
        try:
            client.get(f"http://127.0.0.1:{port}/healthz")
        except httpx.TransportError:
            pass
        else:
            raise AssertionError(f"something still answers on port {port} after the stop")


def check_the_site(base_url: str, run: Honcho) -> None:
    with httpx.Client(base_url=base_url, verify=False, trust_env=False, timeout=10.0) as browser:
        home = browser.get("/")
        assert home.is_redirect, (home.status_code, run.output())
        assert httpx.URL(home.headers["location"]).path == "/catalog/"

        for visit in (1, 2, 3):
            page = browser.get("/catalog/")
            assert page.status_code == 200, (page.status_code, page.text, run.output())
            tree = parse(page.text)
            counts = {name: text(tree.css_first(f"[data-count={name}]")) for name in COUNTS}
            assert counts == dict.fromkeys(COUNTS, "0")  # release migrates; nothing seeds
            expected = f"You have visited this page {visit} time{'' if visit == 1 else 's'}."
            assert text(tree.css_first(".visits")) == expected
        assert "server" not in page.headers  # --no-server-header

        # Every stylesheet, script and icon the page links to is served (htmx included).
        assets = [node.attributes.get("href") for node in tree.css("link[href]")]
        assets += [node.attributes.get("src") for node in tree.css("script[src]")]
        assert assets
        for asset in assets:
            assert asset is not None
            assert browser.get(asset).status_code == 200, asset

        assert browser.get("/catalog/books/").status_code == 200
        stylesheet = browser.get("/static/css/site.css")
        assert stylesheet.status_code == 200
        assert stylesheet.headers["content-type"].startswith("text/css")
        health = browser.get("/healthz")
        assert (health.status_code, health.text) == (200, "ok\n")

    # --proxy-headers with --forwarded-allow-ips '*': the platform's router says HTTPS.
    with httpx.Client(base_url=base_url, verify=False, trust_env=False, timeout=10.0) as visitor:
        plain = visitor.get("/catalog/")
        assert "secure" not in plain.headers["set-cookie"].lower()
    with httpx.Client(base_url=base_url, verify=False, trust_env=False, timeout=10.0) as visitor:
        proxied = visitor.get(
            "/catalog/", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
        )
        assert proxied.status_code == 200
        assert "secure" in proxied.headers["set-cookie"].lower()
    # The access log names the client the router saw, not the router.
    assert run.shows("web.1", '203.0.113.7:0 - "GET /catalog/ HTTP/1.1" 200'), run.output()
