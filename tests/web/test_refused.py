"""A site whose settings cannot be used does not start: one line from the server, no traceback."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from locallibrary.web.app import create_app
from tests.live_server import uvicorn_command
from tests.postgres_server import free_port

REASON = (
    "SECRET_KEY is set but empty: set it to a long random value, "
    "or unset it to use the key stored in the database."
)


def start_errors(tmp_path: Path, **env: str) -> list[str]:
    """The server's ERROR lines when started with `env`, once it has exited (it must)."""
    database = tmp_path / "site.sqlite3"
    result = subprocess.run(
        uvicorn_command(free_port()),
        env={**os.environ, "DATABASE_URL": f"sqlite:///{database}", **env},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    return [line for line in result.stderr.splitlines() if line.startswith("ERROR")]


def test_an_empty_secret_key_fails_the_server_start_in_one_line(tmp_path: Path) -> None:
    errors = start_errors(tmp_path, SECRET_KEY="")
    assert errors == [f"ERROR:    {REASON}", "ERROR:    Application startup failed. Exiting."]


def test_a_mail_url_that_names_no_mailer_fails_the_server_start_in_one_line(
    tmp_path: Path,
) -> None:
    errors = start_errors(tmp_path, MAIL_URL="smtp://desk:hunter2@mail.example.org:port")
    assert errors == [
        "ERROR:    MAIL_URL 'smtp://desk:***@mail.example.org:port' has a port that is not a "
        "number from 0 to 65535: use smtp://user:password@host:port, "
        "smtps://user:password@host:port or file:PATH",
        "ERROR:    Application startup failed. Exiting.",
    ]


def test_without_lifespan_events_every_request_gets_a_503(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SECRET_KEY", " ")
    monkeypatch.chdir(tmp_path)
    client = TestClient(create_app())  # not entered: no lifespan, as with --lifespan off
    for path in ("/catalog/", "/healthz", "/static/css/site.css"):
        response = client.get(path)
        assert response.status_code == 503
        assert "not configured" in response.text
