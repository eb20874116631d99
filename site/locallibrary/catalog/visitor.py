"""What the catalog remembers of a visitor in the session: visits, page size, history."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from locallibrary.catalog.pagination import DEFAULT_PER_PAGE, PER_PAGE_CHOICES

NUM_VISITS = "num_visits"
PER_PAGE = "per_page"
RECENTLY_VIEWED = "recently_viewed"
RECENTLY_VIEWED_LENGTH = 5

Session = MutableMapping[str, Any]


def per_page(session: Session) -> int:
    chosen = session.get(PER_PAGE)
    return chosen if chosen in PER_PAGE_CHOICES else DEFAULT_PER_PAGE


def remember_viewed(session: Session, book_id: int) -> None:
    """Put `book_id` first in the recently viewed list, without duplicates, five at most.

    The list is changed in place, inside the session: the session notices nested changes.
    """
    viewed = session.setdefault(RECENTLY_VIEWED, [])
    if not isinstance(viewed, list):
        viewed = session[RECENTLY_VIEWED] = []
    if book_id in viewed:
        viewed.remove(book_id)
    viewed.insert(0, book_id)
    del viewed[RECENTLY_VIEWED_LENGTH:]


def recently_viewed(session: Session) -> list[int]:
    viewed = session.get(RECENTLY_VIEWED, [])
    return [v for v in viewed if isinstance(v, int)] if isinstance(viewed, list) else []
