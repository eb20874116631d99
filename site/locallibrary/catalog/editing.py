"""Changing the catalog: create, update and delete authors, books, copies, genres and languages.

Every change is one write transaction that also records who made it (`catalog_changes`); the
catalog's triggers move its version in that transaction (migration 0002), so every worker's
pages show the change on their next request.

- **No lost edits.** Each editable row has a `version`. An update names the version its form
  was loaded at, `UPDATE … WHERE id = :id AND version = :version`, and adds one; a row changed
  meanwhile matches nothing, and the caller gets `Conflict` with the row as it is now.
- **Unique values** (ISBNs; genre and language names, whatever their case) are looked up in the
  transaction, for a clear message, and enforced by unique indexes, which decide between two
  transactions that both looked before either wrote: the loser gets the same `Taken`.
- **Protected deletes.** A row that others depend on (an author's books, a book's copies, a
  copy on loan, a genre's or a language's books) is not deleted: `Blocked` names what blocks
  it. On PostgreSQL the row is locked first (`FOR UPDATE`), so that a book added meanwhile for
  the author waits, and is then seen; on SQLite the write lock, taken at `BEGIN IMMEDIATE`,
  does that.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from locallibrary.catalog import vocabulary
from locallibrary.database import Database, Queries, Row, is_integrity_error
from locallibrary.database.values import as_date, as_uuid

RowId = int | uuid.UUID
# How many blockers a confirmation page names; one more is read, to know there are more.
BLOCKERS_SHOWN = 10


@dataclass(frozen=True)
class Blocker:
    """A row that stands in the way of a delete: what it is (`kind`), its id and its label."""

    kind: str  # "book" or "copy"
    id: RowId
    label: str


@dataclass(frozen=True)
class Blockers:
    reason: str
    rows: list[Blocker]
    more: bool  # there are more than those listed


class Gone(Exception):
    """The row is not (or no longer) in the catalog."""


class Conflict(Exception):
    """The row changed since the form was loaded; `current` is the row as it is now."""

    def __init__(self, current: dict[str, Any]) -> None:
        super().__init__("the row changed meanwhile")
        self.current = current


class Taken(Exception):
    """A unique value is another row's already; `field` names the form field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class Broken(Exception):
    """The change refers to a row that another change deleted meanwhile."""


class Blocked(Exception):
    def __init__(self, blockers: Blockers) -> None:
        super().__init__(blockers.reason)
        self.blockers = blockers


@dataclass(frozen=True)
class Unique:
    field: str
    clash: str  # SQL: the id of another row (not :id) holding the value
    message: str


@dataclass(frozen=True)
class BlockingRows:
    kind: str
    reason: str
    sql: str  # the blocking rows' id and label, in that order, at most :limit of them


@dataclass(frozen=True)
class Kind:
    """One editable table: its statements, written out, and what guards its rows."""

    table: str
    load: str  # the row with its version, by :id
    insert: str  # RETURNING id
    update: str  # WHERE id = :id AND version = :version RETURNING version
    delete: str  # RETURNING id
    lock: str  # the row by :id, for `FOR UPDATE` on PostgreSQL
    blocking: BlockingRows
    unique: Unique | None = None


AUTHOR = Kind(
    table="catalog_author",
    load="""
        SELECT id, first_name, last_name, date_of_birth, date_of_death, version
        FROM catalog_author WHERE id = :id
    """,
    insert="""
        INSERT INTO catalog_author (first_name, last_name, date_of_birth, date_of_death)
        VALUES (:first_name, :last_name, :date_of_birth, :date_of_death)
        RETURNING id
    """,
    update="""
        UPDATE catalog_author
        SET first_name = :first_name, last_name = :last_name,
            date_of_birth = :date_of_birth, date_of_death = :date_of_death,
            version = version + 1
        WHERE id = :id AND version = :version
        RETURNING version
    """,
    delete="DELETE FROM catalog_author WHERE id = :id RETURNING id",
    lock="SELECT id FROM catalog_author WHERE id = :id",
    blocking=BlockingRows(
        "book",
        "The library has books by this author: delete them, or give them another author, first.",
        "SELECT id, title AS label FROM catalog_book WHERE author_id = :id"
        " ORDER BY title, id LIMIT :limit",
    ),
)
BOOK = Kind(
    table="catalog_book",
    load="""
        SELECT id, title, author_id, summary, isbn, language_id, version
        FROM catalog_book WHERE id = :id
    """,
    insert="""
        INSERT INTO catalog_book (title, author_id, summary, isbn, language_id)
        VALUES (:title, :author_id, :summary, :isbn, :language_id)
        RETURNING id
    """,
    update="""
        UPDATE catalog_book
        SET title = :title, author_id = :author_id, summary = :summary, isbn = :isbn,
            language_id = :language_id, version = version + 1
        WHERE id = :id AND version = :version
        RETURNING version
    """,
    delete="DELETE FROM catalog_book WHERE id = :id RETURNING id",
    lock="SELECT id FROM catalog_book WHERE id = :id",
    blocking=BlockingRows(
        "copy",
        "The library has copies of this book: delete them first.",
        "SELECT id, imprint AS label FROM catalog_bookinstance WHERE book_id = :id"
        " ORDER BY due_back, id LIMIT :limit",
    ),
    unique=Unique(
        "isbn",
        "SELECT id FROM catalog_book WHERE isbn = :isbn AND id <> :id",
        "Another book has this ISBN.",
    ),
)
COPY = Kind(
    table="catalog_bookinstance",
    load="""
        SELECT id, book_id, imprint, status, due_back, version
        FROM catalog_bookinstance WHERE id = :id
    """,
    insert="""
        INSERT INTO catalog_bookinstance (id, book_id, imprint, status, due_back)
        VALUES (:id, :book_id, :imprint, :status, :due_back)
        RETURNING id
    """,
    update="""
        UPDATE catalog_bookinstance
        SET book_id = :book_id, imprint = :imprint,
            -- On loan and Reserved are the desk's (loans/desk.py), with the loan's due date.
            status = CASE WHEN status IN ('o', 'r') THEN status ELSE :status END,
            due_back = CASE WHEN status IN ('o', 'r') THEN due_back ELSE :due_back END,
            version = version + 1
        WHERE id = :id AND version = :version
        RETURNING version
    """,
    delete="DELETE FROM catalog_bookinstance WHERE id = :id RETURNING id",
    lock="SELECT id FROM catalog_bookinstance WHERE id = :id",
    blocking=BlockingRows(
        "copy",
        "This copy is on loan: it can be deleted once it is back (and no longer marked on loan).",
        "SELECT id, imprint AS label FROM catalog_bookinstance WHERE id = :id AND status = 'o'"
        " LIMIT :limit",
    ),
)
GENRE = Kind(
    table="catalog_genre",
    load="SELECT id, name, version FROM catalog_genre WHERE id = :id",
    insert="INSERT INTO catalog_genre (name) VALUES (:name) RETURNING id",
    update="""
        UPDATE catalog_genre SET name = :name, version = version + 1
        WHERE id = :id AND version = :version
        RETURNING version
    """,
    delete="DELETE FROM catalog_genre WHERE id = :id RETURNING id",
    lock="SELECT id FROM catalog_genre WHERE id = :id",
    # The genre's books, as its page lists them.
    blocking=BlockingRows(
        "book", "Books have this genre: take it off them first.", vocabulary.GENRE_BOOKS
    ),
    unique=Unique(
        "name",
        "SELECT id FROM catalog_genre WHERE lower(name) = lower(:name) AND id <> :id",
        "There is a genre of that name already.",
    ),
)
LANGUAGE = Kind(
    table="catalog_language",
    load="SELECT id, name, version FROM catalog_language WHERE id = :id",
    insert="INSERT INTO catalog_language (name) VALUES (:name) RETURNING id",
    update="""
        UPDATE catalog_language SET name = :name, version = version + 1
        WHERE id = :id AND version = :version
        RETURNING version
    """,
    delete="DELETE FROM catalog_language WHERE id = :id RETURNING id",
    lock="SELECT id FROM catalog_language WHERE id = :id",
    blocking=BlockingRows(
        "book",
        "Books are in this language: give them another language first.",
        vocabulary.LANGUAGE_BOOKS,
    ),
    unique=Unique(
        "name",
        "SELECT id FROM catalog_language WHERE lower(name) = lower(:name) AND id <> :id",
        "There is a language of that name already.",
    ),
)
KINDS = {"author": AUTHOR, "book": BOOK, "copy": COPY, "genre": GENRE, "language": LANGUAGE}

BOOK_GENRE_IDS = "SELECT genre_id FROM catalog_book_genre WHERE book_id = :id"
CLEAR_BOOK_GENRES = "DELETE FROM catalog_book_genre WHERE book_id = :id"
ADD_BOOK_GENRE = "INSERT INTO catalog_book_genre (book_id, genre_id) VALUES (:id, :genre_id)"
ISBN_HOLDER = "SELECT id FROM catalog_book WHERE isbn = :isbn"
RECORD_CHANGE = """
    INSERT INTO catalog_changes (table_name, row_id, action, user_id, changed_at)
    VALUES (:table_name, :row_id, :action, :user_id, :changed_at)
"""
LAST_CHANGE = """
    SELECT entry.action, entry.changed_at, users.name
    FROM catalog_changes AS entry
    LEFT JOIN users ON users.id = entry.user_id
    WHERE entry.table_name = :table_name AND entry.row_id = :row_id
    ORDER BY entry.id DESC
    LIMIT 1
"""
# The book form's choices: every language and genre (its author is chosen by name instead:
# catalog/authors_named.py). Not bounded by a key, so they are read off the event loop.
CHOICES = {
    "language": "SELECT id, name FROM catalog_language ORDER BY name, id",
    "genres": "SELECT id, name FROM catalog_genre ORDER BY name, id",
}
BOOK_TITLE = "SELECT title FROM catalog_book WHERE id = :id"

# An id of each table's kind, for the plans' test (a copy's id is a UUID).
SAMPLE_IDS: dict[str, RowId] = {name: 1 for name in KINDS} | {"copy": uuid.UUID(int=1)}
# The reads made on the event loop (tests/database/test_plans.py checks their plans).
BOUNDED_READS: dict[str, tuple[str, dict[str, Any]]] = {
    **{f"{name} to edit": (kind.load, {"id": SAMPLE_IDS[name]}) for name, kind in KINDS.items()},
    **{
        f"what blocks deleting a {name}": (
            kind.blocking.sql,
            {"id": SAMPLE_IDS[name], "limit": BLOCKERS_SHOWN + 1},
        )
        for name, kind in KINDS.items()
    },
    "book's genre ids": (BOOK_GENRE_IDS, {"id": 1}),
    "book holding an ISBN": (ISBN_HOLDER, {"isbn": "9780000000019"}),
    "last change of a row": (LAST_CHANGE, {"table_name": "catalog_book", "row_id": "1"}),
    "book's title": (BOOK_TITLE, {"id": 1}),
}


@dataclass(frozen=True)
class LastChange:
    action: str
    at: dt.datetime
    by: str | None  # the user's name; None once the account is deleted


def _row(row: Row, columns: Sequence[str]) -> dict[str, Any]:
    values = {column: row[column] for column in columns}
    for column in ("date_of_birth", "date_of_death", "due_back"):
        if column in values:
            values[column] = as_date(values[column])
    return values


LOADED = {
    "author": ("id", "first_name", "last_name", "date_of_birth", "date_of_death", "version"),
    "book": ("id", "title", "author_id", "summary", "isbn", "language_id", "version"),
    "copy": ("id", "book_id", "imprint", "status", "due_back", "version"),
    "genre": ("id", "name", "version"),
    "language": ("id", "name", "version"),
}


async def load(db: Database | Queries, name: str, row_id: RowId) -> dict[str, Any] | None:
    """The row as its edit form shows it (a book with its `genres`, a list of ids), with its
    version; None if there is no such row."""
    row = await db.fetch_one(KINDS[name].load, {"id": row_id})
    if row is None:
        return None
    values = _row(row, LOADED[name])
    if name == "book":
        genres = await db.fetch_all(BOOK_GENRE_IDS, {"id": row_id})
        values["genres"] = sorted(genre["genre_id"] for genre in genres)
    if name == "copy":
        values["id"] = as_uuid(values["id"])
    return values


async def create(db: Database, name: str, values: Mapping[str, Any], user_id: int) -> RowId:
    """Add a row; its id. Taken for a unique value in use, Broken for a reference gone."""
    kind = KINDS[name]
    fields = dict(values)
    if name == "copy":
        fields["id"] = uuid.uuid4()
    genres = fields.pop("genres", None)
    try:
        async with db.transaction(write=True) as queries:
            await _check_unique(queries, kind, 0, fields)
            new_id = await queries.fetch_val(kind.insert, fields)
            row_id: RowId = fields["id"] if name == "copy" else new_id
            if genres is not None:
                await _set_genres(queries, row_id, genres)
            await _record(queries, kind, row_id, "create", user_id)
    except Exception as error:
        _raise_for_integrity(error, kind)
        raise
    return row_id


async def update(
    db: Database,
    name: str,
    row_id: RowId,
    version: int,
    values: Mapping[str, Any],
    user_id: int,
) -> None:
    """Save the form's values over the row, if it is still at `version`: Conflict if it has
    changed meanwhile, Gone if it was deleted, Taken or Broken as for `create`."""
    kind = KINDS[name]
    fields = dict(values)
    genres = fields.pop("genres", None)
    try:
        async with db.transaction(write=True) as queries:
            await _check_unique(queries, kind, row_id, fields)
            saved = await queries.fetch_val(
                kind.update, {**fields, "id": row_id, "version": version}
            )
            if saved is None:
                current = await load(queries, name, row_id)
                if current is None:
                    raise Gone
                raise Conflict(current)
            if genres is not None:
                await _set_genres(queries, row_id, genres)
            await _record(queries, kind, row_id, "update", user_id)
    except Exception as error:
        _raise_for_integrity(error, kind)
        raise


async def blockers(db: Database | Queries, name: str, row_id: RowId) -> Blockers | None:
    """What stands in the way of deleting the row, or None if nothing does."""
    blocking = KINDS[name].blocking
    rows = await db.fetch_all(blocking.sql, {"id": row_id, "limit": BLOCKERS_SHOWN + 1})
    if not rows:
        return None
    found = [Blocker(blocking.kind, _row_id(blocking.kind, r[0]), r[1]) for r in rows]
    if blocking.kind == "book":
        found.sort(key=lambda blocker: blocker.label)  # a handful: sorted here, not by SQL
    return Blockers(blocking.reason, found[:BLOCKERS_SHOWN], len(found) > BLOCKERS_SHOWN)


async def delete(db: Database, name: str, row_id: RowId, user_id: int) -> None:
    """Delete the row: Blocked if others depend on it, Gone if it is not there."""
    kind = KINDS[name]
    lock = kind.lock + (" FOR UPDATE" if db.engine == "postgresql" else "")
    async with db.transaction(write=True) as queries:
        if await queries.fetch_val(lock, {"id": row_id}) is None:
            raise Gone
        found = await blockers(queries, name, row_id)
        if found is not None:
            raise Blocked(found)
        await queries.fetch_val(kind.delete, {"id": row_id})
        await _record(queries, kind, row_id, "delete", user_id)


async def isbn_holder(db: Database, isbn: str) -> int | None:
    """The book that has this (normalized) ISBN, if any."""
    holder: int | None = await db.fetch_val(ISBN_HOLDER, {"isbn": isbn})
    return holder


async def book_title(db: Database, book_id: int) -> str | None:
    title: str | None = await db.fetch_val(BOOK_TITLE, {"id": book_id})
    return title


async def last_change(db: Database, name: str, row_id: RowId) -> LastChange | None:
    """Who last changed the row on the editing pages, and when; None if nobody has."""
    row = await db.fetch_one(LAST_CHANGE, {"table_name": KINDS[name].table, "row_id": str(row_id)})
    if row is None:
        return None
    at = dt.datetime.fromtimestamp(row["changed_at"], dt.UTC)
    return LastChange(row["action"], at, row["name"])


async def choices(db: Database) -> dict[str, list[tuple[int, str]]]:
    """The book form's languages and genres, in order (a library has tens of each; its authors,
    too many to list, are chosen by name: catalog/authors_named.py)."""
    languages = await db.fetch_all_off_loop(CHOICES["language"])
    genres = await db.fetch_all_off_loop(CHOICES["genres"])
    return {
        "language": [(r["id"], r["name"]) for r in languages],
        "genres": [(r["id"], r["name"]) for r in genres],
    }


async def _check_unique(
    queries: Queries, kind: Kind, row_id: RowId, fields: Mapping[str, Any]
) -> None:
    unique = kind.unique
    if unique is None:
        return
    clash = await queries.fetch_val(
        unique.clash, {unique.field: fields[unique.field], "id": row_id}
    )
    if clash is not None:
        raise Taken(unique.field, unique.message)


async def _set_genres(queries: Queries, book_id: RowId, genre_ids: Sequence[int]) -> None:
    await queries.execute(CLEAR_BOOK_GENRES, {"id": book_id})
    for genre_id in sorted(set(genre_ids)):
        await queries.execute(ADD_BOOK_GENRE, {"id": book_id, "genre_id": genre_id})


async def _record(queries: Queries, kind: Kind, row_id: RowId, action: str, user_id: int) -> None:
    await queries.execute(
        RECORD_CHANGE,
        {
            "table_name": kind.table,
            "row_id": str(row_id),
            "action": action,
            "user_id": user_id,
            "changed_at": int(time.time()),
        },
    )


def _raise_for_integrity(error: Exception, kind: Kind) -> None:
    """Turn the database's refusal into what it means here. A unique index refuses the second
    of two transactions that both found the value free; a foreign key, a reference to a row
    that a concurrent change deleted."""
    refusal = is_integrity_error(error)
    if refusal == "unique" and kind.unique is not None:
        raise Taken(kind.unique.field, kind.unique.message) from error
    if refusal == "foreign key":
        raise Broken from error


def _row_id(kind: str, value: Any) -> RowId:
    return as_uuid(value) if kind == "copy" else int(value)
