"""Start-up and shutdown of the real server: an unreachable database is one clear line."""

from __future__ import annotations

import os
import subprocess

import httpx2 as httpx
import pytest

from tests.live_server import live_server, uvicorn_command
from tests.postgres_server import free_port


@pytest.mark.parametrize(
    "database_url",
    [
        "sqlite:////nonexistent-directory/locallibrary.sqlite3",
        f"postgresql://nobody@127.0.0.1:{free_port()}/nothing",
    ],
    ids=["sqlite-missing-directory", "postgresql-nobody-listening"],
)
def test_unreachable_database_fails_start_up_in_one_line(database_url: str) -> None:
    result = subprocess.run(
        uvicorn_command(free_port()),
        env={**os.environ, "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 2, result.stderr
    assert "cannot" in errors[0] and "the database at" in errors[0]
    assert errors[1] == "ERROR:    Application startup failed. Exiting."
    assert "Traceback" not in result.stderr


def test_the_real_server_serves_pages(database_url: str) -> None:
    with live_server({"DATABASE_URL": database_url}) as server:
        assert httpx.get(f"{server.url}/catalog/").status_code == 200
        assert httpx.get(f"{server.url}/catalog/books/?page=2").status_code == 200
        assert httpx.get(f"{server.url}/healthz").text == "ok\n"
