"""Benchmark of LocalLibrary's pages against a bare Starlette ceiling, with wrk over loopback.

    .venv/bin/python bench/run.py [--quick] [--sizes demo,100000] [--rows A,B] [--check]

For each catalog size it prepares a migrated and seeded SQLite file (the seeded file is cached
in bench/tmp/ by size and by a fingerprint of the schema and seed code; each run works on a
fresh copy), serves the site in production settings with one uvicorn worker on 127.0.0.1,
serves bench/ceiling.py the same way, drives each page with wrk (bench/report.lua) and prints a
Markdown table per size and a PASS/FAIL line per target. Everything, wrk's own output included,
is saved to bench/results/<UTC timestamp>.md.

Rows run size after size within each row (demo, then 100000, then the next row), against
servers that run from start to end, so that a demo/100k comparison is made seconds apart. Each
row first waits (up to --quiet-wait seconds) for other processes to leave the CPUs idle, and
reports the CPU the server and the rest of the machine used meanwhile: on a shared machine,
numbers taken while others' CPU is high are low. The ceiling is measured first and last; the
ratios are to the better of the two. After every wrk run the server is left to finish what wrk
left in flight (on a slow page, seconds of work) before anything else is measured.

Most rows ask for one URL, which the site then sends from its page cache but once a second.
What a page costs when it must be rendered is measured by rows whose path has slots that wrk
fills in on every request: {id}, a random id from the row's range (a book, a page number), and
{nonce}, a random number in a query parameter the site ignores, so that no kept page fits. Each
target compares two numbers of the same size's run: a row's requests/s with the ceiling's, or
with another row's (RATIO_TARGETS, PAIRS: the middle of the book list against page 1, both
uncached; the poll beside a crawler against the poll alone, its p99 too), a row's p99 with its
p50 (TAIL_TARGETS; beside the uncached book's, the ceiling's at that row's pace, PACED_ROWS),
or a row between the demo catalog and a larger one. --rows brings along
the rows that the chosen ones are compared with (names with commas are bracketed, so that
`--rows "poll,poll (2 workers, sqlite)"` names two rows).

The rows of two workers (WORKER_ROWS: "poll (2 workers, sqlite)", "home (returning, 2 workers,
sqlite)", and the same on postgresql) ask for the poll and the returning home page of one
browser, whose session is stored through those workers, from the site served with uvicorn's
--workers 2: on SQLite (a database file of its own) and on PostgreSQL. They run after the
one-worker rows, between two runs of "ceiling (2 workers)" (bench/ceiling.py with --workers 2),
and each is reported as a fraction of that ceiling, the ceiling as one of the one-worker
ceiling; no target yet but zero errors (and their RSS, a worker's, is not judged). Their
server CPU is the supervisor's and the workers' together, each worker's shown too: the kernel
hands wrk's connections to the workers as they accept them, not necessarily evenly.

For the PostgreSQL rows the benchmark runs a server of its own from the machine's binaries
(bench/postgres_server.py; as root, as the `postgres` user), with PostgreSQL's own settings but
the port and socket: fsync and synchronous_commit on, as in production. Its catalog is seeded
once per size and cached in bench/tmp/ as a stopped cluster; each run works on a copy, which is
deleted with the server at the end, whatever happens. PostgreSQL's CPU (its server's and
backends') is shown beside the row's and waited for after the load as the server's is.
Without PostgreSQL's binaries those rows are skipped, saying so.

"poll under crawl" runs a second wrk beside the measured one (a Crawl: 2 connections, each
asking for a random middle page of the book list and idle 50 ms after every response; its
paths are configurable, several at once if need be), from a second before the measured run
to a second after it, with a -d of its own; it is killed if the row fails. Its requests and
errors are reported under the table, and its errors count against the zero-errors target.

Exit status: 0 when the benchmark ran (whatever the targets say), 1 with --check when a target
failed, 2 when wrk is missing, other non-zero when something crashed. Servers are always
stopped (SIGTERM, then SIGKILL to the server's whole process group, its workers too; and
PostgreSQL's fast shutdown, then SIGQUIT and SIGKILL), crawlers too (SIGKILL), and every step
has a time limit. Should the benchmark itself be killed, the kernel stops its servers
(PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import http.cookiejar
import itertools
import math
import os
import platform
import re
import resource
import secrets
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
if str(BENCH) not in sys.path:  # loaded from its path (the suite does), not run as a script
    sys.path.insert(0, str(BENCH))
import postgres_server  # noqa: E402  (bench/postgres_server.py)

ROOT = BENCH.parent
PACKAGE = ROOT / "site" / "locallibrary"
TMP = BENCH / "tmp"
RESULTS = BENCH / "results"
LUA = BENCH / "report.lua"
LOANS_SCRIPT = BENCH / "lend.py"
WRK = "/usr/bin/wrk"
HOST = "127.0.0.1"  # load never leaves loopback

# Time limits, in seconds, so that no step can hang the run.
MIGRATE_TIMEOUT = 180
SEED_TIMEOUT = 1200
CREATEUSER_TIMEOUT = 60
LEND_TIMEOUT = 300
READY_TIMEOUT = 30
STOP_TIMEOUT = 10
HTTP_TIMEOUT = 10
WRK_GRACE = 30  # on top of the row's duration
CRAWL_LEAD = 1  # seconds a crawler runs before the measured load, and after it
WARM_REQUESTS = 20  # sequential requests before each row, besides the --warmup seconds
DRAIN_TIMEOUT = 120  # for the server to finish the requests a wrk run left behind
DRAIN_WINDOW, DRAIN_IDLE = 0.2, 0.10  # idle: under a tenth of a core over the window

# Settings the site reads from the environment; the benchmark clears them all so that the site
# runs on its defaults, in production mode (DEBUG unset), whatever the caller's shell holds.
# Those settings.py reads now are added to these, so that a new setting is cleared too.
SITE_SETTINGS = frozenset(
    {
        "DATABASE_URL",
        "DEBUG",
        "SECRET_KEY",
        "COUNTS_POLL_SECONDS",
        "SESSION_COOKIE_NAME",
        "SESSION_COOKIE_AGE",
        "SESSION_COOKIE_SECURE",
        "SESSION_SAVE_EVERY_REQUEST",
        "SESSION_MAX_BYTES",
        "SESSION_CLEANUP_SECONDS",
        "DATABASE_BUSY_TIMEOUT",
        "SITE_NOTICE",
    }
) | frozenset(
    re.findall(
        r'config\(\s*"([A-Z0-9_]+)"',
        (PACKAGE / "settings.py").read_text() if (PACKAGE / "settings.py").is_file() else "",
    )
)

# One browser, several workers: the polled box and the returning home page (a session read
# and a session write per request) served by WORKERS uvicorn processes, on each database, as a
# fraction of the ceiling served by as many. Reported, no target yet but zero errors.
WORKERS = 2
CEILING_WORKERS = f"ceiling ({WORKERS} workers)"
ENGINES = ("sqlite", "postgresql")
WORKER_POLL, WORKER_HOME = "poll ({} workers, {})", "home (returning, {} workers, {})"
WORKER_ROWS = tuple(
    row.format(WORKERS, engine) for row in (WORKER_POLL, WORKER_HOME) for engine in ENGINES
)
PG_DATABASE = "locallibrary"

# The search rows' queries, each found in the demo catalog and the synthetic one (or in neither):
# as a page with the returning browser's cookie, and the prefix as htmx asks while one types.
SEARCH_QUERIES = {
    "one word": "peace",
    "two words": "war peace",
    "prefix of three letters": "dra",
    "no results": "qwxzvk",
}
SEARCH_ROWS = tuple(f"search ({kind})" for kind in SEARCH_QUERIES)
SEARCH_CRAWL = "poll under search crawl"
# What the search crawler asks for: common and rare words, prefixes, several words, nothing.
CRAWL_QUERIES = ("the", "lo", "dra", "war peace", "peace", "tolkien", "the pic", "qwxzvk")
# The loans' pages, which no cache keeps: a patron's own loans, and the librarian's first page
# of every open loan. Their loans are lent in the run's copy (bench/lend.py), only when one of
# these rows runs, so that the other rows' preparation does not wait for them.
MY_LOANS = "my borrowed books"
ALL_BORROWED = "all borrowed"
LOAN_ROWS = (MY_LOANS, ALL_BORROWED)

# Targets: the site's requests/s as a fraction of the ceiling's, measured in the same run.
RATIO_TARGETS = (
    ("poll", ("poll",), 0.40),
    ("home (returning)", ("home (returning)",), 0.20),
    ("book list", ("book list p1", "book list deep"), 0.25),
    ("book detail", ("book detail",), 0.25),
    ("search", SEARCH_ROWS, 0.15),
    (MY_LOANS, (MY_LOANS,), 0.15),
    (ALL_BORROWED, (ALL_BORROWED,), 0.15),
)
# A signed-in browser: its pages as an anonymous browser's, but a request also reads the
# session's user, and its pages are kept per user. Each is measured right after the anonymous
# row it is compared with (PAIRS), so that the two are taken seconds apart.
HOME_SIGNED_IN = "home (signed in)"
LIST_SIGNED_IN = "book list p1 (signed in)"
DETAIL_SIGNED_IN = "book detail (signed in)"
ROW_NAMES = (
    "home (returning)",
    HOME_SIGNED_IN,
    "home (first visit)",
    "poll",
    "poll under crawl",
    "book list p1",
    LIST_SIGNED_IN,
    "book list (middle)",
    "book list deep",
    "book detail",
    DETAIL_SIGNED_IN,
    "book detail (any book)",
    "book list p1 (uncached)",
    "book list (any middle page)",
    *SEARCH_ROWS,
    SEARCH_CRAWL,
    *LOAN_ROWS,
    *WORKER_ROWS,
)
# A different book on every request: what a page costs when it is not in the page cache. On the
# demo catalog every book fits in that cache, so this row has no rate target and is not compared
# between sizes; its tail is a target (TAIL_TARGETS).
ANY_BOOK = "book detail (any book)"


@dataclass(frozen=True)
class Pair:
    """Two rows of one size's run compared: `row`'s requests/s as a fraction of `reference`'s
    (at least `bound`), or with `metric` "p99" its p99 as a multiple of the reference's (at
    most `bound`). One that is no target is reported beside the targets, with `why`."""

    row: str
    reference: str
    bound: float
    metric: str = "req/s"
    target: bool = True
    why: str = ""


PAIRS = (
    # A fixed URL is rendered once per CATALOG_CACHE_SECONDS and then sent from memory, so the
    # cached pair hides what a page number costs; the uncached pair renders on every request.
    Pair("book list (any middle page)", "book list p1 (uncached)", 0.90),
    # A crawler of uncached list pages must not take the poll's place on the event loop.
    Pair("poll under crawl", "poll", 0.80),
    Pair("poll under crawl", "poll", 2.0, metric="p99"),
    # Being signed in costs a read of the user per request, not a page rendered per request.
    Pair(HOME_SIGNED_IN, "home (returning)", 0.80),
    Pair(LIST_SIGNED_IN, "book list p1", 0.80),
    Pair(DETAIL_SIGNED_IN, "book detail", 0.80),
    # Nor a crawler of searches, each of which the site runs afresh (off the event loop).
    Pair(SEARCH_CRAWL, "poll", 0.80),
    Pair(SEARCH_CRAWL, "poll", 2.0, metric="p99"),
    Pair(
        "book list (middle)",
        "book list p1",
        0.90,
        target=False,
        why="both mostly sent from the page cache, which hides what a page number costs; "
        "the uncached pair is the target",
    ),
)
# The row's p99 at most this many times its p50.
TAIL_TARGETS = ((ANY_BOOK, 5.0), *((row, 5.0) for row in SEARCH_ROWS))
# Beside the uncached book's tail, the ceiling's at its pace (bench/ceiling.py's /paced): the
# bare app holding the loop as long as one of the row's requests takes, with a body of its size. It
# is the tail that uvicorn, the kernel and wrk's 32 connections give at that pace by themselves.
# Reported, not a target. (The search rows work off the loop, which a busy loop does not mimic.)
PACED_ROWS = (ANY_BOOK,)
LIST_PER_PAGE = 10  # the site's default page size, which the bench's visitors keep
MIDDLE_BAND = 0.10  # "a middle page": within this fraction of the page count of the middle one
ID_SLOT = "{id}"  # in a row's path: wrk puts a random id of the row's range there each time
NONCE_SLOT = "{nonce}"  # and there a random number, in a query parameter that the site ignores
MAX_DROP = 0.10  # requests/s from the demo catalog to a larger one
MAX_RSS_MB = 120.0
NOISY_OTHERS = 0.10  # cores used by other processes during a row that make it suspect


class BenchError(Exception):
    """Something the benchmark needs did not work; the message says what."""


# --------------------------------------------------------------------------------------------
# Output: everything printed is also kept for the results file.


class Log:
    def __init__(self) -> None:
        self.lines: list[str] = []  # printed, and saved at the top of the results file
        self.raw: list[str] = []  # wrk's own output, saved verbatim at the end

    def say(self, text: str = "") -> None:
        print(text, flush=True)
        self.lines.append(text)

    def keep(self, text: str) -> None:
        self.raw.append(text)


# --------------------------------------------------------------------------------------------
# Databases


def database_url(database: Path | str) -> str:
    """A SQLite file's URL, or `database` itself when it is a URL already (PostgreSQL's)."""
    return f"sqlite:///{database}" if isinstance(database, Path) else database


def site_env(database: Path | str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SITE_SETTINGS}
    if database is not None:
        env["DATABASE_URL"] = database_url(database)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def fingerprint() -> str:
    """Changes when the schema or the seed data change, which invalidates the cached files."""
    digest = hashlib.sha256()
    files = sorted((PACKAGE / "migrations" / "versions").glob("*.py"))
    files += [PACKAGE / "catalog" / name for name in ("seed.py", "tables.py", "demo_catalog.json")]
    files += [PACKAGE / "sessions" / "stores" / "table.py"]
    for path in files:
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def remove_sqlite(path: Path) -> None:
    # SQLite's own files, and the locks by which the site's writers take turns (write_turns.py).
    for suffix in ("", "-wal", "-shm", "-journal", "-writer", "-next-writer"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def cli(
    args: list[str],
    database: Path | str,
    timeout: float,
    log: Log,
    secrets_env: dict[str, str] | None = None,
) -> None:
    """`locallibrary ARGS` on `database`; `secrets_env` (a password) goes into its environment,
    never into its argv (which any user of the machine can read) or the log."""
    command = [sys.executable, "-m", "locallibrary", *args]
    shown = f"locallibrary {shlex.join(args)}"
    where = database.relative_to(ROOT) if isinstance(database, Path) else database
    log.say(f"$ {shown}   (DATABASE_URL={database_url(where)})")
    env = site_env(database) | (secrets_env or {})
    try:
        # cwd=TMP: no stray .env of the caller's can change the settings.
        subprocess.run(command, env=env, cwd=TMP, check=True, timeout=timeout)
    except subprocess.TimeoutExpired as error:
        raise BenchError(f"`{shown}` took longer than {timeout:.0f} s") from error
    except subprocess.CalledProcessError as error:
        raise BenchError(f"`{shown}` failed (exit {error.returncode})") from error


def checkpoint(path: Path) -> None:
    """Fold any WAL into the main file, so that the file alone is the whole database."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def seed_args(size: str) -> list[str]:
    return ["seed"] if size == "demo" else ["seed", "--books", size]


def prepare_database(size: str, log: Log, copy: str = "run") -> Path:
    """A fresh, migrated copy of the seeded database for `size` ('demo' or a number of books);
    `copy` names it, so that two servers of one run can each have their own."""
    TMP.mkdir(parents=True, exist_ok=True)
    cached = TMP / f"seeded-{size}-{fingerprint()}.sqlite3"
    if not cached.is_file():
        for stale in TMP.glob(f"seeded-{size}-*"):
            stale.unlink()
        partial = TMP / f"partial-{size}-{os.getpid()}.sqlite3"
        remove_sqlite(partial)
        started = time.monotonic()
        cli(["migrate"], partial, MIGRATE_TIMEOUT, log)
        cli(seed_args(size), partial, SEED_TIMEOUT, log)
        checkpoint(partial)
        partial.rename(cached)
        remove_sqlite(partial)  # any side files left behind
        log.say(
            f"Seeded {size} catalog in {time.monotonic() - started:.0f} s, cached as "
            f"{cached.relative_to(ROOT)}"
        )
    else:
        log.say(f"Using cached {cached.relative_to(ROOT)}")
    # A copy per run: the load writes sessions, and two runs at once must not share a file.
    work = TMP / f"{copy}-{size}-{os.getpid()}.sqlite3"
    remove_sqlite(work)
    shutil.copyfile(cached, work)
    cli(["migrate"], work, MIGRATE_TIMEOUT, log)
    return work


@dataclass(frozen=True)
class Account:
    """A signed-in browser's account, made anew in each run's copy of the database."""

    email: str
    name: str
    password: str = field(repr=False)
    librarian: bool = False

    # Names that appear nowhere else on a page, so that finding one says who is signed in.
    @classmethod
    def new(cls) -> Account:
        """The reader of the signed-in catalog rows."""
        return cls("bench-reader@example.org", "Bench Reader", secrets.token_urlsafe(24))

    @classmethod
    def borrower(cls) -> Account:
        """The patron of "my borrowed books", who borrows LOANS_SCRIPT's patron loans."""
        return cls("bench-borrower@example.org", "Bench Borrower", secrets.token_urlsafe(24))

    @classmethod
    def desk(cls) -> Account:
        """The librarian of "all borrowed", who lends every loan."""
        return cls("bench-desk@example.org", "Bench Desk", secrets.token_urlsafe(24), True)


PASSWORD_VARIABLE = "LOCALLIBRARY_PASSWORD"  # where `locallibrary createuser` reads it from


def create_account(database: Path, account: Account, log: Log) -> None:
    cli(
        ["createuser", account.email, "--name", account.name]
        + (["--librarian"] if account.librarian else []),
        database,
        CREATEUSER_TIMEOUT,
        log,
        {PASSWORD_VARIABLE: account.password},
    )


def lend_loans(database: Path, patron: Account, librarian: Account, log: Log) -> None:
    """The loans rows' open loans, lent by `librarian` through the site's desk (bench/lend.py
    says how many, and to whom); both accounts must be in `database` already."""
    shown = f"bench/lend.py {patron.email} {librarian.email}"
    log.say(f"$ {shown}   (DATABASE_URL={database_url(database.relative_to(ROOT))})")
    command = [sys.executable, str(LOANS_SCRIPT), patron.email, librarian.email]
    try:
        done = subprocess.run(
            command,
            env=site_env(database),
            cwd=TMP,
            check=True,
            timeout=LEND_TIMEOUT,
            capture_output=True,
            text=True,
        )
    except subprocess.TimeoutExpired as error:
        raise BenchError(f"`{shown}` took longer than {LEND_TIMEOUT} s") from error
    except subprocess.CalledProcessError as error:
        raise BenchError(
            f"`{shown}` failed (exit {error.returncode}): {error.stderr.strip()[-2000:]}"
        ) from error
    log.say(done.stdout.strip())


def open_loans(database: Path, patron: Account) -> tuple[int, int]:
    """(every open loan, the patron's) in the database."""
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        every, mine = conn.execute(
            "SELECT count(*), coalesce(sum(users.email = ?), 0) FROM loans"
            " JOIN users ON users.id = loans.patron_id WHERE loans.returned_at IS NULL",
            (patron.email,),
        ).fetchone()
    finally:
        conn.close()
    return int(every), int(mine)


def discard_database(path: Path) -> None:
    remove_sqlite(path)


def book_ids(database: Path) -> tuple[int, int]:
    """The lowest and highest book id; every id between is a book (the seed leaves no gaps)."""
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        low, high, count = conn.execute(
            "SELECT min(id), max(id), count(*) FROM catalog_book"
        ).fetchone()
    finally:
        conn.close()
    if not count or high - low + 1 != count:
        raise BenchError(f"the book ids of {database.name} are not one run from {low} to {high}")
    return int(low), int(high)


def count_sessions(database: Path) -> int:
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM sessions").fetchone()[0])
    finally:
        conn.close()


def prepare_postgres(
    size: str, bindir: Path, log: Log, stack: ExitStack
) -> postgres_server.Cluster:
    """A PostgreSQL server of our own, running on a fresh copy of the seeded, migrated catalog
    of `size` (in the database PG_DATABASE); `stack` stops it and deletes the copy. The seeded
    cluster is cached in bench/tmp/ as the SQLite files are, by PostgreSQL's major version too."""
    try:
        TMP.mkdir(parents=True, exist_ok=True)
        major = postgres_server.major_version(bindir)
        cached = TMP / f"pg{major}-seeded-{size}-{fingerprint()}"
        if not cached.is_dir():
            seed_postgres(size, bindir, cached, log)
        else:
            log.say(f"Using cached {cached.relative_to(ROOT)}")
        work = TMP / f"pg-run-{size}-{os.getpid()}"
        shutil.rmtree(work, ignore_errors=True)
        stack.callback(shutil.rmtree, work, ignore_errors=True)  # also if the copy fails
        cluster = postgres_server.Cluster.copy_of(bindir, cached, work)
        stack.callback(cluster.stop)
        cluster.start(free_port())
        log.say(f"PostgreSQL {major} ({size}) on port {cluster.port}, in {work.relative_to(ROOT)}")
        cli(["migrate"], cluster.url(PG_DATABASE), MIGRATE_TIMEOUT, log)
        return cluster
    except postgres_server.PostgresError as error:
        raise BenchError(f"PostgreSQL, {size} catalog: {error}") from error


def seed_postgres(size: str, bindir: Path, cached: Path, log: Log) -> None:
    """Make the cached cluster of `size`: a new cluster, migrated and seeded, then stopped."""
    for stale in TMP.glob(f"pg*-seeded-{size}-*"):
        shutil.rmtree(stale, ignore_errors=True)
    partial = TMP / f"pg-partial-{size}-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    started = time.monotonic()
    cluster: postgres_server.Cluster | None = None
    try:
        cluster = postgres_server.Cluster.create(bindir, partial)
        cluster.start(free_port(), postgres_server.SEEDING)
        cluster.psql(f"CREATE DATABASE {PG_DATABASE}")
        url = cluster.url(PG_DATABASE)
        cli(["migrate"], url, MIGRATE_TIMEOUT, log)
        cli(seed_args(size), url, SEED_TIMEOUT, log)
        # The planner's statistics now, so that autovacuum does not gather them during a row.
        cluster.psql("VACUUM ANALYZE", PG_DATABASE)
        cluster.stop()
        try:
            partial.rename(cached)
        except OSError:  # another run made it meanwhile
            pass
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(partial, ignore_errors=True)
    log.say(
        f"Seeded {size} catalog on PostgreSQL in {time.monotonic() - started:.0f} s, cached as "
        f"{cached.relative_to(ROOT)}"
    )


def count_sessions_in(database: Path | postgres_server.Cluster) -> int:
    """Rows in the sessions table of a SQLite file or of a cluster's PG_DATABASE."""
    if isinstance(database, Path):
        return count_sessions(database)
    try:
        return int(database.psql("SELECT count(*) FROM sessions", PG_DATABASE))
    except postgres_server.PostgresError as error:
        raise BenchError(str(error)) from error


# --------------------------------------------------------------------------------------------
# Servers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def uvicorn_argv(
    target: str, port: int, app_dir: Path | None = None, workers: int = 1
) -> list[str]:
    argv = [sys.executable, "-m", "uvicorn", "--factory", target]
    if app_dir is not None:
        argv += ["--app-dir", str(app_dir)]
    if workers > 1:
        argv += ["--workers", str(workers)]
    return argv + ["--host", HOST, "--port", str(port), "--no-access-log", "--log-level", "warning"]


def read_status_kb(pid: int, field_name: str) -> int | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(rf"^{field_name}:\s+(\d+) kB", text, re.MULTILINE)
    return int(match.group(1)) if match else None


def process_tree(root: int) -> list[int]:
    """`root` and every process below it (a uvicorn supervisor's workers, PostgreSQL's
    backends), from /proc."""
    parents: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue  # gone meanwhile
            parents[int(entry.name)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    tree = [root]
    for pid in tree:  # grows as it goes: breadth first
        tree += [child for child, parent in parents.items() if parent == pid]
    return tree


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the benchmark dies (PR_SET_PDEATHSIG)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Server:
    """One uvicorn process, always stopped by stop(). With one worker the process itself
    serves; with more it is a supervisor of that many worker processes (and multiprocessing's
    resource tracker), whose CPU and memory are the server's. `database_pid`, a PostgreSQL
    server's, has its CPU counted beside the server's, and waited for as the server's is."""

    def __init__(
        self,
        name: str,
        target: str,
        env: dict[str, str],
        ready_path: str,
        app_dir: Path | None = None,
        workers: int = 1,
        database_pid: int | None = None,
    ) -> None:
        self.name = name
        self.port = free_port()
        self.workers = workers
        self.argv = uvicorn_argv(target, self.port, app_dir, workers)
        self.env = env
        self.ready_path = ready_path
        self.database_pid = database_pid
        self.log_path = TMP / f"server-{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.peak_rss_kb = 0

    def pids(self) -> list[int]:
        """The server's processes: the one, or the supervisor and everything below it."""
        return [self.pid] if self.workers == 1 else process_tree(self.pid)

    def worker_pids(self) -> list[int]:
        """The processes that serve: the one, or the supervisor's workers."""
        if self.workers == 1:
            return [self.pid]
        found = []
        for pid in self.pids()[1:]:
            try:
                if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    found.append(pid)
            except OSError:
                pass
        return found

    def database_pids(self) -> list[int]:
        return process_tree(self.database_pid) if self.database_pid is not None else []

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        with open(self.log_path, "wb") as log_file:
            # A session of its own: a Ctrl-C reaches only us, and we stop the server in order.
            # Should we be killed outright, the kernel sends the server a SIGTERM (Linux).
            self.proc = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=TMP,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(
                    f"the {self.name} server exited with {self.proc.returncode} at "
                    f"start-up:\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(self.base + self.ready_path, timeout=1) as response:
                    if response.status == 200:
                        self._wait_for_workers(deadline)
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.1)
        raise BenchError(
            f"the {self.name} server was not ready within {READY_TIMEOUT} s:\n{self.log_tail()}"
        )

    def _wait_for_workers(self, deadline: float) -> None:
        """Once one worker answers, until all have started and finished starting up (they
        are then idle): the first to be ready would otherwise take the first row's load."""
        if self.workers == 1:
            return
        while time.monotonic() < deadline:
            if len(self.worker_pids()) < self.workers:
                time.sleep(0.1)
            elif busy_cores(self.pids()) < DRAIN_IDLE:
                return
        raise BenchError(
            f"the {self.name} server's {self.workers} workers were not all up within "
            f"{READY_TIMEOUT} s:\n{self.log_tail()}"
        )

    def rss_kb(self) -> int:
        """Peak resident set so far (VmHWM) of the server's largest process (with several
        workers, of one worker: what each costs), or 0 once it is gone."""
        if self.proc is None:
            return 0
        hwm = max((read_status_kb(pid, "VmHWM") or 0 for pid in self.pids()), default=0)
        self.peak_rss_kb = max(self.peak_rss_kb, hwm)
        return self.peak_rss_kb

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.rss_kb()
        self.proc.send_signal(signal.SIGTERM)  # a supervisor stops its workers, then itself
        try:
            self.proc.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            # Its whole process group (its session's: the workers too), while the unreaped
            # server still holds the group's id, so that the id names no one else's.
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=STOP_TIMEOUT)


def restart_peak_rss(server: Server) -> int | None:
    """Make the one-worker server's peak RSS (VmHWM) start again from its present RSS, and
    return the peak so far in kB; None where the kernel does not let us (the peak then stays)."""
    before = read_status_kb(server.pid, "VmHWM")
    if before is None:  # no peak kept: the rows' RSS is sampled (RssSampler) from their start
        return None
    try:
        Path(f"/proc/{server.pid}/clear_refs").write_text("5")  # 5: reset the peak RSS
    except OSError:
        return None
    return before


@contextmanager
def serving(server: Server) -> Iterator[Server]:
    try:
        server.start()
        yield server
    finally:
        server.stop()


CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process, its exited threads included."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def host_cpu() -> tuple[float, float]:
    """(process time, total) CPU seconds of the whole machine so far, from /proc/stat.

    Busy time is user + nice + system (what processes run) + steal (what the hypervisor gave
    to other machines). Interrupts (loopback traffic's softirq) are left out, so that they do
    not pass for other processes' work.
    """
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0.0, 0.0
    steal = values[7] if len(values) > 7 else 0
    return (sum(values[:3]) + steal) / CLOCK_TICKS, sum(values[:8]) / CLOCK_TICKS


def own_cpu() -> float:
    """CPU seconds used by this process and its reaped children (wrk)."""
    usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
    return sum(u.ru_utime + u.ru_stime for u in usage)


def wait_for_quiet(limit: float) -> float:
    """Wait (at most `limit` seconds) until the machine is nearly idle between rows; return
    the cores other processes were using at the last look (the servers idle meanwhile)."""
    deadline = time.monotonic() + limit
    while True:
        busy0, own0 = host_cpu()[0], own_cpu()
        time.sleep(0.5)
        busy1, own1 = host_cpu()[0], own_cpu()
        cores = max(0.0, (busy1 - busy0) - (own1 - own0)) / 0.5
        if cores < NOISY_OTHERS or time.monotonic() >= deadline:
            return cores


def busy_cores(pids: Sequence[int], window: float = DRAIN_WINDOW) -> float:
    """The cores `pids` used together over the next `window` seconds."""
    before = sum(process_cpu(pid) for pid in pids)
    time.sleep(window)
    return (sum(process_cpu(pid) for pid in pids) - before) / window


def drain(server: Server, limit: float = DRAIN_TIMEOUT) -> None:
    """Wait until the server has finished what a wrk run left in flight. wrk stops with every
    connection's request still open, and the server answers them all: on a slow page, seconds
    of work that would otherwise land on the next run (or take the CPU from another server).
    The server's database server, if it has one, must be done too."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if busy_cores(server.pids() + server.database_pids()) < DRAIN_IDLE:
            return
    raise BenchError(f"the {server.name} server was still busy {limit:.0f} s after the load")


class CpuMeter:
    """CPU used during a row, in cores: by the server (its workers, each, in `workers`), by its
    database server if it has one, by wrk, and by everything else.

    The last is the noise to watch: other processes on the machine compete with the server.
    `helpers` are load generators of ours still running at the end (a crawler), counted as wrk.
    """

    def __init__(self, server: Server, helpers: Sequence[int] = ()) -> None:
        self.pids = server.pids()
        self.worker_pids = server.worker_pids() if server.workers > 1 else []
        self.database = server.database_pids
        self.helpers = helpers
        self.server = self.wrk = self.others = 0.0
        self.workers: list[float] = []
        self.database_cpu: float | None = None if server.database_pid is None else 0.0

    def _helpers_cpu(self) -> float:
        return sum(process_cpu(pid) for pid in self.helpers)

    def __enter__(self) -> CpuMeter:
        self._t = time.monotonic()
        self._server = {pid: process_cpu(pid) for pid in self.pids}
        # Backends that start during the row count from nothing; those that end are lost.
        self._database = {pid: process_cpu(pid) for pid in self.database()}
        self._host = host_cpu()
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        self._children = usage.ru_utime + usage.ru_stime
        self._own = own_cpu()
        self._helpers = self._helpers_cpu()
        return self

    def __exit__(self, *exc: object) -> None:
        seconds = max(time.monotonic() - self._t, 1e-6)
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        helpers = max(0.0, self._helpers_cpu() - self._helpers) / seconds
        self.wrk = (usage.ru_utime + usage.ru_stime - self._children) / seconds + helpers
        used = {pid: process_cpu(pid) - before for pid, before in self._server.items()}
        self.server = sum(used.values()) / seconds
        self.workers = [used[pid] / seconds for pid in self.worker_pids]
        database = 0.0
        if self.database_cpu is not None:
            database = (
                sum(process_cpu(pid) - self._database.get(pid, 0.0) for pid in self.database())
                / seconds
            )
            self.database_cpu = database
        own = (own_cpu() - self._own) / seconds + helpers  # wrk, the crawler and this script
        busy, _ = host_cpu()
        host = (busy - self._host[0]) / seconds
        self.others = max(0.0, host - self.server - database - own)


class RssSampler:
    """Polls the VmRSS of the server's processes while a row runs (a fallback where VmHWM is
    missing); the peak is the largest process's, as in Server.rss_kb."""

    def __init__(self, server: Server, interval: float = 0.05) -> None:
        self.server = server
        self.interval = interval
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in self._pids:
                self.peak_kb = max(self.peak_kb, read_status_kb(pid, "VmRSS") or 0)
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._pids = self.server.pids()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.peak_kb = max(self.peak_kb, self.server.rss_kb())


# --------------------------------------------------------------------------------------------
# wrk


@dataclass
class WrkResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    status_errors: int
    socket_errors: int
    bytes_read: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


_wrk_runs = itertools.count(1)  # each wrk run seeds its random paths with its own number


def concrete(path: str, ids: tuple[int, int] | None) -> str:
    """`path` with its slots filled in once: the lowest id for {id}, 0 for {nonce}."""
    return path.replace(ID_SLOT, str(ids[0]) if ids else "").replace(NONCE_SLOT, "0")


def wrk_command(
    base: str,
    paths: Sequence[str],
    headers: dict[str, str],
    duration: int,
    threads: int,
    connections: int,
    ids: tuple[int, int] | None = None,
    delay_ms: int | None = None,
) -> tuple[list[str], dict[str, str]]:
    """wrk's argv and environment for bench/report.lua: each request asks for one of `paths`
    (at random when there are several), their {id} a random id in `ids`, their {nonce} a random
    number; with `delay_ms`, each connection waits that long after each response."""
    if any(ID_SLOT in path for path in paths) and ids is None:
        raise BenchError(f"{paths[0]}: a path with {ID_SLOT} needs a range of ids")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BENCH_")}
    for number, (name, value) in enumerate(headers.items(), start=1):
        env[f"BENCH_HEADER_{number}"] = f"{name}: {value}"
    if len(paths) > 1 or any(slot in paths[0] for slot in (ID_SLOT, NONCE_SLOT)):
        env["BENCH_PATHS"] = "\n".join(paths)
        if ids is not None:
            env["BENCH_ID_LOW"], env["BENCH_ID_HIGH"] = str(ids[0]), str(ids[1])
    env["BENCH_SEED"] = str(next(_wrk_runs))
    if delay_ms is not None:
        env["BENCH_DELAY_MS"] = str(delay_ms)
    argv = [
        WRK,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "5s",
        "--latency",
        "-s",
        str(LUA),
        base + concrete(paths[0], ids),
    ]
    return argv, env


def keep_output(
    log: Log, argv: list[str], headers: dict[str, str], stdout: str, stderr: str, label: str = ""
) -> None:
    # The session key is shortened: the results file is committed.
    shown = {k: (v[:14] + "…" if k == "Cookie" and len(v) > 15 else v) for k, v in headers.items()}
    log.keep(f"{label}$ {' '.join(argv)}" + (f"   headers: {shown}" if shown else ""))
    log.keep(stdout.rstrip())
    if stderr.strip():
        log.keep(stderr.rstrip())
    log.keep("")


def wrk_result(returncode: int, stdout: str, stderr: str, url: str) -> WrkResult:
    """The numbers of report.lua's BENCH_RESULT line, or a BenchError saying why there are none."""
    if returncode != 0:
        output = (stderr.strip() or stdout.strip()).splitlines()
        raise BenchError(f"wrk exited with {returncode} on {url}: {' / '.join(output[:3])}")
    match = re.search(r"^BENCH_RESULT (.*)$", stdout, re.MULTILINE)
    if not match:
        raise BenchError(f"wrk printed no BENCH_RESULT line for {url}:\n{stdout}")
    values = {k: int(v) for k, v in (pair.split("=") for pair in match.group(1).split())}
    return WrkResult(
        requests=values["requests"],
        seconds=values["duration_us"] / 1e6,
        p50_ms=values["p50_us"] / 1000,
        p99_ms=values["p99_us"] / 1000,
        status_errors=values["status"],
        socket_errors=values["connect"] + values["read"] + values["write"] + values["timeout"],
        bytes_read=values["bytes"],
    )


def split_url(url: str) -> tuple[str, str]:
    """("http://host:port", "/path?query") of a URL whose path may hold slots."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}", url[len(f"{parts.scheme}://{parts.netloc}") :]


def run_wrk(
    url: str,
    headers: dict[str, str],
    duration: int,
    threads: int,
    connections: int,
    log: Log | None,
    ids: tuple[int, int] | None = None,
) -> WrkResult:
    """wrk on `url`; its path may hold slots: {id}, a random id in `ids` on every request, and
    {nonce}, a random number (a query parameter the site ignores, so that no cached page fits)."""
    base, path = split_url(url)
    argv, env = wrk_command(base, [path], headers, duration, threads, connections, ids)
    try:
        done = subprocess.run(
            argv, env=env, capture_output=True, text=True, timeout=duration + WRK_GRACE
        )
    except subprocess.TimeoutExpired as error:
        raise BenchError(
            f"wrk did not finish within {duration + WRK_GRACE:.0f} s on {url}"
        ) from error
    if log is not None:
        keep_output(log, [*argv[:-1], url], headers, done.stdout, done.stderr)
    return wrk_result(done.returncode, done.stdout, done.stderr, url)


@dataclass(frozen=True)
class Crawl:
    """A crawler beside a row's load: a second wrk whose few connections each ask for one of
    `paths` (chosen at random, slots filled in as in a row's path), then wait `delay_ms` after
    the response before the next request. It returns no cookie and sends no htmx header."""

    shown: str  # what it asks for, for the table
    paths: tuple[str, ...]
    ids: tuple[int, int] | None = None
    connections: int = 2
    delay_ms: int = 50

    @property
    def request(self) -> str:
        return (
            f"a crawler: {self.connections} connections, each GET {self.shown} then "
            f"{self.delay_ms} ms idle"
        )


@dataclass
class CrawlRun:
    """What a crawler did beside one measured run; `result` is set once it has stopped."""

    pid: int
    result: WrkResult | None = None
    stopped_early: bool = False  # before the measured load had ended

    @property
    def errors(self) -> int:
        return self.result.status_errors + self.result.socket_errors if self.result else 0


@contextmanager
def crawling(server: Server, crawl: Crawl, duration: int, log: Log | None) -> Iterator[CrawlRun]:
    """Run `crawl` on `server` from CRAWL_LEAD seconds before the body until as long after a
    body of `duration` seconds. It stops by itself (wrk's own -d), and is killed if the body
    fails or the crawler overruns."""
    argv, env = wrk_command(
        server.base,
        crawl.paths,
        {},
        duration + 2 * CRAWL_LEAD,
        1,
        crawl.connections,
        crawl.ids,
        crawl.delay_ms,
    )
    url = server.base + crawl.paths[0]
    with subprocess.Popen(
        argv,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_die_with_parent,
    ) as proc:
        try:
            time.sleep(CRAWL_LEAD)  # under way before the measured load starts
            if proc.poll() is not None:
                stdout, stderr = proc.communicate()
                wrk_result(proc.returncode, stdout, stderr, url)  # raises, saying why
                raise BenchError(f"the crawler on {url} stopped before the load started")
            run = CrawlRun(proc.pid)
            yield run
            run.stopped_early = proc.poll() is not None
            try:
                stdout, stderr = proc.communicate(timeout=2 * CRAWL_LEAD + WRK_GRACE)
            except subprocess.TimeoutExpired as error:
                raise BenchError(f"the crawler on {url} overran its {argv[3][2:]}") from error
            if log is not None:
                keep_output(log, [*argv[:-1], url], {}, stdout, stderr, label="crawler: ")
            run.result = wrk_result(proc.returncode, stdout, stderr, url)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=STOP_TIMEOUT)


# --------------------------------------------------------------------------------------------
# The rows


@dataclass
class Row:
    name: str
    request: str  # shown in the table
    result: WrkResult
    rss_mb: float
    server_cpu: float  # cores the server used during the row
    others_cpu: float  # cores the rest of the machine used (besides the server and wrk)
    ratio: float = 1.0  # requests/s as a fraction of the ceiling's (of as many workers)
    crawl: CrawlRun | None = None  # the crawler that ran beside the load, if any
    workers: int = 1  # uvicorn processes serving, and the ceiling's that `ratio` is to
    worker_cpu: list[float] = field(default_factory=list)  # each worker's cores, with several
    database_cpu: float | None = None  # PostgreSQL's cores, for a row on PostgreSQL

    @property
    def errors(self) -> int:
        return self.result.status_errors + self.result.socket_errors


@dataclass
class SizeRun:
    size: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # rows that could not run, and why

    def row(self, name: str) -> Row | None:
        return next((r for r in self.rows if r.name == name), None)

    def ceiling(self, workers: int) -> Row | None:
        return self.row("ceiling" if workers == 1 else CEILING_WORKERS)


def get(
    url: str,
    headers: dict[str, str] | None = None,
    opener: urllib.request.OpenerDirector | None = None,
) -> tuple[int, str]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        opener = opener or urllib.request.build_opener()
        with opener.open(request, timeout=HTTP_TIMEOUT) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def returning_cookie(base: str) -> tuple[str, list[str]]:
    """The Cookie header of a browser whose session is stored (its second visit is done)."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    steps = []
    for visit in (1, 2):
        status, _ = get(base + "/catalog/", opener=opener)
        steps.append(f"visit {visit}: {status}, cookies now {sorted(c.name for c in jar)}")
        if status != 200:
            raise BenchError(f"GET /catalog/ gave {status} while getting a session cookie")
    return stored_session_header(jar, "after two visits", steps), steps


def stored_session_header(jar: http.cookiejar.CookieJar, when: str, steps: list[str]) -> str:
    """The jar's Cookie header, once it holds a stored session's cookie (not a deferred one)."""
    names = {c.name for c in jar}
    if "sessionid" not in names:
        raise BenchError(f"no sessionid cookie {when} ({steps})")
    if "sessionid_new" in names:
        raise BenchError(f"the session was still deferred {when} ({steps})")
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def signed_in_cookie(base: str, account: Account) -> tuple[str, list[str]]:
    """The Cookie header of a browser signed in as `account`, through the sign-in form, whose
    session is stored: the page after sign-in names the account, and one more visit is done."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = {"email": account.email, "password": account.password, "next": "/catalog/"}
    request = urllib.request.Request(
        base + "/accounts/sign-in", data=urllib.parse.urlencode(form).encode(), method="POST"
    )
    try:
        # The 303 is followed, as a browser does: the body is that of the page after sign-in.
        with opener.open(request, timeout=HTTP_TIMEOUT) as response:
            status, body = response.status, response.read().decode("utf-8", "replace")
            landed = urllib.parse.urlsplit(response.url).path
    except urllib.error.HTTPError as error:
        raise BenchError(f"POST /accounts/sign-in gave {error.code}") from error
    steps = [f"sign-in: {status} at {landed}, cookies now {sorted(c.name for c in jar)}"]
    if status != 200 or account.name not in body:
        raise BenchError(
            f"the page after signing in as {account.email} does not name {account.name!r} ({steps})"
        )
    status, body = get(base + "/catalog/", opener=opener)
    steps.append(f"visit after sign-in: {status}, cookies now {sorted(c.name for c in jar)}")
    if status != 200 or account.name not in body:
        raise BenchError(f"the visit after sign-in is not {account.name}'s ({steps})")
    return stored_session_header(jar, "after signing in", steps), steps


@dataclass
class RowPlan:
    """What one row asks for: `path` may hold {id}, a random id from `ids` on every request, and
    {nonce}, a random number (see report.lua)."""

    name: str
    request: str  # shown in the table
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    ids: tuple[int, int] | None = None
    crawl: Crawl | None = None  # runs beside each measured run of the row


CEILING = RowPlan("ceiling", "GET / (bare Starlette)", "/")
CEILING_2 = RowPlan(CEILING_WORKERS, f"GET / (bare Starlette, {WORKERS} workers)", "/")


def measure(
    server: Server, plan: RowPlan, args: argparse.Namespace, log: Log, notes: list[str], label: str
) -> Row:
    name, path, headers, ids = plan.name, plan.path, plan.headers, plan.ids
    url = server.base + path
    if args.quiet_wait > 0:
        busy = wait_for_quiet(args.quiet_wait)
        if busy >= NOISY_OTHERS:
            notes.append(
                f"{name}: the machine was still busy ({busy:.0%} of a core) after "
                f"waiting {args.quiet_wait:g} s for it to quieten"
            )
    statuses = set()
    for _ in range(WARM_REQUESTS):  # compiles templates, fills caches; also a check of the URL
        statuses.add(get(server.base + concrete(path, ids), headers)[0])
    if statuses != {200}:
        # Not fatal: wrk counts every status over 399 as an error, and the row shows it.
        notes.append(
            f"{name}: GET {path} answered {sorted(statuses)} before the load "
            f"(server log: bench/tmp/{server.log_path.name})"
        )
    if args.warmup > 0:
        run_wrk(url, headers, args.warmup, args.threads, args.connections, None, ids)
        drain(server)
    log.keep(f"### {label}: {name}")
    best: tuple[WrkResult, CpuMeter, CrawlRun | None] | None = None
    workers = set(server.worker_pids())
    with RssSampler(server) as sampler:
        for attempt in range(args.repeat):  # the best of N: the least disturbed by the machine
            if attempt and args.quiet_wait > 0:
                wait_for_quiet(args.quiet_wait)
            with ExitStack() as stack:
                crawl = (
                    stack.enter_context(crawling(server, plan.crawl, args.duration, log))
                    if plan.crawl
                    else None
                )
                with CpuMeter(server, [crawl.pid] if crawl is not None else []) as cpu:
                    result = run_wrk(
                        url, headers, args.duration, args.threads, args.connections, log, ids
                    )
            drain(server)
            if best is None or result.rps > best[0].rps:
                best = (result, cpu, crawl)
    if server.proc is not None and server.proc.poll() is not None:
        raise BenchError(f"the {server.name} server died during {name}:\n{server.log_tail()}")
    if set(server.worker_pids()) != workers:  # the supervisor replaced one that died or hung
        raise BenchError(
            f"a worker of the {server.name} server was replaced during {name}:\n{server.log_tail()}"
        )
    assert best is not None
    result, cpu, crawl = best
    row = Row(
        name,
        plan.request,
        result,
        sampler.peak_kb / 1024,
        cpu.server,
        cpu.others,
        crawl=crawl,
        workers=server.workers,
        worker_cpu=cpu.workers,
        database_cpu=cpu.database_cpu,
    )
    print(
        f"  {label:>8}  {name:<28} {result.rps:8.0f} req/s  p50 {result.p50_ms:7.2f} ms  "
        f"p99 {result.p99_ms:7.2f} ms  errors {row.errors}  rss {row.rss_mb:.0f} MB  "
        f"server CPU {cpu.server:.0%}  others' CPU {cpu.others:.0%}",
        flush=True,
    )
    if crawl is not None and crawl.result is not None:
        print(
            f"  {'':>8}  {'  its crawler':<28} {crawl.result.requests:8d} requests  "
            f"p50 {crawl.result.p50_ms:7.2f} ms  p99 {crawl.result.p99_ms:7.2f} ms  "
            f"errors {crawl.errors}",
            flush=True,
        )
    if crawl is not None and crawl.stopped_early:
        notes.append(f"{name}: the crawler had stopped before the measured load ended")
    return row


def middle_pages(database: Path, shown_pages: int) -> tuple[int, tuple[int, int]]:
    """The middle page of the book list at the default page size, from the number of books in
    the database, and the range of pages around it that the random middle rows draw from."""
    low, high = book_ids(database)
    pages = max(1, math.ceil((high - low + 1) / LIST_PER_PAGE))
    if pages != shown_pages:
        raise BenchError(
            f"the book list shows {shown_pages} pages; {high - low + 1} books at "
            f"{LIST_PER_PAGE} a page make {pages} (has the default page size changed?)"
        )
    middle = (pages + 1) // 2
    spread = int(pages * MIDDLE_BAND)
    return middle, (max(1, middle - spread), min(pages, middle + spread))


def plan_for(
    app: Server,
    run: SizeRun,
    database: Path,
    account: Account,
    lenders: tuple[Account, Account] | None,
) -> list[RowPlan]:
    """The site's rows, with what they need found on the running site: a stored session's
    cookie, a signed-in one's (as `account`, which the database holds), the last page of the
    book list, a book that exists; and with `lenders` (the patron and the librarian of the
    loans lent in the database), the loans rows."""
    cookie, steps = returning_cookie(app.base)
    run.notes += [f"returning browser: {s}" for s in steps]
    signed_in, steps = signed_in_cookie(app.base, account)
    run.notes += [f"signed-in browser: {s}" for s in steps]
    _, first_page = get(app.base + "/catalog/books/")
    pages = re.search(r"Page 1 of (\d+)", first_page)
    last_page = int(pages.group(1)) if pages else 1
    book = re.search(r'href="/catalog/book/(\d+)"', first_page)
    if not book:
        raise BenchError("found no book link on /catalog/books/")
    book_id = book.group(1)
    low, high = book_ids(database)
    middle, band = middle_pages(database, last_page)
    books = "/catalog/books/"
    crawl = Crawl(
        f"{books}?page=<random {band[0]}–{band[1]}>", (f"{books}?page={ID_SLOT}",), ids=band
    )
    return [
        RowPlan(
            "home (returning)", "GET /catalog/ + session cookie", "/catalog/", {"Cookie": cookie}
        ),
        RowPlan(
            HOME_SIGNED_IN, "GET /catalog/ + signed-in cookie", "/catalog/", {"Cookie": signed_in}
        ),
        RowPlan("home (first visit)", "GET /catalog/, no cookie", "/catalog/"),
        RowPlan(
            "poll",
            "GET /catalog/_counts + cookie, HX-Request",
            "/catalog/_counts",
            {"Cookie": cookie, "HX-Request": "true"},
        ),
        RowPlan(
            "poll under crawl",
            f"the poll's; beside it {crawl.request}",
            "/catalog/_counts",
            {"Cookie": cookie, "HX-Request": "true"},
            crawl=crawl,
        ),
        RowPlan("book list p1", f"GET {books}", books),
        RowPlan(LIST_SIGNED_IN, f"GET {books} + signed-in cookie", books, {"Cookie": signed_in}),
        RowPlan("book list (middle)", f"GET {books}?page={middle}", f"{books}?page={middle}"),
        RowPlan("book list deep", f"GET {books}?page={last_page}", f"{books}?page={last_page}"),
        RowPlan("book detail", f"GET /catalog/book/{book_id}", f"/catalog/book/{book_id}"),
        RowPlan(
            DETAIL_SIGNED_IN,
            f"GET /catalog/book/{book_id} + signed-in cookie",
            f"/catalog/book/{book_id}",
            {"Cookie": signed_in},
        ),
        RowPlan(
            ANY_BOOK,
            f"GET /catalog/book/<random {low}–{high}>",
            f"/catalog/book/{ID_SLOT}",
            ids=(low, high),
        ),
        # A query parameter the list ignores makes every URL new to the page cache: each
        # request renders, at page 1 as in the middle, and both fit the demo catalog too.
        RowPlan(
            "book list p1 (uncached)",
            f"GET {books}?page=1&nocache=<random>",
            f"{books}?page=1&nocache={NONCE_SLOT}",
        ),
        RowPlan(
            "book list (any middle page)",
            f"GET {books}?page=<random {band[0]}–{band[1]}>&nocache=<random>",
            f"{books}?page={ID_SLOT}&nocache={NONCE_SLOT}",
            ids=band,
        ),
        *search_plans(cookie),
        *(loan_plans(app, run, database, *lenders) if lenders is not None else []),
    ]


def loan_plans(
    app: Server, run: SizeRun, database: Path, patron: Account, librarian: Account
) -> list[RowPlan]:
    """The loans rows, signed in as the patron and as the librarian, once their pages are seen
    to list what the database holds: all the patron's open loans, and a full first page of
    every open loan with as many pages as there are loans."""
    every, mine = open_loans(database, patron)
    cookies = {}
    for who in (patron, librarian):
        cookies[who], steps = signed_in_cookie(app.base, who)
        run.notes += [f"signed-in {'librarian' if who.librarian else 'patron'}: {s}" for s in steps]
    status, page = get(app.base + "/loans/mine/", {"Cookie": cookies[patron]})
    shown = page.count('class="due"')
    if status != 200 or shown != mine:
        raise BenchError(f"/loans/mine/ gave {status} with {shown} due dates, not {mine}")
    status, page = get(app.base + "/loans/", {"Cookie": cookies[librarian]})
    pages = math.ceil(every / LIST_PER_PAGE)
    shown = page.count('<td class="due">')
    paged = pages == 1 or f"Page 1 of {pages}<" in page  # one page goes without pagination
    if status != 200 or not paged or shown != min(every, LIST_PER_PAGE):
        raise BenchError(f"/loans/ gave {status} with {shown} rows, not page 1 of {pages}")
    run.notes.append(f"open loans: {every:,}, {mine} of them {patron.email}'s")
    return [
        RowPlan(
            MY_LOANS,
            f"GET /loans/mine/ + signed-in patron's cookie ({mine} open loans)",
            "/loans/mine/",
            {"Cookie": cookies[patron]},
        ),
        RowPlan(
            ALL_BORROWED,
            f"GET /loans/ + signed-in librarian's cookie ({every:,} open loans)",
            "/loans/",
            {"Cookie": cookies[librarian]},
        ),
    ]


def search_plans(cookie: str) -> list[RowPlan]:
    """The search rows: each query of SEARCH_QUERIES, and the poll beside a crawler of searches
    that the page cache has not seen (each one run afresh)."""
    search = "/catalog/search?q="
    plans = []
    for kind, query in SEARCH_QUERIES.items():
        path = search + urllib.parse.quote_plus(query)
        headers = {"Cookie": cookie}
        shown = f"GET {path} + cookie"
        if kind.startswith("prefix"):  # as htmx asks while the visitor types
            headers |= {"HX-Request": "true", "HX-Target": "search-results"}
            headers["HX-Trigger"] = "site-search-q"
            shown += ", htmx typing"
        plans.append(RowPlan(f"search ({kind})", shown, path, headers))
    crawl = Crawl(
        f"{search}<one of {len(CRAWL_QUERIES)} queries>&nocache=<random>",
        tuple(f"{search}{urllib.parse.quote_plus(q)}&nocache={NONCE_SLOT}" for q in CRAWL_QUERIES),
    )
    plans.append(
        RowPlan(
            SEARCH_CRAWL,
            f"the poll's; beside it {crawl.request}",
            "/catalog/_counts",
            {"Cookie": cookie, "HX-Request": "true"},
            crawl=crawl,
        )
    )
    return plans


def worker_plan(app: Server, run: SizeRun, engine: str) -> list[RowPlan]:
    """The rows of several workers on `engine`: the poll and the returning home page of a
    browser whose session was stored through these workers, so in the database they use."""
    cookie, steps = returning_cookie(app.base)
    run.notes += [f"returning browser, {app.name}: {s}" for s in steps]
    return [
        RowPlan(
            WORKER_POLL.format(WORKERS, engine),
            "GET /catalog/_counts + cookie, HX-Request",
            "/catalog/_counts",
            {"Cookie": cookie, "HX-Request": "true"},
        ),
        RowPlan(
            WORKER_HOME.format(WORKERS, engine),
            "GET /catalog/ + session cookie",
            "/catalog/",
            {"Cookie": cookie},
        ),
    ]


@dataclass
class Site:
    """A site server of one size's run, the rows it serves and the database it uses."""

    server: Server
    plans: list[RowPlan]
    database: Path | postgres_server.Cluster
    sessions_before: int = 0


def wanted(args: argparse.Namespace, name: str) -> bool:
    return not args.rows or name in args.rows


def worker_engines(args: argparse.Namespace, runs: list[SizeRun], log: Log) -> list[str]:
    """The databases that rows of several workers run on; PostgreSQL's are skipped, with the
    reason printed and reported, where no server of our own can run."""
    engines = [
        engine
        for engine in ENGINES
        if any(wanted(args, row.format(WORKERS, engine)) for row in (WORKER_POLL, WORKER_HOME))
    ]
    reason = postgres_server.why_unavailable() if "postgresql" in engines else None
    if reason is not None:
        engines.remove("postgresql")
        log.say(f"PostgreSQL rows skipped: {reason}")
        for run in runs:
            for row in (WORKER_POLL, WORKER_HOME):
                if wanted(args, row.format(WORKERS, "postgresql")):
                    run.skipped[row.format(WORKERS, "postgresql")] = reason
    return engines


def paced_name(row: str) -> str:
    return f"ceiling at the pace of {row}"


def paced_plan(run: SizeRun, name: str) -> RowPlan | None:
    """The ceiling at the pace of `run`'s row `name` (PACED_ROWS), if that row ran: each request
    holds the loop for the row's time per request less the ceiling's own, and returns a body of
    the row's mean response size (headers included, a few hundred bytes over)."""
    row, ceiling = run.row(name), run.ceiling(1)
    if row is None or ceiling is None or not row.result.requests or not ceiling.result.rps:
        return None
    busy_us = max(0, round(1e6 / row.result.rps - 1e6 / ceiling.result.rps))
    size = row.result.bytes_read // row.result.requests
    path = f"/paced?us={busy_us}&bytes={size}"
    return RowPlan(paced_name(name), f"GET {path} (bare Starlette)", path)


def keep_better_ceiling(run: SizeRun, again: Row) -> None:
    """The ceiling measured again at the end: the better of the two is the one less disturbed
    by whatever else the machine did, and the ratios are taken to it."""
    index = next(i for i, row in enumerate(run.rows) if row.name == again.name)
    first = run.rows[index]
    run.notes.append(
        f"{again.name}: {first.result.rps:,.0f} req/s at the start, "
        f"{again.result.rps:,.0f} at the end; the table shows the better"
    )
    if again.result.rps > first.result.rps:
        run.rows[index] = again


def start_site(
    stack: ExitStack, name: str, database: Path | postgres_server.Cluster, workers: int = 1
) -> Server:
    """The site in production settings on `database`, stopped by `stack`."""
    if isinstance(database, postgres_server.Cluster):
        env, database_pid = site_env(database.url(PG_DATABASE)), database.pid
    else:
        env, database_pid = site_env(database), None
    env["SECRET_KEY"] = secrets.token_urlsafe(32)  # production: set (the workers share it)
    server = Server(
        name,
        "locallibrary.web.app:create_app",
        env,
        "/healthz",
        workers=workers,
        database_pid=database_pid,
    )
    return stack.enter_context(serving(server))


def run_all(args: argparse.Namespace, log: Log, runs: list[SizeRun]) -> None:
    """Every row, each size in turn within a row (so that a comparison between sizes is
    measured minutes apart at most), against servers that all run from start to end. The rows
    of several workers come last, between two runs of the ceiling of as many workers."""
    one_worker = any(wanted(args, name) for name in ROW_NAMES if name not in WORKER_ROWS)
    sites: dict[str, list[Site]] = {}  # by size: the one-worker site first, if it runs
    with ExitStack() as servers:
        for size in args.sizes:
            runs.append(SizeRun(size))  # rows measured before a crash are still reported
            sites[size] = []
        engines = worker_engines(args, runs, log)
        bindir = postgres_server.find_bindir() if "postgresql" in engines else None
        # By size and by who uses it: "run" the one-worker site, an engine the workers' site.
        databases: dict[tuple[str, str], Path | postgres_server.Cluster] = {}
        account = Account.new()
        # Lent only for the loans rows: on a large catalog, lending takes seconds.
        lenders = (
            (Account.borrower(), Account.desk())
            if any(wanted(args, name) for name in LOAN_ROWS)
            else None
        )
        for size in args.sizes:
            log.say(f"\n## Catalog: {size}\n")
            for key, copy, needed in (
                ("run", "run", one_worker),
                ("sqlite", "run-workers", "sqlite" in engines),  # a file of their own
            ):
                if needed:
                    path = prepare_database(size, log, copy)
                    servers.callback(discard_database, path)  # after its server stopped
                    databases[(size, key)] = path
                    if key == "run":  # the signed-in rows' accounts, before the site opens the file
                        create_account(path, account, log)
                        if lenders is not None:
                            for lender in lenders:
                                create_account(path, lender, log)
                            lend_loans(path, *lenders, log)
            if bindir is not None:
                databases[(size, "postgresql")] = prepare_postgres(size, bindir, log, servers)
        log.say("")
        ceiling = servers.enter_context(
            serving(Server("ceiling", "ceiling:create_app", site_env(), "/", app_dir=BENCH))
        )
        ceiling_2 = None
        if engines:
            ceiling_2 = Server(
                f"ceiling-{WORKERS}-workers",
                "ceiling:create_app",
                site_env(),
                "/",
                app_dir=BENCH,
                workers=WORKERS,
            )
            servers.enter_context(serving(ceiling_2))
        for run in runs:
            first = databases.get((run.size, "run"))
            if first is not None:
                assert isinstance(first, Path)
                app = start_site(servers, f"site-{run.size}", first)
                plans = plan_for(app, run, first, account, lenders)
                # The sign-in's password check (Argon2, tens of MiB by design, freed at once) is
                # the set-up's, not the load's: the peak RSS target is about what the rows use.
                peak = restart_peak_rss(app)
                run.notes.append(
                    f"peak RSS of {app.name} after the set-up, sign-in included: "
                    + (
                        f"{peak / 1024:.0f} MB, restarted from the present RSS before the rows"
                        if peak is not None
                        else "not restartable here (the rows' peak RSS may include it)"
                    )
                )
                sites[run.size].append(Site(app, plans, first, count_sessions(first)))
            for engine in engines:
                database = databases[(run.size, engine)]
                name = f"site-{run.size}-{WORKERS}-workers-{engine}"
                app = start_site(servers, name, database, WORKERS)
                plans = worker_plan(app, run, engine)
                sites[run.size].append(Site(app, plans, database, count_sessions_in(database)))

        for run in runs:
            run.rows.append(measure(ceiling, CEILING, args, log, run.notes, run.size))
        if one_worker:
            for index in range(len(sites[runs[0].size][0].plans)):
                for run in runs:
                    site = sites[run.size][0]
                    if wanted(args, site.plans[index].name):
                        run.rows.append(
                            measure(site.server, site.plans[index], args, log, run.notes, run.size)
                        )
            for run in runs:
                for name in PACED_ROWS:
                    paced = paced_plan(run, name)
                    if paced is not None:
                        run.rows.append(measure(ceiling, paced, args, log, run.notes, run.size))
        if ceiling_2 is not None:
            for run in runs:
                run.rows.append(measure(ceiling_2, CEILING_2, args, log, run.notes, run.size))
            for name in WORKER_ROWS:
                for run in runs:
                    for site in sites[run.size]:
                        for plan in site.plans:
                            if plan.name == name and wanted(args, name):
                                run.rows.append(
                                    measure(site.server, plan, args, log, run.notes, run.size)
                                )
            for run in runs:
                keep_better_ceiling(
                    run, measure(ceiling_2, CEILING_2, args, log, run.notes, run.size)
                )
        for run in runs:
            keep_better_ceiling(run, measure(ceiling, CEILING, args, log, run.notes, run.size))
            for row in run.rows:
                ceiling_row = run.ceiling(row.workers)
                top = ceiling_row.result.rps if ceiling_row is not None else 0.0
                row.ratio = row.result.rps / top if top else 0

        for run in runs:
            for site in sites[run.size]:
                after = count_sessions_in(site.database)
                if site.server.workers == 1:
                    run.notes.append(
                        f"sessions table: {site.sessions_before} row(s) before the load, "
                        f"{after} after (first visits must add none)"
                    )
                else:
                    run.notes.append(
                        f"sessions table of {site.server.name}: {site.sessions_before} row(s) "
                        f"before the load, {after} after"
                    )
                tail = site.server.log_tail()
                if tail.strip():
                    of = "" if site.server.workers == 1 else f" of {site.server.name}"
                    run.notes.append(f"server log{of} (tail):\n" + tail)


# --------------------------------------------------------------------------------------------
# Report


def table(run: SizeRun) -> str:
    lines = [
        f"### Catalog: {run.size}",
        "",
        "| endpoint | request | req/s | p50 ms | p99 ms | errors (http+socket) | peak RSS MB "
        "| × ceiling | server CPU | others' CPU |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in run.rows:
        if r.workers > 1:
            continue
        res = r.result
        lines.append(
            f"| {r.name} | `{r.request}` | {res.rps:,.0f} | {res.p50_ms:.2f} | {res.p99_ms:.2f} | "
            f"{r.errors} ({res.status_errors}+{res.socket_errors}) | {r.rss_mb:.0f} | "
            f"{r.ratio:.2f} | {r.server_cpu:.0%} | {r.others_cpu:.0%} |"
        )
    lines.append("")
    lines += workers_table(run)
    for r in run.rows:
        if r.crawl is not None and r.crawl.result is not None:
            c = r.crawl.result
            lines.append(
                f"The crawler of {r.name}: {c.requests:,} requests in {c.seconds:.1f} s "
                f"(p50 {c.p50_ms:.2f} ms, p99 {c.p99_ms:.2f} ms), {r.crawl.errors} errors "
                f"({c.status_errors}+{c.socket_errors}).  "
            )
    lines.append(
        "CPU columns: cores busy during the row (100% = one core) — the server process, "
        "and every other process on the machine (not wrk, not this script)."
    )
    if any(r.workers > 1 for r in run.rows):
        lines.append(
            f"With {WORKERS} workers: the server's CPU is its processes' together (each "
            "worker's in brackets), PostgreSQL's is its server's and backends', and the peak "
            f"RSS is the largest process's (a worker's); × ceiling is to {CEILING_WORKERS}."
        )
    busy = [r for r in run.rows if r.others_cpu > NOISY_OTHERS]
    if busy:
        lines.append(
            f"**Noisy machine**: other processes used more than {NOISY_OTHERS:.0%} of a "
            f"core during {', '.join(r.name for r in busy)}; those numbers are low."
        )
    return "\n".join(lines)


def workers_table(run: SizeRun) -> list[str]:
    """The rows of several workers, under the one-worker table: their ratios are to the
    ceiling of as many workers, and their CPU is several processes'."""
    rows = [r for r in run.rows if r.workers > 1]
    if not rows:
        return []
    lines = [
        f"{WORKERS} uvicorn workers (`--workers {WORKERS}`), × the ceiling of {WORKERS}:",
        "",
        "| endpoint | request | req/s | p50 ms | p99 ms | errors (http+socket) "
        f"| peak RSS MB (a worker) | × {CEILING_WORKERS} | server CPU (each worker) "
        "| PostgreSQL CPU | others' CPU |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in rows:
        res = r.result
        each = " + ".join(f"{cores:.0%}" for cores in r.worker_cpu)
        database = "—" if r.database_cpu is None else f"{r.database_cpu:.0%}"
        lines.append(
            f"| {r.name} | `{r.request}` | {res.rps:,.0f} | {res.p50_ms:.2f} | {res.p99_ms:.2f} | "
            f"{r.errors} ({res.status_errors}+{res.socket_errors}) | {r.rss_mb:.0f} | "
            f"{r.ratio:.2f} | {r.server_cpu:.0%} ({each}) | {database} | {r.others_cpu:.0%} |"
        )
    return [*lines, ""]


def ratio(a: float, b: float) -> float:
    return a / b if b else float("inf") if a else 0.0


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def summary(runs: list[SizeRun]) -> tuple[list[str], bool]:
    lines: list[str] = []
    all_ok = True

    def add(ok: bool, text: str) -> None:
        nonlocal all_ok
        all_ok &= ok
        lines.append(f"- **{verdict(ok)}** {text}")

    for label, names, floor in RATIO_TARGETS:
        parts, ok = [], True
        for run in runs:
            for name in names:
                row = run.row(name)
                if row is None:
                    continue
                ok &= row.ratio >= floor
                what = f"{name} " if len(names) > 1 else ""
                parts.append(f"{run.size}: {what}{row.ratio:.2f}")
        if not parts:
            lines.append(f"- **n/a** {label} ≥ {floor:.2f} × ceiling — not run")
            continue
        add(ok, f"{label} ≥ {floor:.2f} × ceiling — " + ", ".join(parts))

    for pair in PAIRS:
        parts, ok = [], True
        for run in runs:
            row, reference = run.row(pair.row), run.row(pair.reference)
            if row is None or reference is None:
                continue
            if pair.metric == "p99":
                value = ratio(row.result.p99_ms, reference.result.p99_ms)
                shown = f"{row.result.p99_ms:.1f} / {reference.result.p99_ms:.1f} ms"
                ok &= value <= pair.bound
            else:
                value = ratio(row.result.rps, reference.result.rps)
                shown = f"{row.result.rps:,.0f} / {reference.result.rps:,.0f} req/s"
                ok &= value >= pair.bound
            parts.append(f"{run.size}: {value:.2f} ({shown})")
        sign = "≤" if pair.metric == "p99" else "≥"
        text = f"{pair.row} {pair.metric} {sign} {pair.bound:.2f} × {pair.reference}'s"
        if not parts:
            lines.append(f"- **n/a** {text} — not run")
        elif not pair.target:
            lines.append(
                f"- (not a target) {pair.row} {pair.metric} ÷ {pair.reference}'s: "
                f"{pair.why} — " + ", ".join(parts)
            )
        else:
            add(ok, f"{text} — " + ", ".join(parts))

    for name, bound in TAIL_TARGETS:
        parts, ok = [], True
        for run in runs:
            row = run.row(name)
            if row is None:
                continue
            value = ratio(row.result.p99_ms, row.result.p50_ms)
            ok &= value <= bound
            part = f"{run.size}: {value:.1f} ({row.result.p99_ms:.1f} / {row.result.p50_ms:.1f} ms"
            paced = run.row(paced_name(name))
            if paced is not None:
                part += (
                    "; the ceiling at its pace: "
                    f"{ratio(paced.result.p99_ms, paced.result.p50_ms):.1f}, not a target"
                )
            parts.append(part + ")")
        text = f"{name} p99 ≤ {bound:g} × its p50"
        if parts:
            add(ok, f"{text} — " + ", ".join(parts))
        else:
            lines.append(f"- **n/a** {text} — not run")

    lines += workers_report(runs)

    demo = next((r for r in runs if r.size == "demo"), None)
    others = [r for r in runs if r.size != "demo"]
    if demo is None or not others:
        lines.append(
            f"- **n/a** drop from demo to a larger catalog ≤ {MAX_DROP:.0%} "
            "(needs demo and a larger size)"
        )
    else:
        for other in others:
            for row in demo.rows:
                big = other.row(row.name)
                if row.name.startswith("ceiling") or big is None or row.workers > 1:
                    continue  # the ceiling at a row's pace too: each size's pace is its own
                if row.name == ANY_BOOK:
                    lines.append(
                        f"- (not a target) {ANY_BOOK}: demo → {other.size} "
                        f"{row.result.rps:,.0f} → {big.result.rps:,.0f} req/s: every demo "
                        "book fits in the page cache, few of the larger catalog's do"
                    )
                    continue
                drop = 1 - big.result.rps / row.result.rps if row.result.rps else 1.0
                add(
                    drop <= MAX_DROP,
                    f"{row.name}: demo → {other.size} drop ≤ {MAX_DROP:.0%} — "
                    f"{row.result.rps:,.0f} → {big.result.rps:,.0f} req/s ({-drop:+.0%})",
                )
            ceil_a, ceil_b = demo.row("ceiling"), other.row("ceiling")
            if ceil_a and ceil_b and ceil_a.result.rps:
                drift = ceil_b.result.rps / ceil_a.result.rps - 1
                lines.append(
                    f"- (noise) ceiling demo → {other.size}: {drift:+.1%} "
                    "(same app both times; not a target)"
                )

    failing = [
        f"{run.size}/{row.name} ({row.errors})" for run in runs for row in run.rows if row.errors
    ]
    failing += [
        f"{run.size}/{row.name}'s crawler ({row.crawl.errors})"
        for run in runs
        for row in run.rows
        if row.crawl and row.crawl.errors
    ]
    add(not failing, "zero errors — " + (", ".join(failing) if failing else "every row"))

    peaks = {
        run.size: max(r.rss_mb for r in run.rows if r.workers == 1) for run in runs if run.rows
    }
    if peaks:  # none when the run stopped before its first row
        add(
            all(p < MAX_RSS_MB for p in peaks.values()),
            f"peak RSS < {MAX_RSS_MB:.0f} MB — "
            + ", ".join(f"{s}: {p:.0f} MB" for s, p in peaks.items()),
        )
    return lines, all_ok


def workers_report(runs: list[SizeRun]) -> list[str]:
    """The rows of several workers, reported beside the targets (they have none yet, but the
    zero errors that every row must keep): each as a fraction of the ceiling of as many
    workers, and that ceiling as a fraction of the one-worker ceiling."""
    lines = []
    for name in (CEILING_WORKERS, *WORKER_ROWS):
        parts = []
        for run in runs:
            row, one = run.row(name), run.ceiling(1)
            if row is None:
                continue
            res = row.result
            if name == CEILING_WORKERS and one is not None:
                parts.append(
                    f"{run.size}: {ratio(res.rps, one.result.rps):.2f} "
                    f"({res.rps:,.0f} / {one.result.rps:,.0f} req/s)"
                )
            elif name != CEILING_WORKERS:
                parts.append(
                    f"{run.size}: {row.ratio:.2f} ({res.rps:,.0f} req/s, p99 {res.p99_ms:.1f} ms)"
                )
        why = next((run.skipped[name] for run in runs if name in run.skipped), None)
        if parts and name == CEILING_WORKERS:
            lines.append(f"- (reported, not a target) {name} ÷ ceiling — " + ", ".join(parts))
        elif parts:
            lines.append(
                f"- (reported, not a target) {name} × {CEILING_WORKERS} — " + ", ".join(parts)
            )
        elif why is not None:
            lines.append(f"- **n/a** {name} — skipped: {why}")
    return lines


def code_fingerprint() -> str:
    """A digest of the site's code and templates as run (the working tree may differ from HEAD)."""
    digest = hashlib.sha256()
    for top in ("site", "templates"):
        for path in sorted((ROOT / top).rglob("*")):
            if path.is_file() and path.suffix in (".py", ".html", ".json", ".mako"):
                digest.update(str(path.relative_to(ROOT)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def machine() -> str:
    wrk_version = subprocess.run([WRK, "-v"], capture_output=True, text=True, timeout=10)
    first = (wrk_version.stdout or wrk_version.stderr).splitlines()[:1]
    try:
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except OSError:
        commit = ""
    cpu = ""
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        pass
    return (
        f"commit {commit or '?'} (code fingerprint {code_fingerprint()}); "
        f"{os.cpu_count()} CPUs ({cpu or platform.machine()}); "
        f"Python {platform.python_version()}; {first[0] if first else 'wrk'}"
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: demo catalog only, 1 s per row (unless given)",
    )
    parser.add_argument(
        "--sizes",
        help="comma-separated: demo and/or numbers of books (default demo,100000; --quick: demo)",
    )
    parser.add_argument(
        "--duration",
        type=int,
        help="seconds of load per row, whole seconds as wrk takes them (default 5; --quick: 1)",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        help="seconds of unrecorded load before each row "
        "(default 1; --quick: 0, only the few requests every row starts with)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="measure each row N times and keep the best (default 1); run-to-run "
        "noise on a small VM is ±20%%, more than the 10%% drop target",
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (default 32)")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        help="before each row, wait up to this many seconds for other processes "
        "to leave the CPUs idle (default 15; --quick: 0, don't wait)",
    )
    parser.add_argument(
        "--rows",
        help="comma-separated row names to run, e.g. 'poll,book detail' "
        f"(default: all of {', '.join(ROW_NAMES)}; the ceiling always runs, the ceiling of "
        f"{WORKERS} workers with a row of {WORKERS}, and so does the row another is compared "
        "with)",
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a target fails")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/")
    args = parser.parse_args(argv)
    args.sizes = args.sizes or ("demo" if args.quick else "demo,100000")
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    for s in sizes:
        if s != "demo" and not (s.isdigit() and int(s) > 0):
            parser.error(f"--sizes: {s!r} is neither 'demo' nor a positive number of books")
    args.sizes = sizes
    # Commas inside brackets are part of a name: "poll (2 workers, sqlite)".
    names = re.split(r",(?![^()]*\))", args.rows) if args.rows else []
    args.rows = [r.strip() for r in names if r.strip()]
    for r in args.rows:
        if r not in ROW_NAMES:
            parser.error(f"--rows: unknown row {r!r}; the rows are {', '.join(ROW_NAMES)}")
    # A row compared with another brings that one along, so that its target can be judged.
    args.rows = list(dict.fromkeys(args.rows + [p.reference for p in PAIRS if p.row in args.rows]))
    args.duration = args.duration if args.duration is not None else (1 if args.quick else 5)
    args.warmup = args.warmup if args.warmup is not None else (0 if args.quick else 1)
    if args.quiet_wait is None:
        args.quiet_wait = 0.0 if args.quick else 15.0
    if (
        args.duration <= 0
        or args.warmup < 0
        or args.threads < 1
        or args.repeat < 1
        or args.connections < args.threads
    ):
        parser.error(
            "need --duration > 0, --warmup ≥ 0, --repeat ≥ 1, --threads ≥ 1, "
            "--connections ≥ --threads"
        )
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not os.access(WRK, os.X_OK):
        print(
            f"bench: {WRK} not found; install Debian's wrk (apt-get install wrk).", file=sys.stderr
        )
        return 2
    # A SIGTERM to the benchmark unwinds like Ctrl-C does, so the servers are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    log = Log()
    started = dt.datetime.now(dt.UTC)
    log.say(f"# LocalLibrary benchmark, {started:%Y-%m-%d %H:%M:%S} UTC\n")
    log.say(f"{machine()}  ")
    log.say(
        f"wrk -t{args.threads} -c{args.connections}, {args.duration:g} s per row after "
        f"{args.warmup:g} s of warm-up{f', best of {args.repeat}' if args.repeat > 1 else ''}; "
        f"one uvicorn worker on {HOST} ({WORKERS} for the rows that say so); production "
        f"settings; sizes: {', '.join(args.sizes)}"
    )

    runs: list[SizeRun] = []
    crashed: BaseException | None = None
    try:
        run_all(args, log, runs)
    except BaseException as error:  # save what was measured, then fail
        crashed = error

    lines, ok = summary(runs) if runs else ([], False)
    best_of = f", best of {args.repeat}" if args.repeat > 1 else ""
    report = [
        "",
        f"## Results (wrk -t{args.threads} -c{args.connections}, "
        f"{args.duration:g} s per row{best_of})",
        "",
    ]
    for run in runs:
        report += [table(run), ""]
    report += ["### Targets", "", *lines, ""]
    if crashed is not None:
        report += [f"**INCOMPLETE**: {type(crashed).__name__}: {crashed}", ""]
    for line in report:
        log.say(line)
    if not args.no_save:
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"{started:%Y%m%dT%H%M%SZ}.md"
        notes = [f"- {run.size}: {note}" for run in runs for note in run.notes]
        text = "\n".join(
            [
                *log.lines,
                "### Notes",
                "",
                *notes,
                "",
                "## Raw wrk output",
                "",
                "```",
                *log.raw,
                "```",
                "",
            ]
        )
        path.write_text(text)
        print(f"Saved {path.relative_to(ROOT)}")
    if crashed is not None:
        if isinstance(crashed, BenchError):
            print(f"bench: {crashed}", file=sys.stderr)
            return 3
        raise crashed
    return 1 if (args.check and not ok) else 0


if __name__ == "__main__":
    sys.exit(main())
