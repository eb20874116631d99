"""Profile the site under wrk load with py-spy, and say where the time goes.

    .venv/bin/python bench/profile.py ROW [--size demo|100000] [--duration 5]

ROW is one of: home-returning, home-first, poll, list, list-deep, detail, and home-signed-in,
list-signed-in, detail-signed-in (a browser signed in to an account made in the database copy,
as bench/run.py's signed-in rows), and my-loans, all-borrowed (bench/run.py's loans rows: the
patron's and the librarian's, with the loans bench/lend.py lends in the copy). The site runs as in bench/run.py (production settings, one
uvicorn worker, a fresh copy of the cached seeded file);
wrk loads ROW while `py-spy record --format raw --threads --nonblocking` samples the server
(on-CPU samples only), and /proc says how much CPU each thread used meanwhile. The collapsed
stacks are saved to bench/tmp/profile-<row>-<size>.txt and summarized: the CPU of the event
loop thread and of the others (aiosqlite's workers), the loop thread's samples by category and
by function (self and inclusive), and what the other threads do. Needs py-spy in the venv
(`.venv/bin/pip install py-spy`) and Debian's wrk.
"""

from __future__ import annotations

import argparse
import re
import secrets
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as bench  # noqa: E402  (bench/run.py)

LOAN_ROWS = ("my-loans", "all-borrowed")
SIGNED_IN_ROWS = ("home-signed-in", "list-signed-in", "detail-signed-in", *LOAN_ROWS)
ROWS = ("home-returning", "home-first", "poll", "list", "list-deep", "detail", *SIGNED_IN_ROWS)
CLOCK_TICKS = bench.CLOCK_TICKS
process_cpu = bench.process_cpu


def thread_cpu(pid: int) -> dict[int, tuple[str, float]]:
    """CPU seconds (user + system) used so far by each thread of `pid`, with its name."""
    cpu = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        cpu[int(task.name)] = (name, (int(fields[11]) + int(fields[12])) / CLOCK_TICKS)
    return cpu


def cpu_report(
    pid: int,
    before: tuple[dict[int, tuple[str, float]], float],
    after: tuple[dict[int, tuple[str, float]], float],
    seconds: float,
) -> str:
    (threads_before, total_before), (threads_after, total_after) = before, after
    main = threads_after[pid][1] - threads_before[pid][1]
    others = (total_after - total_before) - main
    started = len(set(threads_after) - set(threads_before))
    return (
        f"CPU over {seconds:.1f} s: event loop thread {main / seconds:.0%} of a core, "
        f"the other threads {others / seconds:.0%} of a core together "
        f"({len(threads_after) - 1} alive at the end, {started} started meanwhile)"
    )


def request_for(row: str, base: str, account: bench.Account) -> tuple[str, dict[str, str]]:
    cookie, _ = bench.returning_cookie(base)
    signed_in = (
        {"Cookie": bench.signed_in_cookie(base, account)[0]} if row in SIGNED_IN_ROWS else {}
    )
    _, first = bench.get(base + "/catalog/books/")
    pages = re.search(r"Page 1 of (\d+)", first)
    book = re.search(r'href="/catalog/book/(\d+)"', first)
    detail = f"/catalog/book/{book.group(1) if book else 1}"
    return {
        "home-returning": ("/catalog/", {"Cookie": cookie}),
        "home-first": ("/catalog/", {}),
        "poll": ("/catalog/_counts", {"Cookie": cookie, "HX-Request": "true"}),
        "list": ("/catalog/books/", {}),
        "list-deep": (f"/catalog/books/?page={pages.group(1) if pages else 1}", {}),
        "detail": (detail, {}),
        "home-signed-in": ("/catalog/", signed_in),
        "list-signed-in": ("/catalog/books/", signed_in),
        "detail-signed-in": (detail, signed_in),
        "my-loans": ("/loans/mine/", signed_in),
        "all-borrowed": ("/loans/", signed_in),
    }[row]


def parse(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    for line in path.read_text().splitlines():
        frames, _, count = line.rpartition(" ")
        if frames and count.isdigit():
            stacks.append((frames.split(";"), int(count)))
    return stacks


def short(frame: str) -> str:
    """'index (locallibrary/catalog/views.py:30)' -> 'index (catalog/views.py)'."""
    match = re.match(r"(.*?) \((.*?)(?::\d+)?\)$", frame)
    if not match:
        return frame
    name, file = match.groups()
    file = re.sub(r".*/site-packages/", "", file)
    file = re.sub(r".*/site/locallibrary/", "locallibrary/", file)
    file = re.sub(r".*/lib/python3\.\d+/", "stdlib/", file)
    return f"{name} ({file})"


# Where a loop-thread sample goes: the category of the frame nearest the leaf that has one.
CATEGORIES = (
    (
        "url_for / path_for (Starlette routing)",
        ("url_path_for", "url_for", "path_for (", "make_absolute_url"),
    ),
    ("Jinja2 rendering", ("jinja2/", ".html)", "markupsafe/")),
    ("SQL compilation (SQLAlchemy)", ("sqlalchemy/",)),
    ("aiosqlite hand-off (queue a call, wake the loop)", ("aiosqlite/",)),
    ("databases glue (connections, rows)", ("databases/",)),
    ("threading (thread start, locks)", ("threading.py", "queue.py")),
    ("session framework", ("locallibrary/sessions/",)),
    ("catalog views and queries", ("locallibrary/catalog/",)),
    ("site middleware", ("locallibrary/",)),
    ("HTTP server (uvicorn, httptools)", ("uvicorn/", "httptools")),
    ("Starlette (routing, middleware, responses)", ("starlette/",)),
    ("gzip", ("gzip",)),
    ("uvloop / asyncio loop itself", ("Runner.run", "asyncio/")),
)


def category(frames: list[str]) -> str:
    for frame in reversed(frames):
        for name, needles in CATEGORIES:
            if any(n in frame for n in needles):
                return name
    return "other"


def summarize(stacks: list[tuple[list[str], int]], expected: int, top: int = 25) -> str:
    by_thread: dict[str, list[tuple[list[str], int]]] = {}
    for frames, count in stacks:
        by_thread.setdefault(frames[0], []).append((frames[1:], count))
    total = sum(c for _, c in stacks)
    out = [f"{total} samples over {len(by_thread)} threads"]

    def loop_thread() -> str:  # the thread that runs uvicorn's serve()
        return max(
            by_thread,
            key=lambda t: sum(
                c
                for f, c in by_thread[t]
                if any("run (uvicorn" in x or "serve (uvicorn" in x for x in f)
            ),
        )

    main = loop_thread()
    main_stacks = by_thread[main]
    main_total = sum(c for _, c in main_stacks)
    out.append(
        f"event loop thread {main}: on CPU in {main_total} of ~{expected} samples "
        f"({main_total / expected:.0%})"
    )
    busy = main_stacks
    busy_total = main_total or 1
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    for frames, count in busy:
        if frames:
            self_time[short(frames[-1])] += count
        for frame in {short(f) for f in frames}:
            inclusive[frame] += count
    categories: Counter[str] = Counter()
    for frames, count in busy:
        categories[category(frames)] += count
    out.append("\nloop thread, on-CPU samples by category (nearest frame to the leaf):")
    out += [f"  {c / busy_total:6.1%}  {f}" for f, c in categories.most_common()]
    out.append("\nloop thread, busy samples by leaf frame (self), % of busy:")
    out += [f"  {c / busy_total:6.1%}  {f}" for f, c in self_time.most_common(top)]
    out.append("\nloop thread, busy samples by frame on the stack (inclusive), % of busy:")
    out += [f"  {c / busy_total:6.1%}  {f}" for f, c in inclusive.most_common(top * 2)]
    others = [(t, sum(c for _, c in s)) for t, s in by_thread.items() if t != main]
    others.sort(key=lambda x: -x[1])
    other_total = sum(c for _, c in others)
    out.append(
        f"\nother threads: {len(others)} seen on CPU, {other_total} samples "
        f"(= {other_total / expected:.2f} cores on average beside the loop)"
    )
    leaf: Counter[str] = Counter()
    for t, _ in others:
        for frames, count in by_thread[t]:
            if frames:
                leaf[short(frames[-1])] += count
    out += [f"  {c / (other_total or 1):6.1%}  {f}" for f, c in leaf.most_common(12)]
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("row", choices=ROWS)
    parser.add_argument("--size", default="demo")
    parser.add_argument("--duration", type=int, default=5, help="seconds sampled (default 5)")
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples/s (default 250)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    py_spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if not py_spy:
        print("profile: py-spy not found; .venv/bin/pip install py-spy", file=sys.stderr)
        return 2
    if not Path(bench.WRK).is_file():
        print(
            f"profile: {bench.WRK} not found; install Debian's wrk (apt-get install wrk).",
            file=sys.stderr,
        )
        return 2
    log = bench.Log()
    database = bench.prepare_database(args.size, log)
    account = bench.Account.new()
    if args.row in LOAN_ROWS:
        patron, librarian = bench.Account.borrower(), bench.Account.desk()
        for lender in (patron, librarian):
            bench.create_account(database, lender, log)
        bench.lend_loans(database, patron, librarian, log)
        account = patron if args.row == "my-loans" else librarian
    elif args.row in SIGNED_IN_ROWS:
        bench.create_account(database, account, log)
    env = bench.site_env(database)
    env["SECRET_KEY"] = secrets.token_urlsafe(32)
    out = bench.TMP / f"profile-{args.row}-{args.size}.txt"
    server = bench.Server(
        f"profile-{args.size}", "locallibrary.web.app:create_app", env, "/healthz"
    )
    with ExitStack() as stack:
        stack.callback(bench.discard_database, database)
        stack.enter_context(bench.serving(server))
        path, headers = request_for(args.row, server.base, account)
        url = server.base + path
        for _ in range(bench.WARM_REQUESTS):
            bench.get(url, headers)
        result: list[bench.WrkResult] = []
        load = threading.Thread(
            target=lambda: result.append(
                bench.run_wrk(url, headers, args.duration + 2, args.threads, args.connections, None)
            )
        )
        load.start()
        time.sleep(1)  # let the load settle
        before = (thread_cpu(server.pid), process_cpu(server.pid))
        started = time.monotonic()
        try:
            subprocess.run(
                [
                    py_spy,
                    "record",
                    "--pid",
                    str(server.pid),
                    "--duration",
                    str(args.duration),
                    "--rate",
                    str(args.rate),
                    "--format",
                    "raw",
                    "--threads",
                    "--nonblocking",
                    "-o",
                    str(out),
                ],
                check=True,
                timeout=args.duration + 60,
                capture_output=True,
            )
            after = (thread_cpu(server.pid), process_cpu(server.pid))
            cpu = cpu_report(server.pid, before, after, time.monotonic() - started)
        finally:
            load.join(timeout=args.duration + bench.WRK_GRACE + 5)
    if result:
        r = result[0]
        print(
            f"{args.row} on {args.size}: {r.rps:.0f} req/s, p50 {r.p50_ms:.1f} ms, "
            f"p99 {r.p99_ms:.1f} ms, errors {r.status_errors + r.socket_errors} "
            f"(with py-spy attached)"
        )
    print(f"stacks: {out.relative_to(bench.ROOT)}\n")
    print(cpu)
    print(summarize(parse(out), args.duration * args.rate))
    return 0


if __name__ == "__main__":
    sys.exit(main())
