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
    "or unset it for a random key per process."
)


def test_an_empty_secret_key_fails_the_server_start_in_one_line(tmp_path: Path) -> None:
    database = tmp_path / "site.sqlite3"
    env = {**os.environ, "SECRET_KEY": "", "DATABASE_URL": f"sqlite:///{database}"}
    result = subprocess.run(
        uvicorn_command(free_port()),
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
    assert errors == [f"ERROR:    {REASON}", "ERROR:    Application startup failed. Exiting."]
    assert "Traceback" not in result.stderr


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
