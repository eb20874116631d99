"""`databases`' PostgreSQL backend, compiling each statement built once only once (statements.py).

Selected for `postgresql://` URLs by `locallibrary.database.create_database`.
"""

from __future__ import annotations

from typing import Any

from databases.backends.postgres import PostgresBackend, PostgresConnection
from databases.core import DatabaseURL
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import Compiled

from locallibrary.database.statements import Bound, CompiledOnce, bound_args


def numbered(compiled: Compiled) -> tuple[str, list[str]]:
    """The SQL with asyncpg's $1, $2… in place of names, numbered as `databases` numbers them."""
    names = sorted(compiled.params)
    return compiled.string % {name: f"${i}" for i, name in enumerate(names, start=1)}, names


class CompiledOncePostgresConnection(PostgresConnection):
    _database: CompiledOncePostgresBackend

    def _compile(self, query: ClauseElement | Bound) -> tuple[str, list[Any], Any]:
        if not isinstance(query, Bound):
            return super()._compile(query)
        compiled, (sql, names) = self._database.statements(query.statement)
        return sql, bound_args(compiled, query.values, names), compiled._result_columns


class CompiledOncePostgresBackend(PostgresBackend):
    def __init__(self, database_url: DatabaseURL | str, **options: Any) -> None:
        super().__init__(database_url, **options)
        self.statements = CompiledOnce(self._dialect, numbered)

    def connection(self) -> CompiledOncePostgresConnection:
        return CompiledOncePostgresConnection(self, self._dialect)
