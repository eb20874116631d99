"""A few seconds of the benchmark, so that it keeps working (no speed is asserted here)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

from locallibrary.settings import PROJECT_ROOT
from tests.conftest import skip_or_fail


def test_quick_benchmark_runs_and_prints_its_table() -> None:
    if shutil.which("wrk") is None:
        skip_or_fail("wrk not found; install Debian's `wrk` for the benchmark")
    result = subprocess.run(
        [sys.executable, "bench/run.py", "--quick", "--rows",
         "home (returning),poll,book list p1,book detail (any book)", "--no-save"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [line for line in result.stdout.splitlines() if line.startswith("| ")]
    names = [row.split("|")[1].strip() for row in rows]
    expected = {"ceiling", "home (returning)", "poll", "book list p1", "book detail (any book)"}
    assert expected <= set(names), result.stdout
    assert "**PASS** zero errors" in result.stdout, result.stdout


def test_the_in_process_timing_runs_for_a_row_and_the_ceiling() -> None:
    result = subprocess.run(
        [sys.executable, "bench/inprocess.py", "poll", "--requests", "20", "--rounds", "1"],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    timings = re.findall(r"^(poll|ceiling) \(([^)]*)\): warm +[\d.]+ µs, cold +[\d.]+ µs$",
                         result.stdout, re.MULTILINE)
    assert timings == [("poll", "/catalog/_counts"), ("ceiling", "/")], result.stdout
