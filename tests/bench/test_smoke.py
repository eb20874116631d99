"""A few seconds of the benchmark, so that it keeps working (no speed is asserted here)."""

from __future__ import annotations

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
