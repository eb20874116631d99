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


def test_sigterm_answers_the_request_in_flight_then_exits_cleanly(database_url: str) -> None:
    """A request whose head the server has read when shutdown begins is still answered.

    The request is held in flight by sending its body in two parts, the second only once the
    server says it is shutting down.
    """
    import signal
    import socket
    import time
    from urllib.parse import urlsplit

    with live_server({"DATABASE_URL": database_url, "SECRET_KEY": "s"}) as server:
        address = urlsplit(server.url)
        body = b"list=books&per_page=25"
        head = (
            "POST /catalog/preferences/per-page HTTP/1.1\r\n"
            f"Host: {address.netloc}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        with socket.create_connection((address.hostname, address.port), timeout=15) as held:
            held.sendall(head + body[:4])
            # A round trip on another connection: the server has read the held request's head.
            assert httpx.get(f"{server.url}/healthz").status_code == 200
            server.process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 10
            while "Shutting down" not in server.output():
                assert time.monotonic() < deadline, server.output()
                time.sleep(0.02)  # waiting for the server's log line, bounded by the deadline
            held.sendall(body[4:])
            response = b""
            while chunk := held.recv(65536):  # the server closes the connection after it
                response += chunk
        # uvicorn shuts down gracefully, then re-raises the signal it caught (as exit status).
        assert server.process.wait(timeout=15) in (0, -signal.SIGTERM)
        output = server.output()
    assert response.startswith(b"HTTP/1.1 303 "), response[:200]
    assert b"\r\nlocation: /catalog/books/\r\n" in response.lower()
    assert "Application shutdown complete." in output
    assert "Finished server process" in output
    assert "Traceback" not in output


def test_one_access_log_line_per_request(database_url: str) -> None:
    with live_server({"DATABASE_URL": database_url}) as server:
        httpx.get(f"{server.url}/catalog/books/?page=2")
        httpx.get(f"{server.url}/no/such/page")
        log = server.output()
    assert log.count('"GET /catalog/books/?page=2 HTTP/1.1" 200') == 1
    assert log.count('"GET /no/such/page HTTP/1.1" 404') == 1


def test_a_database_not_yet_migrated_fails_start_up_in_one_line(blank_database_url: str) -> None:
    """The site reads its stored secret at start-up; on a database without the site's tables
    that is one line saying what to do, not a traceback."""
    result = subprocess.run(
        uvicorn_command(free_port()),
        env={k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
        | {"DATABASE_URL": blank_database_url},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 2, result.stderr
    assert "cannot start on the database at" in errors[0]
    assert errors[0].endswith("(is it migrated? run `locallibrary migrate`)")
    assert "Traceback" not in result.stderr
