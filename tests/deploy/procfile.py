"""Run the Procfile's processes the way a Heroku-style platform does, through honcho.

honcho (a Foreman clone) reads the repository's own `Procfile` and runs a process type through
`/bin/sh -c`, in a session of its own, relaying its output with a `name.1 | ` prefix. Each run
here gets its own process group too, so that whatever is left can be killed at the end.
"""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2 as httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PROCFILE = REPO_ROOT / "Procfile"
# Where this virtualenv keeps `locallibrary` and `uvicorn`, which the Procfile calls by name.
SCRIPTS = Path(sysconfig.get_path("scripts"))
STARTUP_SECONDS = 20.0
RELEASE_SECONDS = 120.0
# The app's settings (README) and honcho's own variables: none may leak in from the test run.
INHERITED_SETTINGS = {
    "DATABASE_URL",
    "DEBUG",
    "SECRET_KEY",
    "COUNTS_POLL_SECONDS",
    "DATABASE_BUSY_TIMEOUT",
    "SITE_NOTICE",
    "SESSION_COOKIE_NAME",
    "SESSION_COOKIE_AGE",
    "SESSION_COOKIE_SECURE",
    "SESSION_SAVE_EVERY_REQUEST",
    "SESSION_MAX_BYTES",
    "SESSION_CLEANUP_SECONDS",
    "PORT",
    "PROCFILE",
}
STARTED = re.compile(r"\| (?P<name>\S+) started \(pid=(?P<pid>\d+)\)$", re.MULTILINE)


def platform_env(**config: str) -> dict[str, str]:
    """The environment a platform gives the processes: its config vars, our tools on PATH."""
    env = {key: value for key, value in os.environ.items() if key not in INHERITED_SETTINGS}
    env["PATH"] = os.pathsep.join([str(SCRIPTS), env.get("PATH", os.defpath)])
    env.update(config)
    return env


@dataclass
class Honcho:
    process: subprocess.Popen[bytes]
    log: tempfile._TemporaryFileWrapper[bytes]

    def output(self) -> str:
        """Everything honcho printed so far: its own lines and its processes' prefixed output."""
        self.log.flush()
        return Path(self.log.name).read_text(encoding="utf-8", errors="replace")

    def lines_of(self, name: str) -> list[str]:
        """The output lines of process `name` (e.g. `web.1`) without honcho's prefix."""
        prefix = re.compile(rf"^\d\d:\d\d:\d\d {re.escape(name)} +\| ")
        return [prefix.sub("", line) for line in self.output().splitlines() if prefix.match(line)]

    def shows(self, name: str, needle: str, timeout: float = 5.0) -> bool:
        """Whether a line of process `name` contains `needle`, waiting a little for it: output
        reaches honcho's log through a pipe and a queue, after the HTTP response it is about."""
        deadline = time.monotonic() + timeout
        while not any(needle in line for line in self.lines_of(name)):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)  # waiting for the relayed line, bounded by the deadline
        return True

    def wait(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"honcho did not exit within {timeout} s:\n{self.output()}"
            ) from None

    def kill_everything_left(self) -> None:
        """Last resort: SIGKILL honcho's group and the group of every process it started that it
        has not seen stop (honcho starts each in a new session, outside its own group)."""
        groups = [self.process.pid]
        output = self.output()
        for match in STARTED.finditer(output):
            if f"| {match['name']} stopped (rc=" not in output:
                groups.append(int(match["pid"]))
        for group in groups:
            try:
                os.killpg(group, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass  # already gone
        self.process.wait()


@contextmanager
def honcho(arguments: Sequence[str], env: dict[str, str]) -> Iterator[Honcho]:
    """Run `honcho <arguments>` on the repository's Procfile, from the repository's root (where
    a platform runs the slug), with `env`. No `.env` file is read: a platform has none, and a
    developer's would leak their settings (or a PORT that beats `-p`) into the test."""
    if importlib.util.find_spec("honcho") is None:
        pytest.fail("honcho is not installed: it is a dev dependency (pip install honcho)")
    # Files, not pipes: a pipe nobody reads would fill up and stall the processes.
    with (
        tempfile.NamedTemporaryFile(prefix="locallibrary-honcho-", suffix=".log") as log,
        tempfile.NamedTemporaryFile(prefix="locallibrary-empty-", suffix=".env") as no_env,
    ):
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "honcho",
                "--no-colour",
                "--app-root",
                str(REPO_ROOT),
                "--procfile",
                str(PROCFILE),
                "--env",
                no_env.name,
                *arguments,
            ],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        running = Honcho(process, log)
        try:
            yield running
        finally:
            running.kill_everything_left()


def release(env: dict[str, str]) -> tuple[int, str, list[str]]:
    """Run the `release` process to completion: honcho's exit status, its whole output, and the
    lines the release command printed."""
    with honcho(["start", "release"], env) as run:
        returncode = run.wait(RELEASE_SECONDS)
        return returncode, run.output(), run.lines_of("release.1")


@contextmanager
def web(env: dict[str, str], port: int) -> Iterator[Honcho]:
    """Start the `web` process on `port` and wait until `/healthz` answers 200.

    The port goes both ways honcho takes one, `-p` and `PORT`; `-p` beats the environment, and
    only a PORT in a `.env` file would beat `-p` (none is read)."""
    with honcho(["start", "--port", str(port), "web"], {**env, "PORT": str(port)}) as run:
        wait_until_ready(run, f"http://127.0.0.1:{port}")
        yield run


def wait_until_ready(run: Honcho, url: str) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    with httpx.Client(verify=False, trust_env=False, timeout=1.0) as client:
        while time.monotonic() < deadline:
            if run.process.poll() is not None:
                raise AssertionError(
                    f"honcho exited with {run.process.returncode}:\n{run.output()}"
                )
            try:
                if client.get(f"{url}/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)  # polling for readiness, bounded by the deadline
    raise AssertionError(
        f"the web process did not answer within {STARTUP_SECONDS} s:\n{run.output()}"
    )


def stop(run: Honcho, timeout: float = 10.0) -> int:
    """What a platform does to stop a dyno: SIGTERM, then wait. Returns honcho's exit status."""
    run.process.send_signal(signal.SIGTERM)
    return run.wait(timeout)
