"""The catalog's schema, declared once as SQLAlchemy Core tables (migrations are made from it)."""

from __future__ import annotations

import enum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    Uuid,
    func,
)

from locallibrary.database.naming import NAMING_CONVENTION

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# The tables FTS5 creates beside an external-content table to hold its index.
FTS5_SHADOW_TABLES = ("data", "idx", "docsize", "config")


class CopyStatus(enum.StrEnum):
    """A copy's loan status, stored as the one-letter codes of the tutorial."""

    MAINTENANCE = "m"
    ON_LOAN = "o"
    AVAILABLE = "a"
    RESERVED = "r"

    @property
    def label(self) -> str:
        return {"m": "Maintenance", "o": "On loan", "a": "Available", "r": "Reserved"}[self.value]


author = Table(
    "catalog_author",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("first_name", String(100), nullable=False),
    Column("last_name", String(100), nullable=False),
    Column("date_of_birth", Date),
    Column("date_of_death", Date),
    Column("version", Integer, nullable=False, server_default="1"),  # editing.py: no lost edits
    # The author list's order, and the seed's look-up by name.
    Index("ix_catalog_author_name_order", "last_name", "first_name", "id"),
)

genre = Table(
    "catalog_genre",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
    # Also the genre list's order (vocabulary.py).
    Index("uq_catalog_genre_name_lower", func.lower("name"), unique=True),
)

language = Table(
    "catalog_language",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("version", Integer, nullable=False, server_default="1"),
    # "French" and "french" are one language, as for genres; also the language list's order.
    Index("uq_catalog_language_name_lower", func.lower("name"), unique=True),
)

book = Table(
    "catalog_book",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("title", String(200), nullable=False),
    Column("author_id", ForeignKey("catalog_author.id", ondelete="SET NULL")),
    Column("summary", Text, nullable=False, server_default=""),
    Column("isbn", String(13), nullable=False, unique=True),
    Column("language_id", ForeignKey("catalog_language.id", ondelete="SET NULL")),
    Column("version", Integer, nullable=False, server_default="1"),
    CheckConstraint("length(isbn) = 13", name="isbn_13_chars"),
    # The book list's order: pages walk this index instead of sorting the table, and read each
    # book's author_id from it too, never the table's rows (migration 0014).
    Index("ix_catalog_book_title_order", "title", "id", "author_id"),
    # An author's books, in the list's order.
    Index("ix_catalog_book_author_order", "author_id", "title", "id"),
    # A language's books, in the list's order (its page, and what blocks deleting it).
    Index("ix_catalog_book_language_order", "language_id", "title", "id"),
)

book_genre = Table(
    "catalog_book_genre",
    metadata,
    Column("book_id", ForeignKey("catalog_book.id", ondelete="CASCADE"), primary_key=True),
    Column("genre_id", ForeignKey("catalog_genre.id", ondelete="CASCADE"), primary_key=True),
    # A genre's books by id: its page reads a bounded run of them.
    Index("ix_catalog_book_genre_genre_id_book_id", "genre_id", "book_id"),
)

book_instance = Table(
    "catalog_bookinstance",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("book_id", ForeignKey("catalog_book.id", ondelete="CASCADE"), nullable=False),
    Column("imprint", String(200), nullable=False),
    Column("due_back", Date),
    Column("status", String(1), nullable=False, server_default=CopyStatus.MAINTENANCE.value),
    Column("version", Integer, nullable=False, server_default="1"),
    CheckConstraint("status IN ('m', 'o', 'a', 'r')", name="status_known"),
    # A book's copies in due-back order; the count of available copies, and whether a book
    # has one (migration 0011).
    Index("ix_catalog_bookinstance_book_due", "book_id", "due_back", "id"),
    Index("ix_catalog_bookinstance_status_book", "status", "book_id"),
)

search_document = Table(
    "catalog_search",
    metadata,
    # One row per book: what search looks through, with the author's name and the genres copied
    # in, kept by triggers on the catalog's tables in the transaction of each change (migration
    # 0006). The index over it is the engine's own and is not declared here: an FTS5 table on
    # SQLite, a weighted tsvector column with a GIN index on PostgreSQL (SEARCH_INDEX_OBJECTS).
    Column("book_id", ForeignKey("catalog_book.id", ondelete="CASCADE"), primary_key=True),
    Column("title", Text, nullable=False),
    Column("author", Text, nullable=False),
    Column("genres", Text, nullable=False),
    Column("summary", Text, nullable=False),
)

# What migrations 0008 and 0010 add that SQLAlchemy cannot declare: SQLite's FTS5 virtual
# tables (of the search documents, of the authors' names) with the shadow tables FTS5 makes for
# each, and PostgreSQL's generated tsvector column and the GIN indexes.
SEARCH_INDEX_TABLE = "catalog_search_fts"
AUTHOR_NAMES_TABLE = "catalog_author_fts"
SEARCH_INDEX_OBJECTS = frozenset(
    {
        *(("table", table) for table in (SEARCH_INDEX_TABLE, AUTHOR_NAMES_TABLE)),
        *(
            ("table", f"{table}_{shadow}")
            for table in (SEARCH_INDEX_TABLE, AUTHOR_NAMES_TABLE)
            for shadow in FTS5_SHADOW_TABLES
        ),
        ("column", "document"),
        ("index", "ix_catalog_search_document"),
        ("index", "ix_catalog_author_names"),
    }
)


def declared_or_unknown(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Alembic's `include_object`: leave the search index's undeclared objects out of schema
    comparisons (autogenerate would drop them; the migration test would report them)."""
    return not (reflected and compare_to is None and (type_, name) in SEARCH_INDEX_OBJECTS)


catalog_version = Table(
    "catalog_version",
    metadata,
    # One row. Triggers on every table above add one to `version` in the transaction of each
    # change (migration 0002), so a process knows whether what it keeps is still current.
    Column("id", Integer, CheckConstraint("id = 1", name="one_row"), primary_key=True),
    Column("version", BigInteger, nullable=False),
    # PostgreSQL's triggers add one per transaction, not per statement: the transaction that did.
    Column("changed_in", BigInteger),
)

catalog_changes = Table(
    "catalog_changes",
    metadata,
    # Who changed which catalog row, and when: one row per create, update or delete made on the
    # editing pages (editing.py), written in the change's own transaction.
    Column("id", Integer, primary_key=True),
    Column("table_name", String(40), nullable=False),
    Column("row_id", String(36), nullable=False),  # an integer id, or a copy's UUID
    Column("action", String(10), nullable=False),
    Column("user_id", Integer, nullable=False),
    Column("changed_at", BigInteger, nullable=False),  # Unix seconds, as the accounts keep time
    CheckConstraint("action IN ('create', 'update', 'delete')", name="action_known"),
    # A row's last change: the newest entry of its run in this index.
    Index("ix_catalog_changes_row", "table_name", "row_id", "id"),
)
