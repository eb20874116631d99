"""The code stays clean: ruff's lint and format (configured in pyproject.toml), `mypy --strict`
on the site's package and the benchmark."""

from __future__ import annotations

import subprocess
import sys

from locallibrary.settings import PROJECT_ROOT


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *command], cwd=PROJECT_ROOT, capture_output=True, text=True
    )


def test_ruff_finds_nothing() -> None:
    result = run("ruff", "check", "site", "tests", "bench")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_code_is_ruff_formatted() -> None:
    result = run("ruff", "format", "--check", "site", "tests", "bench")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_finds_nothing_in_the_site() -> None:
    result = run("mypy", "site")  # strict, as pyproject.toml configures it
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_finds_nothing_in_the_benchmark() -> None:
    result = run("mypy", "bench")
    assert result.returncode == 0, result.stdout + result.stderr
