"""A throwaway PostgreSQL server for the benchmark, run from the machine's own binaries.

The suite's tests/postgres_server.py does the same for pytest, whose failures it raises; this
one raises PostgresError, and runs `postgres` itself as a child (not through pg_ctl, which
detaches it), so that the server dies with the benchmark even when that is killed outright.
PostgreSQL refuses to run as root: as root (CI), initdb and the server run as the `postgres`
system user, which Debian's package creates, and the directories they use are handed to it.

A cluster lives in a directory of its own: `data/` (the cluster), the server's socket and
`server.log`. A stopped cluster's directory is a complete copy of it, which the benchmark keeps
as its cache of a seeded catalog and copies for each run.
"""

from __future__ import annotations

import ctypes
import glob
import os
import pwd
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

HOST = "127.0.0.1"
READY_TIMEOUT = 60
STOP_TIMEOUT = 30
COMMAND_TIMEOUT = 120
USER = "postgres"  # the database role initdb makes, and the system user when we are root
# Seeding a cached copy needs no durability (a half-made cache is thrown away); a measured run
# keeps PostgreSQL's defaults (fsync, synchronous_commit), as a production server would.
SEEDING = ("fsync=off", "full_page_writes=off", "synchronous_commit=off")


class PostgresError(Exception):
    """A PostgreSQL step failed; the message says which, with the server's words."""


def find_bindir() -> Path | None:
    """The newest PostgreSQL bin directory that has initdb, postgres and psql."""
    candidates = [os.environ.get("PG_BINDIR", "")]
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10)
        candidates.append(out.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for candidate in filter(None, candidates):
        if all((Path(candidate) / name).exists() for name in ("initdb", "postgres", "psql")):
            return Path(candidate)
    return None


def why_unavailable() -> str | None:
    """Why no server can run here, or None when one can."""
    if find_bindir() is None:
        return "no PostgreSQL binaries (initdb, postgres, psql); install Debian's `postgresql`"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(USER)
        except KeyError:
            return f"running as root, and there is no `{USER}` user to run PostgreSQL as"
    return None


def major_version(bindir: Path) -> str:
    """'15', say: a cluster is read only by the major version that made it."""
    out = subprocess.run(
        [str(bindir / "postgres"), "--version"], capture_output=True, text=True, timeout=10
    )
    match = re.search(r"\b(\d+)\.\d+", out.stdout)
    if out.returncode != 0 or match is None:
        raise PostgresError(f"`postgres --version` said {out.stdout.strip() or out.stderr.strip()}")
    return match.group(1)


def _as_server_user(die_with_parent: bool) -> Callable[[], None]:
    """In the child before exec: become `postgres` when we are root, then, if asked, ask for a
    SIGINT (PostgreSQL's fast shutdown) when the benchmark dies. In that order: changing the
    user clears the parent-death signal."""
    user = pwd.getpwnam(USER) if os.geteuid() == 0 else None

    def preexec() -> None:
        if user is not None:
            os.setgroups([])
            os.setgid(user.pw_gid)
            os.setuid(user.pw_uid)
        if die_with_parent:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGINT)  # PR_SET_PDEATHSIG

    return preexec


def _hand_over(path: Path) -> None:
    """Give `path` and all below it to the server's user, when that is not us."""
    if os.geteuid() != 0:
        return
    user = pwd.getpwnam(USER)
    for top, dirs, files in os.walk(path):
        for name in [top, *(os.path.join(top, n) for n in dirs + files)]:
            os.chown(name, user.pw_uid, user.pw_gid, follow_symlinks=False)


class Cluster:
    """One PostgreSQL cluster in `directory`, and its server while it runs."""

    def __init__(self, bindir: Path, directory: Path) -> None:
        self.bindir = bindir
        self.directory = directory
        self.data = directory / "data"
        self.log_path = directory / "server.log"
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @classmethod
    def create(cls, bindir: Path, directory: Path) -> Cluster:
        """A new, empty cluster in `directory` (which must not exist)."""
        directory.mkdir(parents=True)
        cluster = cls(bindir, directory)
        _hand_over(directory)
        cluster._run(
            str(bindir / "initdb"),
            "-D",
            str(cluster.data),
            "-U",
            USER,
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        )
        return cluster

    @classmethod
    def copy_of(cls, bindir: Path, source: Path, directory: Path) -> Cluster:
        """A copy in `directory` of the stopped cluster in `source` (a Cluster's directory)."""
        directory.mkdir(parents=True)
        shutil.copytree(source / "data", directory / "data", symlinks=True)
        _hand_over(directory)
        return cls(bindir, directory)

    def _run(self, *argv: str) -> None:
        try:
            done = subprocess.run(
                argv,
                capture_output=True,
                text=True,
                cwd=self.directory,
                timeout=COMMAND_TIMEOUT,
                preexec_fn=_as_server_user(die_with_parent=False),
            )
        except subprocess.TimeoutExpired as error:
            raise PostgresError(f"{Path(argv[0]).name} took over {COMMAND_TIMEOUT} s") from error
        if done.returncode != 0:
            raise PostgresError(
                f"{Path(argv[0]).name} failed: {done.stderr.strip() or done.stdout.strip()}"
            )

    def start(self, port: int, settings: tuple[str, ...] = ()) -> None:
        """Run the server on 127.0.0.1:`port` (and a socket in the cluster's directory) until
        it accepts queries."""
        self.port = port
        argv = [str(self.bindir / "postgres"), "-D", str(self.data), "-p", str(port)]
        argv += ["-k", str(self.directory), "-c", f"listen_addresses={HOST}"]
        for setting in settings:
            argv += ["-c", setting]
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                argv,
                cwd=self.directory,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C reaches only the benchmark, which stops us
                preexec_fn=_as_server_user(die_with_parent=True),
            )
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_until_ready(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise PostgresError(
                    f"postgres exited with {self.proc.returncode} at start-up:\n{self.log_tail()}"
                )
            try:
                self.psql("SELECT 1")
                return
            except PostgresError:
                time.sleep(0.2)
        raise PostgresError(f"postgres did not accept queries within {READY_TIMEOUT} s")

    @property
    def pid(self) -> int | None:
        """The postmaster's process id while the server runs (its backends are its children)."""
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None

    def url(self, database: str) -> str:
        return f"postgresql://{USER}@{HOST}:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        """One statement's output, unaligned and without headers (psql -At)."""
        argv = [str(self.bindir / "psql"), "-X", "-At", "-v", "ON_ERROR_STOP=1"]
        argv += ["-h", HOST, "-p", str(self.port), "-U", USER, "-d", database, "-c", sql]
        env = {**os.environ, "PGCONNECT_TIMEOUT": "5"}
        try:
            done = subprocess.run(
                argv, capture_output=True, text=True, env=env, timeout=COMMAND_TIMEOUT
            )
        except subprocess.TimeoutExpired as error:
            raise PostgresError(f"psql took over {COMMAND_TIMEOUT} s: {sql}") from error
        if done.returncode != 0:
            raise PostgresError(f"psql failed on {sql!r}: {done.stderr.strip()}")
        return done.stdout.strip()

    def stop(self) -> None:
        """Fast shutdown (SIGINT: clients are disconnected, a checkpoint is written), then
        SIGQUIT and SIGKILL should the server not stop in time. The data is kept."""
        if self.proc is None or self.proc.poll() is not None:
            return
        for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGKILL):
            try:
                self.proc.send_signal(sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
                return
            except subprocess.TimeoutExpired:
                continue

    def remove(self) -> None:
        """Stop the server and delete the cluster's directory."""
        try:
            self.stop()
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""
