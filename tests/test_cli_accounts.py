"""`locallibrary createuser`, and that `seed` makes no accounts: both databases, in-process.

click's CliRunner runs the command as a person would, short of a new process: the arguments,
the environment, standard input, and the exit status and the lines it prints.
"""

from __future__ import annotations

from pathlib import Path

import hypothesis
import pytest
from click.testing import CliRunner, Result
from hypothesis import strategies as st

from locallibrary.accounts import User, authenticate
from locallibrary.cli import main
from locallibrary.database import Database
from tests.db import sql, with_database

PASSWORD = "s3cret-horse-battery"


@pytest.fixture(autouse=True)
def no_env_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # settings read `.env` from the working directory: have none


def run(
    url: str, *args: str, password: str | None = PASSWORD, stdin: str | bytes | None = None
) -> Result:
    """The command with `password` in LOCALLIBRARY_PASSWORD (None: unset) and `stdin` as input."""
    env = {"DATABASE_URL": url, "SECRET_KEY": None, "LOCALLIBRARY_PASSWORD": password}
    return CliRunner().invoke(main, list(args), env=env, input=stdin)


def users(url: str) -> list[tuple[object, ...]]:
    return sql(url, "SELECT email, email_key, name, role FROM users ORDER BY id")


def signs_in(url: str, email: str, password: str) -> bool:
    async def sign_in(database: Database) -> User | None:
        return await authenticate(database, email, password)

    return with_database(url, sign_in) is not None


def assert_one_line_error(result: Result) -> str:
    """The message of the one-line error that `result` is."""
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit), "a one-line error, not a traceback"
    [line] = result.stderr.splitlines()
    assert line.startswith("Error: ")
    assert result.stdout == ""
    return line.removeprefix("Error: ")


def test_createuser_makes_a_patron(empty_database_url: str) -> None:
    result = run(empty_database_url, "createuser", "Ann@Example.org", "--name", "Ann")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Created patron Ann@example.org.\n"
    assert users(empty_database_url) == [("Ann@example.org", "ann@example.org", "Ann", "patron")]
    assert signs_in(empty_database_url, "ann@example.org", PASSWORD)


def test_createuser_makes_a_librarian(empty_database_url: str) -> None:
    result = run(
        empty_database_url, "createuser", "libby@example.org", "--name", "Libby", "--librarian"
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == "Created librarian libby@example.org.\n"
    assert [row[3] for row in users(empty_database_url)] == ["librarian"]


@pytest.mark.parametrize(
    "stdin",
    ["  spaces kept  \nthe next line is not read\n", "  spaces kept  "],
    ids=["newline", "end-of-file"],
)
def test_without_the_variable_the_password_is_one_line_of_stdin(
    empty_database_url: str, stdin: str
) -> None:
    result = run(
        empty_database_url,
        "createuser",
        "ann@example.org",
        "--name",
        "Ann",
        password=None,
        stdin=stdin,
    )
    assert result.exit_code == 0, result.output
    assert signs_in(empty_database_url, "ann@example.org", "  spaces kept  ")
    assert not signs_in(empty_database_url, "ann@example.org", "spaces kept")


@pytest.mark.parametrize(
    ("email", "name", "password", "message"),
    [
        ("not-an-email", "Ann", PASSWORD, "That is not an email address: "),
        ("ann@example.org", "", PASSWORD, "The name must not be empty."),
        ("ann@example.org", "A" * 101, PASSWORD, "The name must have at most 100 characters."),
        ("ann@example.org", "Ann", "short", "The password must have at least 8 characters."),
        ("ann@example.org", "Ann", "", "The password must have at least 8 characters."),
    ],
)
def test_bad_input_is_one_line_and_exit_status_1(
    empty_database_url: str, email: str, name: str, password: str, message: str
) -> None:
    result = run(empty_database_url, "createuser", email, "--name", name, password=password)
    assert assert_one_line_error(result).startswith(message)
    assert users(empty_database_url) == []


def test_no_password_on_stdin_is_one_line_and_exit_status_1(empty_database_url: str) -> None:
    result = run(
        empty_database_url, "createuser", "ann@example.org", "--name", "Ann", password=None
    )
    assert assert_one_line_error(result) == "The password must have at least 8 characters."


def test_an_email_taken_in_any_case_is_one_line_and_exit_status_1(
    empty_database_url: str,
) -> None:
    assert run(empty_database_url, "createuser", "ann@x.org", "--name", "Ann").exit_code == 0
    result = run(empty_database_url, "createuser", "ANN@X.ORG", "--name", "Other Ann")
    assert assert_one_line_error(result) == "An account with that email address exists already."
    assert [row[2] for row in users(empty_database_url)] == ["Ann"]


def test_the_password_is_never_printed(empty_database_url: str) -> None:
    outcomes = [
        run(empty_database_url, "createuser", email, "--name", "Ann")
        for email in ["ann@example.org", "ann@example.org", "bad email"]
    ]
    assert [result.exit_code for result in outcomes] == [0, 1, 1]
    assert all(PASSWORD not in result.output for result in outcomes)


def test_an_unmigrated_database_is_one_line_and_exit_status_1(blank_database_url: str) -> None:
    result = run(blank_database_url, "createuser", "ann@example.org", "--name", "Ann")
    assert "createuser failed on" in assert_one_line_error(result)


def test_seed_makes_no_accounts(empty_database_url: str) -> None:
    result = run(empty_database_url, "seed")
    assert result.exit_code == 0, result.output
    assert sql(empty_database_url, "SELECT count(*) FROM catalog_book")[0][0] > 0
    assert users(empty_database_url) == []


@hypothesis.settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture],
)
@hypothesis.given(
    email=st.emails() | st.text(max_size=300),
    name=st.text(max_size=120),
    # Standard input is bytes: any UTF-8 text, or bytes that are not UTF-8 at all.
    password=st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=1100).map(
        lambda text: text.encode("utf-8")
    )
    | st.binary(max_size=1100),
)
def test_any_input_creates_a_user_or_is_one_line_and_exit_status_1(
    empty_database_url: str, email: str, name: str, password: bytes
) -> None:
    password = password.split(b"\n")[0]  # one line
    before = len(users(empty_database_url))
    result = run(
        empty_database_url,
        "createuser",
        f"--name={name}",  # as one argument and EMAIL after `--`: either may start with "-"
        "--",
        email,
        password=None,
        stdin=password + b"\n",
    )
    if result.exit_code == 0:
        assert result.stdout.startswith("Created patron ") and result.stderr == ""
        assert len(users(empty_database_url)) == before + 1
    else:
        assert_one_line_error(result)
        assert len(users(empty_database_url)) == before, "no half-made user"


def test_a_password_on_standard_input_that_is_not_utf8_is_one_line(
    empty_database_url: str,
) -> None:
    result = run(
        empty_database_url,
        "createuser",
        "--name=Ann",
        "ann@example.org",
        password=None,
        stdin=b"\xff\xfe-not-utf-8-at-all\n",
    )
    assert_one_line_error(result)
    assert "unreadable character" in result.stderr
    assert users(empty_database_url) == []
