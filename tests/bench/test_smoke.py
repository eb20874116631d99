"""A few seconds of the benchmark, so that it keeps working (no speed is asserted here)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

from locallibrary.settings import PROJECT_ROOT
from tests.conftest import REQUIRE_ALL, skip_or_fail


def test_quick_benchmark_runs_and_prints_its_table() -> None:
    if shutil.which("wrk") is None:
        skip_or_fail("wrk not found; install Debian's `wrk` for the benchmark")
    # Each new kind of row once: a crawler beside the load, random ids, a nonce, a signed-in
    # browser, a librarian's with loans lent for it, two workers on each database; the rows
    # they are compared with come along by themselves.
    workers: tuple[str, ...] = (
        "poll (2 workers, sqlite)",
        "home (returning, 2 workers, postgresql)",
    )
    rows = (
        "home (signed in)",
        "poll under crawl",
        "book list (middle)",
        "book detail (any book)",
        "book list (any middle page)",
        "all borrowed",
        *workers,
    )
    result = subprocess.run(
        [sys.executable, "bench/run.py", "--quick", "--rows", ",".join(rows), "--no-save"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    names = {line.split("|")[1].strip() for line in lines if line.startswith("| ")}
    expected = {"ceiling", "home (returning)", "poll", "book list p1", "book list p1 (uncached)"}
    expected |= set(rows)
    expected.add("ceiling (2 workers)")
    expected.add("ceiling at the pace of book detail (any book)")  # beside its tail target
    if "PostgreSQL rows skipped: " in result.stdout:  # the machine has no PostgreSQL
        if REQUIRE_ALL:
            pytest.fail("the PostgreSQL rows were skipped (LOCALLIBRARY_TEST_REQUIRE_ALL=1)")
        assert f"- **n/a** {workers[1]} — skipped: " in result.stdout, result.stdout
        expected.remove(workers[1])
        workers = workers[:1]
    assert expected <= names, result.stdout
    for row in workers:  # reported to the two-worker ceiling, not judged
        reported = f"- (reported, not a target) {row} × ceiling (2 workers) — demo: "
        assert reported in result.stdout, result.stdout
    crawler = [line for line in lines if line.startswith("The crawler of poll under crawl: ")]
    assert len(crawler) == 1 and " 0 errors " in crawler[0], result.stdout
    assert int(crawler[0].split(": ")[1].split()[0].replace(",", "")) > 0, result.stdout
    for target in (
        "book list (any middle page) req/s",
        "poll under crawl req/s",
        "poll under crawl p99",
        "home (signed in) req/s",
        "book detail (any book) p99",
        "all borrowed ≥ 0.15 × ceiling",
    ):
        assert re.search(
            rf"^- \*\*(PASS|FAIL)\*\* {re.escape(target)} ", result.stdout, re.MULTILINE
        ), (target, result.stdout)
    tail = re.search(
        r"^- \*\*(PASS|FAIL)\*\* book detail \(any book\) p99 .*$", result.stdout, re.M
    )
    assert tail and "; the ceiling at its pace: " in tail.group(0), result.stdout
    assert "**PASS** zero errors" in result.stdout, result.stdout


def test_the_in_process_timing_runs_for_a_row_and_the_ceiling() -> None:
    result = subprocess.run(
        [sys.executable, "bench/inprocess.py", "poll", "--requests", "20", "--rounds", "1"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    timings = re.findall(
        r"^(poll|ceiling) \(([^)]*)\): warm +[\d.]+ µs, cold +[\d.]+ µs$",
        result.stdout,
        re.MULTILINE,
    )
    assert timings == [("poll", "/catalog/_counts"), ("ceiling", "/")], result.stdout
