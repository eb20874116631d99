"""An index of the authors' names, for choosing a book's author by typing part of the name.

The book form used to list every author in a `<select>`: at 100,000 books, 20,000 options, a
megabyte of HTML rendered on the event loop. It now offers the authors whose names match what
the librarian types (catalog/authors_named.py), and this index finds them without reading the
table. Case and accents are folded as search folds them:

- SQLite: an FTS5 table with external content (`content='catalog_author'`), so the names are
  stored once, `unicode61 remove_diacritics 2`, with the triggers FTS5's documentation gives
  for such a table.
- PostgreSQL: a GIN index on the folded names' `tsvector` (`catalog_search_fold`, migration
  0008's immutable `unaccent` and `lower`).

The upgrade builds the index for the authors already there.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The expression the PostgreSQL index is on; catalog/authors_named.py matches against the same.
POSTGRES_NAMES = (
    "to_tsvector('simple'::regconfig, catalog_search_fold(first_name || ' ' || last_name))"
)

SQLITE_INDEX = """
CREATE VIRTUAL TABLE catalog_author_fts USING fts5(
    first_name, last_name,
    content='catalog_author', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2'
)
"""
SQLITE_TRIGGERS = {
    "catalog_author_insert_indexed": """
        AFTER INSERT ON catalog_author BEGIN
            INSERT INTO catalog_author_fts (rowid, first_name, last_name)
            VALUES (new.id, new.first_name, new.last_name);
        END""",
    "catalog_author_delete_indexed": """
        AFTER DELETE ON catalog_author BEGIN
            INSERT INTO catalog_author_fts (catalog_author_fts, rowid, first_name, last_name)
            VALUES ('delete', old.id, old.first_name, old.last_name);
        END""",
    "catalog_author_update_indexed": """
        AFTER UPDATE OF id, first_name, last_name ON catalog_author BEGIN
            INSERT INTO catalog_author_fts (catalog_author_fts, rowid, first_name, last_name)
            VALUES ('delete', old.id, old.first_name, old.last_name);
            INSERT INTO catalog_author_fts (rowid, first_name, last_name)
            VALUES (new.id, new.first_name, new.last_name);
        END""",
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE INDEX ix_catalog_author_names ON catalog_author USING gin ({POSTGRES_NAMES})"
        )
    else:
        op.execute(SQLITE_INDEX)
        op.execute("INSERT INTO catalog_author_fts (catalog_author_fts) VALUES ('rebuild')")
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_catalog_author_names")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
        op.execute("DROP TABLE catalog_author_fts")
