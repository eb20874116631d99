"""What the catalog remembers of a visitor in the session: visits, page size, history."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from locallibrary import sessions
from locallibrary.catalog.pagination import DEFAULT_PER_PAGE, PER_PAGE_CHOICES

NUM_VISITS = "num_visits"
PER_PAGE = "per_page"
RECENTLY_VIEWED = "recently_viewed"
RECENTLY_VIEWED_LENGTH = 5
RECENT_SEARCHES = "recent_searches"
RECENT_SEARCHES_LENGTH = 5

Session = MutableMapping[str, Any]


def per_page(session: Session) -> int:
    chosen = session.get(PER_PAGE)
    return chosen if chosen in PER_PAGE_CHOICES else DEFAULT_PER_PAGE


def remember_viewed(session: sessions.Session, book_id: int) -> None:
    """Put `book_id` first in the recently viewed list, without duplicates, five at most.

    Saved as a push, not as the list: book pages opened at once with one cookie all count.
    """
    session.push_recent(RECENTLY_VIEWED, book_id, RECENTLY_VIEWED_LENGTH)


def recently_viewed(session: Session) -> list[int]:
    viewed = session.get(RECENTLY_VIEWED, [])
    return [v for v in viewed if isinstance(v, int)] if isinstance(viewed, list) else []


def recent_searches(session: Session) -> list[str]:
    searched = session.get(RECENT_SEARCHES, [])
    return [s for s in searched if isinstance(s, str)] if isinstance(searched, list) else []


def remember_search(session: sessions.Session, text: str) -> None:
    """Put `text` first in the recent searches, five at most, as a push (see remember_viewed).

    A repeat of the newest search (the next page of its results, the page loaded again) leaves
    the session unchanged, so it is not written.
    """
    if recent_searches(session)[:1] != [text]:
        session.push_recent(RECENT_SEARCHES, text, RECENT_SEARCHES_LENGTH)
