"""Full-text search: a search document per book, and each engine's own index over it.

`catalog_search` holds, per book, its title, its author's name, its genres and its summary.
Triggers on the books, authors, genres and the books' genres keep it in step in the transaction
of each change, whoever makes it (the seed, a view, plain SQL), as migration 0002's keep the
catalog version. The index over it:

- SQLite: an FTS5 table with external content (`content='catalog_search'`), so the text is
  stored once; the triggers FTS5's documentation gives for such a table keep it in step with
  `catalog_search`. `unicode61 remove_diacritics 2` folds case and accents.
- PostgreSQL: a generated `tsvector` column, title weighted A, author B, genres C, summary D,
  each folded by `unaccent` and `lower` (the `simple` configuration: no stemming, as on SQLite),
  with a GIN index. The fold also makes `<` and `>` spaces: PostgreSQL's parser would take
  `<b>…</b>` for a tag and leave out the words in it, where FTS5 indexes them. `unaccent` is
  not immutable (its dictionary could change), so an immutable wrapper names the dictionary; a
  changed dictionary would need the column rebuilt.

The upgrade fills the document and the index for the catalog already there.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# One book's author name and genres, as the document holds them ("first last", "a b").
AUTHOR_OF = (
    "coalesce((SELECT trim(first_name || ' ' || last_name) FROM catalog_author"
    " WHERE id = {book}.author_id), '')"
)
GENRES_OF = (
    "coalesce((SELECT string_agg(genre.name, ' ') FROM catalog_book_genre AS book_genre"
    " JOIN catalog_genre AS genre ON genre.id = book_genre.genre_id"
    " WHERE book_genre.book_id = {book}.id), '')"
)
FILL = """
INSERT INTO catalog_search (book_id, title, author, genres, summary)
SELECT book.id, book.title, {author}, {genres}, book.summary FROM catalog_book AS book
"""

SQLITE_INDEX = """
CREATE VIRTUAL TABLE catalog_search_fts USING fts5(
    title, author, genres, summary,
    content='catalog_search', content_rowid='book_id',
    tokenize='unicode61 remove_diacritics 2'
)
"""
SQLITE_COLUMNS = "title, author, genres, summary"
SQLITE_OLD = "old.title, old.author, old.genres, old.summary"
SQLITE_NEW = "new.title, new.author, new.genres, new.summary"
# SQLite's aggregate is group_concat; and its triggers name the changed row new/old.
SQLITE_AUTHOR_OF = AUTHOR_OF.replace("{book}", "new")
SQLITE_GENRES_OF = GENRES_OF.replace("string_agg", "group_concat").replace("{book}.id", "{book_id}")
SQLITE_TRIGGERS = {
    # The index follows the document table (FTS5's external content triggers).
    "catalog_search_insert_indexed": f"""
        AFTER INSERT ON catalog_search BEGIN
            INSERT INTO catalog_search_fts (rowid, {SQLITE_COLUMNS})
            VALUES (new.book_id, {SQLITE_NEW});
        END""",
    "catalog_search_delete_indexed": f"""
        AFTER DELETE ON catalog_search BEGIN
            INSERT INTO catalog_search_fts (catalog_search_fts, rowid, {SQLITE_COLUMNS})
            VALUES ('delete', old.book_id, {SQLITE_OLD});
        END""",
    "catalog_search_update_indexed": f"""
        AFTER UPDATE ON catalog_search BEGIN
            INSERT INTO catalog_search_fts (catalog_search_fts, rowid, {SQLITE_COLUMNS})
            VALUES ('delete', old.book_id, {SQLITE_OLD});
            INSERT INTO catalog_search_fts (rowid, {SQLITE_COLUMNS})
            VALUES (new.book_id, {SQLITE_NEW});
        END""",
    # The document follows the catalog. The deletes are handled here too, not only by the
    # foreign keys' actions, as SQLite enforces those only where `PRAGMA foreign_keys` is on.
    "catalog_book_insert_searched": f"""
        AFTER INSERT ON catalog_book BEGIN
            INSERT INTO catalog_search (book_id, title, author, genres, summary)
            VALUES (new.id, new.title, {SQLITE_AUTHOR_OF},
                    {SQLITE_GENRES_OF.format(book_id="new.id")}, new.summary);
        END""",
    "catalog_book_update_searched": f"""
        AFTER UPDATE OF title, author_id, summary ON catalog_book BEGIN
            UPDATE catalog_search
            SET title = new.title, author = {SQLITE_AUTHOR_OF}, summary = new.summary
            WHERE book_id = new.id;
        END""",
    "catalog_book_delete_searched": """
        AFTER DELETE ON catalog_book BEGIN
            DELETE FROM catalog_search WHERE book_id = old.id;
        END""",
    "catalog_author_delete_searched": """
        AFTER DELETE ON catalog_author BEGIN
            UPDATE catalog_search SET author = ''
            WHERE book_id IN (SELECT id FROM catalog_book WHERE author_id = old.id);
        END""",
    "catalog_genre_delete_searched": f"""
        AFTER DELETE ON catalog_genre BEGIN
            UPDATE catalog_search
            SET genres = {SQLITE_GENRES_OF.format(book_id="catalog_search.book_id")}
            WHERE book_id IN (SELECT book_id FROM catalog_book_genre WHERE genre_id = old.id);
        END""",
    "catalog_author_update_searched": """
        AFTER UPDATE OF first_name, last_name ON catalog_author BEGIN
            UPDATE catalog_search SET author = trim(new.first_name || ' ' || new.last_name)
            WHERE book_id IN (SELECT id FROM catalog_book WHERE author_id = new.id);
        END""",
    "catalog_genre_update_searched": f"""
        AFTER UPDATE OF name ON catalog_genre BEGIN
            UPDATE catalog_search
            SET genres = {SQLITE_GENRES_OF.format(book_id="catalog_search.book_id")}
            WHERE book_id IN (SELECT book_id FROM catalog_book_genre WHERE genre_id = new.id);
        END""",
    "catalog_book_genre_insert_searched": f"""
        AFTER INSERT ON catalog_book_genre BEGIN
            UPDATE catalog_search SET genres = {SQLITE_GENRES_OF.format(book_id="new.book_id")}
            WHERE book_id = new.book_id;
        END""",
    "catalog_book_genre_delete_searched": f"""
        AFTER DELETE ON catalog_book_genre BEGIN
            UPDATE catalog_search SET genres = {SQLITE_GENRES_OF.format(book_id="old.book_id")}
            WHERE book_id = old.book_id;
        END""",
    "catalog_book_genre_update_searched": f"""
        AFTER UPDATE ON catalog_book_genre BEGIN
            UPDATE catalog_search SET genres = {SQLITE_GENRES_OF.format(book_id="old.book_id")}
            WHERE book_id = old.book_id;
            UPDATE catalog_search SET genres = {SQLITE_GENRES_OF.format(book_id="new.book_id")}
            WHERE book_id = new.book_id;
        END""",
}

POSTGRES_FOLD = """
CREATE FUNCTION catalog_search_fold(text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT translate(lower(public.unaccent('public.unaccent'::regdictionary, $1)), '<>', '  ') $$
"""
POSTGRES_DOCUMENT = """
ALTER TABLE catalog_search ADD COLUMN document tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('simple'::regconfig, catalog_search_fold(title)), 'A')
    || setweight(to_tsvector('simple'::regconfig, catalog_search_fold(author)), 'B')
    || setweight(to_tsvector('simple'::regconfig, catalog_search_fold(genres)), 'C')
    || setweight(to_tsvector('simple'::regconfig, catalog_search_fold(summary)), 'D')
) STORED
"""
POSTGRES_AUTHOR_OF = AUTHOR_OF.replace("{book}", "NEW")
POSTGRES_GENRES_OF = GENRES_OF.replace("{book}.id", "{book_id}")
GENRES_OF_NEW = POSTGRES_GENRES_OF.format(book_id="NEW.book_id")
GENRES_OF_OLD = POSTGRES_GENRES_OF.format(book_id="OLD.book_id")
GENRES_OF_DOCUMENT = POSTGRES_GENRES_OF.format(book_id="catalog_search.book_id")
# The document follows the catalog; the generated column and the GIN index follow the document.
POSTGRES_FUNCTIONS = {
    "catalog_book_searched": f"""
        BEGIN
            IF TG_OP = 'INSERT' THEN
                INSERT INTO catalog_search (book_id, title, author, genres, summary)
                VALUES (NEW.id, NEW.title, {POSTGRES_AUTHOR_OF},
                        {POSTGRES_GENRES_OF.format(book_id="NEW.id")}, NEW.summary);
            ELSE
                UPDATE catalog_search
                SET title = NEW.title, author = {POSTGRES_AUTHOR_OF}, summary = NEW.summary
                WHERE book_id = NEW.id;
            END IF;
            RETURN NULL;
        END""",
    "catalog_author_searched": """
        BEGIN
            UPDATE catalog_search SET author = trim(NEW.first_name || ' ' || NEW.last_name)
            WHERE book_id IN (SELECT id FROM catalog_book WHERE author_id = NEW.id);
            RETURN NULL;
        END""",
    "catalog_genre_searched": f"""
        BEGIN
            UPDATE catalog_search SET genres = {GENRES_OF_DOCUMENT}
            WHERE book_id IN (SELECT book_id FROM catalog_book_genre WHERE genre_id = NEW.id);
            RETURN NULL;
        END""",
    "catalog_book_genre_searched": f"""
        BEGIN
            IF TG_OP IN ('DELETE', 'UPDATE') THEN
                UPDATE catalog_search SET genres = {GENRES_OF_OLD} WHERE book_id = OLD.book_id;
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                UPDATE catalog_search SET genres = {GENRES_OF_NEW} WHERE book_id = NEW.book_id;
            END IF;
            RETURN NULL;
        END""",
}
POSTGRES_TRIGGERS = {
    "catalog_book_searched": "AFTER INSERT OR UPDATE OF title, author_id, summary ON catalog_book",
    "catalog_author_searched": "AFTER UPDATE OF first_name, last_name ON catalog_author",
    "catalog_genre_searched": "AFTER UPDATE OF name ON catalog_genre",
    "catalog_book_genre_searched": "AFTER INSERT OR UPDATE OR DELETE ON catalog_book_genre",
}


def upgrade() -> None:
    op.create_table(
        "catalog_search",
        sa.Column("book_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("author", sa.Text(), nullable=False),
        sa.Column("genres", sa.Text(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["book_id"],
            ["catalog_book.id"],
            name=op.f("fk_catalog_search_book_id_catalog_book"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("book_id", name=op.f("pk_catalog_search")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS unaccent SCHEMA public")
        op.execute(POSTGRES_FOLD)
        op.execute(POSTGRES_DOCUMENT)
        op.execute(FILL.format(author=AUTHOR_OF, genres=GENRES_OF).format(book="book"))
        op.execute("CREATE INDEX ix_catalog_search_document ON catalog_search USING gin (document)")
        for name, body in POSTGRES_FUNCTIONS.items():
            op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $${body}$$")
            op.execute(
                f"CREATE TRIGGER {name} {POSTGRES_TRIGGERS[name]}"
                f" FOR EACH ROW EXECUTE FUNCTION {name}()"
            )
    else:
        op.execute(SQLITE_INDEX)
        genres = GENRES_OF.replace("string_agg", "group_concat")
        op.execute(FILL.format(author=AUTHOR_OF, genres=genres).format(book="book"))
        op.execute("INSERT INTO catalog_search_fts (catalog_search_fts) VALUES ('rebuild')")
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, on in POSTGRES_TRIGGERS.items():
            op.execute(f"DROP TRIGGER {name} ON {on.rsplit(' ON ', 1)[1]}")
            op.execute(f"DROP FUNCTION {name}()")
        op.drop_table("catalog_search")
        op.execute("DROP FUNCTION catalog_search_fold(text)")
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
        op.execute("DROP TABLE catalog_search_fts")
        op.drop_table("catalog_search")
