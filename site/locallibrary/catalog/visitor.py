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
