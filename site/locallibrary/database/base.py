"""What the site asks of a database: a few query methods and transactions, the same on each engine.

SQL is written out as text with named parameters (`WHERE id = :book_id`), and values are passed
as a mapping. A row reads by column name or position (`row["title"]`, `row[0]`).

Reads made outside a transaction (`fetch_all`, `fetch_one`, `fetch_val`) must be bounded: a point
lookup by key or a page of an index. On SQLite they run on the event loop itself, where such a
read takes microseconds (see sqlite.py); `tests/database/test_plans.py` checks the catalog's
reads for sorts and table scans. A read that may visit many rows goes through
`fetch_all_off_loop`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

Values = Mapping[str, Any] | None


class Row(Protocol):
    """A result row: by column name or by position."""

    def __getitem__(self, key: str | int, /) -> Any: ...


class Queries(ABC):
    """The query methods, of a database or of a connection in a transaction."""

    @abstractmethod
    async def fetch_all(self, sql: str, values: Values = None) -> Sequence[Row]: ...

    @abstractmethod
    async def fetch_one(self, sql: str, values: Values = None) -> Row | None: ...

    async def fetch_val(self, sql: str, values: Values = None) -> Any:
        """The first column of the first row, or None when there is no row."""
        row = await self.fetch_one(sql, values)
        return None if row is None else row[0]

    @abstractmethod
    async def execute(self, sql: str, values: Values = None) -> None:
        """Run a statement that returns no rows (use `RETURNING` and a fetch to see changes)."""


class Database(Queries):
    """The site's database. `create_database(url)` makes the one for the URL's engine."""

    url: str
    engine: str  # "sqlite" or "postgresql"

    @abstractmethod
    async def connect(self) -> None: ...

    @abstractmethod
    async def disconnect(self) -> None: ...

    @abstractmethod
    async def fetch_all_off_loop(self, sql: str, values: Values = None) -> Sequence[Row]:
        """`fetch_all` for a read that may take milliseconds: never on the event loop."""

    @abstractmethod
    def transaction(self, *, write: bool = False) -> AbstractAsyncContextManager[Queries]:
        """A transaction, committed when the block ends normally and rolled back when it raises.
        Inside it, query through the `Queries` it yields, never through the database: on
        PostgreSQL `databases` would run those in the transaction too (it keeps one connection
        per task), on SQLite outside it, and a write there would wait for this one's lock. With `write`, SQLite takes its write lock at the start
        (`BEGIN IMMEDIATE`), so that a read-then-write cannot fail halfway on a lock upgrade;
        PostgreSQL's row locks (`SELECT … FOR UPDATE`) do that job there."""
