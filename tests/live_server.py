"""The real server (uvicorn in its own process) on a free loopback port, for tests over real HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx

from tests.postgres_server import free_port

STARTUP_SECONDS = 20.0


@dataclass
class LiveServer:
    url: str
    process: subprocess.Popen[bytes]
    log: tempfile._TemporaryFileWrapper[bytes]

    def output(self) -> str:
        """What the server printed so far (its access and error log)."""
        self.log.flush()
        return Path(self.log.name).read_text(encoding="utf-8", errors="replace")


SITE = "locallibrary.web.app:create_app"


def uvicorn_command(port: int, *extra: str, factory: str = SITE) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        factory,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        *extra,
    ]


@contextmanager
def live_server(
    env: dict[str, str], extra_args: Sequence[str] = (), factory: str = SITE
) -> Iterator[LiveServer]:
    """Start uvicorn with `env` on top of ours, wait until it answers, stop it afterwards;
    `factory` is the app factory it serves (the site's, or a test's that adds to it)."""
    port = free_port()
    # A file, not a pipe: a pipe nobody reads would fill up and stall the server.
    with tempfile.NamedTemporaryFile(prefix="locallibrary-server-", suffix=".log") as log:
        process = subprocess.Popen(
            uvicorn_command(port, *extra_args, factory=factory),
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        server = LiveServer(f"http://127.0.0.1:{port}", process, log)
        try:
            wait_until_ready(server)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_until_ready(server: LiveServer) -> None:
    url, process = server.url, server.process
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode}:\n{server.output()}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)  # polling for readiness, bounded by the deadline
    raise AssertionError(f"the server did not answer within {STARTUP_SECONDS} s")
