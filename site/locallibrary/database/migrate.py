"""Apply and write Alembic migrations for a database URL, without an alembic.ini."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from locallibrary.database import async_driver_url


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", "locallibrary:migrations")
    config.set_main_option("sqlalchemy.url", async_driver_url(database_url).replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def make_revision(database_url: str, message: str) -> None:
    command.revision(alembic_config(database_url), message=message, autogenerate=True)
