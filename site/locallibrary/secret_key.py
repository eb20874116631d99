"""The site's secret: the key for signed values, the same in every worker and across restarts.

`SECRET_KEY` chooses it when set. Otherwise the first process to start draws one and stores it
in the database (`site_secrets`), and every process, then and later, uses the stored one: each
inserts its own draw only if no key is there yet (`ON CONFLICT DO NOTHING`) and reads back the
one that is, so workers that start at the same moment agree.
"""

from __future__ import annotations

import logging
import secrets

from sqlalchemy import Column, MetaData, String, Table

from locallibrary.database import Database
from locallibrary.database.naming import NAMING_CONVENTION

logger = logging.getLogger("locallibrary")

metadata = MetaData(naming_convention=NAMING_CONVENTION)

site_secrets = Table(
    "site_secrets",
    metadata,
    Column("name", String(50), primary_key=True),
    Column("value", String(200), nullable=False),
)

NAME = "secret_key"
STORE = (
    "INSERT INTO site_secrets (name, value) VALUES (:name, :value) ON CONFLICT (name) DO NOTHING"
)
STORED = "SELECT value FROM site_secrets WHERE name = :name"


class SiteSecret:
    """The explicit key, or the stored one once `load` has run (the app's start-up)."""

    def __init__(self, explicit: str | None = None) -> None:
        self.explicit = explicit is not None
        self._value = explicit

    @property
    def value(self) -> str:
        if self._value is None:
            raise RuntimeError("the site's secret is read before start-up has loaded it")
        return self._value

    async def load(self, database: Database) -> None:
        """Use the stored key, storing a new one first if there is none; a no-op for an
        explicit key, which is never stored."""
        if self.explicit:
            logger.info("Signing with SECRET_KEY from the settings.")
            return
        drawn = secrets.token_urlsafe(32)
        await database.execute(STORE, {"name": NAME, "value": drawn})
        stored: str = await database.fetch_val(STORED, {"name": NAME})
        self._value = stored
        if stored == drawn:
            logger.info("SECRET_KEY is unset: signing with a new key, now stored in the database.")
        else:
            logger.info("SECRET_KEY is unset: signing with the key stored in the database.")
