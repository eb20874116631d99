"""Settings from the environment: above all, the secret key is never empty, and a mail URL
that names no mailer is refused in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from locallibrary.settings import Settings, SettingsError


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """An environment without SECRET_KEY, in a directory without a `.env` file."""
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


@pytest.mark.parametrize("value", ["", " ", "\t\n  "], ids=["empty", "space", "whitespace"])
def test_a_secret_key_set_but_empty_is_refused(environ: pytest.MonkeyPatch, value: str) -> None:
    environ.setenv("SECRET_KEY", value)
    with pytest.raises(SettingsError, match="SECRET_KEY is set but empty") as refused:
        Settings.from_environ()
    assert "\n" not in str(refused.value)


def test_a_secret_key_set_but_empty_in_the_env_file_is_refused(
    environ: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("SECRET_KEY=\n")
    with pytest.raises(SettingsError, match="SECRET_KEY is set but empty"):
        Settings.from_environ()


def test_an_unset_secret_key_means_the_stored_one(environ: pytest.MonkeyPatch) -> None:
    assert Settings.from_environ().secret_key is None


def test_a_secret_key_that_is_set_is_used_as_it_is(environ: pytest.MonkeyPatch) -> None:
    environ.setenv("SECRET_KEY", " a key with spaces ")
    assert Settings.from_environ().secret_key == " a key with spaces "


def test_settings_made_in_code_never_have_an_empty_key() -> None:
    assert Settings().secret_key is None  # the stored one
    with pytest.raises(SettingsError):
        Settings(secret_key="")
    with pytest.raises(SettingsError):
        Settings(secret_key="   ")


def test_the_secret_key_is_not_in_the_settings_repr() -> None:
    assert "s3cr3t" not in repr(Settings(secret_key="s3cr3t"))


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("smtp//mail.example.org", "names no mailer"),
        ("ftp://mail.example.org", "names no mailer"),
        ("mail.example.org:25", "names no mailer"),
        ("smtp://", "names no host"),
        ("smtp://mail.example.org:twenty-five", "has a port that is not a number"),
        ("smtp://mail.example.org:99999", "has a port that is not a number"),
        ("smtp://mail.example.org/inbox", "has a path"),
        ("smtp://mail.example.org?tls=1", "has a query"),
        ("file:", "names no directory"),
        ("file://elsewhere/var/mail", "names another host's files"),
    ],
)
def test_a_mail_url_that_names_no_mailer_is_refused_in_one_line(
    environ: pytest.MonkeyPatch, url: str, problem: str
) -> None:
    environ.setenv("MAIL_URL", url)
    with pytest.raises(SettingsError, match=f"^MAIL_URL .* {problem}") as refused:
        Settings.from_environ()
    assert "\n" not in str(refused.value)
    assert "smtp://user:password@host:port" in str(refused.value), "it says what would do"


def test_a_refused_mail_url_never_shows_its_password(environ: pytest.MonkeyPatch) -> None:
    environ.setenv("MAIL_URL", "smtp://library:hunter2@mail.example.org:port")
    with pytest.raises(SettingsError, match="not a number") as refused:
        Settings.from_environ()
    assert "hunter2" not in str(refused.value)
    assert "library:***@mail.example.org" in str(refused.value)
    assert "hunter2" not in repr(Settings(mail_url="smtp://library:hunter2@mail.example.org"))


def test_mail_from_must_hold_an_address(environ: pytest.MonkeyPatch) -> None:
    environ.setenv("MAIL_FROM", "Local Library")
    with pytest.raises(SettingsError, match="^MAIL_FROM 'Local Library' holds no address"):
        Settings.from_environ()
