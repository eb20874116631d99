"""Searching the catalog: what a visitor typed made into a safe full-text query, and its results.

What was typed is never handed to the engine's query syntax. It is cut to MAX_QUERY_CHARS and
MAX_WORDS, split into words (runs of letters and digits; everything else separates them, so
quotes, `*`, `-`, `:`, `^`, `NEAR(` and control characters are only separators), and each word
is quoted as a literal term: FTS5's `"…"` on SQLite, tsquery's `'…'` on PostgreSQL (quoted there
in SQL, after `unaccent`, so that no folded character can end the quote). `AND`, `OR` and `NOT`
are words like any other. Every word must match; the last one matches as a prefix too, as the
visitor may still be typing it. Case and accents are folded by the engines, on both sides.

The ranking, in tiers: a book whose ISBN is the query (13 digits, hyphens and spaces allowed);
then books with every query word in the title, in the author's name, in the genres; then with
some query word in the title, in the author's name, in the genres; then the rest (the words are
in the summary). Within a tier, by the engine's relevance (`bm25` with the title weighted
most, `ts_rank`), then by id.

A search may match most of the catalog, so it is no bounded read: it runs off the event loop
(`fetch_all_off_loop`), and the page cache keeps its page until the catalog changes.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from locallibrary.catalog.pagination import Page, page_number
from locallibrary.catalog.queries import AuthorRef
from locallibrary.database import Database
from locallibrary.folding import folded

MAX_QUERY_CHARS = 200
MAX_WORDS = 10
# A query needs a word this long (or an ISBN): one letter would list most of the catalog.
MIN_WORD_CHARS = 2
# Letters and digits, as FTS5's unicode61 tokenizer and PostgreSQL's parser see words.
WORD = re.compile(r"[^\W_]+")
# Page numbers as the lists accept them; the number of results is known only once searched.
ANY_PAGE_TOTAL = 10**14

# The columns of the search document that rank a match, best first; the summary comes last.
RANKED_COLUMNS = ("title", "author", "genres")


@dataclass(frozen=True)
class SearchQuery:
    text: str  # what was typed, cleaned: shown back in the box, remembered in the session
    words: tuple[str, ...]
    isbn: str  # the 13 digits when the text is an ISBN, else ""

    @property
    def searchable(self) -> bool:
        return bool(self.isbn) or any(len(word) >= MIN_WORD_CHARS for word in self.words)


def parse_query(raw: str) -> SearchQuery:
    """The query in `raw` (a `?q=` value: any text at all)."""
    # NFKC first, so that a letter and its combining accent are one character, as in the index.
    text = unicodedata.normalize("NFKC", raw)
    # Control, format, private-use and unassigned characters become spaces.
    text = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in text)
    text = " ".join(text.split())[:MAX_QUERY_CHARS].rstrip()
    words = tuple(WORD.findall(text))[:MAX_WORDS]
    compact = re.sub(r"[\s-]", "", text)
    isbn = compact if len(compact) == 13 and compact.isascii() and compact.isdigit() else ""
    return SearchQuery(text, words, isbn)


@dataclass(frozen=True)
class Hit:
    id: int
    title: str
    author: AuthorRef | None
    available: int  # copies available for loan
    copies: int


# Both engines': one page of the matches (each book once: the ISBN's book is left out of the
# full-text ones, so that no grouping by book is needed) in order of tier and score, with the
# number of matches, and the page's books with their authors and copies. The copies are joined
# by book, not counted in a subquery per status: SQLite would walk the status index for that,
# every available copy of the catalog for each result.
RANKED_PAGE = """
    page AS (
        SELECT book_id, tier, score, count(*) OVER () AS total
        FROM matches
        ORDER BY tier, score DESC, book_id
        LIMIT :limit OFFSET :offset
    )
    SELECT page.total, book.id, book.title, author.id AS author_id, author.first_name,
           author.last_name, count(copy.id) AS copies,
           coalesce(sum(CASE WHEN copy.status = 'a' THEN 1 ELSE 0 END), 0) AS available
    FROM page
    JOIN catalog_book AS book ON book.id = page.book_id
    LEFT JOIN catalog_author AS author ON author.id = book.author_id
    LEFT JOIN catalog_bookinstance AS copy ON copy.book_id = book.id
    GROUP BY page.tier, page.score, page.book_id, page.total, book.id, author.id
    ORDER BY page.tier, page.score DESC, page.book_id
"""

# The book whose ISBN the query is (none when it is no ISBN).
ISBN_MATCH = "isbn_match AS (SELECT id FROM catalog_book WHERE isbn = :isbn),"

# SQLite: the book whose ISBN the query is, and the FTS5 index's matches, each with its tier
# (words in a column: `column : (…)`) and its bm25 score (negated: higher is better).
SQLITE_SEARCH = (
    """
    WITH """
    + ISBN_MATCH
    + """
    matches AS (
        SELECT rowid AS book_id,
               CASE
                   WHEN rowid IN (SELECT rowid FROM catalog_search_fts
                                  WHERE catalog_search_fts MATCH :all_in_title) THEN 1
                   WHEN rowid IN (SELECT rowid FROM catalog_search_fts
                                  WHERE catalog_search_fts MATCH :all_in_author) THEN 2
                   WHEN rowid IN (SELECT rowid FROM catalog_search_fts
                                  WHERE catalog_search_fts MATCH :all_in_genres) THEN 3
                   WHEN rowid IN (SELECT rowid FROM catalog_search_fts
                                  WHERE catalog_search_fts MATCH :in_title) THEN 4
                   WHEN rowid IN (SELECT rowid FROM catalog_search_fts
                                  WHERE catalog_search_fts MATCH :in_author) THEN 5
                   WHEN rowid IN (SELECT rowid FROM catalog_search_fts
                                  WHERE catalog_search_fts MATCH :in_genres) THEN 6
                   ELSE 7
               END AS tier,
               -bm25(catalog_search_fts, 8.0, 4.0, 2.0, 1.0) AS score
        FROM catalog_search_fts
        WHERE catalog_search_fts MATCH :every_word AND rowid NOT IN (SELECT id FROM isbn_match)
        UNION ALL
        SELECT id, 0, 0.0 FROM isbn_match
    ),
"""
    + RANKED_PAGE
)

# PostgreSQL: the words (:words, space-separated; :last is the number of the last one) folded
# and quoted here, so that whatever unaccent makes of a character stays inside its quotes (the
# `words` CTE, which catalog/authors_named.py shares; the last word is a prefix); then the same
# tiers, by tsvector weight (title A, author B, genres C), and ts_rank.
POSTGRES_WORDS = r"""
    words AS (
        SELECT '''' || replace(replace(catalog_search_fold(word), '\', '\\'), '''', '''''')
                    || '''' AS lexeme,
               CASE WHEN n = :last THEN '*' ELSE '' END AS prefix
        FROM unnest(string_to_array(:words, ' ')) WITH ORDINALITY AS typed (word, n)
    ),
"""
POSTGRES_SEARCH = (
    r"""
    WITH """
    + ISBN_MATCH
    + POSTGRES_WORDS
    + r"""
    queries AS (
        SELECT to_tsquery('simple', string_agg(
                   lexeme || CASE WHEN prefix = '' THEN '' ELSE ':' || prefix END, ' & '
               )) AS every_word,
               to_tsquery('simple', string_agg(lexeme || ':' || prefix || 'A', ' & ')) AS all_in_title,
               to_tsquery('simple', string_agg(lexeme || ':' || prefix || 'B', ' & ')) AS all_in_author,
               to_tsquery('simple', string_agg(lexeme || ':' || prefix || 'C', ' & ')) AS all_in_genres,
               to_tsquery('simple', string_agg(lexeme || ':' || prefix || 'A', ' | ')) AS in_title,
               to_tsquery('simple', string_agg(lexeme || ':' || prefix || 'B', ' | ')) AS in_author,
               to_tsquery('simple', string_agg(lexeme || ':' || prefix || 'C', ' | ')) AS in_genres
        FROM words
    ),
    matches AS (
        SELECT search.book_id,
               CASE
                   WHEN search.document @@ queries.all_in_title THEN 1
                   WHEN search.document @@ queries.all_in_author THEN 2
                   WHEN search.document @@ queries.all_in_genres THEN 3
                   WHEN search.document @@ queries.in_title THEN 4
                   WHEN search.document @@ queries.in_author THEN 5
                   WHEN search.document @@ queries.in_genres THEN 6
                   ELSE 7
               END AS tier,
               ts_rank(search.document, queries.every_word) AS score
        FROM catalog_search AS search, queries
        WHERE search.document @@ queries.every_word
          AND search.book_id NOT IN (SELECT id FROM isbn_match)
        UNION ALL
        SELECT id, 0, CAST(0 AS real) FROM isbn_match
    ),
"""
    + RANKED_PAGE
)


def _fts5_term(word: str, prefix: bool) -> str:
    return '"' + word.replace('"', '""') + '"' + ("*" if prefix else "")


def fts5_terms(query: SearchQuery) -> list[str]:
    """The query's words as FTS5 literal terms, the last one a prefix."""
    last = len(query.words) - 1
    return [_fts5_term(word, i == last) for i, word in enumerate(query.words)]


def postgres_values(query: SearchQuery) -> dict[str, object]:
    """The values of the `words` CTE (POSTGRES_WORDS) for `query`."""
    return {"words": " ".join(query.words), "last": len(query.words)}


def sqlite_values(query: SearchQuery) -> dict[str, str]:
    """The FTS5 queries for `query`: every word anywhere, every word in each ranked column, and
    any word in each."""
    terms = fts5_terms(query)
    every_term, any_term = "(" + " ".join(terms) + ")", "(" + " OR ".join(terms) + ")"
    return {
        "every_word": " ".join(terms),
        **{f"all_in_{column}": f"{column} : {every_term}" for column in RANKED_COLUMNS},
        **{f"in_{column}": f"{column} : {any_term}" for column in RANKED_COLUMNS},
    }


async def search(
    db: Database, query: SearchQuery, raw_page: str | None, per_page: int
) -> Page[Hit]:
    """One page of the books matching `query` (searchable), best first; InvalidPage for a page
    number that is none, or past the last page."""
    number = page_number(raw_page, ANY_PAGE_TOTAL, per_page)
    values: dict[str, object] = {
        "isbn": query.isbn,
        "limit": per_page,
        "offset": (number - 1) * per_page,
    }
    if db.engine == "sqlite":
        sql = SQLITE_SEARCH
        values.update(sqlite_values(query))
    else:
        sql = POSTGRES_SEARCH
        values.update(postgres_values(query))
    rows = await db.fetch_all_off_loop(sql, values)
    total = rows[0]["total"] if rows else 0
    if number > 1:
        page_number(raw_page, total, per_page)  # raises InvalidPage past the last page
    hits = [
        Hit(
            row["id"],
            row["title"],
            None
            if row["author_id"] is None
            else AuthorRef(row["author_id"], row["first_name"], row["last_name"]),
            row["available"],
            row["copies"],
        )
        for row in rows
    ]
    return Page(hits, number, per_page, total)


def highlight(text: str, query: SearchQuery) -> list[tuple[str, bool]]:
    """`text` in pieces, each with whether it is a word the query matched (the last query word
    as a prefix): for the template to mark, escaping every piece as it does any text."""
    words = [folded(word) for word in query.words]
    exact, prefix = set(words[:-1]), words[-1] if words else None
    pieces: list[tuple[str, bool]] = []
    start = 0
    for found in WORD.finditer(text):
        word = folded(found.group())
        if word in exact or (prefix is not None and word.startswith(prefix)):
            if found.start() > start:
                pieces.append((text[start : found.start()], False))
            pieces.append((found.group(), True))
            start = found.end()
    if start < len(text):
        pieces.append((text[start:], False))
    return pieces
