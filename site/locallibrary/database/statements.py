"""Statements built once and run many times, each compiled once per process.

`databases` compiles every statement it is given on every call, and building a SQLAlchemy
statement for each request costs more again: together about ten times what SQLite takes to
run an indexed read. So the catalog builds its statements once, with named parameters, and
runs them as `db.fetch_one(STATEMENT, {"name": value})`; `SiteDatabase` hands such a pair to
its backend as a `Bound`, and the backend compiles the statement the first time it sees it
and from then on only binds the values.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import Compiled

T = TypeVar("T")

# Statements are meant to be module constants; a process that builds them per call gets no
# reuse, and this bound keeps it from holding every one it ever ran.
MAX_STATEMENTS = 500


@dataclass(frozen=True, slots=True)
class Bound:
    """A statement built once, with the values of its named parameters for one call."""

    statement: ClauseElement
    values: Mapping[str, Any]


class CompiledOnce(Generic[T]):
    """Per statement object: what a backend derives from its compiled form, derived once."""

    def __init__(self, dialect: Dialect, derive: Callable[[Compiled], T]) -> None:
        self.dialect = dialect
        self.derive = derive
        # id(statement) -> (the statement, kept so that its id is not reused; compiled; derived)
        self._entries: dict[int, tuple[ClauseElement, Compiled, T]] = {}

    def __call__(self, statement: ClauseElement) -> tuple[Compiled, T]:
        entry = self._entries.get(id(statement))
        if entry is None or entry[0] is not statement:
            compiled = statement.compile(dialect=self.dialect)
            if any(bind.expanding for bind in compiled.binds.values()):
                raise ValueError("IN (...) lists are rendered per call: pass them inline")
            entry = (statement, compiled, self.derive(compiled))
            if len(self._entries) >= MAX_STATEMENTS:
                self._entries.clear()
            self._entries[id(statement)] = entry
        return entry[1], entry[2]


def bound_args(compiled: Compiled, values: Mapping[str, Any], names: list[str]) -> list[Any]:
    """The positional arguments for `names`, each through its type's bind processor."""
    params = compiled.construct_params(params=dict(values))
    processors = compiled._bind_processors
    return [
        processors[name](params[name]) if name in processors else params[name] for name in names
    ]
