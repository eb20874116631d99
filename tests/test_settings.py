"""Settings from the environment: above all, the secret key is never empty."""

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


def test_an_unset_secret_key_is_random_per_process(environ: pytest.MonkeyPatch) -> None:
    first, second = Settings.from_environ(), Settings.from_environ()
    assert len(first.secret_key) >= 32
    assert first.secret_key != second.secret_key


def test_a_secret_key_that_is_set_is_used_as_it_is(environ: pytest.MonkeyPatch) -> None:
    environ.setenv("SECRET_KEY", " a key with spaces ")
    assert Settings.from_environ().secret_key == " a key with spaces "


def test_settings_made_in_code_never_have_an_empty_key() -> None:
    assert Settings().secret_key.strip()
    assert Settings().secret_key != Settings().secret_key
    with pytest.raises(SettingsError):
        Settings(secret_key="")
    with pytest.raises(SettingsError):
        Settings(secret_key="   ")


def test_the_secret_key_is_not_in_the_settings_repr() -> None:
    assert "s3cr3t" not in repr(Settings(secret_key="s3cr3t"))
