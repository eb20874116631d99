"""The `locallibrary` command's own errors: one line and exit status 1, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def run_cli(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The command as a person runs it, in `cwd` (no `.env` there) with `env` on top of ours."""
    environ = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DATABASE_URL")}
    return subprocess.run(
        [sys.executable, "-m", "locallibrary", *args],
        env={**environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("command", ["migrate", "seed", "clearsessions"])
@pytest.mark.parametrize("value", ["", "   "], ids=["empty", "blank"])
def test_an_empty_secret_key_is_one_line_and_exit_status_1(
    tmp_path: Path, command: str, value: str
) -> None:
    database = tmp_path / "site.sqlite3"
    result = run_cli(command, cwd=tmp_path, SECRET_KEY=value, DATABASE_URL=f"sqlite:///{database}")
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "Error: SECRET_KEY is set but empty: set it to a long random value, "
        "or unset it to use the key stored in the database."
    ]
    assert not database.exists(), "nothing was done"


def test_a_mail_url_that_names_no_mailer_is_one_line_and_exit_status_1(tmp_path: Path) -> None:
    database = tmp_path / "site.sqlite3"
    result = run_cli(
        "migrate", cwd=tmp_path, MAIL_URL="gopher://mail", DATABASE_URL=f"sqlite:///{database}"
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "Error: MAIL_URL 'gopher://mail' names no mailer: use smtp://user:password@host:port, "
        "smtps://user:password@host:port or file:PATH"
    ]
    assert not database.exists(), "nothing was done"


def test_an_unset_secret_key_is_no_error(tmp_path: Path) -> None:
    database = tmp_path / "site.sqlite3"
    result = run_cli("migrate", cwd=tmp_path, DATABASE_URL=f"sqlite:///{database}")
    assert result.returncode == 0, result.stderr
    assert database.exists()
