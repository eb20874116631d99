"""The site's settings, read once from environment variables and an optional `.env` file.

Every setting is documented in the README's settings table; keep the two in step.
"""

from __future__ import annotations

import email.utils
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from starlette.config import Config

from locallibrary.mail import MailURLError, mail_destination

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEMPLATES_DIR = PROJECT_ROOT / "templates"
STATIC_DIR = PROJECT_ROOT / "static"
NODE_MODULES_DIR = PROJECT_ROOT / "node_modules"

DEFAULT_DATABASE_URL = "sqlite:///./locallibrary.sqlite3"
DEFAULT_MAIL_URL = "file:outbox"
DEFAULT_MAIL_FROM = "Local Library <library@localhost>"


class SettingsError(ValueError):
    """A setting the site cannot run with; the message is one line, for a person."""


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    database_busy_timeout: float = 5.0
    debug: bool = False
    # None: the key stored in the database (secret_key.py). Never empty: anyone could forge
    # what an empty key signs. Kept out of repr(), which error reports and debuggers print.
    secret_key: str | None = field(default=None, repr=False)
    counts_poll_seconds: float = 3.0
    session_cookie_name: str = "sessionid"
    session_cookie_age: int = 14 * 24 * 3600
    session_cookie_secure: bool = False
    session_save_every_request: bool = False
    session_max_bytes: int = 64 * 1024
    session_cleanup_seconds: float = 3600.0
    session_idle_timeout: int = 14 * 24 * 3600
    session_absolute_lifetime: int = 30 * 24 * 3600
    notice: str = "The library is open Monday to Saturday, 9:00 to 18:00."
    mail_url: str = field(default=DEFAULT_MAIL_URL, repr=False)  # may hold a password
    mail_from: str = DEFAULT_MAIL_FROM
    # The site's address in links sent by mail; None: the address each request came to.
    site_url: str | None = None

    def __post_init__(self) -> None:
        if self.secret_key is not None and not self.secret_key.strip():
            raise SettingsError(
                "SECRET_KEY is set but empty: set it to a long random value, "
                "or unset it to use the key stored in the database."
            )
        try:
            mail_destination(self.mail_url)
        except MailURLError as error:
            raise SettingsError(str(error)) from error
        if "@" not in email.utils.parseaddr(self.mail_from)[1]:
            raise SettingsError(
                f"MAIL_FROM {self.mail_from!r} holds no address: use a form such as "
                f"{DEFAULT_MAIL_FROM!r}."
            )
        if self.site_url is not None and not _is_site_address(self.site_url):
            raise SettingsError(
                f"SITE_URL {self.site_url!r} is not a site's address: use a form such as "
                "'https://library.example.org'."
            )

    @classmethod
    def from_environ(cls, env_file: str | os.PathLike[str] = ".env") -> Settings:
        config = Config(Path(env_file) if Path(env_file).is_file() else None)
        debug = config("DEBUG", cast=bool, default=False)
        # Unset means the stored key; set but empty is a mistake, refused by __post_init__.
        secret_key: str | None = config("SECRET_KEY", default=None)
        return cls(
            database_url=normalize_database_url(
                config("DATABASE_URL", default=DEFAULT_DATABASE_URL)
            ),
            database_busy_timeout=config("DATABASE_BUSY_TIMEOUT", cast=float, default=5.0),
            debug=debug,
            secret_key=secret_key,
            counts_poll_seconds=config("COUNTS_POLL_SECONDS", cast=float, default=3.0),
            session_cookie_name=config("SESSION_COOKIE_NAME", default="sessionid"),
            session_cookie_age=config("SESSION_COOKIE_AGE", cast=int, default=14 * 24 * 3600),
            session_cookie_secure=config("SESSION_COOKIE_SECURE", cast=bool, default=False),
            session_save_every_request=config(
                "SESSION_SAVE_EVERY_REQUEST", cast=bool, default=False
            ),
            session_max_bytes=config("SESSION_MAX_BYTES", cast=int, default=64 * 1024),
            session_cleanup_seconds=config("SESSION_CLEANUP_SECONDS", cast=float, default=3600.0),
            session_idle_timeout=config("SESSION_IDLE_TIMEOUT", cast=int, default=14 * 24 * 3600),
            session_absolute_lifetime=config(
                "SESSION_ABSOLUTE_LIFETIME", cast=int, default=30 * 24 * 3600
            ),
            notice=config("SITE_NOTICE", default=cls.notice),
            mail_url=config("MAIL_URL", default=DEFAULT_MAIL_URL),
            mail_from=config("MAIL_FROM", default=DEFAULT_MAIL_FROM),
            site_url=config("SITE_URL", default=None),
        )


def _is_site_address(url: str) -> bool:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (a port that is not a number raises here)
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and not (parts.query or parts.fragment or "@" in parts.netloc)
    )


def normalize_database_url(url: str) -> str:
    """Accept the `postgres://` spelling that Heroku-style platforms hand out."""
    if url.startswith("postgres://"):
        return "postgresql://" + url.removeprefix("postgres://")
    return url
