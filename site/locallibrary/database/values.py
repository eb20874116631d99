"""Column values as the site uses them, from what either engine's driver returns.

asyncpg returns dates and UUIDs as Python objects; SQLite stores them as text (ISO dates and 32
hex digits, as SQLAlchemy's `Date` and `Uuid` types lay them out there).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any


def as_date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


def as_uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(value)
