"""The authors a librarian may mean by what they typed: the book form's choice of author.

A catalog can have tens of thousands of authors, too many to list in the form. So the form
offers the few whose names match what was typed: every word of it is in the first or the last
name, the last word as a prefix ("tolk" finds Tolkien), case and accents folded as search folds
them ("garcia" finds García). The words are made safe as search makes them
(catalog/search.py: `parse_query`), and migration 0010's index of the names finds the matches
without reading the table. The matches are sorted by name, and at most `limit` are read.

A short word can match many authors, so the read is no bounded one: it runs off the event loop.
"""

from __future__ import annotations

from collections.abc import Sequence

from locallibrary.catalog.queries import AUTHOR, AuthorRef, author_ref
from locallibrary.catalog.search import (
    MIN_WORD_CHARS,
    POSTGRES_WORDS,
    fts5_terms,
    parse_query,
    postgres_values,
)
from locallibrary.database import Database

# Shown to the librarian at once; more than this, and the name typed needs another letter.
SHOWN = 10

COLUMNS = (
    "author.id, author.first_name, author.last_name, author.date_of_birth, author.date_of_death"
)
ORDER = "ORDER BY author.last_name, author.first_name, author.id LIMIT :limit"

SQLITE_AUTHORS_NAMED = f"""
    SELECT {COLUMNS}
    FROM catalog_author_fts
    JOIN catalog_author AS author ON author.id = catalog_author_fts.rowid
    WHERE catalog_author_fts MATCH :every_word
    {ORDER}
"""

# The expression is the one migration 0010 indexes. The matches are found first (MATERIALIZED),
# then sorted: else the planner may walk every author in name order, folding each name, hoping
# to meet `limit` matches early.
POSTGRES_AUTHORS_NAMED = (
    "WITH"
    + POSTGRES_WORDS
    + f"""
    typed AS (
        SELECT to_tsquery('simple', string_agg(
                   lexeme || CASE WHEN prefix = '' THEN '' ELSE ':' || prefix END, ' & '
               )) AS every_word
        FROM words
    ),
    author AS MATERIALIZED (
        SELECT named.* FROM catalog_author AS named, typed
        WHERE to_tsvector('simple'::regconfig,
                          catalog_search_fold(named.first_name || ' ' || named.last_name))
              @@ typed.every_word
    )
    SELECT {COLUMNS} FROM author
    {ORDER}
"""
)

# The one read of this module that runs off the event loop (tests/database/test_plans.py checks
# that it goes through the names' index).
OFF_LOOP_READS = (SQLITE_AUTHORS_NAMED,)


async def authors_named(db: Database, typed: str, limit: int = SHOWN) -> Sequence[AuthorRef]:
    """Up to `limit` authors whose names have every word of `typed`, in order of name; none
    when `typed` has no word of two letters or more."""
    query = parse_query(typed)
    if not any(len(word) >= MIN_WORD_CHARS for word in query.words):
        return []
    values: dict[str, object] = {"limit": limit}
    if db.engine == "sqlite":
        sql = SQLITE_AUTHORS_NAMED
        values["every_word"] = " ".join(fts5_terms(query))
    else:
        sql = POSTGRES_AUTHORS_NAMED
        values.update(postgres_values(query))
    return [author_ref(row) for row in await db.fetch_all_off_loop(sql, values)]


async def author(db: Database, author_id: int) -> AuthorRef | None:
    """The author with this id, if there is one."""
    row = await db.fetch_one(AUTHOR, {"author_id": author_id})
    return None if row is None else author_ref(row)
